package proxy

import (
	"maps"
	"net/http"
	"net/netip"
	"slices"
	"sort"
	"strings"

	"github.com/bridgehead/bridgehead/internal/rule"
	"github.com/bridgehead/bridgehead/proxy/edge"
)

// router finds the route for a request. Routes are indexed by the host their rule
// requires, so lookup cost does not grow with the number of unrelated hosts: one map
// lookup for the exact host (whose list already holds the wildcard and host-less routes
// that could also match, in priority order), then rule evaluation of those few routes.
type router struct {
	exact map[string][]*route
	// changed overrides exact for the hosts a patch changed (see patched): a host's new
	// list, or nil for a host no longer routed. exact is then shared with the router
	// patched from, and written by no one.
	changed  map[string][]*route
	wildcard map[string][]*route // by suffix "example.com"
	anyHost  []*route
	// patchable: every route names exact hosts only and none is a parent route, so the
	// next compile may patch a copy of this router for the routes that changed (patched).
	patchable bool
}

// indexed is a route with its parsed rule, before the index is built.
type indexed struct {
	r     *route
	rule  *rule.Rule
	hosts []string
	any   bool
	order int
}

func buildRouter(routes []*route) *router {
	var scratch []indexed
	return buildRouterWith(routes, &scratch)
}

// buildRouterWith is buildRouter with the array the routes are indexed in before the
// index is built: the caller's, used again by every compile (at 10,000 routes, one made
// per compile was 0.5 MB of every rebuild's garbage). It is emptied before returning, so
// that it keeps no route alive.
func buildRouterWith(routes []*route, scratch *[]indexed) *router {
	// Sized for a host per route, the usual shape: grown insert by insert, these maps'
	// rehashing was a fifth of the compile at 10,000 routes.
	rt := &router{exact: make(map[string][]*route, len(routes)), wildcard: map[string][]*route{}}
	all, exactOnly := indexedRoutes(routes, (*scratch)[:0])
	if exactOnly {
		rt.indexExact(all)
		rt.patchable = !slices.ContainsFunc(routes, func(r *route) bool { return !keepable(r) })
	} else {
		rt.indexAll(all)
	}
	clear(all)
	*scratch = all[:0]
	return rt
}

// indexedRoutes appends routes with their hosts to all, in snapshot order; exactOnly
// when every route names exact hosts only.
func indexedRoutes(routes []*route, all []indexed) (_ []indexed, exactOnly bool) {
	all, exactOnly = slices.Grow(all, len(routes)), true
	for i, r := range routes {
		hosts, anyHost := r.rule.SharedHosts() // only read
		ix := indexed{r: r, rule: r.rule, hosts: hosts, any: anyHost || len(hosts) == 0, order: i}
		exactOnly = exactOnly && !ix.any && !slices.ContainsFunc(hosts, isWildcard)
		all = append(all, ix)
	}
	return all, exactOnly
}

// indexAll indexes routes of any shape: a host's list also holds the wildcard and
// host-less routes that could match it, merged in snapshot (priority) order.
func (rt *router) indexAll(all []indexed) {
	byExact := make(map[string][]indexed, len(all))
	byWild := map[string][]indexed{}
	var anyList []indexed
	// A host's first route is cut from one array (capped, so a second route copies it out):
	// most hosts have one route, and one list per host was half of the index's allocations.
	firsts := make([]indexed, 0, len(all))
	for _, ix := range all {
		if ix.any {
			anyList = append(anyList, ix)
			continue
		}
		for _, h := range ix.hosts {
			if suffix, ok := strings.CutPrefix(h, "*."); ok {
				byWild[suffix] = append(byWild[suffix], ix)
			} else if l := byExact[h]; l == nil && len(firsts) < cap(firsts) {
				firsts = append(firsts, ix)
				byExact[h] = firsts[len(firsts)-1 : len(firsts) : len(firsts)]
			} else {
				byExact[h] = append(l, ix)
			}
		}
	}
	// The one-route lists of most hosts are cut from one array rather than made one by one.
	singles := make([]*route, 0, len(all))
	merge := func(lists ...[]indexed) []*route {
		total, first := 0, (*route)(nil)
		for _, l := range lists {
			total += len(l)
			if len(l) > 0 && first == nil {
				first = l[0].r
			}
		}
		if total == 1 && len(singles) < cap(singles) {
			// One route for the host: most hosts, and no set needed.
			singles = append(singles, first)
			return singles[len(singles)-1 : len(singles) : len(singles)]
		}
		seen := map[*route]bool{}
		var m []indexed
		for _, l := range lists {
			for _, ix := range l {
				if !seen[ix.r] {
					seen[ix.r] = true
					m = append(m, ix)
				}
			}
		}
		// Snapshot order is priority order; keep it across the merged lists.
		sort.SliceStable(m, func(i, j int) bool { return m[i].order < m[j].order })
		out := make([]*route, len(m))
		for i, ix := range m {
			out[i] = ix.r
		}
		return out
	}
	for h, l := range byExact {
		var wild []indexed
		if i := strings.IndexByte(h, '.'); i > 0 {
			wild = byWild[h[i+1:]]
		}
		rt.exact[h] = merge(l, wild, anyList)
	}
	for suffix, l := range byWild {
		rt.wildcard[suffix] = merge(l, anyList)
	}
	rt.anyHost = merge(anyList)
}

