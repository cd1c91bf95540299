package proxy

import (
	"fmt"
	"maps"
	"math/rand/v2"
	"net/http/httptest"
	"net/netip"
	"slices"
	"strings"
	"testing"

	"github.com/bridgehead/bridgehead/internal/rule"
	"github.com/bridgehead/bridgehead/internal/snapshot"
)

func mustRoute(t testing.TB, id, match string) *route {
	r, err := rule.Parse(match, rule.HTTP)
	if err != nil {
		t.Fatal(err)
	}
	return &route{snap: &snapshot.HTTPRoute{RouteHead: snapshot.RouteHead{ID: id, Match: match}}, rule: r}
}

func TestRouterPicksTheHighestPriorityMatchAcrossExactWildcardAndHostless(t *testing.T) {
	// Snapshot order is priority order.
	routes := []*route{
		mustRoute(t, "api", "Host(`a.example.com`) && PathPrefix(`/api`)"),
		mustRoute(t, "wild-admin", "Host(`*.example.com`) && PathPrefix(`/admin`)"),
		mustRoute(t, "health", "PathPrefix(`/healthz`)"),
		mustRoute(t, "a", "Host(`a.example.com`)"),
		mustRoute(t, "wild", "Host(`*.example.com`)"),
	}
	rt := buildRouter(routes)
	for _, tc := range []struct{ host, path, want string }{
		{"a.example.com", "/api/v1", "api"},
		{"A.Example.COM:8443", "/admin", "wild-admin"},
		{"a.example.com", "/healthz", "health"},
		{"a.example.com", "/", "a"},
		{"b.example.com", "/", "wild"},
		{"b.example.com", "/healthz", "health"},
		{"x.y.example.com", "/", ""},
		{"other.org", "/healthz", "health"},
		{"other.org", "/", ""},
	} {
		req := httptest.NewRequest("GET", "http://"+tc.host+tc.path, nil)
		got := ""
		if r := rt.match(req, netip.MustParseAddr("192.0.2.1")); r != nil {
			got = r.snap.ID
		}
		if got != tc.want {
			t.Errorf("%s%s: got route %q, want %q", tc.host, tc.path, got, tc.want)
		}
	}
}

func benchmarkRouter(b *testing.B, hosts int) {
	routes := make([]*route, 0, hosts)
	for i := range hosts {
		routes = append(routes, mustRoute(b, fmt.Sprint(i), fmt.Sprintf("Host(`app-%05d.example.com`) && PathPrefix(`/api`)", i)))
	}
	rt := buildRouter(routes)
	req := httptest.NewRequest("GET", fmt.Sprintf("https://app-%05d.example.com/api/orders", hosts/2), nil)
	client := netip.MustParseAddr("192.0.2.1")
	b.ReportAllocs()
	for b.Loop() {
		if rt.match(req, client) == nil {
			b.Fatal("no match")
		}
	}
}

func BenchmarkRouter1kHosts(b *testing.B)  { benchmarkRouter(b, 1000) }
func BenchmarkRouter10kHosts(b *testing.B) { benchmarkRouter(b, 10000) }

// BenchmarkBuildRouter10kHosts is the router's part of a snapshot swap at 10,000 routes.
func BenchmarkBuildRouter10kHosts(b *testing.B) {
	routes := make([]*route, 0, 10000)
	for i := range 10000 {
		routes = append(routes, mustRoute(b, fmt.Sprint(i), fmt.Sprintf("Host(`app-%05d.example.com`) && PathPrefix(`/api`)", i)))
	}
	b.ReportAllocs()
	for b.Loop() {
		if rt := buildRouter(routes); len(rt.exact) != 10000 {
			b.Fatalf("%d hosts", len(rt.exact))
		}
	}
}

