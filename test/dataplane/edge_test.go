package dataplane

import (
	"crypto/tls"
	"io"
	"net/http"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	bhv1 "github.com/bridgehead/bridgehead/api/v1alpha1"
	"github.com/bridgehead/bridgehead/internal/pki"
	"github.com/bridgehead/bridgehead/proxy"
)

func mtlsOption(name string, secrets ...string) *bhv1.TLSOption {
	o := &bhv1.TLSOption{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec: bhv1.TLSOptionSpec{ClientAuth: bhv1.ClientAuth{ClientAuthType: bhv1.RequireAndVerifyClientCert}}}
	for _, s := range secrets {
		o.Spec.ClientAuth.SecretNames = append(o.Spec.ClientAuth.SecretNames, bhv1.SecretName(s))
	}
	return o
}

// mtlsSetup serves admin.example.com with client mTLS and app.example.com without, both
// from one certificate, to the same plain backend.
func mtlsSetup(t *testing.T, p *testPKI, clientCA *pki.CA) *gateway {
	b := startHTTPBackend(t)
	objs := []client.Object{
		tlsSecret("app-tls", p.edge), caSecret("client-ca", clientCA), mtlsOption("mtls", "client-ca"),
		ingressRoute(routeSpec{name: "admin", match: "Host(`admin.example.com`)", svc: "plain", scheme: "http", secret: "app-tls", option: "mtls"}),
		ingressRoute(routeSpec{name: "app", match: "Host(`app.example.com`)", svc: "plain", scheme: "http", secret: "app-tls"}),
	}
	return startGateway(t, append(objs, service("plain", "http", addrOf(b))...))
}

func TestEdgeClientMTLS(t *testing.T) {
	p := newPKI()
	clientCA, strangerCA := pki.MustCA("client CA"), pki.MustCA("stranger CA")
	g := mtlsSetup(t, p, clientCA)
	good := clientCA.MustIssue("alice", pki.Options{})
	bad := strangerCA.MustIssue("mallory", pki.Options{})

	t.Run("no client certificate is refused", func(t *testing.T) {
		if resp, err := g.httpsClient(p.edgeCA).Get("https://admin.example.com/"); err == nil {
			_ = resp.Body.Close()
			t.Fatalf("request without a client certificate got %d", resp.StatusCode)
		}
	})
	t.Run("a certificate from another CA is refused", func(t *testing.T) {
		if resp, err := g.httpsClient(p.edgeCA, clientCert(bad)).Get("https://admin.example.com/"); err == nil {
			_ = resp.Body.Close()
			t.Fatalf("request with a certificate from an untrusted CA got %d", resp.StatusCode)
		}
	})
	t.Run("the right certificate is served", func(t *testing.T) {
		if code, reason, _ := get(t, g.httpsClient(p.edgeCA, clientCert(good)), "https://admin.example.com/"); code != 200 {
			t.Fatalf("got %d %s", code, reason)
		}
	})
	t.Run("the host without mTLS needs no certificate", func(t *testing.T) {
		if code, reason, _ := get(t, g.httpsClient(p.edgeCA), "https://app.example.com/"); code != 200 {
			t.Fatalf("got %d %s", code, reason)
		}
	})
}

// A connection negotiated for app.example.com (no mTLS) must not serve admin.example.com
// (mTLS) by sending another Host: that would bypass client authentication.
func TestHostOfAnotherTLSPolicyGets421(t *testing.T) {
	p := newPKI()
	g := mtlsSetup(t, p, pki.MustCA("client CA"))
	for _, h2 := range []bool{false, true} {
		name := "HTTP/1.1"
		if h2 {
			name = "HTTP/2"
		}
		t.Run(name, func(t *testing.T) {
			c := g.httpsClient(p.edgeCA, func(c *tls.Config) {
				c.ServerName = "app.example.com"
				if !h2 {
					c.NextProtos = []string{"http/1.1"}
				}
			})
			if !h2 {
				c.Transport.(*http.Transport).ForceAttemptHTTP2 = false
			}
			req, _ := http.NewRequest("GET", "https://app.example.com/", nil)
			req.Host = "admin.example.com"
			resp, err := c.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			_ = resp.Body.Close()
			if resp.StatusCode != http.StatusMisdirectedRequest {
				t.Fatalf("got %d over %s, want 421", resp.StatusCode, resp.Proto)
			}
			if h2 != (resp.ProtoMajor == 2) {
				t.Fatalf("negotiated %s", resp.Proto)
			}
		})
	}
}

