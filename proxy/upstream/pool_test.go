package upstream

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/bridgehead/bridgehead/internal/pki"
	"github.com/bridgehead/bridgehead/internal/snapshot"
)

// snap is the part of a snapshot Retain reads: routes' backends and the transports.
func snap(tr *snapshot.Transport, backends ...*snapshot.Backend) *snapshot.Snapshot {
	s := &snapshot.Snapshot{HTTPRoutes: []*snapshot.HTTPRoute{{RouteHead: snapshot.RouteHead{ID: "web/app/0", Match: "Host(`a.example`)"}, Backends: backends}}}
	if tr != nil {
		s.Transports = []*snapshot.Transport{tr}
	}
	return s
}

// copyOf is what the next snapshot holds for an unchanged object: equal values, new pointers.
func copyOf[T any](v *T) *T {
	c := *v
	return &c
}

func TestUnchangedTransportKeepsItsConnectionsAcrossSnapshots(t *testing.T) {
	ca := pki.MustCA("Backend CA")
	srv, seen := startBackend(t, serving(ca.MustIssue("backend", pki.Options{DNSNames: []string{"backend.example"}})), true)
	p := NewPool(Options{})
	t.Cleanup(p.Close)

	tr1, b1 := trust(ca, "backend-ca"), backend("https", addrOf(srv), "backend.example", "backend", "backend.example")
	rt1 := p.For(tr1, b1)
	mustServe(t, p, tr1, b1)

	// Next generation: same ID and hash, new pointers and a new names slice.
	tr2, b2 := copyOf(tr1), copyOf(b1)
	b2.VerifyNames = append([]string(nil), b1.VerifyNames...)
	p.Retain(snap(tr2, b2), nil)
	if p.For(tr2, b2) != rt1 {
		t.Fatal("an unchanged transport got a new round tripper")
	}
	mustServe(t, p, tr2, b2)
	if n := seen.newConns.Load(); n != 1 {
		t.Fatalf("%d connections for two requests; want the warm one reused", n)
	}

	// The ServersTransport changed: a new transport, a new connection, and the retired
	// transport's idle connection is closed.
	tr3 := copyOf(tr2)
	tr3.Hash = "h2"
	rt3 := p.For(tr3, b2)
	if rt3 == rt1 {
		t.Fatal("a changed hash reused the old round tripper")
	}
	mustServe(t, p, tr3, b2)
	if n := seen.newConns.Load(); n != 2 {
		t.Fatalf("%d connections; want a new one for the new transport", n)
	}
	p.Retain(snap(tr3, b2), nil)
	waitFor(t, "the retired transport's idle connection to close", func() bool { return seen.closed.Load() == 1 })
	if p.For(tr2, b2) == rt1 {
		t.Fatal("Retain did not forget the retired transport")
	}
	if p.For(tr3, b2) != rt3 {
		t.Fatal("Retain forgot the transport the snapshot uses")
	}
}

func TestCacheKey(t *testing.T) {
	p := NewPool(Options{})
	tr := &snapshot.Transport{ID: "ServersTransport/web/a", Hash: "h"}
	base := backend("https", "127.0.0.1:1", "a.example", "a", "a.example")
	rt := p.For(tr, base)
	for name, change := range map[string]func(t *snapshot.Transport, b *snapshot.Backend){
		"transport ID":      func(t *snapshot.Transport, _ *snapshot.Backend) { t.ID = "ServersTransport/web/b" },
		"transport hash":    func(t *snapshot.Transport, _ *snapshot.Backend) { t.Hash = "h2" },
		"scheme":            func(_ *snapshot.Transport, b *snapshot.Backend) { b.Scheme = "h2c" },
		"server name":       func(_ *snapshot.Transport, b *snapshot.Backend) { b.ServerName = "b.example" },
		"verify names":      func(_ *snapshot.Transport, b *snapshot.Backend) { b.VerifyNames = []string{"a"} },
		"names not joined":  func(_ *snapshot.Transport, b *snapshot.Backend) { b.VerifyNames = []string{"a,a.example"} },
		"default transport": nil,
	} {
		t2, b2 := copyOf(tr), copyOf(base)
		if change != nil {
			change(t2, b2)
		} else {
			t2 = nil
		}
		if p.For(t2, b2) == rt {
			t.Errorf("%s: a different key shared the round tripper", name)
		}
	}
	// Fields outside the key (endpoints, weight, the Service) share it.
	same := copyOf(base)
	same.Endpoints, same.Weight = nil, 7
	if p.For(copyOf(tr), same) != rt {
		t.Error("an equal key got another round tripper")
	}
}

