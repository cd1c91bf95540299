package standalone

import (
	"net/http"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"
)

// TestCircuitBreakerTripsAndRecovers: a backend that starts answering 503 trips the
// breaker (ResponseCodeRatio(500, 600, 0, 600) > 0.5, checkPeriod 50ms): requests then
// get responseCode 418 without reaching the backend, and an unrelated edit of the folder
// (a reload: a new route starts serving) leaves it tripped. Once the backend is healthy again and fallbackDuration
// (3s) and recoveryDuration (1s) have passed, every request is answered 200 again. Every
// loop is bounded in count and time.
func TestCircuitBreakerTripsAndRecovers(t *testing.T) {
	p := newPKI(t)
	var failing atomic.Bool
	backend, seen := countingBackend(t, p, func(w http.ResponseWriter, _ *http.Request) {
		if failing.Load() {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		_, _ = w.Write([]byte("A"))
	})
	dir := writeFolder(t, map[string]string{
		"secrets.yaml":   p.secretsYAML(),
		"transport.yaml": transportYAML,
		"services.yaml":  servicesYAML(t, "app", addrOf(backend)),
		"routes.yaml": serviceRoute("app", "app", "app", "breaker") + middlewareYAML("breaker", `  circuitBreaker:
    expression: ResponseCodeRatio(500, 600, 0, 600) > 0.5
    checkPeriod: 50ms
    fallbackDuration: 3s
    recoveryDuration: 1s
    responseCode: 418
`),
	})
	gw := serveFolder(t, dir)
	c := gw.httpsClient(p.edgeCA, true)
	waitBody(t, c, "https://app.example.test/", http.StatusOK, "A")

	failing.Store(true)
	start := time.Now()
	sent, backend503 := 0, 0
	tripped := false
	for sent < 200 && time.Since(start) < 5*time.Second {
		code, _, err := get(c, "https://app.example.test/")
		if err != nil {
			t.Fatal(err)
		}
		sent++
		if code == http.StatusServiceUnavailable {
			backend503++
		}
		if code == http.StatusTeapot {
			tripped = true
			break
		}
		time.Sleep(10 * time.Millisecond) // pacing a bounded load, not synchronisation
	}
	t.Logf("tripped=%v after %d requests (%d answered 503 by the backend) in %v", tripped, sent, backend503, time.Since(start))
	if !tripped {
		t.Fatalf("the breaker did not trip in %d requests", sent)
	}

	// While tripped the backend sees nothing, across a reload.
	failing.Store(false)
	before := len(seen())
	other := tlsBackend(t, p, "B", false)
	writeFile(t, filepath.Join(dir, "extra.yaml"), servicesYAML(t, "other", addrOf(other))+serviceRoute("other", "other", "other"))
	waitBody(t, c, "https://other.example.test/", http.StatusOK, "B") // the reload took effect
	for range 10 {
		if code, _, err := get(c, "https://app.example.test/"); err != nil || code != http.StatusTeapot {
			t.Fatalf("tripped, after a reload: %d %v; want 418 (fallbackDuration is 3s)", code, err)
		}
	}
	if n := len(seen()) - before; n != 0 {
		t.Errorf("the backend saw %d requests while the breaker was open; want none", n)
	}

	// Recovering, then closed: every request answered by the backend again.
	var ok200, ok418 int
	recovered, ok := eventually(8*time.Second, func() bool {
		streak := 0
		for range 20 {
			code, _, err := get(c, "https://app.example.test/")
			switch {
			case err != nil:
				return false
			case code == http.StatusOK:
				ok200++
				streak++
			case code == http.StatusTeapot:
				ok418++
				streak = 0
			}
		}
		return streak == 20
	})
	t.Logf("recovered after %v (since the trip: %v): %d answers 200 and %d 418 on the way", recovered, time.Since(start), ok200, ok418)
	if !ok {
		t.Fatalf("the breaker did not close within fallbackDuration + recoveryDuration + 4s")
	}

	ca := writePEM(t, "edge-ca.crt", p.edgeCA.PEM)
	port := port(t, gw.websecure)
	out, exit := runTool(t, dir, "curl", "-sS", "--cacert", ca, "--resolve", "app.example.test:"+port+":127.0.0.1",
		"-w", " %{http_code}", "https://app.example.test:"+port+"/")
	if exit != 0 || out != "A 200" {
		t.Errorf("curl after recovery: exit %d, printed %q; want A 200", exit, out)
	}
}
