package standalone

import (
	"crypto/tls"
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bridgehead/bridgehead/internal/pki"
)

// defaultStoreYAML is a TLSStore named default in namespace ns whose defaultCertificate is
// leaf, in a Secret of that namespace.
func defaultStoreYAML(ns string, leaf *pki.Leaf) string {
	indent := func(b []byte) string { return strings.ReplaceAll(strings.TrimSpace(string(b)), "\n", "\n    ") }
	return fmt.Sprintf(`apiVersion: traefik.io/v1alpha1
kind: TLSStore
metadata: {name: default, namespace: %[1]s}
spec:
  defaultCertificate: {secretName: store-default}
---
apiVersion: v1
kind: Secret
metadata: {name: store-default, namespace: %[1]s}
type: kubernetes.io/tls
stringData:
  tls.crt: |
    %[2]s
  tls.key: |
    %[3]s
`, ns, indent(leaf.CertPEM), indent(leaf.KeyPEM))
}

// TestTLSStoreDefaultInAnyNamespace: as in Traefik, a TLSStore named default outside the
// gateway's namespace is the default store: its defaultCertificate answers a name no route
// claims (a verified handshake, Go and curl, then the router's 404). A second one in the
// gateway's namespace wins; the first is then not Ready, naming the winner, and its
// certificate is no longer served.
func TestTLSStoreDefaultInAnyNamespace(t *testing.T) {
	t.Parallel()
	p := newPKI(t)
	dir := writeFolder(t, map[string]string{
		"secrets.yaml": p.secretsYAML(),
		"store.yaml":   defaultStoreYAML("team-a", p.edge),
	})
	gw := serveFolder(t, dir)
	wantCondition(t, gw, "TLSStore/team-a/default", "Ready", "True")
	client := gw.httpsClient(p.edgeCA, false)
	if code, _, err := get(client, "https://unclaimed.example.test/"); err != nil || code != http.StatusNotFound {
		t.Fatalf("unclaimed name: %d %v; want a verified handshake with team-a/default's certificate, then 404", code, err)
	}
	ca := writePEM(t, "edge-ca.crt", p.edgeCA.PEM)
	port := port(t, gw.websecure)
	out, code := runTool(t, dir, "curl", "-sS", "-o", "/dev/null", "-w", "%{http_code}", "--cacert", ca,
		"--resolve", "unclaimed.example.test:"+port+":127.0.0.1", "https://unclaimed.example.test:"+port+"/")
	if code != 0 || out != "404" {
		t.Errorf("curl unclaimed.example.test: exit %d, printed %q; want a verified handshake and 404", code, out)
	}

	// The gateway's namespace gets a default store too, with a certificate of the backend CA.
	writeFile(t, filepath.Join(dir, "store-web.yaml"), defaultStoreYAML(ns, p.backend))
	wantCondition(t, gw, "TLSStore/team-a/default", "Ready", "False", "TLSStore team-a/default is not used: TLSStore web/default, in the gateway's namespace, is the default store")
	wantCondition(t, gw, "TLSStore/web/default", "Ready", "True")
	fresh := gw.httpsClient(p.edgeCA, false, func(c *tls.Config) { c.ClientSessionCache = nil })
	if _, _, err := get(fresh, "https://unclaimed.example.test/"); err == nil || !strings.Contains(err.Error(), "certificate") {
		t.Errorf("unclaimed name after web/default won: %v; want the handshake to fail on web/default's certificate (not the edge CA's)", err)
	}
}
