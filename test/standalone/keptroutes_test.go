package standalone

import (
	"io"
	"net/http"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"
)

// keptFailoverRoute: kept.example.test goes to svc-main, health-checked every 200 ms on
// /health, and to svc-standby when svc-main has no healthy endpoint.
const keptFailoverRoute = `---
apiVersion: gateway.bridgehead.dev/v1alpha1
kind: IngressRoute
metadata: {name: kept, namespace: web}
spec:
  entryPoints: [websecure]
  routes:
  - match: Host(` + "`kept.example.test`" + `)
    services: [{name: kept-main-or-standby, kind: TraefikService}]
  tls: {secretName: edge-tls}
---
apiVersion: gateway.bridgehead.dev/v1alpha1
kind: TraefikService
metadata: {name: kept-main-or-standby, namespace: web}
spec:
  failover:
    service: {name: svc-main, port: https, serversTransport: backends, healthCheck: {path: /health, interval: 200ms, timeout: 500ms}}
    fallback: {name: svc-standby, port: https, serversTransport: backends}
`

// otherRoute is a plain route, other.example.test to svc-a.
const otherRoute = `apiVersion: gateway.bridgehead.dev/v1alpha1
kind: IngressRoute
metadata: {name: other, namespace: web}
spec:
  entryPoints: [websecure]
  routes:
  - match: Host(` + "`other.example.test`" + `)
    services: [{name: svc-a, port: https, serversTransport: backends}]
  tls: {secretName: edge-tls}
`

// TestRoutesKeptAcrossAChangeKeepTheirState: when one route changes, the others are
// served by the same compiled handlers as before (translate replays them and the proxy
// keeps them), and what those handlers share with the rest of the gateway stays theirs:
//   - a rateLimit Middleware's count, which every route through it shares, is still the
//     one a route added later gets: a drained limit stays drained for it;
//   - a backend's health check still runs, so a backend that fails it after the change is
//     taken out.
func TestRoutesKeptAcrossAChangeKeepTheirState(t *testing.T) {
	t.Parallel()
	p := newPKI(t)
	var mainHealthy atomic.Bool
	mainHealthy.Store(true)
	main := handlerBackend(t, p, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/health" && !mainHealthy.Load() {
			w.WriteHeader(http.StatusInternalServerError)
			return
		}
		_, _ = io.WriteString(w, "main")
	})
	standby, backend := tlsBackend(t, p, "standby", false), tlsBackend(t, p, "backend", false)

	dir := writeFolder(t, map[string]string{
		"secrets.yaml":   p.secretsYAML(),
		"transport.yaml": transportYAML,
		"services.yaml": serviceYAML(t, "svc-a", addrOf(backend)) + serviceYAML(t, "svc-main", addrOf(main)) +
			serviceYAML(t, "svc-standby", addrOf(standby)),
		"limited.yaml": middlewareRoute("limited", "limited", "one-a-minute", "") +
			middlewareYAML("one-a-minute", "  rateLimit: {average: 1, period: 1m, burst: 1}\n"),
		"kept.yaml": keptFailoverRoute,
	})
	gw := serveFolder(t, dir)
	c := gw.httpsClient(p.edgeCA, false)
	waitBody(t, c, "https://kept.example.test/", http.StatusOK, "main")
	if code, _, err := get(c, "https://limited.example.test/"); err != nil || code != http.StatusOK {
		t.Fatalf("the first request through the limit: %d (%v); want 200", code, err)
	}
	if code, _, err := get(c, "https://limited.example.test/"); err != nil || code != http.StatusTooManyRequests {
		t.Fatalf("the second request within the minute: %d (%v); want 429", code, err)
	}

	// Another route changes (here: a new one); the two above are kept as they were.
	writeFile(t, filepath.Join(dir, "other.yaml"), otherRoute)
	waitBody(t, c, "https://other.example.test/", http.StatusOK, "backend")

	// A route added through the drained limit finds it drained.
	writeFile(t, filepath.Join(dir, "limited-too.yaml"), middlewareRoute("limited-too", "limited-too", "one-a-minute", ""))
	var first int
	if took, ok := eventually(10*time.Second, func() bool {
		code, _, err := get(c, "https://limited-too.example.test/")
		first = code
		return err == nil && code != http.StatusNotFound
	}); !ok {
		t.Fatalf("limited-too.example.test not routed within %s", took)
	}
	if first != http.StatusTooManyRequests {
		t.Errorf("a new route through a Middleware whose limit is drained: %d; want 429 (its count was forgotten while the first route was kept)", first)
	}
	if code, _, err := get(c, "https://limited.example.test/"); err != nil || code != http.StatusTooManyRequests {
		t.Errorf("the kept route after the changes: %d (%v); want 429 still", code, err)
	}

	// The kept route's backend fails its health check: the fallback takes over.
	mainHealthy.Store(false)
	if took, ok := eventually(10*time.Second, func() bool {
		_, body, err := get(c, "https://kept.example.test/")
		return err == nil && body == "standby"
	}); !ok {
		t.Fatalf("the fallback did not answer within %s of the kept route's backend failing its health check", took)
	}
}
