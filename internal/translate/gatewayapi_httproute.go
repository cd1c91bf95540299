package translate

import (
	"cmp"
	"fmt"
	"net/http"
	"slices"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	bhv1 "github.com/bridgehead/bridgehead/api/v1alpha1"
	"github.com/bridgehead/bridgehead/internal/snapshot"
)

// HTTPRoute: every rule x match x listener x host name becomes one snapshot route, so
// that the spec's precedence (host, then path, method, headers, query, then the oldest
// route) is one order over snapshot routes (rankGatewayRoutes).

// gatewayPriorityBase puts Gateway API routes above IngressRoutes and Ingresses (whose
// priorities are rule lengths or written numbers): see docs/gateway-api.md, "Mixed worlds".
const gatewayPriorityBase = 1 << 40

// rankedRoute is a snapshot route built from a Gateway API route, with what orders it.
type rankedRoute struct {
	hr   *snapshot.HTTPRoute
	host string // "" for any
	pathRank,
	pathLen int
	method   bool
	headers  int
	queries  int
	created  metav1.Time
	src      string
	ruleIdx  int
	matchIdx int
	// memo is the record an HTTPRoute's replay took hr from (memo_httproute.go), nil for a
	// route translated in this build. A replayed hr is also in the snapshots of earlier
	// builds: a new priority goes to a copy of it, put at routes[idx] of the record and
	// at snapIdx of this build's snapshot routes.
	memo         *httpRouteMemo
	idx, snapIdx int
}

func (t *translator) buildHTTPRoutes() {
	t.snap.HTTPRoutes = slices.Grow(t.snap.HTTPRoutes, len(t.in.HTTPRoutes))
	for _, hr := range sortedByAge(t.in.HTTPRoutes) {
		if t.replayHTTPRoute(hr) {
			continue
		}
		t.recordHTTPRoute(hr, func() { t.buildHTTPRoute(hr) })
	}
}

func (t *translator) buildHTTPRoute(route *gwv1.HTTPRoute) {
	r := t.attachRoute(KindHTTPRoute, &route.ObjectMeta, route.Spec.ParentRefs, route.Spec.Hostnames)
	if len(r.parents) == 0 {
		delete(t.reports, r.rep.key) // not ours: no status, no findings
		return
	}
	listeners := r.listeners()
	t.claimGatewayRouteHosts(r, listeners) // gatewayapi_frontend.go: route names on HTTPS listeners negotiate under the listener's policy
	for i, rule := range route.Spec.Rules {
		field := fmt.Sprintf("spec.rules[%d]", i)
		filters := t.checkHTTPRule(r, field, rule)
		src := snapshot.Ref{Kind: KindHTTPRoute, Namespace: route.Namespace, Name: route.Name}
		main := t.httpRouteBackends(r, field, rule.BackendRefs)
		backends, balance := withMirrors(src, main, filters.mirrors)
		matches := rule.Matches
		if len(matches) == 0 {
			matches = []gwv1.HTTPRouteMatch{{}}
		}
		for j, m := range matches {
			cond, rank, err := httpMatchRule(m)
			if err != nil {
				r.rep.invalidf(bhv1.ReasonInvalid, fmt.Sprintf("%s.matches[%d]: %v", field, j, err))
				continue
			}
			t.emitHTTPRoutes(&route.ObjectMeta, src, i, j, cond, rank, listeners, func(a gwAttachment, snap *snapshot.HTTPRoute) {
				snap.Middlewares = filters.middlewares(src, a.l.l.Port, m)
				snap.Backends, snap.Balance, snap.Timeouts = backends, balance, filters.timeouts
				if filters.failure != nil {
					snap.Failure = filters.failure
				} else if !filters.redirects && (len(main) == 0 || !anyBackendWeighted(main)) {
					snap.Failure = &snapshot.Failure{Reason: "NoBackends", Status: http.StatusInternalServerError,
						Message: fmt.Sprintf("%s %s: the rule has no backend to send requests to (no backendRefs, or every weight is 0)", r.obj, field)}
				}
			})
		}
	}
	t.finishRoute(r)
}

