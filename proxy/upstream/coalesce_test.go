package upstream

import (
	"io"
	"net/http"
	"sync"
	"testing"

	"github.com/bridgehead/bridgehead/internal/testcerts"
)

// burst sends n requests at once through a cold transport and fails the test unless every
// one gets the backend's 200.
func burst(t *testing.T, p *Pool, n int, h2 bool) *seen {
	t.Helper()
	ca := testcerts.MustCA("Backend CA")
	srv, seen := startBackend(t, serving(ca.MustIssue("backend", testcerts.Options{DNSNames: []string{"backend.example"}})), h2)
	tr, b := trust(ca, "backend-ca"), backend("https", addrOf(srv), "backend.example", "backend.example")
	rt := p.For(tr, b)
	start := make(chan struct{})
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			resp, err := roundTrip(t.Context(), rt, b)
			if err != nil {
				errs <- err
				return
			}
			body, _ := io.ReadAll(resp.Body)
			_ = resp.Body.Close()
			if resp.StatusCode != http.StatusOK || string(body) != "ok" {
				t.Errorf("got %d %q", resp.StatusCode, body)
			}
		}()
	}
	close(start)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("a request of the burst failed: %v", err)
	}
	return seen
}

// A burst of requests to a cold HTTP/2 backend rides the one connection the first dial
// makes, instead of a TLS handshake per request (http.Transport alone dials once for
// every request that finds no idle connection).
func TestABurstToAColdHTTP2BackendSharesOneConnection(t *testing.T) {
	p := NewPool(Options{})
	t.Cleanup(p.Close)
	seen := burst(t, p, 200, true)
	if n := seen.newConns.Load(); n > 3 {
		t.Fatalf("200 concurrent requests opened %d connections to an HTTP/2 backend; want the first one shared", n)
	}
}

// To an HTTP/1 backend, connections are not shared: the burst still gets one each, and
// none fails for waiting.
func TestABurstToAnHTTP1BackendStillDials(t *testing.T) {
	p := NewPool(Options{})
	t.Cleanup(p.Close)
	seen := burst(t, p, 50, false)
	if n := seen.newConns.Load(); n < 2 {
		t.Fatalf("50 concurrent requests to an HTTP/1 backend used %d connection(s)", n)
	}
}
