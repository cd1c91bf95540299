package translate

import (
	"slices"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"
)

// The memo of HTTPRoutes: what the memo does for IngressRoutes (memo.go), for the route
// kind of the Gateway API. Without it a change to one HTTPRoute of 10,000 translated all
// of them again: 130 ms and 60 MB (BenchmarkTranslate10kOthersOneChanged).
//
// An HTTPRoute's translation reads its Gateways' listeners and writes, besides its report
// and its routes: the listeners' counts of attached routes, the TLS host claims of its
// names on HTTPS listeners, its Gateway API status, one ranked entry per route, which
// rankGatewayRoutes orders with every other Gateway API route and numbers, and, for each
// backend while there are BackendTLSPolicies, the policies' state: the Gateways a policy
// and a Service are used through, and the policy's transport with a Gateway's client
// certificate, made by the first backend that needs it. Those are recorded and replayed
// (the last by making the backend's use again, in the same order: useBackendTLS). The
// listeners are built again at every build; with the same Gateways and ListenerSets
// (which the memo's basis requires) they are built in the same order, and a record names
// them by their place in it (gwListener.seq).
//
// An HTTPRoute is not recorded when its translation writes anything else (a TLS policy,
// a Middleware, another transport), nor in the cases httpRoutesMemoizable names. Those
// are translated at every build.
//
// A replayed route is the very snapshot route of the build before, also in that build's
// snapshot: the proxy keeps what it compiled of it. When the ranking gives it another
// priority (the numbers count up from the lowest-ranked route, so routes were added or
// removed below it), the new priority goes to a copy.

// httpRouteMemo is what translating one HTTPRoute did. Its routeMemo holds the report, the
// routes, the status and the certificate dates; its own slots and claims stay empty.
type httpRouteMemo struct {
	routeMemo
	// notOurs: the route has no parent of ours, and its translation left nothing.
	notOurs bool
	// ranks are the route's entries for rankGatewayRoutes, one per entry of routes.
	ranks []rankedRoute
	// attached are the listeners (by seq) the route was counted on, once per count.
	attached []int
	claims   []gwClaimRecord
	gwStatus *GatewayAPIStatus
	// btls are the route's backends' uses of the BackendTLSPolicies' state, in order, and
	// transports the number of transports they made.
	btls       []btlsUse
	transports int
}

// gwClaimRecord is a TLS host claim of the route on an HTTPS listener; its certificate is
// the listener's for the name, looked up again in the replaying build.
type gwClaimRecord struct {
	name     string
	claim    hostClaim // without rep and cert
	listener int       // gwListener.seq
}

// httpRoutesMemoizable reports whether the HTTPRoute of key may be recorded and replayed.
// Not when lastgood replaced it by its last good version (markRefusedGatewayAPI marks its
// status in place), nor while there are GRPCRoutes: an HTTPRoute that shares host names
// with one on a listener may lose a parent after its translation (its status marked in
// place, its routes taken out, resolveHTTPGRPCConflicts).
func (t *translator) httpRoutesMemoizable(key Key) bool {
	_, replaced := t.in.Replaced[key]
	return !replaced && len(t.in.GRPCRoutes) == 0
}

// recordHTTPRoute translates route with build and, when the translation did only what an
// httpRouteMemo holds, remembers it.
func (t *translator) recordHTTPRoute(route *gwv1.HTTPRoute, build func()) {
	key := Key{Kind: KindHTTPRoute, Namespace: route.Namespace, Name: route.Name}
	if t.memo == nil || !t.httpRoutesMemoizable(key) {
		build()
		return
	}
	routes, ranked, gwStatuses := len(t.snap.HTTPRoutes), len(t.gw.ranked), len(t.gw.status)
	want := t.sideEffects()
	m := &httpRouteMemo{routeMemo: routeMemo{obj: route, call: t.memo.memo.calls}}
	t.rec, t.hrec = &m.routeMemo, m
	build()
	t.rec, t.hrec = nil, nil
	// The rule slots and claims of routeMemo are what an IngressRoute's translation
	// records; an HTTPRoute's are never there (its claims are m.claims).
	if len(m.slots) > 0 || len(m.routeMemo.claims) > 0 {
		return
	}
	rep, ours := t.reports[key]
	if ours {
		want.reports++
		gwStatuses++
	}
	want.transports += m.transports
	if t.sideEffects() != want || len(t.gw.status) != gwStatuses || len(t.snap.HTTPRoutes)-routes != len(t.gw.ranked)-ranked {
		return
	}
	if ours {
		if m.gwStatus = t.gw.status[key]; m.gwStatus == nil {
			return
		}
		m.routes = slices.Clone(t.snap.HTTPRoutes[routes:])
		m.ranks = slices.Clone(t.gw.ranked[ranked:])
		for i := range m.ranks {
			m.ranks[i].hr = nil // routes[i], which a replay may have copied since
		}
		m.keepReport(rep)
	} else {
		if len(t.snap.HTTPRoutes) != routes || len(m.attached) > 0 || len(m.claims) > 0 || len(m.btls) > 0 {
			return
		}
		m.notOurs = true
	}
	if prev, ok := t.memo.memo.httpRoutes[key]; !ok || prev.call != t.memo.memo.calls {
		t.memo.memo.usedHTTPRoutes++
	}
	t.memo.memo.httpRoutes[key] = m
	t.memo.memo.httpRouteOf[route] = m
}

// replayHTTPRoute adds a remembered translation of route to this build, if there is one
// it may use.
func (t *translator) replayHTTPRoute(route *gwv1.HTTPRoute) bool {
	if t.memo == nil || !t.memo.usable && !t.memo.partial {
		return false
	}
	key := Key{Kind: KindHTTPRoute, Namespace: route.Namespace, Name: route.Name}
	m, ok := lookupRecord(t.memo.memo.httpRouteOf, t.memo.memo.httpRoutes, route, key)
	if !ok || m.call == t.memo.memo.calls || !sameGeneration(m.obj, route) || !m.covers(t.opts.Now) || !t.httpRoutesMemoizable(key) || !t.memo.replayable(&m.routeMemo) {
		return false
	}
	if !m.notOurs {
		rep := t.replayReport(key, &m.routeMemo)
		first := len(t.snap.HTTPRoutes)
		t.snap.HTTPRoutes = append(t.snap.HTTPRoutes, m.routes...)
		for i, rank := range m.ranks {
			// The creation time is the new object's, as for IngressRoutes (memo.go, replay):
			// it ranks the route among others of the same host and path.
			rank.hr, rank.created, rank.memo, rank.idx, rank.snapIdx = m.routes[i], route.CreationTimestamp, m, i, first+i
			t.gw.ranked = append(t.gw.ranked, rank)
		}
		for _, seq := range m.attached {
			t.gw.all[seq].attached++
		}
		for _, c := range m.claims {
			hc := c.claim
			hc.rep, hc.cert = rep, listenerCertFor(t.gw.all[c.listener], c.name)
			add(t.hostClaims, c.name, hc, &t.claimLists)
		}
		t.gw.status[key] = m.gwStatus
		for _, u := range m.btls {
			t.useBackendTLS(u, nil) // the warning it may give is in the replayed report
		}
	}
	if m.obj != metav1.Object(route) {
		t.memo.memo.httpRouteOf[route] = m
	}
	m.obj, m.call = route, t.memo.memo.calls
	t.memo.memo.usedHTTPRoutes++
	return true
}
