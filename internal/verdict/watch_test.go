package verdict

import (
	"context"
	"fmt"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/bridgehead/bridgehead/internal/snapshot"
	"github.com/bridgehead/bridgehead/internal/translate"
	"github.com/bridgehead/bridgehead/proxy/upstream"
)

// routes builds a snapshot of n IngressRoutes, each with one HTTPS backend endpoint.
func routes(n int) *snapshot.Snapshot {
	s := &snapshot.Snapshot{TLS: snapshot.TLS{Policies: []*snapshot.Policy{{ID: snapshot.BuiltinPolicyID}}, DefaultPolicy: snapshot.BuiltinPolicyID}}
	for i := 0; i < n; i++ {
		name := fmt.Sprintf("r%05d", i)
		s.HTTPRoutes = append(s.HTTPRoutes, &snapshot.HTTPRoute{
			RouteHead: snapshot.RouteHead{ID: "web/" + name + "/0", Source: snapshot.Ref{Kind: "IngressRoute", Namespace: "web", Name: name}, Match: "Host(`" + name + ".example`)", Priority: 1},
			Backends: []*snapshot.Backend{{Service: snapshot.Ref{Kind: "Service", Namespace: "web", Name: name}, Port: "443", Scheme: "https", Weight: 1,
				Endpoints: []snapshot.Endpoint{{Address: fmt.Sprintf("10.1.%d.%d:443", i/250, i%250)}}}},
		})
	}
	return s
}

// The condition of a route whose backend fails follows within one second of the failure
// being recorded, at 1 and at 10,000 routes, and nothing is recomputed while nothing
// changes.
func TestWatchPushesVerdictsOnChangeOnly(t *testing.T) {
	for _, n := range []int{1, 10000} {
		t.Run(fmt.Sprintf("%d routes", n), func(t *testing.T) {
			var store snapshot.Store
			snap := routes(n)
			if err := store.Swap(snap); err != nil {
				t.Fatal(err)
			}
			var outcomes upstream.Outcomes
			computed := make(chan Conditions, 100)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			go Watch(ctx, &store, &outcomes, time.Now, 0, func(c Conditions) { computed <- c })
			<-computed // the first computation, at start

			last := snap.HTTPRoutes[n-1]
			key := translate.Key{Kind: "IngressRoute", Namespace: "web", Name: last.Source.Name}
			start := time.Now()
			outcomes.Record(upstream.Observation{RouteID: last.ID, Backend: last.Backends[0].Service, Endpoint: last.Backends[0].Endpoints[0].Address,
				Reason: upstream.UnknownAuthority, At: time.Now()})
			select {
			case c := <-computed:
				if got := c[key][0]; got.Status != metav1.ConditionFalse || got.Reason != "UnknownAuthority" {
					t.Fatalf("condition of %s: %+v", key.Name, got)
				}
				if d := time.Since(start); d > time.Second {
					t.Fatalf("the condition took %s", d)
				}
				t.Logf("%d routes: condition %s after the failure", n, time.Since(start).Round(time.Microsecond))
			case <-time.After(time.Second):
				t.Fatal("no verdict within 1 s of the failure")
			}
			// The same outcome again (every further request) recomputes nothing.
			outcomes.Record(upstream.Observation{RouteID: last.ID, Backend: last.Backends[0].Service, Endpoint: last.Backends[0].Endpoints[0].Address,
				Reason: upstream.UnknownAuthority, At: time.Now()})
			select {
			case <-computed:
				t.Fatal("recomputed although nothing changed")
			case <-time.After(200 * time.Millisecond):
			}
			// A new snapshot is a change.
			if err := store.Swap(routes(n)); err != nil {
				t.Fatal(err)
			}
			select {
			case <-computed:
			case <-time.After(time.Second):
				t.Fatal("no verdict after a snapshot swap")
			}
		})
	}
}

