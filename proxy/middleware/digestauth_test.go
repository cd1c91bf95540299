package middleware

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/bridgehead/bridgehead/internal/htpasswd"
	"github.com/bridgehead/bridgehead/internal/snapshot"
)

// digestAnswer is what an RFC 7616 client sends for challenge, computed independently of
// the middleware (HA1 from htpasswd.HA1, the rest by the RFC's formulas).
func digestAnswer(t *testing.T, challenge, user, realm, password, method, uri string, nc int) string {
	t.Helper()
	scheme, rest, _ := strings.Cut(challenge, " ")
	p := parseAuthParams(rest)
	if scheme != "Digest" || p == nil {
		t.Fatalf("challenge %q", challenge)
	}
	ha1 := htpasswd.HA1(user, realm, password)
	ha2 := md5Hex(method + ":" + uri)
	ncs := fmt.Sprintf("%08x", nc)
	resp := md5Hex(ha1 + ":" + p["nonce"] + ":" + ncs + ":c0ffee:auth:" + ha2)
	return fmt.Sprintf(`Digest username="%s", realm="%s", nonce="%s", uri="%s", algorithm=MD5, response="%s", opaque="%s", qop=auth, nc=%s, cnonce="c0ffee"`,
		user, realm, p["nonce"], uri, resp, p["opaque"], ncs)
}

func TestDigestAuth(t *testing.T) {
	next := &capture{}
	cfg := &snapshot.DigestAuth{Realm: "staff", Users: map[string]string{"alice": htpasswd.HA1("alice", "staff", "alice-pw")},
		HeaderField: "X-WebAuth-User", RemoveHeader: true}
	h := Chain([]*snapshot.Middleware{{DigestAuth: cfg}}, next)
	send := func(auth string) *httptest.ResponseRecorder {
		r := newReq(http.MethodGet, "/admin?x=1", "example.com")
		if auth != "" {
			r.Header.Set("Authorization", auth)
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		return w
	}
	first := send("")
	challenge := first.Header().Get("WWW-Authenticate")
	if first.Code != http.StatusUnauthorized || !strings.HasPrefix(challenge, `Digest realm="staff", nonce="`) || !strings.Contains(challenge, `qop="auth"`) {
		t.Fatalf("no credentials: %d %q", first.Code, challenge)
	}
	if w := send(digestAnswer(t, challenge, "alice", "staff", "alice-pw", http.MethodGet, "/admin?x=1", 1)); w.Code != http.StatusOK {
		t.Fatalf("alice: %d", w.Code)
	}
	if next.header.Get("X-Webauth-User") != "alice" || next.header.Get("Authorization") != "" {
		t.Errorf("backend saw %v", next.header)
	}
	if w := send(digestAnswer(t, challenge, "alice", "staff", "alice-pw", http.MethodGet, "/admin?x=1", 1)); w.Code != http.StatusUnauthorized {
		t.Errorf("the same nonce count again (a replay): %d, want 401", w.Code)
	}
	if w := send(digestAnswer(t, challenge, "alice", "staff", "alice-pw", http.MethodGet, "/admin?x=1", 2)); w.Code != http.StatusOK {
		t.Errorf("the next nonce count: %d, want 200", w.Code)
	}
	for name, auth := range map[string]string{
		"wrong password": digestAnswer(t, challenge, "alice", "staff", "nope", http.MethodGet, "/admin?x=1", 3),
		"unknown user":   digestAnswer(t, challenge, "mallory", "staff", "alice-pw", http.MethodGet, "/admin?x=1", 3),
		"other method":   digestAnswer(t, challenge, "alice", "staff", "alice-pw", http.MethodPost, "/admin?x=1", 3),
		"other uri":      digestAnswer(t, challenge, "alice", "staff", "alice-pw", http.MethodGet, "/other", 3),
		"basic":          "Basic YWxpY2U6YWxpY2UtcHc=",
		"malformed":      `Digest username="alice`,
		"another qop":    strings.Replace(digestAnswer(t, challenge, "alice", "staff", "alice-pw", http.MethodGet, "/admin?x=1", 3), `qop=auth`, `qop=auth-int`, 1),
	} {
		if w := send(auth); w.Code != http.StatusUnauthorized || strings.Contains(w.Header().Get("WWW-Authenticate"), "stale") {
			t.Errorf("%s: %d %q, want 401 (not stale)", name, w.Code, w.Header().Get("WWW-Authenticate"))
		}
	}
	// Another opaque (the middleware was rebuilt) with the right password: stale too.
	if w := send(strings.Replace(digestAnswer(t, challenge, "alice", "staff", "alice-pw", http.MethodGet, "/admin?x=1", 4), `opaque="`, `opaque="x`, 1)); w.Code != http.StatusUnauthorized || !strings.Contains(w.Header().Get("WWW-Authenticate"), `stale="true"`) {
		t.Errorf("another opaque: %d %q, want 401 stale", w.Code, w.Header().Get("WWW-Authenticate"))
	}
	// A nonce this middleware never issued (or has forgotten): stale, so clients retry
	// without asking their user again.
	forged := strings.Replace(challenge, `nonce="`, `nonce="00`, 1)
	if w := send(digestAnswer(t, forged, "alice", "staff", "alice-pw", http.MethodGet, "/admin?x=1", 1)); w.Code != http.StatusUnauthorized || !strings.Contains(w.Header().Get("WWW-Authenticate"), `stale="true"`) {
		t.Errorf("unknown nonce: %d %q, want 401 stale", w.Code, w.Header().Get("WWW-Authenticate"))
	}
}

func TestDigestNoncesAreBounded(t *testing.T) {
	m := newDigestAuth(&snapshot.DigestAuth{Realm: "r", Users: map[string]string{}}, &capture{}).(*digestAuth)
	for range 3 * digestNonces {
		m.challenge(httptest.NewRecorder(), false)
	}
	if n := len(m.nonces); n > digestNonces+digestNonceSlack+1 {
		t.Errorf("%d nonces remembered, want at most %d", n, digestNonces+digestNonceSlack+1)
	}
}

func FuzzParseAuthParams(f *testing.F) {
	f.Add(`username="a", realm="r \"q\"", nonce=abc, nc=00000001`)
	f.Add(`a=,b="`)
	f.Fuzz(func(t *testing.T, s string) {
		_ = parseAuthParams(s)
	})
}
