package dataplane

import (
	"fmt"
	"io"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"sigs.k8s.io/controller-runtime/pkg/client"
)

// Steady concurrent load while 200 snapshots are swapped in: no request may fail, and
// the goroutines the gateway started come back to the baseline afterwards.
func TestLoadWhileSwappingSnapshots(t *testing.T) {
	p := newPKI()
	b := tlsBackend(t, p.backend("backend.web.svc"))
	objects := func(i int) []client.Object {
		objs := e2e(p, addrOf(b), serversTransport("backend", "backend.web.svc", []string{"backend-ca"}, nil),
			routeSpec{name: "app", match: "Host(`app.example.com`)", svc: "backend", transport: "backend", secret: "app-tls"})
		// Every snapshot also changes an unrelated route, as a busy cluster would.
		return append(objs, ingressRoute(routeSpec{name: fmt.Sprintf("other-%d", i), match: fmt.Sprintf("Host(`o%d.example.com`)", i), svc: "backend", transport: "backend", secret: "app-tls"}))
	}
	baseline := runtime.NumGoroutine()
	g := startGateway(t, objects(0))
	c := g.httpsClient(p.edgeCA)

	var ok, failed atomic.Int64
	var firstErr atomic.Value
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				resp, err := c.Get("https://app.example.com/")
				if err == nil {
					_, _ = io.Copy(io.Discard, resp.Body)
					_ = resp.Body.Close()
					if resp.StatusCode != 200 {
						err = fmt.Errorf("status %d (%s)", resp.StatusCode, resp.Header.Get("Bridgehead-Error"))
					}
				}
				if err != nil {
					failed.Add(1)
					firstErr.CompareAndSwap(nil, err)
					continue
				}
				ok.Add(1)
			}
		}()
	}
	for i := 1; i <= 200; i++ {
		g.apply(objects(i)...)
	}
	// Keep the load on until requests have been served by the last snapshot too.
	atLastSwap := ok.Load()
	for end := time.Now().Add(10 * time.Second); ok.Load() < atLastSwap+50 && time.Now().Before(end); {
		time.Sleep(5 * time.Millisecond) // bounded wait for progress of the load goroutines
	}
	close(stop)
	wg.Wait()
	if failed.Load() > 0 {
		t.Fatalf("%d of %d requests failed during swaps; first: %v", failed.Load(), failed.Load()+ok.Load(), firstErr.Load())
	}
	if ok.Load() == 0 {
		t.Fatal("no request completed")
	}
	t.Logf("%d requests, 0 failed, across 200 swaps", ok.Load())

	c.CloseIdleConnections()
	// Goroutines of closed connections exit asynchronously: poll, bounded.
	for end := time.Now().Add(10 * time.Second); ; {
		n := runtime.NumGoroutine()
		if n <= baseline+10 { // the gateway's own listeners and servers
			break
		}
		if time.Now().After(end) {
			buf := make([]byte, 1<<20)
			t.Fatalf("goroutines: %d, baseline %d\n%s", n, baseline, buf[:runtime.Stack(buf, true)])
		}
		time.Sleep(20 * time.Millisecond)
	}
}
