package standalone

import (
	"crypto/tls"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
)

// TestInFlightReqRefusesOneMoreThanAmount: with amount 2 (by Host, Traefik's default),
// two requests held by the backend fill the limit, a third gets 429 from the gateway
// (Go client and real curl) without reaching the backend, and as soon as one finishes
// the next is served.
func TestInFlightReqRefusesOneMoreThanAmount(t *testing.T) {
	p := newPKI(t)
	entered, release := make(chan struct{}, 8), make(chan struct{})
	backend := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/hold" {
			entered <- struct{}{}
			<-release
		}
		_, _ = w.Write([]byte("served " + r.URL.Path))
	}))
	backend.TLS = &tls.Config{Certificates: []tls.Certificate{p.backend.TLS}}
	backend.StartTLS()
	t.Cleanup(backend.Close)
	dir := writeFolder(t, map[string]string{
		"secrets.yaml":   p.secretsYAML(),
		"transport.yaml": transportYAML,
		"services.yaml":  serviceYAML(t, "svc-a", addrOf(backend)),
		"limited.yaml": middlewareRoute("limited", "limited", "two-at-once", "") +
			middlewareYAML("two-at-once", "  inFlightReq: {amount: 2}\n"),
	})
	gw := serveFolder(t, dir)
	c := gw.httpsClient(p.edgeCA, false)
	waitBody(t, c, "https://limited.example.test/", http.StatusOK, "served /")

	var wg sync.WaitGroup
	held := make([]int, 2)
	for i := range 2 {
		wg.Go(func() { held[i], _, _ = get(c, "https://limited.example.test/hold") })
		<-entered
	}
	code, body, err := get(c, "https://limited.example.test/third")
	if err != nil || code != http.StatusTooManyRequests || body != "max connections reached: 2\n" {
		t.Errorf("third request while two are in progress: %d %q %v; want 429", code, body, err)
	}
	ca := writePEM(t, "edge-ca.crt", p.edgeCA.PEM)
	port := port(t, gw.websecure)
	out, exit := runTool(t, dir, "curl", "-sS", "--cacert", ca, "-o", "/dev/null", "--resolve", "limited.example.test:"+port+":127.0.0.1",
		"-w", "%{http_code}", "https://limited.example.test:"+port+"/curl")
	if exit != 0 || out != "429" {
		t.Errorf("curl while two are in progress: exit %d, printed %q; want 429", exit, out)
	}
	release <- struct{}{}
	waitBody(t, c, "https://limited.example.test/after", http.StatusOK, "served /after")
	close(release)
	wg.Wait()
	if held[0] != http.StatusOK || held[1] != http.StatusOK {
		t.Errorf("the held requests got %v; want both 200", held)
	}
}
