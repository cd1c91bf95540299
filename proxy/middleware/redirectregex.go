package middleware

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"

	"github.com/bridgehead/bridgehead/internal/snapshot"
)

type redirectRegex struct {
	next        http.Handler
	re          *regexp.Regexp
	replacement string
	permanent   bool
}

func newRedirectRegex(c *snapshot.RedirectRegex, next http.Handler) http.Handler {
	res, ok := compileAll(c.Regex)
	if !ok {
		return broken{}
	}
	return &redirectRegex{next: next, re: res[0], replacement: c.Replacement, permanent: c.Permanent}
}

// ServeHTTP matches scheme://host/uri (the scheme of our own connection, the Host as
// sent, the request URI as the route has it). When the replacement makes another URL of
// it, the client is redirected there: 302 to GET and 307 to other methods, 301 and 308
// when permanent (Traefik's codes). A matching request whose Host is not a plain
// host[:port] gets 400, so no client can smuggle text into the Location through it.
func (m *redirectRegex) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	old := requestURL(r)
	if !m.re.MatchString(old) {
		m.next.ServeHTTP(w, r)
		return
	}
	if _, ok := splitHost(r.Host); !ok {
		writeText(w, http.StatusBadRequest, badHostBody)
		return
	}
	target := m.re.ReplaceAllString(old, m.replacement)
	if target == old {
		m.next.ServeHTTP(w, r)
		return
	}
	u, err := url.Parse(target)
	if err != nil {
		writeText(w, http.StatusInternalServerError, badRedirectBody)
		return
	}
	code := http.StatusFound
	switch {
	case m.permanent && r.Method == http.MethodGet:
		code = http.StatusMovedPermanently
	case m.permanent:
		code = http.StatusPermanentRedirect
	case r.Method != http.MethodGet:
		code = http.StatusTemporaryRedirect
	}
	h := w.Header()
	h["Location"] = []string{u.String()}
	h["Content-Type"] = textPlain
	w.WriteHeader(code)
	_, _ = w.Write(statusBody(code))
}

// requestURL is the URL redirectRegex matches: scheme://host followed by the request
// URI (origin form, even when the client sent the absolute form).
func requestURL(r *http.Request) string {
	uri := r.RequestURI
	if uri == "" || uri[0] != '/' {
		uri = r.URL.RequestURI()
	}
	scheme := requestScheme(r)
	var b strings.Builder
	b.Grow(len(scheme) + 3 + len(r.Host) + len(uri))
	b.WriteString(scheme)
	b.WriteString("://")
	b.WriteString(r.Host)
	b.WriteString(uri)
	return b.String()
}
