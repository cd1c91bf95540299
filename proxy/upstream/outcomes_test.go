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

// Changed is the push half of runtime feedback: it signals what a verdict could show and
// stays quiet for the same outcome again, which is what almost every request records.
func TestOutcomesSignalOnlyChanges(t *testing.T) {
	var r Outcomes
	t0 := time.Now()
	svc := snapshot.Ref{Kind: "Service", Namespace: "web", Name: "backend"}
	ok := Observation{RouteID: "web/a/0", Backend: svc, Endpoint: "10.0.0.1:443", OK: true, At: t0}
	signalled := func() bool {
		select {
		case <-r.Changed():
			return true
		default:
			return false
		}
	}
	r.Record(ok)
	if !signalled() {
		t.Fatal("a first outcome did not signal")
	}
	for i := 1; i <= 100; i++ {
		again := ok
		again.At = t0.Add(time.Duration(i) * time.Millisecond)
		r.Record(again)
	}
	if signalled() {
		t.Fatal("the same outcome again signalled")
	}
	failed := ok
	failed.OK, failed.Reason, failed.At = false, UnknownAuthority, t0.Add(time.Second)
	failed.Detail = Detail{Endpoint: ok.Endpoint, Issuer: "CN=Somebody else's CA", Roots: []string{"Secret web/ca"}}
	r.Record(failed)
	r.Record(failed) // two changes before anyone reads: one signal, Latest has the news
	if !signalled() || signalled() {
		t.Fatal("a failure did not signal exactly once")
	}
	if got := r.Latest()[0]; got.OK || got.Reason != UnknownAuthority {
		t.Fatalf("Latest after the signal: %+v", got)
	}
	other := failed
	other.Detail.Issuer, other.At = "CN=Yet another CA", t0.Add(2*time.Second)
	r.Record(other)
	if !signalled() {
		t.Fatal("another certificate presented did not signal")
	}
}

func BenchmarkOutcomesRecordSameOutcome(b *testing.B) {
	var r Outcomes
	o := Observation{RouteID: "web/a/0", Backend: snapshot.Ref{Kind: "Service", Namespace: "web", Name: "backend"}, Endpoint: "10.0.0.1:443", OK: true}
	t0 := time.Now()
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		o.At = t0.Add(time.Duration(i))
		r.Record(o)
	}
}