func TestSNIStrictRefusesUnknownNames(t *testing.T) {
	p := newPKI()
	b := startHTTPBackend(t)
	def := &bhv1.TLSOption{ObjectMeta: metav1.ObjectMeta{Namespace: "bridgehead", Name: "default"}, Spec: bhv1.TLSOptionSpec{SniStrict: true}}
	objs := []client.Object{tlsSecret("app-tls", p.edge), def,
		ingressRoute(routeSpec{name: "app", match: "Host(`app.example.com`)", svc: "plain", scheme: "http", secret: "app-tls"})}
	g := startGateway(t, append(objs, service("plain", "http", addrOf(b))...))

	if code, _, _ := get(t, g.httpsClient(p.edgeCA), "https://app.example.com/"); code != 200 {
		t.Fatalf("known name: got %d", code)
	}
	conn, err := tls.Dial("tcp", g.secure, &tls.Config{ServerName: "unknown.example.com", InsecureSkipVerify: true}) //nolint:gosec // the handshake must fail before verification matters
	if err == nil {
		_ = conn.Close()
		t.Fatal("handshake for an unknown name succeeded under sniStrict")
	}
}

func TestRedirectsToHTTPSButForwardsACMEChallenges(t *testing.T) {
	b := startHTTPBackend(t)
	solver := ingressRoute(routeSpec{name: "acme-solver", match: "Host(`app.example.com`) && PathPrefix(`/.well-known/acme-challenge/`)", svc: "solver", scheme: "http", entryPoints: []string{"web"}})
	g := startGateway(t, append([]client.Object{solver}, service("solver", "http", addrOf(b))...), withRedirect())
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

	req, _ := http.NewRequest("POST", "http://"+g.web+"/login?next=%2Fhome", nil)
	req.Host = "app.example.com"
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	_, securePort, _ := strings.Cut(g.secure, ":")
	if resp.StatusCode != http.StatusPermanentRedirect || resp.Header.Get("Location") != "https://app.example.com:"+securePort+"/login?next=%2Fhome" {
		t.Fatalf("got %d Location %q", resp.StatusCode, resp.Header.Get("Location"))
	}

	req, _ = http.NewRequest("GET", "http://"+g.web+"/.well-known/acme-challenge/token-123", nil)
	req.Host = "app.example.com"
	resp, err = c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	if resp.StatusCode != 200 || string(body) != "plain backend" || resp.Header.Get("X-Seen-Path") != "/.well-known/acme-challenge/token-123" {
		t.Fatalf("ACME challenge: got %d %q", resp.StatusCode, body)
	}
}

func TestForwardedHeadersAreOursAlone(t *testing.T) {
	p := newPKI()
	b := startHTTPBackend(t)
	objs := []client.Object{tlsSecret("app-tls", p.edge),
		ingressRoute(routeSpec{name: "app", match: "Host(`app.example.com`)", svc: "plain", scheme: "http", secret: "app-tls"})}
	g := startGateway(t, append(objs, service("plain", "http", addrOf(b))...))
	req, _ := http.NewRequest("GET", "https://app.example.com/", nil)
	req.Header.Set("X-Forwarded-For", "6.6.6.6")
	req.Header.Set("X-Real-Ip", "6.6.6.6")
	req.Header.Set("X-Forwarded-Proto", "gopher")
	req.Header.Set("Connection", "X-Forwarded-For, X-Real-Ip")
	c := g.httpsClient(p.edgeCA, func(c *tls.Config) { c.NextProtos = []string{"http/1.1"} })
	c.Transport.(*http.Transport).ForceAttemptHTTP2 = false // HTTP/2 forbids Connection
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	if got := resp.Header.Get("X-Seen-Forwarded-For"); got != "127.0.0.1" {
		t.Errorf("X-Forwarded-For %q, want only the real client", got)
	}
	if got := resp.Header.Get("X-Seen-Real-Ip"); got != "127.0.0.1" {
		t.Errorf("X-Real-Ip %q", got)
	}
	if got := resp.Header.Get("X-Seen-Forwarded-Proto"); got != "https" {
		t.Errorf("X-Forwarded-Proto %q", got)
	}
	if got := resp.Header.Get("X-Seen-Host"); got != "app.example.com" {
		t.Errorf("Host %q, want the client's (passHostHeader defaults to true)", got)
	}
}

// Behind a Service that maps 443 to the gateway's port, redirects name the public port.
func TestRedirectUsesTheAdvertisedPort(t *testing.T) {
	g := startGateway(t, nil, withRedirect(), func(c *proxy.Config) { c.EntryPoints[1].AdvertisedPort = "443" })
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	req, _ := http.NewRequest("GET", "http://"+g.web+"/login", nil)
	req.Host = "app.example.com"
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusMovedPermanently || resp.Header.Get("Location") != "https://app.example.com/login" {
		t.Fatalf("got %d Location %q", resp.StatusCode, resp.Header.Get("Location"))
	}
}
