package standalone

import (
	"crypto/md5" //nolint:gosec // HTTP Digest's MD5, as the client computes it
	"crypto/tls"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"

	"github.com/bridgehead/bridgehead/internal/htpasswd"
)

var challengeParam = regexp.MustCompile(`(\w+)="([^"]*)"`)

// digestAuthorization answers a Digest challenge as an RFC 7616 client does (MD5, qop=auth).
func digestAuthorization(t *testing.T, challenge, user, password, method, uri string, nc int) string {
	t.Helper()
	p := map[string]string{}
	for _, m := range challengeParam.FindAllStringSubmatch(challenge, -1) {
		p[m[1]] = m[2]
	}
	h := func(s string) string {
		sum := md5.Sum([]byte(s)) //nolint:gosec // the Digest algorithm
		return hex.EncodeToString(sum[:])
	}
	ncs := fmt.Sprintf("%08x", nc)
	resp := h(h(user+":"+p["realm"]+":"+password) + ":" + p["nonce"] + ":" + ncs + ":abc123:auth:" + h(method+":"+uri))
	return fmt.Sprintf(`Digest username="%s", realm="%s", nonce="%s", uri="%s", algorithm=MD5, response="%s", opaque="%s", qop=auth, nc=%s, cnonce="abc123"`,
		user, p["realm"], p["nonce"], uri, resp, p["opaque"], ncs)
}

// TestMiddlewareDigestAuth: a digestAuth Middleware with htdigest users in a Secret, served
// from a folder through real TLS on loopback. curl --digest logs in with the right
// password and gets 401 with a wrong one; a Go client answering the challenge gets in, a
// replay of the same nonce count does not, and after a configuration change rebuilt the
// middleware the old nonce is answered stale (retry without asking the user), after which
// the fresh one works. A user listed for another realm cannot log in.
func TestMiddlewareDigestAuth(t *testing.T) {
	t.Parallel()
	p := newPKI(t)
	backend := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = fmt.Fprintf(w, "user=%q", r.Header.Values("X-Webauth-User"))
	}))
	backend.TLS = &tls.Config{Certificates: []tls.Certificate{p.backend.TLS}}
	backend.StartTLS()
	t.Cleanup(backend.Close)

	users := "alice:Staff:" + htpasswd.HA1("alice", "Staff", "alice-pw") + "\nbob:Other:" + htpasswd.HA1("bob", "Other", "bob-pw")
	dir := writeFolder(t, map[string]string{
		"secrets.yaml":   p.secretsYAML(),
		"transport.yaml": transportYAML,
		"services.yaml":  serviceYAML(t, "svc-a", addrOf(backend)),
		"users.yaml":     usersSecretYAML("staff-digest", users),
		"staff.yaml": middlewareRoute("staff", "staff", "staff-digest", "") +
			middlewareYAML("staff-digest", "  digestAuth: {secret: staff-digest, realm: Staff, headerField: X-WebAuth-User}\n"),
	})
	gw := serveFolder(t, dir)
	c := gw.httpsClient(p.edgeCA, false)
	const url = "https://staff.example.test/admin"
	waitBody(t, c, url, http.StatusUnauthorized, "401 Unauthorized\n")
	wantCondition(t, gw, "Middleware/web/staff-digest", "Warnings", "True", `bob (realm "Other")`)

	t.Run("curl --digest", func(t *testing.T) {
		ca := writePEM(t, "edge-ca.crt", p.edgeCA.PEM)
		port := port(t, gw.websecure)
		for _, tc := range []struct{ creds, want string }{
			{"alice:alice-pw", `user=["alice"]` + "\n200"},
			{"alice:wrong", "401 Unauthorized\n\n401"},
			{"bob:bob-pw", "401 Unauthorized\n\n401"}, // listed, but for realm Other
		} {
			out, code := runTool(t, dir, "curl", "-sS", "--digest", "--cacert", ca, "-u", tc.creds,
				"--resolve", "staff.example.test:"+port+":127.0.0.1", "-w", "\n%{http_code}", "https://staff.example.test:"+port+"/admin")
			if code != 0 || out != tc.want {
				t.Errorf("curl --digest -u %s: exit %d, printed %q, want %q", tc.creds, code, out, tc.want)
			}
		}
	})

	challenge := func() string {
		resp, err := c.Get(url)
		if err != nil {
			t.Fatal(err)
		}
		_ = resp.Body.Close()
		return resp.Header.Get("WWW-Authenticate")
	}
	answer := func(auth string) (int, string) {
		resp, err := c.Do(mustReq(t, url, auth))
		if err != nil {
			t.Fatal(err)
		}
		_ = resp.Body.Close()
		return resp.StatusCode, resp.Header.Get("WWW-Authenticate")
	}

	t.Run("a replayed nonce count is refused", func(t *testing.T) {
		ch := challenge()
		first := digestAuthorization(t, ch, "alice", "alice-pw", http.MethodGet, "/admin", 1)
		if code, body := do(t, c, mustReq(t, url, first)); code != http.StatusOK || body != `user=["alice"]` {
			t.Fatalf("alice: %d %q", code, body)
		}
		if code, _ := answer(first); code != http.StatusUnauthorized {
			t.Errorf("the same Authorization again: %d, want 401", code)
		}
		if code, _ := answer(digestAuthorization(t, ch, "alice", "alice-pw", http.MethodGet, "/admin", 2)); code != http.StatusOK {
			t.Errorf("the next nonce count: %d, want 200", code)
		}
	})

	t.Run("after a configuration change the old nonce is stale", func(t *testing.T) {
		ch := challenge()
		writeFile(t, dir+"/other.yaml", middlewareRoute("other", "other", "other-prefix", "")+middlewareYAML("other-prefix", "  addPrefix: {prefix: /o}\n"))
		var stale string
		if _, ok := eventually(reloadLimit, func() bool {
			code, header := answer(digestAuthorization(t, ch, "alice", "alice-pw", http.MethodGet, "/admin", 1))
			stale = header
			return code == http.StatusUnauthorized && strings.Contains(header, `stale="true"`)
		}); !ok {
			t.Fatalf("the old challenge after a reload: WWW-Authenticate %q, want stale", stale)
		}
		if code, _ := answer(digestAuthorization(t, stale, "alice", "alice-pw", http.MethodGet, "/admin", 1)); code != http.StatusOK {
			t.Errorf("the fresh challenge: %d, want 200", code)
		}
	})
}

func mustReq(t *testing.T, url, auth string) *http.Request {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", auth)
	req.Header.Set("X-WebAuth-User", "forged")
	return req
}
