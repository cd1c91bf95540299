package proxy

import (
	"net/http"
	"net/netip"
	"slices"

	"github.com/bridgehead/bridgehead/internal/snapshot"
)

// Multi-layer routing (IngressRoute spec.parentRefs, as in Traefik): a parent route
// matches among the root routes of its entry point and runs its middlewares; then its
// children are matched, in priority order, against the request as those middlewares left
// it. A child never matches on its own, and a request its parent matched that no child
// matches gets 404: it does not fall through to another root route.

// childRouter is the last handler of a parent route.
type childRouter struct {
	srv    *Server
	ids    []string // child route IDs, in snapshot (priority) order
	routes []*route // resolved by linkChildren before the state is published
}

// childRoutes lists each parent's children by ID, in snapshot order.
func childRoutes(hrs []*snapshot.HTTPRoute) map[string][]string {
	out := map[string][]string{}
	for _, hr := range hrs {
		for _, p := range hr.Parents {
			out[p] = append(out[p], hr.ID)
		}
	}
	return out
}

// linkChildren points every parent's childRouter at the compiled child routes. A child
// that did not compile is left out, as it is at the root.
func linkChildren(routes []*route) {
	if !slices.ContainsFunc(routes, func(r *route) bool { return r.children != nil }) {
		return // no parent routes: nothing to link (the usual case, and a map of every route spared)
	}
	byID := make(map[string]*route, len(routes))
	for _, r := range routes {
		byID[r.snap.ID] = r
	}
	for _, r := range routes {
		if r.children == nil {
			continue
		}
		for _, id := range r.children.ids {
			if c := byID[id]; c != nil {
				r.children.routes = append(r.children.routes, c)
			}
		}
	}
}

func (c *childRouter) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	client, _ := netip.ParseAddrPort(req.RemoteAddr)
	for _, r := range c.routes {
		if r.rule.MatchHTTP(req, client.Addr()) {
			r.handler.ServeHTTP(w, req)
			return
		}
	}
	c.srv.fail(w, http.StatusNotFound, "NoRoute")
}
