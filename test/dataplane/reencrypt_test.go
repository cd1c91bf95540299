package dataplane

import (
	"crypto/tls"
	"io"
	"net/http"
	"strings"
	"testing"

	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/bridgehead/bridgehead/internal/pki"
)

// pki is the certificates of one scenario: the edge certificate for app.example.com, and
// a private CA that signs the backend's certificate for backend.web.svc.
type testPKI struct {
	edgeCA, backendCA, otherCA *pki.CA
	edge                       *pki.Leaf
}

func newPKI() *testPKI {
	p := &testPKI{edgeCA: pki.MustCA("edge CA"), backendCA: pki.MustCA("backend CA"), otherCA: pki.MustCA("other CA")}
	p.edge = p.edgeCA.MustIssue("app.example.com", pki.Options{DNSNames: []string{"app.example.com", "admin.example.com"}})
	return p
}

func (p *testPKI) backend(names ...string) *pki.Leaf {
	return p.backendCA.MustIssue(names[0], pki.Options{DNSNames: names})
}

// get requests url through the gateway and returns status, Bridgehead-Error and body.
func get(t *testing.T, c *http.Client, url string) (int, string, string) {
	t.Helper()
	resp, err := c.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer func() { _ = resp.Body.Close() }()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header.Get("Bridgehead-Error"), string(body)
}

// e2e is the end-to-end TLS setup: edge cert, https Service, ServersTransport.
func e2e(p *testPKI, backendAddr string, transport client.Object, route routeSpec) []client.Object {
	objs := []client.Object{tlsSecret("app-tls", p.edge), caSecret("backend-ca", p.backendCA), ingressRoute(route)}
	if transport != nil {
		objs = append(objs, transport)
	}
	return append(objs, service("backend", "https", backendAddr)...)
}

func TestReencryptsToABackendVerifiedByAPrivateCA(t *testing.T) {
	p := newPKI()
	b := tlsBackend(t, p.backend("backend.web.svc"))
	g := startGateway(t, e2e(p, addrOf(b), serversTransport("backend", "backend.web.svc", []string{"backend-ca"}, nil),
		routeSpec{name: "app", match: "Host(`app.example.com`)", svc: "backend", transport: "backend", secret: "app-tls"}))

	code, reason, body := get(t, g.httpsClient(p.edgeCA), "https://app.example.com/")
	if code != 200 || body != "backend:backend.web.svc" {
		t.Fatalf("got %d %q %q, want 200 from the backend with SNI backend.web.svc", code, reason, body)
	}
}

func TestDefaultServerNameAcceptsTheServiceDNSNames(t *testing.T) {
	p := newPKI()
	// No serverName: the gateway sends SNI backend.web.svc and accepts any of the
	// Service's DNS names, here the short one only.
	b := tlsBackend(t, p.backend("backend"))
	g := startGateway(t, e2e(p, addrOf(b), serversTransport("backend", "", []string{"backend-ca"}, nil),
		routeSpec{name: "app", match: "Host(`app.example.com`)", svc: "backend", transport: "backend", secret: "app-tls"}))
	if code, reason, body := get(t, g.httpsClient(p.edgeCA), "https://app.example.com/"); code != 200 {
		t.Fatalf("got %d %s %q", code, reason, body)
	}
}

func TestUpstreamFailuresAreNamed(t *testing.T) {
	p := newPKI()
	cases := []struct {
		name       string
		backend    func(t *testing.T) string
		transport  client.Object
		wantStatus int
		wantReason string
	}{
		{"backend signed by another CA", func(t *testing.T) string {
			return addrOf(tlsBackend(t, p.otherCA.MustIssue("backend.web.svc", pki.Options{DNSNames: []string{"backend.web.svc"}})))
		}, serversTransport("backend", "backend.web.svc", []string{"backend-ca"}, nil), 502, "UnknownAuthority"},
		{"backend certificate for another name", func(t *testing.T) string {
			return addrOf(tlsBackend(t, p.backend("db.internal")))
		}, serversTransport("backend", "backend.web.svc", []string{"backend-ca"}, nil), 502, "NameMismatch"},
		{"plain HTTP on the https port", func(t *testing.T) string {
			s := httpBackend(t)
			return addrOf(s)
		}, serversTransport("backend", "backend.web.svc", []string{"backend-ca"}, nil), 502, "BackendNotTLS"},
		{"backend requires a client certificate, none configured", func(t *testing.T) string {
			return addrOf(tlsBackend(t, p.backend("backend.web.svc"), requireClientCert(p.backendCA)))
		}, serversTransport("backend", "backend.web.svc", []string{"backend-ca"}, nil), 502, "ClientCertificateRequired"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			g := startGateway(t, e2e(p, tc.backend(t), tc.transport,
				routeSpec{name: "app", match: "Host(`app.example.com`)", svc: "backend", transport: "backend", secret: "app-tls"}))
			code, reason, body := get(t, g.httpsClient(p.edgeCA), "https://app.example.com/")
			if code != tc.wantStatus || reason != tc.wantReason {
				t.Fatalf("got %d %q (%q), want %d %s", code, reason, body, tc.wantStatus, tc.wantReason)
			}
			if strings.Contains(body, "backend-ca") {
				t.Errorf("the client-facing body must not leak configuration: %q", body)
			}
		})
	}
}

func TestClientCertificateToTheBackend(t *testing.T) {
	p := newPKI()
	b := tlsBackend(t, p.backend("backend.web.svc"), requireClientCert(p.backendCA))
	gatewayID := p.backendCA.MustIssue("gateway", pki.Options{})
	objs := e2e(p, addrOf(b), serversTransport("backend", "backend.web.svc", []string{"backend-ca"}, []string{"gateway-id"}),
		routeSpec{name: "app", match: "Host(`app.example.com`)", svc: "backend", transport: "backend", secret: "app-tls"})
	g := startGateway(t, append(objs, tlsSecret("gateway-id", gatewayID)))
	if code, reason, body := get(t, g.httpsClient(p.edgeCA), "https://app.example.com/"); code != 200 {
		t.Fatalf("got %d %s %q, want 200 with certificatesSecrets", code, reason, body)
	}
}

func requireClientCert(ca *pki.CA) func(*tls.Config) {
	return func(c *tls.Config) {
		c.ClientAuth = tls.RequireAndVerifyClientCert
		c.ClientCAs = ca.Pool()
	}
}

func httpBackend(t *testing.T) *httpServer {
	return startHTTPBackend(t)
}
