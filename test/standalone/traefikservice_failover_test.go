package standalone

import (
	"net/http"
	"strings"
	"testing"
	"time"
)

// failoverRoutes: failover.example.test goes to svc-main, health-checked every second,
// and to svc-standby when svc-main has no healthy endpoint.
const failoverRoutes = `apiVersion: gateway.bridgehead.dev/v1alpha1
kind: IngressRoute
metadata: {name: failover, namespace: web}
spec:
  entryPoints: [websecure]
  routes:
  - match: Host(` + "`failover.example.test`" + `)
    services: [{name: main-or-standby, kind: TraefikService}]
  tls: {secretName: edge-tls}
---
apiVersion: gateway.bridgehead.dev/v1alpha1
kind: TraefikService
metadata: {name: main-or-standby, namespace: web}
spec:
  failover:
    service: {name: svc-main, port: https, serversTransport: backends, healthCheck: {path: /, interval: 1s, timeout: 500ms}}
    fallback: {name: svc-standby, port: https, serversTransport: backends}
`

// TestTraefikServiceFailover: over real TLS, a failover TraefikService answers from its
// service while that is healthy; when the service goes down, its health check takes it
// out and the fallback answers, within a bounded time, without a failed request once
// the switch is made; curl sees the fallback too.
func TestTraefikServiceFailover(t *testing.T) {
	t.Parallel()
	p := newPKI(t)
	main, standby := tlsBackend(t, p, "main", false), tlsBackend(t, p, "standby", false)
	dir := writeFolder(t, map[string]string{
		"secrets.yaml":   p.secretsYAML(),
		"backends.yaml":  serviceYAML(t, "svc-main", addrOf(main)) + serviceYAML(t, "svc-standby", addrOf(standby)),
		"transport.yaml": transportYAML,
		"routes.yaml":    failoverRoutes,
	})
	gw := serveFolder(t, dir)
	client := gw.httpsClient(p.edgeCA, true)
	const url = "https://failover.example.test/"
	waitBody(t, client, url, http.StatusOK, "main")
	wantCondition(t, gw, "TraefikService/web/main-or-standby", "Ready", "True")
	for range 20 {
		if _, body, err := get(client, url); err != nil || body != "main" {
			t.Fatalf("while the service is up: %q (%v); want main", body, err)
		}
	}

	// The service goes down: its next probe fails, and the fallback takes over.
	main.Close()
	down := time.Now()
	took, ok := eventually(10*time.Second, func() bool {
		_, body, err := get(client, url)
		return err == nil && body == "standby"
	})
	if !ok {
		t.Fatalf("the fallback did not answer within %s of the service going down", took)
	}
	t.Logf("the service went down; the fallback answered %s later (health check every 1s)", time.Since(down).Round(time.Millisecond))
	for range 20 {
		if code, body, err := get(client, url); err != nil || body != "standby" {
			t.Fatalf("after the switch: %d %q (%v); want standby", code, body, err)
		}
	}

	ca := writePEM(t, "edge-ca.crt", p.edgeCA.PEM)
	port := port(t, gw.websecure)
	out, code := runTool(t, dir, "curl", "-sS", "--cacert", ca, "--resolve", "failover.example.test:"+port+":127.0.0.1", "https://failover.example.test:"+port+"/")
	t.Logf("curl: %q", out)
	if code != 0 || strings.TrimSpace(out) != "standby" {
		t.Errorf("curl: exit %d %q; want standby", code, out)
	}
}
