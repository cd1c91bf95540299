package middleware

import (
	"crypto/md5" //nolint:gosec // HTTP Digest's MD5 algorithm, as Traefik's digestAuth speaks it
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"

	"github.com/bridgehead/bridgehead/internal/snapshot"
)

// Nonces a digestAuth remembers: when more are outstanding than digestNonces plus
// digestNonceSlack, the least recently used 2*digestNonceSlack are forgotten (as Traefik's
// go-http-auth does); a client holding one gets a stale challenge and retries.
const (
	digestNonces     = 1000
	digestNonceSlack = 100
)

type digestAuth struct {
	next         http.Handler
	realm        string
	users        map[string]string // user -> HA1
	opaque       string
	headerField  string
	removeHeader bool

	mu     sync.Mutex
	nonces map[string]*digestNonce
	clock  uint64 // a counter, for least-recently-used order without reading the time
}

type digestNonce struct {
	nc   uint64 // the highest nonce count seen; 0 before the first use
	used uint64
}

func newDigestAuth(c *snapshot.DigestAuth, next http.Handler) http.Handler {
	return &digestAuth{next: next, realm: c.Realm, users: c.Users, opaque: randomHex(),
		headerField: http.CanonicalHeaderKey(c.HeaderField), removeHeader: c.RemoveHeader,
		nonces: map[string]*digestNonce{}}
}

func randomHex() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (Go 1.24+)
	return hex.EncodeToString(b[:])
}

func md5Hex(s string) string {
	sum := md5.Sum([]byte(s)) //nolint:gosec // the Digest algorithm
	return hex.EncodeToString(sum[:])
}

// ServeHTTP admits a request whose Digest response is right for a listed user, a nonce
// this middleware issued, and a nonce count above the last one seen (no replays).
func (m *digestAuth) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	user, stale := m.check(r)
	if user == "" {
		m.challenge(w, stale)
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

func (m *digestAuth) challenge(w http.ResponseWriter, stale bool) {
	nonce := randomHex()
	m.mu.Lock()
	if len(m.nonces) > digestNonces+digestNonceSlack {
		m.forgetOldest(2 * digestNonceSlack)
	}
	m.clock++
	m.nonces[nonce] = &digestNonce{used: m.clock}
	m.mu.Unlock()
	v := `Digest realm="` + m.realm + `", nonce="` + nonce + `", opaque="` + m.opaque + `", algorithm="MD5", qop="auth"`
	if stale {
		v += `, stale="true"`
	}
	w.Header()["Www-Authenticate"] = []string{v}
	writeText(w, http.StatusUnauthorized, unauthorizedBody)
}

// forgetOldest drops the n least recently used nonces; m.mu is held.
func (m *digestAuth) forgetOldest(n int) {
	for range n {
		var oldest string
		var at uint64
		for k, v := range m.nonces {
			if oldest == "" || v.used < at {
				oldest, at = k, v.used
			}
		}
		delete(m.nonces, oldest)
	}
}

// check returns the authenticated user, or "" and whether the only fault was a nonce this
// middleware no longer knows (the client should retry with the new one, without asking
// its user again).
func (m *digestAuth) check(r *http.Request) (user string, stale bool) {
	scheme, params, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	if !ok || !strings.EqualFold(scheme, "Digest") {
		return "", false
	}
	p := parseAuthParams(params)
	if p == nil {
		return "", false
	}
	if _, set := p["algorithm"]; !set {
		p["algorithm"] = "MD5" // RFC 7616: absent means MD5; some clients omit it
	}
	if p["algorithm"] != "MD5" || p["qop"] != "auth" {
		return "", false
	}
	uri := p["uri"]
	if uri != r.RequestURI {
		// As Traefik: the digest's uri may be a path prefix of the request's.
		u, err := url.Parse(uri)
		if err != nil || !strings.HasPrefix(r.URL.Path, u.Path) {
			return "", false
		}
	}
	ha1, known := m.users[p["username"]]
	if !known {
		ha1 = m.opaque // compute anyway, so an unknown user takes as long as a wrong password
	}
	ha2 := md5Hex(r.Method + ":" + uri)
	want := md5Hex(ha1 + ":" + p["nonce"] + ":" + p["nc"] + ":" + p["cnonce"] + ":" + p["qop"] + ":" + ha2)
	if subtle.ConstantTimeCompare([]byte(want), []byte(p["response"])) != 1 || !known {
		return "", false
	}
	nc, err := strconv.ParseUint(p["nc"], 16, 64)
	if err != nil {
		return "", false
	}
	// The password is right. A nonce or opaque this middleware did not issue (another
	// gateway replica, or this one before a configuration change rebuilt it) is stale: the
	// client retries with the fresh challenge without asking its user again.
	if p["opaque"] != m.opaque {
		return "", true
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	n, issued := m.nonces[p["nonce"]]
	if !issued {
		return "", true
	}
	if n.nc != 0 && nc <= n.nc {
		return "", false // a replayed or out-of-order count
	}
	m.clock++
	n.nc, n.used = nc, m.clock
	return p["username"], false
}

// parseAuthParams reads comma-separated key=value pairs, values plain or quoted (with
// backslash escapes); nil when malformed.
func parseAuthParams(s string) map[string]string {
	out := map[string]string{}
	for {
		s = strings.TrimLeft(s, " \t,")
		if s == "" {
			return out
		}
		eq := strings.IndexByte(s, '=')
		if eq <= 0 {
			return nil
		}
		key := strings.ToLower(strings.TrimSpace(s[:eq]))
		s = strings.TrimLeft(s[eq+1:], " \t")
		var val string
		if strings.HasPrefix(s, `"`) {
			var b strings.Builder
			i := 1
			for ; i < len(s) && s[i] != '"'; i++ {
				if s[i] == '\\' && i+1 < len(s) {
					i++
				}
				b.WriteByte(s[i])
			}
			if i >= len(s) {
				return nil
			}
			val, s = b.String(), s[i+1:]
		} else {
			end := strings.IndexByte(s, ',')
			if end < 0 {
				end = len(s)
			}
			val, s = strings.TrimSpace(s[:end]), s[end:]
		}
		if _, dup := out[key]; dup {
			return nil
		}
		out[key] = val
	}
}