func isWildcard(h string) bool { return strings.HasPrefix(h, "*.") }

// indexExact indexes routes that all name exact hosts, the usual shape: no wildcard or
// host-less list to merge into each host's, so a host's list is its routes in snapshot
// (priority) order, and the intermediate index of the general case is not needed. At
// 10,000 routes it halves the index's cost, which every snapshot swap pays.
func (rt *router) indexExact(all []indexed) {
	// A host's first route is cut from one array (capped, so a second route copies it out).
	firsts := make([]*route, 0, len(all))
	for _, ix := range all {
		for _, h := range ix.hosts { // de-duplicated by the rule: a route is listed once
			if l := rt.exact[h]; l == nil && len(firsts) < cap(firsts) {
				firsts = append(firsts, ix.r)
				rt.exact[h] = firsts[len(firsts)-1 : len(firsts) : len(firsts)]
			} else {
				rt.exact[h] = append(l, ix.r)
			}
		}
	}
}

// patchedRouteLimit is the most routes a patch adds and removes together; past that, a
// router is built afresh.
const patchedRouteLimit = 256

// changedHostLimit is the most hosts a chain of patched routers overrides before a patch
// folds them into a copy of the host map. Copying the map of 10,000 hosts at every patch
// was 2.5 ms of a swap; a patch copies the overrides instead, and the hosts dropped since
// the last fold keep their routes alive until the next. (A variable for the tests.)
var changedHostLimit = 512

// patched returns a router with the routes of rt less gone plus added, as buildRouter
// would index them, or nil when that cannot be had by patching: rt is not patchable, an
// added route is not (a wildcard or host-less rule, a parent route), or an added route
// names a host another route has (its place in that host's list would need the
// routes' priority order). rt is not modified: requests are being routed through it.
// At 10,000 routes, indexing them all on every swap was two thirds of the compile.
func (rt *router) patched(gone, added []*route) *router {
	if !rt.patchable || len(gone)+len(added) > patchedRouteLimit {
		return nil
	}
	for _, r := range added {
		if hosts, anyHost := r.rule.SharedHosts(); anyHost || len(hosts) == 0 || slices.ContainsFunc(hosts, isWildcard) || !keepable(r) {
			return nil
		}
	}
	out := &router{exact: rt.exact, changed: maps.Clone(rt.changed), wildcard: map[string][]*route{}, patchable: true}
	if out.changed == nil {
		out.changed = map[string][]*route{}
	}
	for _, r := range gone {
		hosts, _ := r.rule.SharedHosts()
		for _, h := range hosts {
			l, _ := out.exactRoutes(h)
			switch i := slices.Index(l, r); {
			case i < 0: // not on this router
			case len(l) > 1:
				out.changed[h] = slices.Delete(slices.Clone(l), i, i+1)
			case out.exact[h] != nil:
				out.changed[h] = nil // dropped from the shared map
			default:
				delete(out.changed, h) // added by an earlier patch: gone again
			}
		}
	}
	for _, r := range added {
		hosts, _ := r.rule.SharedHosts()
		for _, h := range hosts {
			if _, taken := out.exactRoutes(h); taken {
				return nil
			}
			out.changed[h] = []*route{r}
		}
	}
	if len(out.changed) > changedHostLimit {
		out.exact = out.exactHosts()
		out.changed = nil
	}
	return out
}

// exactRoutes is the list of the routes that name host exactly, if any do.
func (rt *router) exactRoutes(host string) ([]*route, bool) {
	if len(rt.changed) > 0 {
		if l, ok := rt.changed[host]; ok {
			return l, l != nil
		}
	}
	l, ok := rt.exact[host]
	return l, ok
}

// exactHosts is the router's whole host map: exact with its patches applied.
func (rt *router) exactHosts() map[string][]*route {
	if len(rt.changed) == 0 {
		return rt.exact
	}
	out := maps.Clone(rt.exact)
	for h, l := range rt.changed {
		if l == nil {
			delete(out, h)
		} else {
			out[h] = l
		}
	}
	return out
}

// match returns the highest-priority route whose rule matches, or nil.
func (rt *router) match(req *http.Request, client netip.Addr) *route {
	host := requestHost(req)
	candidates, ok := rt.exactRoutes(host)
	if !ok {
		candidates = rt.anyHost
		if i := strings.IndexByte(host, '.'); i > 0 {
			if l, ok := rt.wildcard[host[i+1:]]; ok {
				candidates = l
			}
		}
	}
	for _, r := range candidates {
		if r.rule.MatchHTTP(req, client) {
			return r
		}
	}
	return nil
}

// requestHost is the request's host, lower-cased, without port or trailing dot.
func requestHost(req *http.Request) string {
	h := req.Host
	if h == "" && req.URL != nil {
		h = req.URL.Host
	}
	if i := strings.LastIndexByte(h, ':'); i >= 0 && !strings.HasSuffix(h, "]") {
		h = h[:i]
	}
	h = strings.TrimSuffix(strings.TrimPrefix(h, "["), "]")
	return edge.NormalizeHost(h)
}
