package health

import (
	"crypto/tls"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	. "github.com/onsi/gomega"

	"github.com/bridgehead/bridgehead/internal/pki"
	"github.com/bridgehead/bridgehead/internal/snapshot"
	"github.com/bridgehead/bridgehead/proxy/upstream"
)

// changes hands p a snapshot as a swap does: with what changed since the one before.
func changes(p *Prober, snap *snapshot.Snapshot) {
	c := snapshot.MatchRoutes(p.before, snap.HTTPRoutes)
	p.Changes(snap, &c)
}

// changesIndexed is changes as the proxy's compile tells them: with the snapshot's
// transports indexed and those changed since the last snapshot named.
func changesIndexed(p *Prober, snap *snapshot.Snapshot) {
	c := snapshot.MatchRoutes(p.before, snap.HTTPRoutes)
	c.Transports = snap.TransportsByID()
	c.ChangedTransports = snapshot.ChangedTransports(p.transports, c.Transports)
	p.Changes(snap, &c)
}

// A snapshot that changes a route's TLS path gets a real handshake to the endpoint right
// away, and its outcome is recorded for the route: untrusted without the backend's CA,
// verified with it. A snapshot that changes nothing on that path probes nothing.
func TestProberProbesWhatASnapshotChanged(t *testing.T) {
	g := NewWithT(t)
	g.SetDefaultEventuallyTimeout(10 * time.Second) // a busy machine, -race; a probe may take probeTimeout
	ca := pki.MustCA("probe test CA")
	leaf := ca.MustIssue("app.internal", pki.Options{DNSNames: []string{"app.internal"}})
	var mu sync.Mutex
	var hellos []string // SNI of every ClientHello the backend saw
	backend := httptest.NewUnstartedServer(http.NotFoundHandler())
	backend.TLS = &tls.Config{GetConfigForClient: func(chi *tls.ClientHelloInfo) (*tls.Config, error) {
		mu.Lock()
		hellos = append(hellos, chi.ServerName)
		mu.Unlock()
		return nil, nil
	}, Certificates: []tls.Certificate{leaf.TLS}}
	backend.StartTLS()
	defer backend.Close()
	addr := strings.TrimPrefix(backend.URL, "https://")
	seen := func() []string { mu.Lock(); defer mu.Unlock(); return slices.Clone(hellos) }

	trusted := &snapshot.Transport{ID: "ServersTransport/ns/app", Hash: "1", RootCAs: &snapshot.CertPool{Pool: ca.Pool()}}
	snap := func(transport *snapshot.Transport) *snapshot.Snapshot {
		b := &snapshot.Backend{
			Service: snapshot.Ref{Kind: "Service", Namespace: "ns", Name: "app"}, Port: "443", Scheme: "https",
			ServerName: "app.internal", Endpoints: []snapshot.Endpoint{{Address: addr}},
		}
		s := &snapshot.Snapshot{HTTPRoutes: []*snapshot.HTTPRoute{{RouteHead: snapshot.RouteHead{ID: "web/app"}, Backends: []*snapshot.Backend{b}}}}
		if transport != nil {
			b.Transport = transport.ID
			s.Transports = []*snapshot.Transport{transport}
		}
		return s
	}
	pool := upstream.NewPool(upstream.Options{})
	defer pool.Close()
	recorded := &upstream.Outcomes{}
	latest := func() []upstream.Observation { return recorded.Latest() }
	p := NewProber(pool, recorded, slog.New(slog.NewTextHandler(io.Discard, nil)))
	defer p.Close()

	changes(p, snap(nil))
	g.Eventually(latest).Should(ContainElement(And(
		HaveField("RouteID", "web/app"), HaveField("Endpoint", addr), HaveField("OK", false),
		HaveField("Reason", upstream.UnknownAuthority))), "no UnknownAuthority recorded for a backend whose CA is not trusted")
	g.Expect(seen()).To(HaveLen(1))

	changes(p, snap(nil)) // the same path again: nothing to probe
	changes(p, snap(trusted))
	g.Eventually(latest).Should(ContainElement(And(
		HaveField("RouteID", "web/app"), HaveField("Endpoint", addr), HaveField("OK", true))), "no success recorded once the backend's CA is trusted")
	g.Expect(seen()).To(Equal([]string{"app.internal", "app.internal"}), "an unchanged TLS path was probed again")
}

// A swap probes only the endpoints new to their route: a route the snapshot kept (the same
// object, as translate hands over an unchanged route) or remade with the same endpoints is
// not probed again, an endpoint added to a route is, a route dropped and brought back is,
// and a transport that changes re-probes the routes that use it, not the others.
func TestProberProbesOnlyWhatIsNewToARoute(t *testing.T) {
	t.Run("changes matched", func(t *testing.T) { testProberProbesOnlyWhatIsNewToARoute(t, changes) })
	t.Run("transports indexed", func(t *testing.T) { testProberProbesOnlyWhatIsNewToARoute(t, changesIndexed) })
}

