package standalone

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
)

// pinnedTransportYAML is a Traefik ServersTransport that trusts the backend CA and pins
// the backend's identity with peerCertSANs entries (YAML flow items).
func pinnedTransportYAML(name string, sans ...string) string {
	return fmt.Sprintf(`---
apiVersion: traefik.io/v1alpha1
kind: ServersTransport
metadata: {name: %s, namespace: web}
spec:
  serverName: backend.web.svc
  rootCAs: [{secret: backend-ca}]
  peerCertSANs: [%s]
`, name, strings.Join(sans, ", "))
}

// pinnedRoute is an IngressRoute for HOST.example.test to svc-a through transport.
func pinnedRoute(host, transport string) string {
	return fmt.Sprintf(`---
apiVersion: traefik.io/v1alpha1
kind: IngressRoute
metadata: {name: %[1]s, namespace: web}
spec:
  entryPoints: [websecure]
  routes:
  - match: Host(`+"`%[1]s.example.test`"+`)
    services: [{name: svc-a, port: 443, serversTransport: %[2]s}]
  tls: {secretName: edge-tls}
`, host, transport)
}

// TestPeerCertSANsBothForms: a Traefik ServersTransport's peerCertSANs in the {type,
// value} form, and Bridgehead's plain strings, pin the backend's identity through real
// TLS on loopback: a certificate carrying one pinned SAN is served, one carrying none is
// refused (502 NameMismatch), and an entry of neither form fails the transport closed.
func TestPeerCertSANsBothForms(t *testing.T) {
	t.Parallel()
	p := newPKI(t)
	a := tlsBackend(t, p, "A", false)
	dir := writeFolder(t, map[string]string{
		"secrets.yaml":  p.secretsYAML(),
		"services.yaml": serviceYAML(t, "svc-a", addrOf(a)),
		"routes.yaml": pinnedRoute("typed", "typed") + pinnedRoute("plain", "plain") + pinnedRoute("other", "other") + pinnedRoute("broken", "broken") +
			pinnedTransportYAML("typed", "{type: URI, value: 'spiffe://cluster.local/ns/web/sa/nope'}", "{type: DNSName, value: backend.web.svc}") +
			pinnedTransportYAML("plain", "backend.web.svc") +
			pinnedTransportYAML("other", "{type: URI, value: 'spiffe://cluster.local/ns/web/sa/backend'}", "other.web.svc") +
			pinnedTransportYAML("broken", "{type: DNSName, value: backend.web.svc, note: x}"),
	})
	gw := serveFolder(t, dir)
	wantCondition(t, gw, "ServersTransport/web/broken", "Ready", "False", "spec.peerCertSANs[0]", "neither a string nor an object with only type and value")
	client := gw.httpsClient(p.edgeCA, false)
	for _, c := range []struct {
		host   string
		code   int
		reason string
	}{
		{"typed", http.StatusOK, ""},
		{"plain", http.StatusOK, ""},
		{"other", http.StatusBadGateway, "NameMismatch"},
		{"broken", http.StatusBadGateway, "Invalid"},
	} {
		code, reason := failureOf(t, client, "https://"+c.host+".example.test/")
		if code != c.code || reason != c.reason {
			t.Errorf("%s: %d %q; want %d %q", c.host, code, reason, c.code, c.reason)
		}
	}
	ca := writePEM(t, "edge-ca.crt", p.edgeCA.PEM)
	port := port(t, gw.websecure)
	out, code := runTool(t, dir, "curl", "-sS", "--cacert", ca, "--resolve", "typed.example.test:"+port+":127.0.0.1", "https://typed.example.test:"+port+"/")
	if code != 0 || out != "A" {
		t.Errorf("curl typed.example.test: exit %d, printed %q; want A", code, out)
	}
}