// emitHTTPRoutes adds the snapshot routes of one rule match (cond, in the rule language) of
// an HTTPRoute or GRPCRoute: one per listener the route is attached to and per host name
// it serves there, each ranked for rankGatewayRoutes; fill sets what is the route kind's
// own (middlewares, backends, failure).
func (t *translator) emitHTTPRoutes(route *metav1.ObjectMeta, src snapshot.Ref, i, j int, cond string, rank rankedRoute, listeners []gwAttachment, fill func(a gwAttachment, hr *snapshot.HTTPRoute)) {
	for _, a := range listeners {
		hosts := a.hosts
		if hosts == nil {
			hosts = []string{""}
		}
		for _, h := range hosts {
			match := cond
			if h != "" {
				match = joinRule(hostRule(h), cond)
			}
			if match == "" {
				match = "PathPrefix(`/`)"
			}
			id := fmt.Sprintf("%s/%s/%d/%d@%s/%s/%s/%s", route.Namespace, route.Name, i, j, a.l.owner.Namespace, a.l.owner.Name, a.l.l.Name, h)
			hr := &snapshot.HTTPRoute{RouteHead: snapshot.RouteHead{ID: id, Source: src, RouteIndex: i, Match: match, EntryPoints: []string{a.l.entry}},
				TLS: a.l.l.Protocol == gwv1.HTTPSProtocolType}
			if hr.TLS {
				hr.Policy = a.l.policy
			}
			fill(a, hr)
			t.snap.HTTPRoutes = append(t.snap.HTTPRoutes, hr)
			rank.hr, rank.host, rank.created, rank.src, rank.ruleIdx, rank.matchIdx = hr, h, route.CreationTimestamp, route.Namespace+"/"+route.Name, i, j
			t.gw.ranked = append(t.gw.ranked, rank)
		}
	}
}

func anyBackendWeighted(bs []*snapshot.Backend) bool {
	for _, b := range bs {
		if b.Weight > 0 {
			return true
		}
	}
	return false
}

func (t *translator) httpRouteBackends(r *gwRoute, field string, refs []gwv1.HTTPBackendRef) []*snapshot.Backend {
	var out []*snapshot.Backend
	for k, ref := range refs {
		f, b := t.gwBackendRef(r, field, k, ref.BackendObjectReference, ref.Weight)
		if msg := backendFilters(b, f, ref.Filters); msg != "" {
			// Served without its filters, this backend would fail open: it answers 500
			// for its share of the requests instead, and the route says why.
			r.refuseBackend(b, msg+" (this backend's share of the requests gets 500 meanwhile)", http.StatusInternalServerError)
		}
		out = append(out, b)
	}
	return out
}

// gwBackendRef resolves the i-th backendRef of a rule (field) with its weight (1 when
// unset), and returns the ref's field path with the backend.
func (t *translator) gwBackendRef(r *gwRoute, field string, i int, ref gwv1.BackendObjectReference, weight *int32) (string, *snapshot.Backend) {
	f := fmt.Sprintf("%s.backendRefs[%d]", field, i)
	w := int32(1)
	if weight != nil {
		w = *weight
	}
	return f, t.gwBackend(r, f, ref, w)
}

// refuseBackend fails one backend of the route closed for a value Bridgehead does not
// serve: the route is not Accepted and says why, and the backend's share of the requests
// gets status.
func (r *gwRoute) refuseBackend(b *snapshot.Backend, msg string, status int) {
	r.rep.invalidf(bhv1.ReasonUnsupportedField, msg)
	r.unsupported(msg)
	b.Failure = &snapshot.Failure{Reason: string(gwv1.RouteReasonUnsupportedValue), Status: status, Message: r.obj + " " + msg}
}

// unsupported marks the route's parents not Accepted for a value Bridgehead does not serve.
func (r *gwRoute) unsupported(msg string) {
	for i := range r.parents {
		for j := range r.parents[i].Conditions {
			c := &r.parents[i].Conditions[j]
			if c.Type == string(gwv1.RouteConditionAccepted) && c.Status == metav1.ConditionTrue {
				c.Status, c.Reason, c.Message = metav1.ConditionFalse, string(gwv1.RouteReasonUnsupportedValue), msg
			}
		}
	}
}

