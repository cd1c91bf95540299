package standalone

import (
	"crypto/tls"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/crypto/bcrypt"

	"github.com/bridgehead/bridgehead/internal/htpasswd"
)

// usersSecretYAML is an Opaque Secret holding an htpasswd list under the key users.
func usersSecretYAML(name, lines string) string {
	return fmt.Sprintf("---\napiVersion: v1\nkind: Secret\nmetadata: {name: %s, namespace: web}\nstringData:\n  users: |\n    %s\n",
		name, strings.ReplaceAll(strings.TrimSpace(lines), "\n", "\n    "))
}

// TestMiddlewareBasicAuth: a basicAuth Middleware whose users are in a Secret, served from
// a folder through real TLS on loopback. Without credentials, or with a wrong password or
// an unknown user, the answer is 401 with the realm's challenge and the backend is never
// reached; a bcrypt user and a SHA-1 user get in, the backend sees the user name in
// headerField (a client-sent value replaced) and no Authorization header (removeHeader).
// Changing the Secret changes who gets in, without a restart. A Middleware whose Secret
// does not exist is not Ready naming it, its route answers 503, and creating the Secret
// makes it serve.
func TestMiddlewareBasicAuth(t *testing.T) {
	t.Parallel()
	p := newPKI(t)
	backend := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = fmt.Fprintf(w, "user=%q authorization=%t", r.Header.Values("X-Webauth-User"), r.Header.Get("Authorization") != "")
	}))
	backend.TLS = &tls.Config{Certificates: []tls.Certificate{p.backend.TLS}}
	backend.StartTLS()
	t.Cleanup(backend.Close)

	aliceHash, err := bcrypt.GenerateFromPassword([]byte("alice-pw"), 5) // htpasswd -B's default cost
	if err != nil {
		t.Fatal(err)
	}
	users := "alice:$2y$" + string(aliceHash[4:]) + "\nbob:" + htpasswd.SHA1Hash([]byte("bob-pw"))
	dir := writeFolder(t, map[string]string{
		"secrets.yaml":   p.secretsYAML(),
		"transport.yaml": transportYAML,
		"services.yaml":  serviceYAML(t, "svc-a", addrOf(backend)),
		"users.yaml":     usersSecretYAML("staff-users", users),
		"staff.yaml": middlewareRoute("staff", "staff", "staff-auth", "") +
			middlewareYAML("staff-auth", "  basicAuth: {secret: staff-users, realm: Staff only, headerField: X-WebAuth-User, removeHeader: true}\n"),
		"later.yaml": middlewareRoute("later", "later", "later-auth", "") +
			middlewareYAML("later-auth", "  basicAuth: {secret: later-users}\n"),
	})
	gw := serveFolder(t, dir)
	c := gw.httpsClient(p.edgeCA, true)
	const url = "https://staff.example.test/"

	basic := func(user, pw string) *http.Request {
		req, err := http.NewRequest(http.MethodGet, url, nil)
		if err != nil {
			t.Fatal(err)
		}
		if user != "" {
			req.SetBasicAuth(user, pw)
		}
		req.Header.Set("X-WebAuth-User", "forged")
		return req
	}
	waitBody(t, c, url, http.StatusUnauthorized, "401 Unauthorized\n")

	t.Run("who gets in", func(t *testing.T) {
		for _, tc := range []struct {
			user, pw string
			want     int
		}{
			{"", "", http.StatusUnauthorized},
			{"alice", "bob-pw", http.StatusUnauthorized},
			{"mallory", "alice-pw", http.StatusUnauthorized},
			{"alice", "alice-pw", http.StatusOK},
			{"bob", "bob-pw", http.StatusOK},
		} {
			resp, err := c.Do(basic(tc.user, tc.pw))
			if err != nil {
				t.Fatal(err)
			}
			_ = resp.Body.Close()
			if resp.StatusCode != tc.want {
				t.Errorf("%s:%s: %d, want %d", tc.user, tc.pw, resp.StatusCode, tc.want)
			}
			if tc.want == http.StatusUnauthorized && resp.Header.Get("WWW-Authenticate") != `Basic realm="Staff only"` {
				t.Errorf("%s: WWW-Authenticate %q", tc.user, resp.Header.Get("WWW-Authenticate"))
			}
		}
		if code, body := do(t, c, basic("bob", "bob-pw")); code != http.StatusOK || body != `user=["bob"] authorization=false` {
			t.Errorf("bob: %d %q; want the user in X-WebAuth-User (not the forged value) and no Authorization", code, body)
		}
		// Real curl, HTTP/2, with -u.
		ca := writePEM(t, "edge-ca.crt", p.edgeCA.PEM)
		port := port(t, gw.websecure)
		for _, tc := range []struct{ creds, want string }{
			{"alice:alice-pw", `user=["alice"] authorization=false` + "\n200"},
			{"alice:wrong", "401 Unauthorized\n\n401"},
		} {
			out, code := runTool(t, dir, "curl", "-sS", "--http2", "--cacert", ca, "-u", tc.creds,
				"--resolve", "staff.example.test:"+port+":127.0.0.1", "-w", "\n%{http_code}", "https://staff.example.test:"+port+"/")
			if code != 0 || out != tc.want {
				t.Errorf("curl -u %s: exit %d, printed %q, want %q", tc.creds, code, out, tc.want)
			}
		}
	})

	t.Run("a missing Secret fails closed until it is created", func(t *testing.T) {
		if code, header := failureOf(t, c, "https://later.example.test/"); code != http.StatusServiceUnavailable || header != "InvalidRef" {
			t.Errorf("route through a basicAuth whose Secret is missing: %d %q; want 503 InvalidRef", code, header)
		}
		wantCondition(t, gw, "Middleware/web/later-auth", "Ready", "False", "spec.basicAuth.secret", `Secret "later-users" not found`)
		writeFile(t, filepath.Join(dir, "later-users.yaml"), usersSecretYAML("later-users", "carol:"+htpasswd.SHA1Hash([]byte("carol-pw"))))
		waitBody(t, c, "https://later.example.test/", http.StatusUnauthorized, "401 Unauthorized\n")
		req, _ := http.NewRequest(http.MethodGet, "https://later.example.test/", nil)
		req.SetBasicAuth("carol", "carol-pw")
		if code, body := do(t, c, req); code != http.StatusOK || body != `user=[] authorization=true` {
			t.Errorf("carol after the Secret was created: %d %q", code, body)
		}
	})

	t.Run("a changed Secret changes who gets in", func(t *testing.T) {
		writeFile(t, filepath.Join(dir, "users.yaml"), usersSecretYAML("staff-users", "bob:"+htpasswd.SHA1Hash([]byte("new-bob-pw"))))
		reqNew := func() *http.Request { return basic("bob", "new-bob-pw") }
		if _, ok := eventually(reloadLimit, func() bool {
			resp, err := c.Do(reqNew())
			if err != nil {
				return false
			}
			_ = resp.Body.Close()
			return resp.StatusCode == http.StatusOK
		}); !ok {
			t.Fatal("bob's new password never got in")
		}
		for _, r := range []*http.Request{basic("bob", "bob-pw"), basic("alice", "alice-pw")} {
			resp, err := c.Do(r)
			if err != nil {
				t.Fatal(err)
			}
			_ = resp.Body.Close()
			if resp.StatusCode != http.StatusUnauthorized {
				t.Errorf("credentials the new Secret no longer lists: %d, want 401", resp.StatusCode)
			}
		}
	})
}
