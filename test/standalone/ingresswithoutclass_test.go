package standalone

import (
	"net/http"
	"strings"
	"testing"
)

// classlessIngress is an Ingress of no class for free.example.test over TLS to svc-a.
const classlessIngress = `apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: free
  namespace: web
  annotations: {bridgehead.dev/servers-transport: backends}
spec:
  tls: [{hosts: [free.example.test], secretName: edge-tls}]
  rules:
  - host: free.example.test
    http: {paths: [{path: /, pathType: Prefix, backend: {service: {name: svc-a, port: {name: https}}}}]}
`

// TestIngressWithoutClass: an Ingress that names no class (and no IngressClass is the
// default) is served by nobody: the gateway lists it as not served with the fix, in its
// table and in lint, and answers 404 for it; with --ingress-without-class it serves it, as
// Traefik does.
func TestIngressWithoutClass(t *testing.T) {
	t.Parallel()
	p := newPKI(t)
	files := backendFiles(t, p, false)
	files["ingress.yaml"] = classlessIngress
	dir := writeFolder(t, files)

	gw := serveFolder(t, dir)
	row := "Ingress/web/free"
	printed := gw.waitPrinted(row, "not served: no class")
	if !strings.Contains(printed, "NoIngressClass") || !strings.Contains(printed, "--ingress-without-class") {
		t.Errorf("the table does not say the Ingress is not served and why:\n%s", printed)
	}
	if code, _, err := get(gw.plainClient(), "http://free.example.test/"); err != nil || code != http.StatusNotFound {
		t.Errorf("without the flag: %d %v, want 404", code, err)
	}
	out, code := runTool(t, dir, binary, "lint", "--config-dir", ".")
	if code != 1 || !strings.Contains(out, "Ingress web/free: NoIngressClass: not served: no class") {
		t.Errorf("lint: exit %d, want 1 naming the Ingress:\n%s", code, out)
	}

	served := startBridgehead(t, dir, append([]string{"serve", "--config-dir", ".", "--gateway-namespace", ns, "--ingress-without-class"}, servePorts...)...)
	served.waitLoaded()
	waitBody(t, served.httpsClient(p.edgeCA, false), "https://free.example.test/", http.StatusOK, "A")
}