// httpMatchRule writes one HTTPRouteMatch in the rule language, with its precedence.
func httpMatchRule(m gwv1.HTTPRouteMatch) (string, rankedRoute, error) {
	var parts []string
	var rank rankedRoute
	if p := m.Path; p != nil {
		typ, value := gwv1.PathMatchPathPrefix, "/"
		if p.Type != nil {
			typ = *p.Type
		}
		if p.Value != nil {
			value = *p.Value
		}
		switch typ {
		case gwv1.PathMatchExact:
			parts = append(parts, "Path("+quoteRule(value)+")")
			rank.pathRank, rank.pathLen = 3, len(value)
		case gwv1.PathMatchPathPrefix:
			prefix := strings.TrimSuffix(value, "/")
			if prefix != "" {
				parts = append(parts, "(Path("+quoteRule(prefix)+") || PathPrefix("+quoteRule(prefix+"/")+"))")
			}
			rank.pathRank, rank.pathLen = 2, len(prefix)
		case gwv1.PathMatchRegularExpression:
			parts = append(parts, "PathRegexp("+quoteRule("^(?:"+value+")$")+")")
			rank.pathRank, rank.pathLen = 1, len(value)
		default:
			return "", rank, fmt.Errorf("path.type %s is not a path match type", typ)
		}
	} else {
		rank.pathRank = 2
	}
	if m.Method != nil {
		parts = append(parts, "Method("+quoteRule(string(*m.Method))+")")
		rank.method = true
	}
	for k, h := range m.Headers {
		typ := gwv1.HeaderMatchExact
		if h.Type != nil {
			typ = *h.Type
		}
		switch typ {
		case gwv1.HeaderMatchExact:
			parts = append(parts, "Header("+quoteRule(string(h.Name))+", "+quoteRule(h.Value)+")")
		case gwv1.HeaderMatchRegularExpression:
			parts = append(parts, "HeaderRegexp("+quoteRule(string(h.Name))+", "+quoteRule(h.Value)+")")
		default:
			return "", rank, fmt.Errorf("headers[%d].type %s is not a header match type", k, typ)
		}
		rank.headers++
	}
	for k, q := range m.QueryParams {
		typ := gwv1.QueryParamMatchExact
		if q.Type != nil {
			typ = *q.Type
		}
		switch typ {
		case gwv1.QueryParamMatchExact:
			parts = append(parts, "Query("+quoteRule(string(q.Name))+", "+quoteRule(q.Value)+")")
		case gwv1.QueryParamMatchRegularExpression:
			parts = append(parts, "QueryRegexp("+quoteRule(string(q.Name))+", "+quoteRule(q.Value)+")")
		default:
			return "", rank, fmt.Errorf("queryParams[%d].type %s is not a query match type", k, typ)
		}
		rank.queries++
	}
	return strings.Join(parts, " && "), rank, nil
}

func joinRule(a, b string) string {
	switch {
	case a == "":
		return b
	case b == "":
		return a
	}
	return a + " && " + b
}

// rankGatewayRoutes gives the Gateway API's snapshot routes priorities in the spec's
// order: an exact host before a wildcard (the longer first) before any host, then the
// exact path, the longest prefix, a method, the most headers, the most query parameters,
// the oldest route, the route's namespace/name, and the rule and match order.
func (t *translator) rankGatewayRoutes() {
	rs := t.gw.ranked
	hostRank := func(h string) (int, int) {
		switch {
		case h == "":
			return 0, 0
		case strings.HasPrefix(h, "*."):
			return 1, len(h)
		}
		return 2, len(h)
	}
	slices.SortStableFunc(rs, func(a, b rankedRoute) int {
		ah, al := hostRank(a.host)
		bh, bl := hostRank(b.host)
		switch {
		case ah != bh:
			return cmp.Compare(bh, ah)
		case al != bl:
			return cmp.Compare(bl, al)
		case a.pathRank != b.pathRank:
			return cmp.Compare(b.pathRank, a.pathRank)
		case a.pathLen != b.pathLen:
			return cmp.Compare(b.pathLen, a.pathLen)
		case a.method != b.method:
			if a.method {
				return -1
			}
			return 1
		case a.headers != b.headers:
			return cmp.Compare(b.headers, a.headers)
		case a.queries != b.queries:
			return cmp.Compare(b.queries, a.queries)
		case !a.created.Equal(&b.created):
			if a.created.Before(&b.created) {
				return -1
			}
			return 1
		case a.src != b.src:
			return strings.Compare(a.src, b.src)
		case a.ruleIdx != b.ruleIdx:
			return cmp.Compare(a.ruleIdx, b.ruleIdx)
		}
		return cmp.Compare(a.matchIdx, b.matchIdx)
	})
	for i := range rs {
		r := &rs[i]
		p := gatewayPriorityBase + len(rs) - i
		switch {
		case r.memo == nil:
			r.hr.Priority = p
		case r.hr.Priority != p:
			moved := *r.hr
			moved.Priority = p
			r.hr, r.memo.routes[r.idx], t.snap.HTTPRoutes[r.snapIdx] = &moved, &moved, &moved
		}
	}
}