func TestDialContextOverrideMapsEndpointsToLocalBackends(t *testing.T) {
	ca := pki.MustCA("Backend CA")
	srv, seen := startBackend(t, serving(ca.MustIssue("backend", pki.Options{DNSNames: []string{"backend.web.svc"}})), false)
	const podAddr = "10.244.1.7:8443" // as an EndpointSlice would list it; never dialled
	var dialled []string
	var mu sync.Mutex
	p := NewPool(Options{DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
		mu.Lock()
		dialled = append(dialled, addr)
		mu.Unlock()
		if addr != podAddr {
			return nil, fmt.Errorf("test maps only %s, not %s", podAddr, addr)
		}
		return (&net.Dialer{}).DialContext(ctx, network, addrOf(srv))
	}})
	mustServe(t, p, trust(ca, "backend-ca"), backend("https", podAddr, "backend.web.svc"))
	mu.Lock()
	defer mu.Unlock()
	if len(dialled) != 1 || dialled[0] != podAddr || seen.lastSNI() != "backend.web.svc" {
		t.Fatalf("dialled %q, SNI %q", dialled, seen.lastSNI())
	}
}

func TestForIsSafeDuringRetain(t *testing.T) {
	p := NewPool(Options{})
	trs := make([]*snapshot.Transport, 8)
	bs := make([]*snapshot.Backend, 8)
	for i := range trs {
		trs[i] = &snapshot.Transport{ID: fmt.Sprintf("ServersTransport/web/t%d", i), Hash: "h"}
		bs[i] = backend("https", "127.0.0.1:1", fmt.Sprintf("b%d.example", i))
		bs[i].Transport = trs[i].ID
	}
	var stop atomic.Bool
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			for i := g; !stop.Load(); i++ {
				if p.For(trs[i%8], bs[i%8]) == nil {
					t.Error("nil round tripper")
					return
				}
			}
		})
	}
	for i := range 200 {
		p.Retain(snap(trs[i%8], bs[i%8]), nil)
	}
	p.Close()
	stop.Store(true)
	wg.Wait()
}

func TestForDoesNotAllocateOnACacheHit(t *testing.T) {
	p := NewPool(Options{})
	tr := &snapshot.Transport{ID: "ServersTransport/web/backend", Hash: "h"}
	b := backend("https", "127.0.0.1:1", "backend.web.svc", "backend", "backend.web", "backend.web.svc", "backend.web.svc.cluster.local")
	p.For(tr, b)
	if n := testing.AllocsPerRun(1000, func() { p.For(tr, b) }); n != 0 {
		t.Fatalf("%v allocations per cache hit", n)
	}
}

func BenchmarkPoolForHit(b *testing.B) {
	p := NewPool(Options{})
	for i := range 100 { // a realistic cache, not a single entry
		p.For(&snapshot.Transport{ID: fmt.Sprintf("ServersTransport/web/t%d", i), Hash: "h"}, backend("https", "127.0.0.1:1", "x"))
	}
	tr := &snapshot.Transport{ID: "ServersTransport/web/backend", Hash: "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"}
	be := backend("https", "10.0.0.1:8443", "backend.web.svc", "backend", "backend.web", "backend.web.svc", "backend.web.svc.cluster.local")
	p.For(tr, be)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			p.For(tr, be)
		}
	})
}

func BenchmarkPoolForHitSerial(b *testing.B) {
	p := NewPool(Options{})
	tr := &snapshot.Transport{ID: "ServersTransport/web/backend", Hash: "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"}
	be := backend("https", "10.0.0.1:8443", "backend.web.svc", "backend", "backend.web", "backend.web.svc", "backend.web.svc.cluster.local")
	p.For(tr, be)
	b.ReportAllocs()
	for b.Loop() {
		p.For(tr, be)
	}
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

var _ http.RoundTripper = (*upstream)(nil)