// BenchmarkSwap10kOneChanged is the proxy's part of a rebuild after one route of 10,000
// changed: the other 9,999 are the same route objects (translate's memo replays them so),
// which the proxy keeps compiled.
func BenchmarkSwap10kOneChanged(b *testing.B) {
	srv, err := New(Config{EntryPoints: []EntryPoint{{Name: "web", Address: "127.0.0.1:0"}}}, &snapshot.Store{})
	if err != nil {
		b.Fatal(err)
	}
	route := func(i, version int) *snapshot.HTTPRoute {
		return &snapshot.HTTPRoute{
			RouteHead: snapshot.RouteHead{ID: fmt.Sprintf("IngressRoute/scale/r%05d#0", i), Match: fmt.Sprintf("Host(`app-%05d.example.com`)", i), Priority: version},
			Backends: []*snapshot.Backend{{
				Service: snapshot.Ref{Kind: "Service", Namespace: "scale", Name: "backend"}, Port: "443", Scheme: "https", Weight: 1,
				Endpoints: []snapshot.Endpoint{{Address: "127.0.0.1:9443"}},
			}},
		}
	}
	snap := &snapshot.Snapshot{}
	snap.TLS.Policies, snap.TLS.DefaultPolicy = []*snapshot.Policy{{ID: "default"}}, "default"
	for i := range 10000 {
		snap.HTTPRoutes = append(snap.HTTPRoutes, route(i, 0))
	}
	srv.swap(snap)
	// The first swap's probes of 10,000 new endpoints are not the swap's cost; later
	// swaps still work out which endpoints to probe.
	srv.prober.Close()
	b.ReportAllocs()
	version := 0
	for b.Loop() {
		version++
		next := *snap
		next.HTTPRoutes = slices.Clone(snap.HTTPRoutes)
		next.HTTPRoutes[version%10000] = route(version%10000, version)
		srv.swap(&next)
		snap = &next
	}
}

// TestExactOnlyIndexMatchesTheGeneralOne: routes that all name exact hosts take the
// index's shortcut; it must list, for every host, what the general index lists.
func TestExactOnlyIndexMatchesTheGeneralOne(t *testing.T) {
	var routes []*route
	for i := range 60 {
		// Hosts shared between routes, a route naming several hosts, and one naming a host
		// twice (the rule lists it once).
		match := fmt.Sprintf("Host(`h%d.example.com`)", i%7)
		switch i % 5 {
		case 1:
			match = fmt.Sprintf("(Host(`h%d.example.com`) || Host(`h%d.example.com`)) && PathPrefix(`/%d`)", i%7, i%11, i)
		case 2:
			match = fmt.Sprintf("Host(`h%d.example.com`) || Host(`h%d.example.com`)", i%3, i%3)
		}
		routes = append(routes, mustRoute(t, fmt.Sprint(i), match))
	}
	fast := buildRouter(routes)
	all, exactOnly := indexedRoutes(routes, nil)
	if !exactOnly {
		t.Fatal("the routes do not take the shortcut: the test compares nothing")
	}
	general := &router{exact: map[string][]*route{}, wildcard: map[string][]*route{}}
	general.indexAll(all)
	if len(fast.exact) != len(general.exact) || len(fast.exact) < 11 {
		t.Fatalf("hosts: shortcut %d, general %d", len(fast.exact), len(general.exact))
	}
	ids := func(l []*route) (out []string) {
		for _, r := range l {
			out = append(out, r.snap.ID)
		}
		return out
	}
	for h, l := range general.exact {
		if got, want := ids(fast.exact[h]), ids(l); !slices.Equal(got, want) {
			t.Errorf("host %s: shortcut lists %v, general %v", h, got, want)
		}
	}
	if len(fast.wildcard) != 0 || len(fast.anyHost) != 0 {
		t.Errorf("shortcut has wildcard %v or host-less %v routes", fast.wildcard, fast.anyHost)
	}
}

