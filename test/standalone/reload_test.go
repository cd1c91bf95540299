package standalone

import (
	"context"
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// appRoute is the IngressRoute "app" of the reload test: the catch-all rule sends to
// svc-a and svc-b by weight, and an optional second rule sends one path prefix to svc-b.
func appRoute(weightA, weightB int, prefix string) string {
	second := ""
	if prefix != "" {
		second = fmt.Sprintf(`  - match: Host(`+"`app.example.test`"+`) && PathPrefix(`+"`%s`"+`)
    services:
    - name: svc-b
      port: https
      serversTransport: backends
`, prefix)
	}
	return fmt.Sprintf(`apiVersion: gateway.bridgehead.dev/v1alpha1
kind: IngressRoute
metadata:
  name: app
  namespace: web
spec:
  entryPoints: [websecure]
  routes:
  - match: Host(`+"`app.example.test`"+`)
    services:
    - name: svc-a
      port: https
      serversTransport: backends
      weight: %d
    - name: svc-b
      port: https
      serversTransport: backends
      weight: %d
%s  tls:
    secretName: edge-tls
`, weightA, weightB, second)
}

// phase is one version of the route file and the answers it gives, by path.
type phase struct {
	name    string
	route   string
	answers map[string]string
	// probe is a path whose answer exists only from this phase on: seeing it means the
	// edit is being served.
	probe string
	// writtenAt and servedAt are when the file was replaced and when the probe first
	// saw the new answer.
	writtenAt, servedAt time.Time
}

// result is one request of the load.
type result struct {
	path       string
	start, end time.Time
	status     int
	body       string
	err        error
}

// TestEditUnderLoad edits the folder while clients keep sending requests (HTTP/2 on
// shared connections and HTTP/1.1 with keep-alive): a second rule is added, its path is
// changed, then the weights of the catch-all rule are swapped. Every request must succeed
// with an answer of a version it may have seen (the one served when it started, or one
// written before it ended; never an older one), and each edit must be served within a
// second, without a restart.
func TestEditUnderLoad(t *testing.T) {
	t.Parallel()
	p := newPKI(t)
	a, b := tlsBackend(t, p, "A", false), tlsBackend(t, p, "B", false)
	phases := []*phase{
		{name: "initial", route: appRoute(1, 0, ""), answers: map[string]string{"/": "A", "/v2/x": "A", "/beta/x": "A"}},
		{name: "rule added", route: appRoute(1, 0, "/v2"), answers: map[string]string{"/": "A", "/v2/x": "B", "/beta/x": "A"}, probe: "/v2/x"},
		{name: "path changed", route: appRoute(1, 0, "/beta"), answers: map[string]string{"/": "A", "/v2/x": "A", "/beta/x": "B"}, probe: "/beta/x"},
		{name: "weights swapped", route: appRoute(0, 1, "/beta"), answers: map[string]string{"/": "B", "/v2/x": "B", "/beta/x": "B"}, probe: "/"},
	}
	dir := writeFolder(t, map[string]string{
		"secrets.yaml":   p.secretsYAML(),
		"backends.yaml":  serviceYAML(t, "svc-a", addrOf(a)) + serviceYAML(t, "svc-b", addrOf(b)),
		"transport.yaml": transportYAML,
		"route.yaml":     phases[0].route,
	})
	gw := serveFolder(t, dir)
	phases[0].servedAt = time.Now()
	paths := []string{"/", "/v2/x", "/beta/x"}
	url := func(path string) string { return "https://app.example.test" + path }

	// The load: workers on HTTP/2 and on HTTP/1.1, until the last edit has been served
	// for a while, bounded in count and time.
	const workers, maxRequests = 8, 50000
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var mu sync.Mutex
	var results []result
	var wg sync.WaitGroup
	for w := range workers {
		client := gw.httpsClient(p.edgeCA, w%2 == 0)
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; ctx.Err() == nil; i++ {
				path := paths[i%len(paths)]
				r := result{path: path, start: time.Now()}
				r.status, r.body, r.err = get(client, url(path))
				r.end = time.Now()
				mu.Lock()
				results = append(results, r)
				n := len(results)
				mu.Unlock()
				if n >= maxRequests {
					return
				}
			}
		}()
	}

	probe := gw.httpsClient(p.edgeCA, true)
	for _, ph := range phases[1:] {
		ph.writtenAt = time.Now()
		writeFile(t, filepath.Join(dir, "route.yaml"), ph.route)
		took, ok := eventually(reloadLimit, func() bool {
			status, body, err := get(probe, url(ph.probe))
			if err == nil && status == http.StatusOK && body == ph.answers[ph.probe] {
				ph.servedAt = time.Now()
				return true
			}
			return false
		})
		if !ok {
			cancel()
			wg.Wait()
			t.Fatalf("edit %q: %s did not answer %q within %s of the edit", ph.name, ph.probe, ph.answers[ph.probe], reloadLimit)
		}
		t.Logf("edit %q served after %s", ph.name, took.Round(time.Millisecond))
	}
	// Keep the load on the last version for a moment (a bounded number of requests).
	mu.Lock()
	last := len(results)
	mu.Unlock()
	eventually(5*time.Second, func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(results) >= last+500
	})
	cancel()
	wg.Wait()

	// Every request: 200, with an answer of a version it may have seen.
	failed := 0
	perPhase := make([]int, len(phases))
	for _, r := range results {
		i := 0
		for j, ph := range phases {
			if !ph.servedAt.IsZero() && !r.start.Before(ph.servedAt) {
				i = j
			}
		}
		perPhase[i]++
		// A request may be answered by the version served when it started or by any
		// version written before it ended: one slowed down on its way (the first on a
		// connection waits for the handshake) reaches the proxy later than it started.
		allowed := []string{phases[i].answers[r.path]}
		for _, next := range phases[i+1:] {
			if r.end.After(next.writtenAt) {
				allowed = append(allowed, next.answers[r.path])
			}
		}
		ok := r.err == nil && r.status == http.StatusOK
		if ok {
			ok = false
			for _, want := range allowed {
				ok = ok || r.body == want
			}
		}
		if !ok {
			failed++
			if failed <= 10 {
				t.Errorf("GET %s started %s after the %q edit was served and took %s: status %d body %q err %v, want 200 and one of %q",
					r.path, r.start.Sub(phases[i].servedAt).Round(time.Millisecond), phases[i].name, r.end.Sub(r.start).Round(time.Millisecond),
					r.status, r.body, r.err, allowed)
			}
		}
	}
	t.Logf("%d requests, %d failed; per version %v", len(results), failed, perPhase)
	for i, n := range perPhase {
		if n == 0 {
			t.Errorf("no request started while version %q was served: the load did not overlap the edits", phases[i].name)
		}
	}
	if strings.Contains(gw.stderr.String(), `"level":"ERROR"`) {
		t.Errorf("errors logged during the edits:\n%s", gw.stderr)
	}
}
