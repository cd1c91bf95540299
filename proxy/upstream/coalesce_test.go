package upstream

import (
	"io"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/bridgehead/bridgehead/internal/pki"
)

// burst sends n requests at once through a cold transport and fails the test unless every
// one gets the backend's 200. The backend answers none until all n have arrived, so the
// n are in flight together: an HTTP/1 backend must get n connections at once. It sends
// rounds such bursts, each when the last one has been answered.
func burst(t *testing.T, p *Pool, n, rounds int, h2 bool) *seen {
	t.Helper()
	ca := pki.MustCA("Backend CA")
	srv, seen := startBackend(t, serving(ca.MustIssue("backend", pki.Options{DNSNames: []string{"backend.example"}})), h2)
	var (
		mu      sync.Mutex
		arrived int
		all     = make(chan struct{})
	)
	answer := srv.Config.Handler
	srv.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		round := all
		if arrived++; arrived == n {
			close(all)
			arrived, all = 0, make(chan struct{})
		}
		mu.Unlock()
		select {
		case <-round:
		case <-time.After(10 * time.Second):
			http.Error(w, "not all requests of the burst arrived together", http.StatusGatewayTimeout)
			return
		}
		answer.ServeHTTP(w, r)
	})
	tr, b := trust(ca, "backend-ca"), backend("https", addrOf(srv), "backend.example", "backend.example")
	rt := p.For(tr, b)
	for range rounds {
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
	}
	return seen
}

// A burst of requests to a cold HTTP/2 backend rides the one connection the first dial
// makes, instead of a TLS handshake per request (http.Transport alone dials once for
// every request that finds no idle connection).
func TestABurstToAColdHTTP2BackendSharesOneConnection(t *testing.T) {
	// The sharing, not the 200 ms a request waits for it in production, is under test:
	// under -race on a loaded machine, handing the new connection to 200 requests can
	// take longer than that, and then each waiter rightly dials.
	p := NewPool(Options{coalesceGrace: 5 * time.Second})
	t.Cleanup(p.Close)
	seen := burst(t, p, 200, 1, true)
	// Usually 1 to 3: until the server's SETTINGS arrive, Go's client allows 100 streams
	// on a new connection, so part of the burst may need one more round. Without the
	// gate it is one per request.
	if n := seen.newConns.Load(); n > 10 {
		t.Fatalf("200 concurrent requests opened %d connections to an HTTP/2 backend; want the first ones shared", n)
	}
}

// To an HTTP/1 backend, connections are not shared: the burst gets one connection per
// request at once (burst's backend answers only when all are in), none waits on another.
// And the cold start's connections serve the load that follows: the requests that waited
// for the first handshake to learn the protocol take the fast path, so a second burst
// finds them idle there instead of dialling again (http.Transport's would sit unused).
func TestABurstToAnHTTP1BackendStillDials(t *testing.T) {
	p := NewPool(Options{})
	t.Cleanup(p.Close)
	seen := burst(t, p, 30, 1, false)
	if n := seen.newConns.Load(); n != 30 {
		t.Fatalf("30 requests in flight together to an HTTP/1 backend used %d connections", n)
	}

	p = NewPool(Options{})
	t.Cleanup(p.Close)
	seen = burst(t, p, 30, 3, false)
	if n := seen.newConns.Load(); n > 31 {
		t.Fatalf("3 bursts of 30 requests, one after the other, to an HTTP/1 backend used %d connections; want the first burst's (30, and 1 more at most)", n)
	}
}
