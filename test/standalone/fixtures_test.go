package standalone

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bridgehead/bridgehead/internal/pki"
)

// ns is the namespace of the folders the tests write (and the gateway namespace).
const ns = "web"

// pki is the certificates of one test: the edge (what clients trust), the backends (what
// the gateway trusts), and client certificates for mTLS at the edge and to the backends.
type testPKI struct {
	edgeCA, backendCA, clientCA *pki.CA
	edge, backend               *pki.Leaf
	gatewayClient, alice        *pki.Leaf
}

func newPKI(t *testing.T) *testPKI {
	t.Helper()
	p := &testPKI{edgeCA: pki.MustCA("edge CA"), backendCA: pki.MustCA("backend CA"), clientCA: pki.MustCA("client CA")}
	p.edge = p.edgeCA.MustIssue("example.test", pki.Options{DNSNames: []string{"*.example.test"}})
	p.backend = p.backendCA.MustIssue("backend.web.svc", pki.Options{DNSNames: []string{"backend.web.svc"}})
	p.gatewayClient = p.backendCA.MustIssue("bridgehead-gateway", pki.Options{})
	p.alice = p.clientCA.MustIssue("alice", pki.Options{})
	return p
}

// secretsYAML is the Secrets of the PKI: edge-tls, backend-ca, client-ca, gateway-client.
func (p *testPKI) secretsYAML() string {
	var b strings.Builder
	secret := func(name, typ string, data map[string][]byte) {
		fmt.Fprintf(&b, "---\napiVersion: v1\nkind: Secret\nmetadata:\n  name: %s\n  namespace: %s\ntype: %s\nstringData:\n", name, ns, typ)
		for _, k := range []string{"ca.crt", "tls.crt", "tls.key"} {
			if v, ok := data[k]; ok {
				fmt.Fprintf(&b, "  %s: |\n    %s\n", k, strings.ReplaceAll(strings.TrimSpace(string(v)), "\n", "\n    "))
			}
		}
	}
	secret("edge-tls", "kubernetes.io/tls", map[string][]byte{"tls.crt": p.edge.CertPEM, "tls.key": p.edge.KeyPEM})
	secret("backend-ca", "Opaque", map[string][]byte{"ca.crt": p.backendCA.PEM})
	secret("client-ca", "Opaque", map[string][]byte{"ca.crt": p.clientCA.PEM})
	secret("gateway-client", "kubernetes.io/tls", map[string][]byte{"tls.crt": p.gatewayClient.CertPEM, "tls.key": p.gatewayClient.KeyPEM})
	return b.String()
}

// serviceYAML is a selector-less Service with an EndpointSlice naming addr, its port
// named https (so the gateway speaks TLS to it).
func serviceYAML(t *testing.T, name, addr string) string {
	t.Helper()
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf(`---
apiVersion: v1
kind: Service
metadata:
  name: %[1]s
  namespace: %[2]s
spec:
  ports:
  - name: https
    port: 443
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata:
  name: %[1]s-local
  namespace: %[2]s
  labels:
    kubernetes.io/service-name: %[1]s
addressType: IPv4
ports:
- name: https
  port: %[4]s
endpoints:
- addresses: [%[3]s]
`, name, ns, host, port)
}

// transportYAML is the ServersTransport "backends": trust the backend CA, by name.
const transportYAML = `apiVersion: gateway.bridgehead.dev/v1alpha1
kind: ServersTransport
metadata:
  name: backends
  namespace: web
spec:
  serverName: backend.web.svc
  rootCAs:
  - secret: backend-ca
`

// tlsBackend is an HTTPS backend, with the PKI's backend certificate, that answers its
// name; with requireClient it also requires a client certificate from the backend CA and
// says whose it got.
func tlsBackend(t *testing.T, p *testPKI, name string, requireClient bool) *httptest.Server {
	t.Helper()
	b := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		answer := name
		if len(r.TLS.PeerCertificates) > 0 {
			answer += " client=" + r.TLS.PeerCertificates[0].Subject.CommonName
		}
		_, _ = io.WriteString(w, answer)
	}))
	b.TLS = &tls.Config{Certificates: []tls.Certificate{p.backend.TLS}}
	if requireClient {
		b.TLS.ClientAuth, b.TLS.ClientCAs = tls.RequireAndVerifyClientCert, p.backendCA.Pool()
	}
	b.Config.ErrorLog = log.New(io.Discard, "", 0) // refused handshakes are the point of some tests
	b.EnableHTTP2 = true
	b.StartTLS()
	t.Cleanup(b.Close)
	return b
}