// A compile indexes its routes in the array the compile before it used: a router built so
// must route as one built afresh, whichever shapes the two compiles had, and the array
// must not keep the earlier compile's routes alive.
func TestRouterBuiltInAUsedArrayRoutesAsAFreshOne(t *testing.T) {
	general := []*route{
		mustRoute(t, "wild", "Host(`*.example.com`)"),
		mustRoute(t, "health", "PathPrefix(`/healthz`)"),
		mustRoute(t, "x", "Host(`x.example.com`)"),
	}
	var exact []*route
	for i := range 50 {
		exact = append(exact, mustRoute(t, fmt.Sprint(i), fmt.Sprintf("Host(`h%d.example.com`)", i%20)))
	}
	var scratch []indexed
	for _, routes := range [][]*route{exact, general, exact[:7], general} {
		used := buildRouterWith(routes, &scratch)
		fresh := buildRouter(routes)
		for _, host := range []string{"x.example.com", "h3.example.com", "h19.example.com", "y.example.com", "other.test"} {
			for _, path := range []string{"/", "/healthz"} {
				req := httptest.NewRequest("GET", "http://"+host+path, nil)
				got, want := used.match(req, netip.Addr{}), fresh.match(req, netip.Addr{})
				if got != want {
					t.Errorf("%d routes, %s%s: the router built in a used array routes to %v, a fresh one to %v", len(routes), host, path, got, want)
				}
			}
		}
		if len(scratch) != 0 {
			t.Fatalf("the array holds %d routes after the build", len(scratch))
		}
		for _, ix := range scratch[:cap(scratch)] {
			if ix.r != nil || ix.hosts != nil {
				t.Fatalf("the array keeps a route alive after the build: %v", ix.r.snap.ID)
			}
		}
	}
	if cap(scratch) < len(exact) {
		t.Errorf("the array was not kept for the next build (capacity %d)", cap(scratch))
	}
}

// A router patched for the routes a compile added and dropped lists, for every host,
// what a router built afresh from the compile's routes lists; when it cannot (a host
// shared with another route, a wildcard or host-less rule), patched says so.
func TestPatchedRouterListsWhatAFreshOneLists(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	n := 0
	newRoute := func() *route {
		n++
		match := fmt.Sprintf("Host(`h%d.example.com`)", n)
		switch rng.IntN(12) {
		case 0:
			match = fmt.Sprintf("Host(`h%d.example.com`)", rng.IntN(n)) // maybe another route's host
		case 1:
			match = fmt.Sprintf("Host(`h%d.example.com`) || Host(`x%d.example.com`)", n, n)
		case 2:
			match = "Host(`*.example.com`)"
		case 3:
			match = "PathPrefix(`/`)"
		}
		return mustRoute(t, fmt.Sprint(n), match)
	}
	patchedOnce, refused := 0, 0
	for range 300 {
		var routes []*route
		for range rng.IntN(40) {
			if r := newRoute(); strings.HasPrefix(r.snap.Match, "Host(`h") {
				routes = append(routes, r)
			}
		}
		last := buildRouter(routes)
		next := slices.Clone(routes)
		var added, gone []*route
		for range 1 + rng.IntN(3) {
			at := rng.IntN(len(next) + 1)
			if rng.IntN(2) == 0 || len(next) == 0 {
				r := newRoute()
				next = slices.Insert(next, at, r)
				added = append(added, r)
			} else {
				at = min(at, len(next)-1)
				if i := slices.Index(added, next[at]); i >= 0 {
					added = slices.Delete(added, i, i+1) // added and dropped by the same compile
				} else {
					gone = append(gone, next[at])
				}
				next = slices.Delete(next, at, at+1)
			}
		}
		got := last.patched(gone, added)
		if got == nil {
			refused++
			continue
		}
		patchedOnce++
		want := buildRouter(next)
		if g, w := got.exactHosts(), want.exactHosts(); len(g) != len(w) || !want.patchable {
			t.Fatalf("patched: %d hosts, fresh: %d hosts (patchable %v)", len(g), len(w), want.patchable)
		}
		for h, l := range want.exact {
			if g, _ := got.exactRoutes(h); !slices.Equal(g, l) {
				t.Fatalf("host %s: patched lists %v, fresh %v", h, g, l)
			}
		}
		if len(last.exactHosts()) != len(buildRouter(routes).exact) {
			t.Fatal("patching changed the router it copied")
		}
	}
	if patchedOnce < 100 || refused < 20 {
		t.Fatalf("%d patched, %d refused: the test does not exercise both", patchedOnce, refused)
	}
}

