package middleware

import (
	"net/http"
	"sort"

	"github.com/bridgehead/bridgehead/internal/htpasswd"
	"github.com/bridgehead/bridgehead/internal/snapshot"
)

// unauthorizedBody is go-http-auth's body, which Traefik answers.
var unauthorizedBody = []byte("401 Unauthorized\n")

type basicAuth struct {
	next         http.Handler
	users        map[string]string
	challenge    []string // WWW-Authenticate, built once
	headerField  string
	removeHeader bool
	// decoy is checked when the user is unknown, so that an unknown user costs as long as a
	// wrong password and response times do not tell which user names exist.
	decoy string
}

func newBasicAuth(c *snapshot.BasicAuth, next http.Handler) http.Handler {
	m := &basicAuth{next: next, users: c.Users, challenge: []string{`Basic realm="` + c.Realm + `"`},
		headerField: http.CanonicalHeaderKey(c.HeaderField), removeHeader: c.RemoveHeader}
	names := make([]string, 0, len(c.Users))
	for u := range c.Users {
		names = append(names, u)
	}
	sort.Strings(names)
	if len(names) > 0 {
		m.decoy = c.Users[names[0]]
	}
	return m
}

// ServeHTTP admits a request whose Basic credentials match a listed user; any other gets
// 401 with the challenge (an empty user list, which translate never builds, admits nobody).
func (m *basicAuth) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	user, password, ok := r.BasicAuth()
	if !ok || !m.check(user, password) {
		w.Header()["Www-Authenticate"] = m.challenge
		writeText(w, http.StatusUnauthorized, unauthorizedBody)
		return
	}
	if m.headerField != "" {
		r.Header[m.headerField] = []string{user}
	}
	if m.removeHeader {
		r.Header.Del("Authorization")
	}
	m.next.ServeHTTP(w, r)
}

func (m *basicAuth) check(user, password string) bool {
	hash, known := m.users[user]
	if !known {
		if m.decoy != "" {
			_ = htpasswd.Check(m.decoy, password)
		}
		return false
	}
	return htpasswd.Check(hash, password)
}
