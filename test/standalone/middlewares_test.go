package standalone

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/bridgehead/bridgehead/internal/pki"
)

// The Middleware fields that express what Ingress annotations already did: Traefik's
// replacePath, and Bridgehead's extensions tlsClientSubject and redirectScheme.statusCode,
// served from a folder through real TLS on loopback.

// middlewareRoute is an IngressRoute for HOST.example.test through Middleware mw to
// Service svc-a; on websecure with the edge certificate and TLSOption option ("" for
// none), or on web when option is "web".
func middlewareRoute(name, host, mw, option string) string {
	tlsPart, entry := "  tls:\n    secretName: edge-tls\n", "websecure"
	switch option {
	case "web":
		tlsPart, entry = "", "web"
	case "":
	default:
		tlsPart += "    options: {name: " + option + "}\n"
	}
	return fmt.Sprintf(`---
apiVersion: gateway.bridgehead.dev/v1alpha1
kind: IngressRoute
metadata: {name: %s, namespace: web}
spec:
  entryPoints: [%s]
  routes:
  - match: Host(`+"`%s.example.test`"+`)
    middlewares: [{name: %s}]
    services: [{name: svc-a, port: https, serversTransport: backends}]
%s`, name, entry, host, mw, tlsPart)
}

// middlewareYAML is a Middleware named name with spec (YAML, indented two spaces).
func middlewareYAML(name, spec string) string {
	return fmt.Sprintf("---\napiVersion: gateway.bridgehead.dev/v1alpha1\nkind: Middleware\nmetadata: {name: %s, namespace: web}\nspec:\n%s", name, spec)
}

// verifyIfGivenYAML is the TLSOption "verify-if-given": a client certificate is optional,
// and verified against the client CA when sent, so the middleware decides who gets in.
const verifyIfGivenYAML = `---
apiVersion: gateway.bridgehead.dev/v1alpha1
kind: TLSOption
metadata: {name: verify-if-given, namespace: web}
spec:
  clientAuth:
    clientAuthType: VerifyClientCertIfGiven
    secretNames: [client-ca]
`

