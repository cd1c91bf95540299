package proxy

import (
	"net/http"

	"github.com/bridgehead/bridgehead/internal/snapshot"
	"github.com/bridgehead/bridgehead/proxy/health"
	"github.com/bridgehead/bridgehead/proxy/middleware"
)

// A snapshot's HTTPRoutes are immutable, and translate's memo hands the next snapshot
// the very same HTTPRoute of a route that did not change. So a compile keeps the routes
// the compile before built from the same HTTPRoute, instead of building every route of
// every entry point again on each swap: at 10,000 routes that was most of a swap.
//
// A compiled route also holds state in registries that outlive a snapshot (endpoint
// health, health-check loops, middleware memory), and each compile forgets there what it
// did not use. A kept route therefore marks what it holds as used, exactly as building it
// again would have.

// keptRoutes are the routes of the last compile that a later compile may keep. Only the
// compile uses them, under Server.swapMu.
type keptRoutes struct {
	// transports are the transports of the last compile. A route's round trippers and
	// its middlewares' (forwardAuth, errors pages) depend on those it names, so a route
	// through one that changed is built again (snapshot.ChangedTransports).
	transports map[string]*snapshot.Transport
	// before is the last compile's snapshot routes, and routes what it built of each, at
	// the same index (nil for a route no compile may keep). The next compile finds its
	// routes there by snapshot.MatchRoutes, a walk over both lists, where a map of the
	// routes cost every swap 10,000 look-ups and as many stores.
	before []*snapshot.HTTPRoute
	routes []*route
	spare  []*route // the list before routes, for the next compile to fill
	// mine and indexed are a compile's working lists, empty between compiles: each entry
	// point's routes, and the routes being indexed (buildRouterWith). Made once rather than
	// per compile: at 10,000 routes they were 0.7 MB of every rebuild's garbage.
	mine    [][]*route
	indexed []indexed
}

// entryPointRoutes returns the empty lists of the routes of n entry points. They are
// emptied here as well as after use: a compile that panicked halfway must not leave its
// routes in the next compile's lists.
func (k *keptRoutes) entryPointRoutes(n int) [][]*route {
	if len(k.mine) != n {
		k.mine = make([][]*route, n)
	}
	for i, l := range k.mine {
		k.mine[i] = l[:0]
	}
	return k.mine
}

// next returns the list for this compile's routes, one per snapshot route: the one the
// compile before last filled, emptied, so that two lists take turns instead of one being
// made per swap.
func (k *keptRoutes) next(size int) []*route {
	if cap(k.spare) < size {
		return make([]*route, size)
	}
	return k.spare[:size]
}

// remember makes this compile's routes the ones the next compile may keep.
func (k *keptRoutes) remember(transports map[string]*snapshot.Transport, before []*snapshot.HTTPRoute, routes []*route) {
	k.transports, k.before, k.routes, k.spare = transports, before, routes, k.routes
	clear(k.spare[:cap(k.spare)]) // so that it keeps no dropped route alive
}

// previous returns the last compile's route built from the route whose index in the
// last snapshot is i (-1: none), or nil when there is none.
func (k *keptRoutes) previous(i int) *route {
	if i < 0 {
		return nil
	}
	return k.routes[i]
}

// holds is what a compiled route holds in the server's registries.
type holds struct {
	endpoints []*health.Endpoint
	checks    []heldCheck
	memory    middleware.Held
}

// heldCheck is one Checker.Ensure call of a compiled route.
type heldCheck struct {
	backend   *snapshot.Backend
	rt        http.RoundTripper
	endpoints []*health.Endpoint
}

// hold marks what r holds as used by this compile.
func (s *Server) hold(r *route, used map[*health.Endpoint]bool, kept bool) {
	for _, es := range r.holds.endpoints {
		used[es] = true
	}
	if !kept {
		return // building it did the rest
	}
	for _, c := range r.holds.checks {
		s.healthChecks.Ensure(c.backend, c.rt, c.endpoints)
	}
	s.middlewares.Hold(r.holds.memory)
}

// keepable reports whether a later compile may keep r: a parent route's child router is
// linked to the child routes of its own compile, so parents are always built again.
func keepable(r *route) bool { return r.children == nil }
