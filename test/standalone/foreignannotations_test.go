package standalone

import (
	"net/http"
	"path/filepath"
	"strings"
	"testing"
)

// restrictedIngress is an Ingress of class bridgehead for app.example.test over TLS,
// re-encrypted to svc-a through the ServersTransport "backends", with extra annotations.
func restrictedIngress(annotations string) string {
	return `apiVersion: networking.k8s.io/v1
kind: IngressClass
metadata: {name: bridgehead}
spec: {controller: bridgehead.dev/ingress-controller}
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: app
  namespace: web
  annotations:
    bridgehead.dev/servers-transport: backends
` + annotations + `spec:
  ingressClassName: bridgehead
  tls:
  - hosts: [app.example.test]
    secretName: edge-tls
  rules:
  - host: app.example.test
    http:
      paths:
      - path: /
        pathType: Prefix
        backend: {service: {name: svc-a, port: {name: https}}}
`
}

// TestIngressWithAnotherControllersDenyListFailsClosed: an Ingress brought from
// ingress-nginx with a deny list Bridgehead does not read answers 503
// UnsupportedAnnotation (never 200 to everyone), says so in its status with the fix, and
// serves once the annotation is gone; "auth-tls-verify-client: off" restricts nothing
// and serves. (The allow-lists are served: ingressannotations_test.go.)
func TestIngressWithAnotherControllersDenyListFailsClosed(t *testing.T) {
	t.Parallel()
	p := newPKI(t)
	files := backendFiles(t, p, false)
	files["ingress.yaml"] = restrictedIngress("    nginx.ingress.kubernetes.io/denylist-source-range: 10.0.0.0/8\n")
	dir := writeFolder(t, files)
	gw := serveFolder(t, dir)
	client := gw.httpsClient(p.edgeCA, false)

	code, header := failureOf(t, client, "https://app.example.test/")
	if code != http.StatusServiceUnavailable || header != "UnsupportedAnnotation" {
		t.Fatalf("with a deny list Bridgehead does not read: %d, Bridgehead-Error %q; want 503 UnsupportedAnnotation", code, header)
	}
	status, reason, msg, _ := gw.status().condition("Ingress/web/app", "Ready")
	if status != "False" || reason != "UnsupportedAnnotation" {
		t.Errorf("/status: Ingress/web/app Ready = %s %s %s; want False UnsupportedAnnotation", status, reason, msg)
	}
	for _, want := range []string{"nginx.ingress.kubernetes.io/denylist-source-range", "ipAllowList Middleware"} {
		if !strings.Contains(msg, want) {
			t.Errorf("the condition does not name %q: %s", want, msg)
		}
	}

	writeFile(t, filepath.Join(dir, "ingress.yaml"), restrictedIngress("    nginx.ingress.kubernetes.io/auth-tls-verify-client: \"off\"\n"))
	if _, ok := eventually(reloadLimit, func() bool {
		code, body, err := get(client, "https://app.example.test/")
		return err == nil && code == http.StatusOK && body == "A"
	}); !ok {
		t.Fatalf("without the deny list, the backend did not answer within %s", reloadLimit)
	}
}
