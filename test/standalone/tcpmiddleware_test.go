package standalone

import (
	"crypto/tls"
	"crypto/x509"
	"io"
	"net"
	"strings"
	"testing"
	"time"
)

// tcpAllowListYAML is the case of issue 14 as a Traefik user writes it: IngressRouteTCP
// passthrough routes whose Traefik MiddlewareTCP allows only some clients.
const tcpAllowListYAML = `apiVersion: traefik.io/v1alpha1
kind: MiddlewareTCP
metadata: {name: office, namespace: web}
spec:
  ipAllowList:
    sourceRange: [192.0.2.0/24]
---
apiVersion: traefik.io/v1alpha1
kind: MiddlewareTCP
metadata: {name: local, namespace: web}
spec:
  ipAllowList:
    sourceRange: [127.0.0.0/8]
---
apiVersion: traefik.io/v1alpha1
kind: IngressRouteTCP
metadata: {name: office-db, namespace: web}
spec:
  entryPoints: [websecure]
  routes:
  - match: HostSNI(` + "`office.example.test`" + `)
    middlewares: [{name: office}]
    services: [{name: svc-a, port: 443}]
  tls: {passthrough: true}
---
apiVersion: traefik.io/v1alpha1
kind: IngressRouteTCP
metadata: {name: local-db, namespace: web}
spec:
  entryPoints: [websecure]
  routes:
  - match: HostSNI(` + "`local.example.test`" + `)
    middlewares: [{name: local}]
    services: [{name: svc-a, port: 443}]
  tls: {passthrough: true}
`

// TestTraefikMiddlewareTCPAllowListIsEnforced runs the binary (with its separate data-plane
// process) on a folder: a client outside a route's allow list is closed before its TLS
// reaches the backend, a client inside it is served, and both routes are Ready.
func TestTraefikMiddlewareTCPAllowListIsEnforced(t *testing.T) {
	t.Parallel()
	p := newPKI(t)
	backend := tlsBackend(t, p, "A", false)
	dir := writeFolder(t, map[string]string{
		"secrets.yaml": p.secretsYAML(),
		"service.yaml": serviceYAML(t, "svc-a", addrOf(backend)),
		"tcp.yaml":     tcpAllowListYAML,
	})
	gw := serveFolder(t, dir)
	st := gw.status()
	for _, obj := range []string{"IngressRouteTCP/web/office-db", "IngressRouteTCP/web/local-db", "MiddlewareTCP/web/office"} {
		if status, reason, msg, _ := st.condition(obj, "Ready"); status != "True" {
			t.Errorf("/status: %s Ready = %q %q %q, want True", obj, status, reason, msg)
		}
	}

	hello := func(sni string) (string, error) {
		raw, err := net.DialTimeout("tcp", gw.websecure, 5*time.Second)
		if err != nil {
			return "", err
		}
		defer func() { _ = raw.Close() }()
		_ = raw.SetDeadline(time.Now().Add(5 * time.Second))
		c := tls.Client(raw, &tls.Config{ServerName: sni, RootCAs: p.backendCA.Pool(), NextProtos: []string{"http/1.1"},
			// The backend's certificate is for its Service name; passthrough keeps it.
			VerifyConnection: func(cs tls.ConnectionState) error {
				_, err := cs.PeerCertificates[0].Verify(x509Opts(p, "backend.web.svc"))
				return err
			}, InsecureSkipVerify: true}) //nolint:gosec // VerifyConnection verifies the backend's own name
		if err := c.Handshake(); err != nil {
			return "", err
		}
		if _, err := io.WriteString(c, "GET / HTTP/1.1\r\nHost: "+sni+"\r\nConnection: close\r\n\r\n"); err != nil {
			return "", err
		}
		out, err := io.ReadAll(c)
		return string(out), err
	}
	if out, err := hello("local.example.test"); err != nil || !strings.HasSuffix(out, "\r\n\r\nA") {
		t.Errorf("an allowed client: %q %v, want the backend's answer", out, err)
	}
	if out, err := hello("office.example.test"); err == nil {
		t.Errorf("a client outside the allow list was served: %q", out)
	}
}

func x509Opts(p *testPKI, name string) x509.VerifyOptions {
	return x509.VerifyOptions{Roots: p.backendCA.Pool(), DNSName: name}
}
