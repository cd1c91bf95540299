package standalone

import (
	"context"
	"fmt"
	"math"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

// traefikServiceRoutes: split.example.test goes to the TraefikService "split" (svc-a 3,
// and the nested TraefikService "canary" 1, itself svc-b 1 and svc-c 1), so A gets 3/4
// of the requests and B and C 1/8 each; loop.example.test names a TraefikService that
// names itself.
const traefikServiceRoutes = `apiVersion: gateway.bridgehead.dev/v1alpha1
kind: IngressRoute
metadata: {name: split, namespace: web}
spec:
  entryPoints: [websecure]
  routes:
  - match: Host(` + "`split.example.test`" + `)
    services:
    - {name: split, kind: TraefikService}
  - match: Host(` + "`loop.example.test`" + `)
    services:
    - {name: loop, kind: TraefikService}
  tls: {secretName: edge-tls}
---
apiVersion: gateway.bridgehead.dev/v1alpha1
kind: TraefikService
metadata: {name: split, namespace: web}
spec:
  weighted:
    services:
    - {name: svc-a, port: https, serversTransport: backends, weight: 3}
    - {name: canary, kind: TraefikService, weight: 1}
---
apiVersion: gateway.bridgehead.dev/v1alpha1
kind: TraefikService
metadata: {name: canary, namespace: web}
spec:
  weighted:
    services:
    - {name: svc-b, port: https, serversTransport: backends}
    - {name: svc-c, port: https, serversTransport: backends}
---
apiVersion: gateway.bridgehead.dev/v1alpha1
kind: TraefikService
metadata: {name: loop, namespace: web}
spec:
  weighted:
    services:
    - {name: loop, kind: TraefikService}
`

// TestTraefikServiceWeights sends a bounded load of 10,000 requests over real TLS through
// a nested weighted TraefikService and checks that each backend's share is within 3
// percentage points of its weight; a cyclic TraefikService answers 503 naming the reason.
func TestTraefikServiceWeights(t *testing.T) {
	t.Parallel()
	p := newPKI(t)
	a, b, c := tlsBackend(t, p, "A", false), tlsBackend(t, p, "B", false), tlsBackend(t, p, "C", false)
	dir := writeFolder(t, map[string]string{
		"secrets.yaml":   p.secretsYAML(),
		"backends.yaml":  serviceYAML(t, "svc-a", addrOf(a)) + serviceYAML(t, "svc-b", addrOf(b)) + serviceYAML(t, "svc-c", addrOf(c)),
		"transport.yaml": transportYAML,
		"routes.yaml":    traefikServiceRoutes,
	})
	gw := serveFolder(t, dir)
	client := gw.httpsClient(p.edgeCA, true)
	waitBody(t, client, "https://split.example.test/", http.StatusOK, "A")
	wantCondition(t, gw, "TraefikService/web/split", "Ready", "True")
	wantCondition(t, gw, "TraefikService/web/loop", "Ready", "False", "cycle (web/loop -> web/loop)")

	// The load: 10,000 requests on four workers (HTTP/2 and HTTP/1.1), at most 60 s.
	const total, workers = 10000, 4
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	var mu sync.Mutex
	counts := map[string]int{}
	sent := 0
	var wg sync.WaitGroup
	start := time.Now()
	for w := range workers {
		c := gw.httpsClient(p.edgeCA, w%2 == 0)
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				mu.Lock()
				if sent == total {
					mu.Unlock()
					return
				}
				sent++
				mu.Unlock()
				code, body, err := get(c, "https://split.example.test/")
				key := body
				if err != nil || code != http.StatusOK {
					key = fmt.Sprintf("error %d %v", code, err)
				}
				mu.Lock()
				counts[key]++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	took := time.Since(start)
	got := 0
	for _, n := range counts {
		got += n
	}
	if got != total {
		t.Fatalf("%d of %d requests done within the time bound (%v)", got, total, counts)
	}
	want := map[string]float64{"A": 0.75, "B": 0.125, "C": 0.125}
	for name, share := range want {
		observed := float64(counts[name]) / total
		t.Logf("%s: %d of %d requests (%.2f%%, weight %.2f%%)", name, counts[name], total, 100*observed, 100*share)
		if math.Abs(observed-share) > 0.03 {
			t.Errorf("%s got %.2f%% of the requests, want %.2f%% ±3", name, 100*observed, 100*share)
		}
	}
	if len(counts) != len(want) {
		t.Errorf("answers %v; want only A, B and C", counts)
	}
	t.Logf("%d requests in %s", total, took.Round(time.Millisecond))

	if code, reason := failureOf(t, client, "https://loop.example.test/"); code != http.StatusServiceUnavailable || reason != "InvalidRef" {
		t.Errorf("a cyclic TraefikService: %d %q; want 503 InvalidRef", code, reason)
	}

	// Real curl: eight requests in one run follow the same 6:1:1 schedule.
	ca := writePEM(t, "edge-ca.crt", p.edgeCA.PEM)
	port := port(t, gw.websecure)
	url := "https://split.example.test:" + port + "/"
	args := []string{"-sS", "--cacert", ca, "--resolve", "split.example.test:" + port + ":127.0.0.1", "-w", "\n"}
	for range 8 {
		args = append(args, url)
	}
	out, code := runTool(t, dir, "curl", args...)
	if code != 0 {
		t.Fatalf("curl: exit %d: %s", code, out)
	}
	seen := map[string]int{}
	for _, line := range strings.Fields(out) {
		seen[line]++
	}
	t.Logf("curl, 8 requests: %v", seen)
	if seen["A"] < 4 || seen["A"]+seen["B"]+seen["C"] != 8 {
		t.Errorf("curl answers %v; want 8 answers from A, B and C, mostly A", seen)
	}
}
