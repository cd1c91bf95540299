package proxy

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/bridgehead/bridgehead/internal/snapshot"
)

// routerIDs lists a router's index by route ID: what it would route each host to.
func routerIDs(rt *router) map[string][]string {
	ids := func(l []*route) []string {
		out := []string{}
		for _, r := range l {
			out = append(out, r.snap.ID)
		}
		return out
	}
	out := map[string][]string{"<any>": ids(rt.anyHost)}
	for h, l := range rt.exactHosts() {
		out[h] = ids(l)
	}
	for suffix, l := range rt.wildcard {
		out["*."+suffix] = ids(l)
	}
	return out
}

// Swap after swap, with routes added, removed and changed a few at a time (and now and
// then a transport changed, a wildcard, host-less, shared-host or parent route), every
// entry point's router indexes what a server that compiled only the last snapshot
// indexes: patching the last compile's routers never drifts from building them.
func TestSwappedRoutersIndexWhatAFreshCompileIndexes(t *testing.T) {
	entryPoints := []EntryPoint{{Name: "web", Address: "127.0.0.1:0"}, {Name: "websecure", Address: "127.0.0.1:0", TLS: true}}
	newServer := func() *Server {
		srv, err := New(Config{EntryPoints: entryPoints}, &snapshot.Store{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(srv.prober.Close)
		return srv
	}
	rng := rand.New(rand.NewPCG(7, 8))
	n := 0
	backend := []*snapshot.Backend{{Service: snapshot.Ref{Kind: "Service", Namespace: "ns", Name: "app"}, Port: "80", Scheme: "http", Weight: 1}}
	newRoute := func(id string) *snapshot.HTTPRoute {
		n++
		hr := &snapshot.HTTPRoute{RouteHead: snapshot.RouteHead{ID: id, Match: fmt.Sprintf("Host(`h%d.example.com`)", n)}, Backends: backend}
		switch rng.IntN(60) {
		case 0, 1, 2:
			hr.Match = fmt.Sprintf("Host(`h%d.example.com`)", rng.IntN(n)) // perhaps another route's host
		case 3:
			hr.Match = "Host(`*.example.com`)"
		case 4:
			hr.Match = "PathPrefix(`/healthz`)"
		case 5, 6, 7, 8, 9:
			hr.TLS = true
		case 10, 11, 12:
			hr.EntryPoints = []string{"web"}
		}
		return hr
	}
	var routes []*snapshot.HTTPRoute
	for i := range 40 {
		routes = append(routes, newRoute(fmt.Sprint("r", i)))
	}
	var transports []*snapshot.Transport
	srv := newServer()
	patched := 0
	for step := range 150 {
		next := slices.Clone(routes)
		for range 1 + rng.IntN(3) {
			at := rng.IntN(len(next) + 1)
			switch rng.IntN(13) {
			case 0:
				next = slices.Insert(next, at, newRoute(fmt.Sprint("s", step, "-", at)))
			case 1:
				if at < len(next) {
					next = slices.Delete(next, at, at+1)
				}
			case 2, 4, 5, 6, 7, 8, 9, 10, 11: // the same route changed: another object, the same ID
				if at < len(next) {
					next[at] = newRoute(next[at].ID)
				}
			case 3: // a parent route with a child
				parent := newRoute(fmt.Sprint("p", step))
				child := &snapshot.HTTPRoute{RouteHead: snapshot.RouteHead{ID: parent.ID + "-child", Match: "PathPrefix(`/child`)"}, Backends: backend, Parents: []string{parent.ID}}
				next = slices.Insert(next, at, parent, child)
			}
		}
		if rng.IntN(15) == 0 {
			transports = []*snapshot.Transport{{ID: "ServersTransport/ns/t", Hash: fmt.Sprint(step)}}
		}
		routes = next
		snap := &snapshot.Snapshot{HTTPRoutes: routes, Transports: transports}
		snap.TLS.Policies, snap.TLS.DefaultPolicy = []*snapshot.Policy{{ID: "default"}}, "default"
		before := srv.state.Load()
		srv.swap(snap)
		fresh := newServer()
		fresh.swap(snap)
		for _, ep := range entryPoints {
			got, want := srv.state.Load().routers[ep.Name], fresh.state.Load().routers[ep.Name]
			if g, w := routerIDs(got), routerIDs(want); !sameIndex(g, w) {
				t.Fatalf("step %d, entry point %s: the swapped server indexes\n%v\na fresh compile\n%v", step, ep.Name, g, w)
			}
			if before != nil && sharesAList(got, before.routers[ep.Name]) {
				patched++ // a router built afresh shares no host's list with the last one
			}
		}
	}
	t.Logf("%d patched", patched)
	if patched < 50 {
		t.Fatalf("only %d routers could be patched: the test hardly exercises patching", patched)
	}
}

// sharesAList reports whether two routers list some host with the very same slice.
func sharesAList(a, b *router) bool {
	for h, l := range a.exactHosts() {
		if m, _ := b.exactRoutes(h); len(l) > 0 && len(m) > 0 && &l[0] == &m[0] {
			return true
		}
	}
	return false
}

func sameIndex(a, b map[string][]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || !slices.Equal(v, w) {
			return false
		}
	}
	return true
}

// A swap compiles again only the routes that call a backend through a transport that
// changed: adding a BackendTLSPolicy's transports for a new application keeps the others.
func TestSwapKeepsRoutesWhoseTransportsDidNotChange(t *testing.T) {
	srv, err := New(Config{EntryPoints: []EntryPoint{{Name: "web", Address: "127.0.0.1:0"}}}, &snapshot.Store{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.prober.Close)
	newRoute := func(id, transport string, auth *snapshot.Backend) *snapshot.HTTPRoute {
		hr := &snapshot.HTTPRoute{RouteHead: snapshot.RouteHead{ID: id, Match: "Host(`" + id + ".example.com`)"},
			Backends: []*snapshot.Backend{{Service: snapshot.Ref{Kind: "Service", Namespace: "ns", Name: id}, Port: "443", Scheme: "https", Weight: 1, Transport: transport}}}
		if auth != nil {
			hr.Middlewares = []*snapshot.Middleware{{ForwardAuth: &snapshot.ForwardAuth{Server: auth}}}
		}
		return hr
	}
	a := newRoute("a", "BackendTLSPolicy/ns/a", nil)
	b := newRoute("b", "BackendTLSPolicy/ns/b", nil)
	plain := newRoute("plain", "", nil)
	// A route whose forwardAuth server is reached through policy a's transport.
	authed := newRoute("authed", "", &snapshot.Backend{Service: snapshot.Ref{Kind: "Service", Namespace: "ns", Name: "auth"}, Port: "443", Scheme: "https", Transport: "BackendTLSPolicy/ns/a"})
	routes := []*snapshot.HTTPRoute{a, b, plain, authed}
	compiled := func(transports ...*snapshot.Transport) map[string]*route {
		snap := &snapshot.Snapshot{HTTPRoutes: routes, Transports: transports}
		snap.TLS.Policies, snap.TLS.DefaultPolicy = []*snapshot.Policy{{ID: "default"}}, "default"
		srv.swap(snap)
		out := map[string]*route{}
		for _, l := range srv.state.Load().routers["web"].exactHosts() {
			for _, r := range l {
				out[r.snap.ID] = r
			}
		}
		return out
	}
	ta := &snapshot.Transport{ID: "BackendTLSPolicy/ns/a", Hash: "1"}
	tb := &snapshot.Transport{ID: "BackendTLSPolicy/ns/b", Hash: "1"}
	first := compiled(ta, tb)
	// A new application's transport: every route is kept.
	second := compiled(ta, tb, &snapshot.Transport{ID: "BackendTLSPolicy/ns/c", Hash: "1"})
	for id, r := range second {
		if first[id] != r {
			t.Errorf("route %s compiled again when only an unrelated transport was added", id)
		}
	}
	// Policy a's transport changes: its route and the one whose forwardAuth uses it are
	// compiled again, the others kept.
	third := compiled(&snapshot.Transport{ID: ta.ID, Hash: "2"}, tb, &snapshot.Transport{ID: "BackendTLSPolicy/ns/c", Hash: "1"})
	for id, r := range third {
		if again, want := second[id] != r, id == "a" || id == "authed"; again != want {
			t.Errorf("route %s compiled again: %v, want %v", id, again, want)
		}
	}
	// Policy b's transport goes: its route is compiled again.
	fourth := compiled(&snapshot.Transport{ID: ta.ID, Hash: "2"})
	for id, r := range fourth {
		if again, want := third[id] != r, id == "b"; again != want {
			t.Errorf("after a transport went, route %s compiled again: %v, want %v", id, again, want)
		}
	}
}
