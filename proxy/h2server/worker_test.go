package h2server

import (
	"context"
	"io"
	"net/http"
	"sync"
	"testing"
	"time"

	. "github.com/onsi/gomega"
)

// Workers stay for the next stream: streams one after another run on one worker; a burst
// leaves as many idle workers as it had streams at once, and they end once idle for
// idleWorkerTimeout or two; Shutdown ends the idle ones at once.
func TestWorkersStayThenEnd(t *testing.T) {
	g := NewWithT(t)
	const burst = 8
	var arrived sync.WaitGroup
	hold := make(chan struct{})
	ts := startServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/burst" {
			arrived.Done()
			<-hold
		}
		_, _ = io.WriteString(w, "ok")
	}), true, nil)
	workers := &ts.srv.workers

	for range 5 {
		if a := fetch(t, ts, "GET", "/", nil); a.body != "ok" {
			t.Fatalf("answer: %v", a)
		}
	}
	// A worker parks just after its answer went out, so a stream may rarely come before
	// it is back: two at most, not one per stream.
	g.Eventually(workers.idleWorkers).Should(And(BeNumerically(">=", 1), BeNumerically("<=", 2)),
		"five streams one after another, on the workers before them")

	arrived.Add(burst)
	var answered sync.WaitGroup
	for range burst {
		answered.Go(func() { fetch(t, ts, "GET", "/burst", nil) })
	}
	arrived.Wait() // every stream has its worker
	close(hold)
	answered.Wait()
	g.Eventually(workers.idleWorkers).Should(Equal(burst), "the burst's workers wait for the next streams")
	g.Eventually(workers.idleWorkers, 3*idleWorkerTimeout).Should(BeZero(), "idle workers did not end")

	fetch(t, ts, "GET", "/", nil)
	g.Eventually(workers.idleWorkers).Should(Equal(1))
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	ts.client.CloseIdleConnections()
	_ = ts.srv.Shutdown(ctx)
	g.Expect(workers.idleWorkers()).To(BeZero(), "Shutdown left an idle worker")
}

// idleWorkers is how many workers wait for a stream.
func (p *workerPool) idleWorkers() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.idle)
}