// A router patched from a patched router, swap after swap, keeps listing what a router
// built afresh lists, through the folds of its changed hosts into a new host map; and
// the routers it was patched from keep routing as they did (requests may still use them).
func TestARouterPatchedAgainAndAgainListsWhatAFreshOneLists(t *testing.T) {
	defer func(limit int) { changedHostLimit = limit }(changedHostLimit)
	changedHostLimit = 24 // folds every few dozen patches
	rng := rand.New(rand.NewPCG(7, 8))
	n := 0
	newRoute := func() *route {
		n++
		host := n
		if rng.IntN(20) == 0 {
			host = rng.IntN(n) // maybe another route's host: not patchable
		}
		return mustRoute(t, fmt.Sprint(n), fmt.Sprintf("Host(`h%d.example.com`)", host))
	}
	var routes []*route
	for range 50 {
		routes = append(routes, mustRoute(t, fmt.Sprint(n), fmt.Sprintf("Host(`h%d.example.com`)", n)))
		n++
	}
	rt := buildRouter(routes)
	type earlier struct {
		rt    *router
		hosts map[string][]*route
	}
	var olds []earlier
	patched, folds := 0, 0
	for step := range 1500 {
		next := slices.Clone(routes)
		var added, gone []*route
		for range 1 + rng.IntN(3) {
			if rng.IntN(2) == 0 || len(next) < 10 {
				r := newRoute()
				next = slices.Insert(next, rng.IntN(len(next)+1), r)
				added = append(added, r)
				continue
			}
			at := rng.IntN(len(next))
			if i := slices.Index(added, next[at]); i >= 0 {
				added = slices.Delete(added, i, i+1)
			} else {
				gone = append(gone, next[at])
			}
			next = slices.Delete(next, at, at+1)
		}
		want := buildRouter(next)
		got := rt.patched(gone, added)
		if got == nil {
			got = want
		} else {
			patched++
			if got.changed == nil {
				folds++
			}
		}
		for h, l := range want.exactHosts() {
			if g, _ := got.exactRoutes(h); !slices.Equal(g, l) {
				t.Fatalf("step %d, host %s: patched lists %v, fresh %v", step, h, g, l)
			}
		}
		if g, w := len(got.exactHosts()), len(want.exactHosts()); g != w {
			t.Fatalf("step %d: patched %d hosts, fresh %d", step, g, w)
		}
		// A host dropped since the shared map was built must not route there any more.
		for _, m := range []map[string][]*route{got.exact, got.changed} {
			for h := range m {
				if g, ok := got.exactRoutes(h); ok != (want.exact[h] != nil) || !slices.Equal(g, want.exact[h]) {
					t.Fatalf("step %d, host %s: patched lists %v (%v), fresh %v", step, h, g, ok, want.exact[h])
				}
			}
		}
		if step%100 == 0 {
			olds = append(olds, earlier{rt, maps.Clone(rt.exactHosts())})
		}
		routes, rt = next, got
	}
	for _, o := range olds {
		if !maps.EqualFunc(o.rt.exactHosts(), o.hosts, slices.Equal) {
			t.Fatal("patching changed a router it was patched from")
		}
	}
	t.Logf("%d patched, %d folded", patched, folds)
	if patched < 1000 || folds < 20 {
		t.Fatalf("%d patched, %d folded: the test does not exercise chains of patches and their folds", patched, folds)
	}
}
