package middleware

import (
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/bridgehead/bridgehead/internal/snapshot"
)

// TestInFlightReq: with amount 2 per Host, a third request to the same Host while two
// are in progress gets 429; another Host is not affected; a finished request frees its
// place; counts are shared by the chain of the next snapshot (Memory).
func TestInFlightReq(t *testing.T) {
	mem := NewMemory(nil)
	mws := []*snapshot.Middleware{{
		Source:      snapshot.Ref{Kind: "Middleware", Namespace: "web", Name: "two"},
		InFlightReq: &snapshot.InFlightReq{Amount: 2, Source: snapshot.Source{Host: true}},
	}}
	entered, release := make(chan struct{}), make(chan struct{})
	blocking := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/wait" {
			entered <- struct{}{}
			<-release
		}
	})
	old := mem.Chain(mws, blocking)
	var wg sync.WaitGroup
	for range 2 {
		wg.Go(func() { old.ServeHTTP(httptest.NewRecorder(), newReq(http.MethodGet, "/wait", "a.example")) })
		<-entered
	}
	next := mem.Chain(mws, blocking) // a swap while two requests are in progress
	mem.Sweep()
	code := func(host string) int {
		rec := httptest.NewRecorder()
		next.ServeHTTP(rec, newReq(http.MethodGet, "/", host))
		return rec.Code
	}
	if c := code("a.example"); c != http.StatusTooManyRequests {
		t.Errorf("third request to a.example: %d; want 429", c)
	}
	if c := code("b.example"); c != http.StatusOK {
		t.Errorf("b.example: %d; want 200 (its own count)", c)
	}
	release <- struct{}{}
	release <- struct{}{}
	wg.Wait()
	if c := code("a.example"); c != http.StatusOK {
		t.Errorf("after both finished: %d; want 200", c)
	}
	f := mem.inFlight[func() string {
		for k := range mem.inFlight {
			return k
		}
		return ""
	}()]
	for i := range f.shards {
		if n := len(f.shards[i].m); n != 0 {
			t.Errorf("shard %d keeps %d idle sources", i, n)
		}
	}
}