// A certificate that enters the warning window while nothing else happens still gets its
// warning: Watch wakes for it, without polling.
func TestWatchWakesWhenACertificateEntersTheWarningWindow(t *testing.T) {
	var store snapshot.Store
	snap := routes(1)
	if err := store.Swap(snap); err != nil {
		t.Fatal(err)
	}
	r := snap.HTTPRoutes[0]
	var outcomes upstream.Outcomes
	window := time.Hour
	outcomes.Record(upstream.Observation{RouteID: r.ID, Backend: r.Backends[0].Service, Endpoint: r.Backends[0].Endpoints[0].Address, OK: true, At: time.Now(),
		Detail: upstream.Detail{NotAfter: time.Now().Add(window + 300*time.Millisecond)}})
	computed := make(chan Conditions, 10)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go Watch(ctx, &store, &outcomes, time.Now, window, func(c Conditions) { computed <- c })
	key := translate.Key{Kind: "IngressRoute", Namespace: "web", Name: r.Source.Name}
	if first := <-computed; len(first[key]) != 1 {
		t.Fatalf("a warning before the window: %+v", first[key])
	}
	deadline := time.After(2 * time.Second)
	for {
		select {
		case c := <-computed:
			if len(c[key]) == 2 && c[key][1].Reason == "CertificateExpiringSoon" {
				return
			}
		case <-deadline:
			t.Fatal("no recompute when the certificate entered the warning window")
		}
	}
}

func BenchmarkCompute10000Routes(b *testing.B) {
	snap := routes(10000)
	var obs []upstream.Observation
	for _, r := range snap.HTTPRoutes {
		obs = append(obs, upstream.Observation{RouteID: r.ID, Backend: r.Backends[0].Service, Endpoint: r.Backends[0].Endpoints[0].Address, OK: true})
	}
	now := time.Now()
	b.ReportAllocs()
	for b.Loop() {
		Compute(snap, obs, now, time.Hour)
	}
}

// A round of probe results trickling in (as after a snapshot at 10,000 routes, where the
// proxy probes every route's TLS path within its handshake budget) is recomputed a few
// times a second, not once per result: per result, the work was quadratic in the routes
// and kept a core busy for minutes. The last result still shows within a second.
func TestWatchCoalescesATrickleOfResults(t *testing.T) {
	const n, results = 10000, 300
	var store snapshot.Store
	snap := routes(n)
	if err := store.Swap(snap); err != nil {
		t.Fatal(err)
	}
	var outcomes upstream.Outcomes
	computed := make(chan Conditions, results+10)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go Watch(ctx, &store, &outcomes, time.Now, 0, func(c Conditions) { computed <- c })
	<-computed

	pace := time.NewTicker(10 * time.Millisecond) // about 100 results a second, as probes come
	defer pace.Stop()
	var last translate.Key
	for i := 0; i < results; i++ {
		<-pace.C
		r := snap.HTTPRoutes[i]
		last = translate.Key{Kind: "IngressRoute", Namespace: "web", Name: r.Source.Name}
		outcomes.Record(upstream.Observation{RouteID: r.ID, Backend: r.Backends[0].Service, Endpoint: r.Backends[0].Endpoints[0].Address,
			Reason: upstream.UnknownAuthority, At: time.Now()})
	}
	end := time.Now()
	recomputes := 0
	for {
		select {
		case c := <-computed:
			recomputes++
			if got := c[last]; len(got) > 0 && got[0].Reason == "UnknownAuthority" {
				t.Logf("%d results over %s: %d recomputes; the last result showed %s after it was recorded",
					results, (results * 10 * time.Millisecond), recomputes, time.Since(end).Round(time.Millisecond))
				if recomputes > results/5 {
					t.Errorf("%d recomputes for %d results: the burst is not coalesced", recomputes, results)
				}
				return
			}
		case <-time.After(time.Second):
			t.Fatalf("the last result did not show within 1 s (%d recomputes so far)", recomputes)
		}
	}
}
