package standalone

import (
	"crypto/tls"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/bridgehead/bridgehead/internal/pki"
)

// forwardAuthYAML is a forwardAuth Middleware to the auth Service over verified TLS, with
// caSecret as its trust and gateway-client as its client certificate.
func forwardAuthYAML(name, caSecret string) string {
	return middlewareYAML(name, fmt.Sprintf(`  forwardAuth:
    address: https://auth.web.svc/verify?app=shop
    authResponseHeaders: [X-Auth-User, X-Auth-Saw]
    addAuthCookiesToResponse: [session]
    tls: {caSecret: %s, certSecret: gateway-client}
`, caSecret))
}

// TestMiddlewareForwardAuth: a forwardAuth Middleware served from a folder, everything
// over real TLS on loopback. The auth server is an HTTPS Service (auth.web.svc, resolved to
// its EndpointSlice on 127.0.0.1) that requires a client certificate: the gateway verifies
// it against tls.caSecret and presents tls.certSecret. A request without a good token gets
// the auth server's own 401 (status, challenge, body) and the backend is never reached; a
// good one reaches the backend with X-Auth-User from the auth server (a forged value
// replaced), the auth server having seen a GET with the original method, URI, host and
// scheme in X-Forwarded-*; the auth server's session cookie replaces the backend's. A
// relative redirect from the auth server comes back absolute. A CA that did not sign the
// auth server's certificate answers 500 with Bridgehead-Error UnknownAuthority; a missing
// CA Secret makes the Middleware not Ready and its route answer 503 until it is created.
func TestMiddlewareForwardAuth(t *testing.T) {
	t.Parallel()
	p := newPKI(t)
	var backendHits atomic.Int32
	backend := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		backendHits.Add(1)
		http.SetCookie(w, &http.Cookie{Name: "session", Value: "from-backend"})
		http.SetCookie(w, &http.Cookie{Name: "theme", Value: "dark"})
		_, _ = fmt.Fprintf(w, "user=%q saw=%q", r.Header.Values("X-Auth-User"), r.Header.Get("X-Auth-Saw"))
	}))
	backend.TLS = &tls.Config{Certificates: []tls.Certificate{p.backend.TLS}}
	backend.StartTLS()
	t.Cleanup(backend.Close)

	authLeaf := p.backendCA.MustIssue("auth.web.svc", pki.Options{DNSNames: []string{"auth.web.svc"}})
	auth := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.Header.Get("Authorization") {
		case "Bearer good":
			w.Header().Set("X-Auth-User", "alice")
			w.Header().Set("X-Auth-Saw", strings.Join([]string{r.Method, r.URL.RequestURI(), r.Host,
				r.Header.Get("X-Forwarded-Method"), r.Header.Get("X-Forwarded-Uri"), r.Header.Get("X-Forwarded-Host"),
				r.Header.Get("X-Forwarded-Proto"), r.TLS.PeerCertificates[0].Subject.CommonName}, " "))
			http.SetCookie(w, &http.Cookie{Name: "session", Value: "from-auth"})
			http.SetCookie(w, &http.Cookie{Name: "auth-internal", Value: "x"})
		case "Bearer redirect":
			w.Header().Set("Location", "/login?next=shop")
			w.WriteHeader(http.StatusFound)
		default:
			w.Header().Set("WWW-Authenticate", "Bearer")
			w.WriteHeader(http.StatusUnauthorized)
			_, _ = io.WriteString(w, "denied by auth")
		}
	}))
	auth.TLS = &tls.Config{Certificates: []tls.Certificate{authLeaf.TLS},
		ClientAuth: tls.RequireAndVerifyClientCert, ClientCAs: p.backendCA.Pool()}
	auth.Config.ErrorLog = log.New(io.Discard, "", 0) // the wrong-CA case fails handshakes on purpose
	auth.StartTLS()
	t.Cleanup(auth.Close)

	dir := writeFolder(t, map[string]string{
		"secrets.yaml":   p.secretsYAML(),
		"transport.yaml": transportYAML,
		"services.yaml":  serviceYAML(t, "svc-a", addrOf(backend)) + serviceYAML(t, "auth", addrOf(auth)),
		"shop.yaml":      middlewareRoute("shop", "shop", "auth", "") + forwardAuthYAML("auth", "backend-ca"),
		"wrong.yaml":     middlewareRoute("wrong", "wrong", "auth-wrong-ca", "") + forwardAuthYAML("auth-wrong-ca", "client-ca"),
		"later.yaml":     middlewareRoute("later", "later", "auth-later", "") + forwardAuthYAML("auth-later", "auth-ca"),
	})
	gw := serveFolder(t, dir)
	c := gw.httpsClient(p.edgeCA, true)
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	const url = "https://shop.example.test/cart?item=7"
	waitBody(t, c, url, http.StatusUnauthorized, "denied by auth")

	// answer is what a client got, read whole.
	type answer struct {
		StatusCode int
		Header     http.Header
		cookies    []*http.Cookie
	}
	send := func(method, token string) (answer, string) {
		t.Helper()
		req, err := http.NewRequest(method, url, strings.NewReader("order"))
		if err != nil {
			t.Fatal(err)
		}
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		req.Header.Set("X-Auth-User", "mallory") // forged: the auth server's value must replace it
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer func() { _ = resp.Body.Close() }()
		body, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatal(err)
		}
		return answer{resp.StatusCode, resp.Header, resp.Cookies()}, string(body)
	}

	t.Run("denied: the auth server's answer, and the backend never reached", func(t *testing.T) {
		before := backendHits.Load()
		for _, token := range []string{"", "bad"} {
			resp, body := send(http.MethodGet, token)
			if resp.StatusCode != http.StatusUnauthorized || body != "denied by auth" || resp.Header.Get("WWW-Authenticate") != "Bearer" {
				t.Errorf("token %q: %d %q WWW-Authenticate=%q; want the auth server's 401", token, resp.StatusCode, body, resp.Header.Get("WWW-Authenticate"))
			}
		}
		if n := backendHits.Load() - before; n != 0 {
			t.Errorf("the backend got %d denied requests", n)
		}
	})

	t.Run("admitted: the auth server's headers and cookie", func(t *testing.T) {
		resp, body := send(http.MethodPost, "good")
		want := `user=["alice"] saw="GET /verify?app=shop auth.web.svc POST /cart?item=7 shop.example.test https bridgehead-gateway"`
		if resp.StatusCode != http.StatusOK || body != want {
			t.Errorf("good token: %d %q; want 200 %q", resp.StatusCode, body, want)
		}
		var cookies []string
		for _, ck := range resp.cookies {
			cookies = append(cookies, ck.Name+"="+ck.Value)
		}
		if got := strings.Join(cookies, " "); got != "theme=dark session=from-auth" {
			t.Errorf("cookies %q; want the backend's theme and the auth server's session (addAuthCookiesToResponse), not auth-internal", got)
		}
	})

	t.Run("a relative redirect from the auth server comes back absolute", func(t *testing.T) {
		resp, _ := send(http.MethodGet, "redirect")
		if loc := resp.Header.Get("Location"); resp.StatusCode != http.StatusFound || loc != "https://auth.web.svc/login?next=shop" {
			t.Errorf("redirect: %d Location %q", resp.StatusCode, loc)
		}
	})

	t.Run("curl", func(t *testing.T) {
		ca := writePEM(t, "edge-ca.crt", p.edgeCA.PEM)
		port := port(t, gw.websecure)
		for _, tc := range []struct{ token, want string }{
			{"good", `user=["alice"] saw=`},
			{"bad", "denied by auth\n401"},
		} {
			out, code := runTool(t, dir, "curl", "-sS", "--cacert", ca, "-H", "Authorization: Bearer "+tc.token,
				"--resolve", "shop.example.test:"+port+":127.0.0.1", "-w", "\n%{http_code}", "https://shop.example.test:"+port+"/")
			if code != 0 || !strings.Contains(out, tc.want) {
				t.Errorf("curl with token %s: exit %d, printed %q, want it to contain %q", tc.token, code, out, tc.want)
			}
		}
	})

	t.Run("an auth server the CA does not vouch for: 500 naming the handshake failure", func(t *testing.T) {
		req, _ := http.NewRequest(http.MethodGet, "https://wrong.example.test/", nil)
		req.Header.Set("Authorization", "Bearer good")
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		_ = resp.Body.Close()
		if resp.StatusCode != http.StatusInternalServerError || resp.Header.Get("Bridgehead-Error") != "UnknownAuthority" {
			t.Errorf("wrong CA: %d Bridgehead-Error %q; want 500 UnknownAuthority", resp.StatusCode, resp.Header.Get("Bridgehead-Error"))
		}
	})

	t.Run("a missing CA Secret fails closed until it is created", func(t *testing.T) {
		if code, header := failureOf(t, c, "https://later.example.test/"); code != http.StatusServiceUnavailable || header != "InvalidRef" {
			t.Errorf("route through a forwardAuth whose CA Secret is missing: %d %q; want 503 InvalidRef", code, header)
		}
		wantCondition(t, gw, "Middleware/web/auth-later", "Ready", "False", "spec.forwardAuth.tls.caSecret", `Secret "auth-ca"`)
		caPEM := strings.ReplaceAll(strings.TrimSpace(string(p.backendCA.PEM)), "\n", "\n    ")
		writeFile(t, filepath.Join(dir, "auth-ca.yaml"), "apiVersion: v1\nkind: Secret\nmetadata: {name: auth-ca, namespace: web}\nstringData:\n  ca.crt: |\n    "+caPEM+"\n")
		waitBody(t, c, "https://later.example.test/", http.StatusUnauthorized, "denied by auth")
	})
}
