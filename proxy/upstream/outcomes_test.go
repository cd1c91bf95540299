package upstream

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/bridgehead/bridgehead/internal/snapshot"
)

func TestRegistryKeepsTheLatestObservationPerRouteAndEndpoint(t *testing.T) {
	var r Outcomes
	t0 := time.Now()
	svc := snapshot.Ref{Kind: "Service", Namespace: "web", Name: "backend"}
	r.Record(Observation{RouteID: "web/b/0", Backend: svc, Endpoint: "10.0.0.2:443", OK: true, At: t0})
	r.Record(Observation{RouteID: "web/a/0", Backend: svc, Endpoint: "10.0.0.1:443", Reason: UnknownAuthority, At: t0})
	r.Record(Observation{RouteID: "web/a/0", Backend: svc, Endpoint: "10.0.0.1:443", OK: true, At: t0.Add(time.Second)})
	// A request that started earlier and finished later does not overwrite the news.
	r.Record(Observation{RouteID: "web/a/0", Backend: svc, Endpoint: "10.0.0.1:443", Reason: Timeout, At: t0.Add(time.Millisecond)})
	r.Record(Observation{RouteID: "web/a/0", Backend: svc, Endpoint: "10.0.0.0:443", Reason: NameMismatch, At: t0})

	got := r.Latest()
	want := []struct {
		route, endpoint string
		ok              bool
	}{{"web/a/0", "10.0.0.0:443", false}, {"web/a/0", "10.0.0.1:443", true}, {"web/b/0", "10.0.0.2:443", true}}
	if len(got) != len(want) {
		t.Fatalf("got %d observations: %+v", len(got), got)
	}
	for i, w := range want {
		if got[i].RouteID != w.route || got[i].Endpoint != w.endpoint || got[i].OK != w.ok {
			t.Errorf("[%d] = %s %s ok=%v, want %+v", i, got[i].RouteID, got[i].Endpoint, got[i].OK, w)
		}
	}
}

func TestRegistryIsBounded(t *testing.T) {
	var r Outcomes
	t0 := time.Now()
	const n = MaxObservations + 5000 // endpoints churning through a long-lived proxy
	for i := range n {
		r.Record(Observation{RouteID: "web/a/0", Endpoint: fmt.Sprintf("10.0.%d.%d:443", i/256, i%256), At: t0.Add(time.Duration(i))})
	}
	got := r.Latest()
	if len(got) > MaxObservations || len(got) < MaxObservations*9/10 {
		t.Fatalf("%d observations kept, want at most (and close to) %d", len(got), MaxObservations)
	}
	newest := fmt.Sprintf("10.0.%d.%d:443", (n-1)/256, (n-1)%256)
	found := false
	for _, o := range got {
		found = found || o.Endpoint == newest
		if o.At.Before(t0.Add(time.Duration(n - MaxObservations - MaxObservations/5))) {
			t.Fatalf("kept %s from long ago while dropping newer ones", o.Endpoint)
		}
	}
	if !found {
		t.Fatal("the newest observation was dropped")
	}
}

func TestRegistryIsSafeForConcurrentUse(t *testing.T) {
	var r Outcomes
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 1000 {
				r.Record(Observation{RouteID: fmt.Sprintf("web/r%d/0", g), Endpoint: fmt.Sprintf("10.0.0.%d:443", i%50), At: time.Now()})
				if i%100 == 0 {
					_ = r.Latest()
				}
			}
		})
	}
	wg.Wait()
	if got := len(r.Latest()); got != 8*50 {
		t.Fatalf("%d observations, want %d", got, 8*50)
	}
}