func testProberProbesOnlyWhatIsNewToARoute(t *testing.T, tell func(*Prober, *snapshot.Snapshot)) {
	ca := pki.MustCA("probe test CA")
	leaf := ca.MustIssue("app.internal", pki.Options{DNSNames: []string{"app.internal"}})
	var mu sync.Mutex
	hellos := map[string]int{} // the handshakes each backend saw, by its address
	backend := func() string {
		var addr string
		srv := httptest.NewUnstartedServer(http.NotFoundHandler())
		srv.TLS = &tls.Config{GetConfigForClient: func(*tls.ClientHelloInfo) (*tls.Config, error) {
			mu.Lock()
			hellos[addr]++
			mu.Unlock()
			return nil, nil
		}, Certificates: []tls.Certificate{leaf.TLS}}
		srv.StartTLS()
		t.Cleanup(srv.Close)
		addr = strings.TrimPrefix(srv.URL, "https://")
		return addr
	}
	a, b := backend(), backend()
	route := func(id, transport string, addrs ...string) *snapshot.HTTPRoute {
		be := &snapshot.Backend{Service: snapshot.Ref{Kind: "Service", Namespace: "ns", Name: id}, Port: "443", Scheme: "https",
			ServerName: "app.internal", Transport: transport}
		for _, addr := range addrs {
			be.Endpoints = append(be.Endpoints, snapshot.Endpoint{Address: addr})
		}
		return &snapshot.HTTPRoute{RouteHead: snapshot.RouteHead{ID: id}, Backends: []*snapshot.Backend{be}}
	}
	pool := upstream.NewPool(upstream.Options{})
	defer pool.Close()
	p := NewProber(pool, &upstream.Outcomes{}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	defer p.Close()
	// swap hands the prober a snapshot and waits for the probes it started.
	swap := func(transports []*snapshot.Transport, routes ...*snapshot.HTTPRoute) map[string]int {
		tell(p, &snapshot.Snapshot{HTTPRoutes: routes, Transports: transports})
		p.wg.Wait()
		mu.Lock()
		defer mu.Unlock()
		return map[string]int{"a": hellos[a], "b": hellos[b]}
	}
	one, two := route("one", "", a), route("two", "", a)
	if got := swap(nil, one, two); got["a"] != 2 || got["b"] != 0 {
		t.Fatalf("first snapshot: handshakes %v, want one per route to a", got)
	}
	if got := swap(nil, one, route("two", "", a, b)); got["a"] != 2 || got["b"] != 1 {
		t.Errorf("an endpoint added to a route: handshakes %v, want only the new endpoint probed", got)
	}
	if got := swap(nil, one); got["a"] != 2 || got["b"] != 1 {
		t.Errorf("a route dropped: handshakes %v, want none", got)
	}
	if got := swap(nil, one, route("two", "", a)); got["a"] != 3 || got["b"] != 1 {
		t.Errorf("a dropped route brought back: handshakes %v, want its endpoint probed again", got)
	}
	trust := []*snapshot.Transport{{ID: "ServersTransport/ns/one", Hash: "1", RootCAs: &snapshot.CertPool{Pool: ca.Pool()}}}
	oneTrusting := route("one", trust[0].ID, a)
	if got := swap(trust, oneTrusting, route("two", "", a)); got["a"] != 4 || got["b"] != 1 {
		t.Errorf("a transport given to one route: handshakes %v, want that route probed, not the other", got)
	}
	trust[0] = &snapshot.Transport{ID: trust[0].ID, Hash: "2", RootCAs: trust[0].RootCAs}
	two = route("two", "", a)
	if got := swap(trust, oneTrusting, two); got["a"] != 5 || got["b"] != 1 {
		t.Errorf("the route's transport changed, the route kept: handshakes %v, want it probed again", got)
	}
	// Changes told relative to another snapshot than the last one it saw compares every
	// route: the same snapshot again probes nothing, a new endpoint is probed.
	routes := []*snapshot.HTTPRoute{oneTrusting, two, route("three", "", b)}
	unrelated := snapshot.MatchRoutes(nil, routes)
	p.Changes(&snapshot.Snapshot{HTTPRoutes: routes, Transports: trust}, &unrelated)
	if got := swap(trust, routes...); got["a"] != 5 || got["b"] != 2 {
		t.Errorf("changes relative to another snapshot: handshakes %v, want only the new route probed", got)
	}
}