// TestMiddlewareReplacePathSubjectAndRedirectCode: replacePath sends the configured path
// (query kept) with the original in X-Replaced-Path, and a client cannot forge that
// header; tlsClientSubject admits alice (CN=alice matches CN=(alice|bob)), and answers
// 403 to mallory, whose certificate the same CA verified, and to a client without one;
// redirectScheme.statusCode is the status for GET and POST alike. A pattern that does not
// compile makes its Middleware not Ready naming the field, its route fails closed with
// 503, and the others keep serving.
func TestMiddlewareReplacePathSubjectAndRedirectCode(t *testing.T) {
	t.Parallel()
	p := newPKI(t)
	mallory := p.clientCA.MustIssue("mallory", pki.Options{})
	backend := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = fmt.Fprintf(w, "uri=%s replaced=%q", r.URL.RequestURI(), r.Header.Values("X-Replaced-Path"))
	}))
	backend.TLS = &tls.Config{Certificates: []tls.Certificate{p.backend.TLS}}
	backend.StartTLS()
	t.Cleanup(backend.Close)

	dir := writeFolder(t, map[string]string{
		"secrets.yaml":   p.secretsYAML(),
		"transport.yaml": transportYAML,
		"services.yaml":  serviceYAML(t, "svc-a", addrOf(backend)),
		"options.yaml":   verifyIfGivenYAML,
		"replace.yaml": middlewareRoute("maintenance", "maintenance", "maintenance-page", "") +
			middlewareYAML("maintenance-page", "  replacePath: {path: /maintenance.html}\n"),
		"subject.yaml": middlewareRoute("ops", "ops", "alice-or-bob", "verify-if-given") +
			middlewareYAML("alice-or-bob", `  tlsClientSubject: {pattern: "CN=(alice|bob)"}`+"\n"),
		"broken.yaml": middlewareRoute("broken", "broken", "unclosed", "verify-if-given") +
			middlewareYAML("unclosed", `  tlsClientSubject: {pattern: "CN=(alice|bob"}`+"\n"),
		"redirect.yaml": middlewareRoute("see-other", "see-other", "to-https-303", "web") +
			middlewareYAML("to-https-303", "  redirectScheme: {scheme: https, statusCode: 303}\n") +
			middlewareRoute("temporary", "temporary", "to-https-307", "web") +
			middlewareYAML("to-https-307", "  redirectScheme: {scheme: https, permanent: true, statusCode: 307}\n") +
			middlewareRoute("moved", "moved", "to-https-301", "web") +
			middlewareYAML("to-https-301", "  redirectScheme: {scheme: https, statusCode: 301}\n"),
	})
	gw := serveFolder(t, dir)
	anonymous := gw.httpsClient(p.edgeCA, false)
	alice := gw.httpsClient(p.edgeCA, true, withClientCert(p))
	malloryClient := gw.httpsClient(p.edgeCA, false, func(c *tls.Config) { c.Certificates = []tls.Certificate{mallory.TLS} })

	t.Run("replacePath", func(t *testing.T) {
		waitBody(t, anonymous, "https://maintenance.example.test/shop/cart?id=7", http.StatusOK,
			`uri=/maintenance.html?id=7 replaced=["/shop/cart"]`)
		req, err := http.NewRequest(http.MethodGet, "https://maintenance.example.test/a", nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("X-Replaced-Path", "/forged")
		if code, body := do(t, anonymous, req); code != http.StatusOK || body != `uri=/maintenance.html replaced=["/a"]` {
			t.Errorf("a client-sent X-Replaced-Path: %d %q; want the gateway's value only", code, body)
		}
	})

	t.Run("tlsClientSubject", func(t *testing.T) {
		waitBody(t, alice, "https://ops.example.test/", http.StatusOK, `uri=/ replaced=[]`)
		wantCondition(t, gw, "IngressRoute/web/ops", "Warnings", "False") // its TLSOption verifies
		for who, c := range map[string]*http.Client{"mallory": malloryClient, "no certificate": anonymous} {
			code, body, err := get(c, "https://ops.example.test/")
			if err != nil || code != http.StatusForbidden || !strings.Contains(body, "client certificate not allowed") {
				t.Errorf("%s: %d %q %v; want 403", who, code, body, err)
			}
		}
		// Real curl with alice's certificate, over HTTP/2.
		ca := writePEM(t, "edge-ca.crt", p.edgeCA.PEM)
		cert, key := writePEM(t, "alice.crt", p.alice.CertPEM), writePEM(t, "alice.key", p.alice.KeyPEM)
		port := port(t, gw.websecure)
		out, code := runTool(t, dir, "curl", "-sS", "--http2", "--cacert", ca, "--cert", cert, "--key", key,
			"--resolve", "ops.example.test:"+port+":127.0.0.1", "-w", "\n%{http_code}", "https://ops.example.test:"+port+"/x")
		if want := "uri=/x replaced=[]\n200"; code != 0 || out != want {
			t.Errorf("curl with alice's certificate: exit %d, printed %q, want %q", code, out, want)
		}
	})

	t.Run("a pattern that does not compile fails closed", func(t *testing.T) {
		if code, header := failureOf(t, alice, "https://broken.example.test/"); code != http.StatusServiceUnavailable || header != "InvalidRef" {
			t.Errorf("route through an invalid tlsClientSubject: %d %q; want 503 InvalidRef", code, header)
		}
		wantCondition(t, gw, "Middleware/web/unclosed", "Ready", "False", "spec.tlsClientSubject.pattern", `"CN=(alice|bob"`, "missing closing )")
		waitBody(t, alice, "https://ops.example.test/", http.StatusOK, `uri=/ replaced=[]`)
	})

	t.Run("redirectScheme.statusCode", func(t *testing.T) {
		plain := gw.plainClient()
		for host, want := range map[string]int{"see-other": 303, "temporary": 307, "moved": 301} {
			for _, method := range []string{http.MethodGet, http.MethodPost} {
				req, err := http.NewRequest(method, "http://"+host+".example.test/p?q=1", strings.NewReader("body"))
				if err != nil {
					t.Fatal(err)
				}
				resp, err := plain.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				_ = resp.Body.Close()
				if loc := resp.Header.Get("Location"); resp.StatusCode != want || loc != "https://"+host+".example.test/p?q=1" {
					t.Errorf("%s http://%s.example.test/p?q=1: %d Location %q; want %d to https", method, host, resp.StatusCode, loc, want)
				}
			}
		}
		// Real curl: a POST gets exactly 303, not the 307 the method would choose.
		port := port(t, gw.web)
		out, code := runTool(t, dir, "curl", "-sS", "-X", "POST", "-d", "x=1", "-o", "/dev/null",
			"--resolve", "see-other.example.test:"+port+":127.0.0.1", "-w", "%{http_code} %{redirect_url}", "http://see-other.example.test:"+port+"/form")
		if want := "303 https://see-other.example.test/form"; code != 0 || out != want {
			t.Errorf("curl -X POST: exit %d, printed %q, want %q", code, out, want)
		}
	})
}

// do sends req with a bounded time and returns the status and body.
func do(t *testing.T, c *http.Client, req *http.Request) (int, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	resp, err := c.Do(req.WithContext(ctx))
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(body)
}