// handlerBackend is an HTTPS backend, with the PKI's backend certificate, that answers
// with h.
func handlerBackend(t *testing.T, p *testPKI, h http.HandlerFunc) *httptest.Server {
	t.Helper()
	b := httptest.NewUnstartedServer(h)
	b.TLS = &tls.Config{Certificates: []tls.Certificate{p.backend.TLS}}
	b.Config.ErrorLog = log.New(io.Discard, "", 0)
	b.StartTLS()
	t.Cleanup(b.Close)
	return b
}

func addrOf(s *httptest.Server) string { return s.Listener.Addr().String() }

// writeFolder writes files (name -> content) into a new folder and returns it.
func writeFolder(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, content := range files {
		path := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// serveFolder runs `bridgehead serve --config-dir dir` on ephemeral ports and waits until
// the folder is loaded.
func serveFolder(t *testing.T, dir string) *gatewayProc {
	t.Helper()
	gw := startBridgehead(t, dir, append([]string{"serve", "--config-dir", ".", "--gateway-namespace", ns}, servePorts...)...)
	gw.waitLoaded()
	return gw
}

// httpsClient sends every request to the gateway's TLS entry point, trusting the edge CA,
// with SNI from the URL's host. http2 chooses HTTP/2 (one shared connection) or HTTP/1.1.
func (p *gatewayProc) httpsClient(ca *pki.CA, http2 bool, mutate ...func(*tls.Config)) *http.Client {
	cfg := &tls.Config{RootCAs: ca.Pool()}
	for _, m := range mutate {
		m(cfg)
	}
	tr := &http.Transport{
		TLSClientConfig:   cfg,
		ForceAttemptHTTP2: http2,
		DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, network, p.websecure)
		},
	}
	if !http2 {
		tr.TLSNextProto = map[string]func(string, *tls.Conn) http.RoundTripper{}
	}
	p.t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Timeout: 10 * time.Second, Transport: tr}
}

// get does one GET and returns status and body; err is for a failed round trip.
func get(c *http.Client, url string) (int, string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return 0, "", err
	}
	resp, err := c.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer func() { _ = resp.Body.Close() }()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return resp.StatusCode, "", err
	}
	return resp.StatusCode, string(body), nil
}

// writePEM writes PEM data for a real client (curl) to use.
func writePEM(t *testing.T, name string, data []byte) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// withClientCert makes a client present alice's certificate (from the client CA).
func withClientCert(p *testPKI) func(*tls.Config) {
	return func(c *tls.Config) { c.Certificates = []tls.Certificate{p.alice.TLS} }
}

// backendFiles are the files of a folder with the PKI's Secrets, an HTTPS backend "A" as
// Service svc-a, and the ServersTransport "backends" that trusts it; a test adds its routes.
func backendFiles(t *testing.T, p *testPKI, requireClient bool) map[string]string {
	t.Helper()
	backend := tlsBackend(t, p, "A", requireClient)
	return map[string]string{
		"secrets.yaml":   p.secretsYAML(),
		"backends.yaml":  serviceYAML(t, "svc-a", addrOf(backend)),
		"transport.yaml": transportYAML,
	}
}

// clientCertRequiredFolder is a folder whose IngressRoute web/app (app.example.test) goes
// through the ServersTransport "backends", which has no client certificate, to a backend
// that requires one: translate finds nothing wrong, and every request fails with
// ClientCertificateRequired.
func clientCertRequiredFolder(t *testing.T) (*testPKI, string) {
	t.Helper()
	p := newPKI(t)
	files := backendFiles(t, p, true)
	files["app.yaml"] = namedRoute("app", "app", "svc-a")
	return p, writeFolder(t, files)
}

// failureOf does one GET and returns the status and the Bridgehead-Error header.
func failureOf(t *testing.T, c *http.Client, url string) (int, string) {
	t.Helper()
	resp, err := c.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	return resp.StatusCode, resp.Header.Get("Bridgehead-Error")
}
