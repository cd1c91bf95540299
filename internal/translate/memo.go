package translate

import (
	"maps"
	"slices"
	"time"

	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	bhv1 "github.com/bridgehead/bridgehead/api/v1alpha1"
	"github.com/bridgehead/bridgehead/internal/snapshot"
)

// Memo carries the translation of IngressRoutes, Ingresses (memo_ingress.go) and
// HTTPRoutes (memo_httproute.go) from one Translate call to the next, so that a change to
// one route of 10,000 does not translate the other 9,999 again (that was most of a
// rebuild's CPU at that scale). The other Gateway API routes (GRPCRoutes, TLSRoutes,
// TCPRoutes) are translated at every call.
//
// What an IngressRoute's translation reads besides the route itself is the rest of the
// inputs: Services and their EndpointSlices, Secrets, TLSOptions, ServersTransports,
// Middlewares, the options. So a remembered translation is used only when the route is the
// same version as when it was made and every other input is too, object for object (by
// resourceVersion: the API server's, or the content hash a folder's loader gives). Any
// other change (a Service, an endpoint, a Secret) translates every route again, as
// without a memo. The certificate dates the translation compared with Options.Now bound
// it in time as well (see routeMemo.from).
//
// Routes that take part in multi-layer routing (spec.parentRefs, as a parent or a child)
// are always translated again: their translation reads the other routes of the tree.
//
// The result of Translate is the same with or without a Memo (TestMemoTranslatesAsWithout
// checks that over random changes). A Memo is not safe for concurrent use: one rebuild loop
// owns it, as it owns lastgood's Keeper.
type Memo struct {
	basis     *Inputs // the last call's inputs: their lists are copies
	opts      Options
	routes    map[Key]*routeMemo
	ingresses map[Key]*ingressMemo // memo_ingress.go
	// routeOf and ingressOf find the records above by the object they last translated or
	// replayed: at scale nearly every object of a build is the very one of the build
	// before, and its address hashes and compares at a fraction of the cost of a Key's
	// three strings (the Key look-ups were a fifth of replaying 10,000 routes).
	routeOf   map[*bhv1.IngressRoute]*routeMemo
	ingressOf map[*networkingv1.Ingress]*ingressMemo
	// httpRoutes and httpRouteOf are the same for HTTPRoutes (memo_httproute.go).
	httpRoutes  map[Key]*httpRouteMemo
	httpRouteOf map[*gwv1.HTTPRoute]*httpRouteMemo
	// usedRoutes, usedIngresses and usedHTTPRoutes count the keys whose record this call
	// replayed or made: when they are all, keep has nothing to sweep (a sweep over 10,000
	// records was 2 ms of a rebuild).
	usedRoutes, usedIngresses, usedHTTPRoutes int
	calls                                     uint64 // Translate calls made with the memo
	hosts                                     int    // the TLS hosts the last call claimed: the next call's host claims map is sized for as many
	// reports and the rule slots (of IngressRoutes, of Ingresses) are the largest maps of a
	// call, emptied when it returns and used again by the next: made afresh, at 10,000
	// routes, initialising them was about 8 ms of a cluster rebuild.
	reports      map[Key]*report
	slots        map[ruleSlot][]slotEntry
	ingressSlots map[ruleSlot][]ingressSlot
	// slotLists are the chunks the lists of slots are cut from, handed out again by the
	// next call: made afresh, they were 0.5 MB of every call's garbage at 10,000 routes.
	// hostClaims and claimLists are the same for the TLS hosts' claims (1.8 MB a call at
	// 10,000 TLS routes).
	slotLists  lists[slotEntry]
	hostClaims map[string][]hostClaim
	claimLists lists[hostClaim]
	// ranked is the Gateway API routes' ranking list (gwState.ranked), emptied, for the
	// next call: made afresh and grown step by step, it and the snapshot routes' list
	// (now sized up front) were 6 of a replayed call's 11.6 MB of garbage at 10,000
	// HTTPRoutes.
	ranked []rankedRoute
	// gwStatus is the Gateway API statuses' map (gwState.status), emptied, for the next
	// call; btlsWinners is the same for the BackendTLSPolicies' winners (btlsState).
	gwStatus    map[Key]*GatewayAPIStatus
	btlsWinners map[btlsTarget]*btlsPolicy
	// inputs is the index of the last call's inputs other than routes, used again while
	// they are as they were (at 10,000 Services, indexing them and their EndpointSlices
	// was 1.8 MB and 10,000 allocations of every call). indexed says it is the index of
	// basis: a call that did not return may have left it half made of other inputs.
	inputs  inputIndex
	indexed bool
	// btlsPolicies are the records of BackendTLSPolicies (memo_btls.go); usedPolicies
	// counts those this call replayed or made.
	btlsPolicies map[Key]*btlsPolicyMemo
	usedPolicies int
	// transports is the last call's snapshot's list of transports, in order of ID (finish
	// merges the next call's into it).
	transports []*snapshot.Transport
	// changed is memoUse.changed, kept for the next call's.
	changed map[nsName]bool
	// inCall: a call began and has not returned.
	inCall bool
}

// index returns the index of in: the last call's when in's objects other than routes
// are as they were (unchanged, from unchangedBasis), else made again in its maps.
func (m *Memo) index(in *Inputs, unchanged bool) inputIndex {
	if !unchanged || !m.indexed {
		m.indexed = false // until keep: the basis is still the last call's inputs
		m.inputs.index(in)
	}
	return m.inputs
}

// reuse returns *m emptied, or makes it with room for hint entries. The last call
// emptied it as it returned; one that did not return (a panic the rebuild loop
// recovered from) left it full.
func reuse[K comparable, V any](m *map[K]V, hint int) map[K]V {
	if *m == nil {
		*m = make(map[K]V, hint)
	} else if len(*m) > 0 {
		clear(*m)
	}
	return *m
}

// routeMemo is what translating one IngressRoute did, replayed instead of translating it.
// An ingressMemo holds one too.
type routeMemo struct {
	obj  metav1.Object // the route's version translated
	call uint64        // the last call that used it: the others are dropped when it ends
	// report is the report of the build that replays this translation, which the build's
	// later steps (conflicts, hosts) may add to. It lives here, used again by every
	// replay, because no report outlives its build: 10,000 reports made afresh were a
	// quarter of a rebuild's garbage. What those steps can change of it, as the route's
	// translation left it, is in left; the rest of a report they never change.
	report report
	left   reportFindings
	routes []*snapshot.HTTPRoute // appended to the snapshot; never written after translation
	slots  []slotRecord
	claims []claimRecord
	// status is the last status made from this translation when nothing after it added
	// to the report: a replay that stays so gives the same status, and gives it as the
	// same object, which lets the consumers skip what did not change.
	status *ObjectStatus
	// statusGroup and statusGW are status's APIGroup and GatewayAPI, copied into the
	// replayed report with status (see report.remembered).
	statusGroup string
	statusGW    *GatewayAPIStatus
	// from and until bound Options.Now for a replay: a certificate's expiry warning
	// compared the two, and would say something else outside [from, until). Zero: no bound.
	from, until time.Time
	// services are the Services the translation resolved (memo_services.go).
	services []nsName
}

// slotRecord is a rule slot entry of the route (slotEntry without what a build supplies).
type slotRecord struct {
	slot      ruleSlot
	id, field string
	served    bool
}

// claimRecord is a host name claim of the route; its certificate is looked up again in
// the replaying build (by secret), so that every claim on a host shares one certificate.
// It holds nothing of the build that recorded it (its report, its certificate): a record
// lives on across builds, and would keep those alive with it.
type claimRecord struct {
	name    string
	claim   hostClaim // without rep and cert
	hasCert bool
	secret  nsName
}

func recordClaim(name string, c hostClaim, secret nsName) claimRecord {
	r := claimRecord{name: name, claim: c, hasCert: c.cert != nil, secret: secret}
	r.claim.rep, r.claim.cert = nil, nil
	return r
}

// memoUse is a Memo during one Translate call.
type memoUse struct {
	memo   *Memo
	usable bool // everything but the IngressRoutes and Ingresses is as it was: remembered routes may replay
	// partial: everything but the routes and changed is as it was (memo_services.go).
	partial bool
	changed map[nsName]bool
}

// use starts a Translate call with the memo.
func (m *Memo) use(in *Inputs, opts Options) *memoUse {
	if m.inCall {
		// The last call did not return (a panic the rebuild loop recovered from): its
		// records, made of inputs the basis does not hold, must not replay.
		*m = Memo{calls: m.calls}
	}
	m.inCall = true
	m.calls++
	m.usedRoutes, m.usedIngresses, m.usedHTTPRoutes, m.usedPolicies = 0, 0, 0, 0
	if m.btlsPolicies == nil {
		m.btlsPolicies = make(map[Key]*btlsPolicyMemo, len(in.BackendTLSPolicies))
	}
	if m.routes == nil {
		m.routes = make(map[Key]*routeMemo, len(in.IngressRoutes))
	}
	if m.ingresses == nil {
		m.ingresses = make(map[Key]*ingressMemo, len(in.Ingresses))
	}
	if m.routeOf == nil {
		m.routeOf = make(map[*bhv1.IngressRoute]*routeMemo, len(in.IngressRoutes))
	}
	if m.ingressOf == nil {
		m.ingressOf = make(map[*networkingv1.Ingress]*ingressMemo, len(in.Ingresses))
	}
	if m.httpRoutes == nil {
		m.httpRoutes = make(map[Key]*httpRouteMemo, len(in.HTTPRoutes))
	}
	if m.httpRouteOf == nil {
		m.httpRouteOf = make(map[*gwv1.HTTPRoute]*httpRouteMemo, len(in.HTTPRoutes))
	}
	u := &memoUse{memo: m, usable: m.unchangedBasis(in, opts, nil)}
	if !u.usable && m.unchangedBasis(in, opts, serviceKinds) {
		u.partial, u.changed = true, reuse(&m.changed, 8)
		m.changedServices(in, u.changed)
	}
	return u
}

// keep ends a Translate call: the memo holds what this call translated or replayed.
func (m *Memo) keep(in *Inputs, opts Options) {
	m.basis = in.ShallowCopy()
	m.basis.Unsupported = maps.Clone(in.Unsupported)
	m.basis.Replaced = maps.Clone(in.Replaced)
	m.basis.RemovedAPIVersions = maps.Clone(in.RemovedAPIVersions)
	opts.Memo = nil
	m.opts = opts
	// A used key's record is in routes, and under its object in routeOf: one entry
	// each. Any more are records of objects gone, or of versions replaced.
	if len(m.routes) != m.usedRoutes {
		maps.DeleteFunc(m.routes, func(_ Key, r *routeMemo) bool { return r.call != m.calls })
	}
	if len(m.routeOf) != m.usedRoutes {
		maps.DeleteFunc(m.routeOf, func(o *bhv1.IngressRoute, r *routeMemo) bool { return r.call != m.calls || r.obj != metav1.Object(o) })
	}
	if len(m.ingresses) != m.usedIngresses {
		maps.DeleteFunc(m.ingresses, func(_ Key, r *ingressMemo) bool { return r.call != m.calls })
	}
	if len(m.ingressOf) != m.usedIngresses {
		maps.DeleteFunc(m.ingressOf, func(o *networkingv1.Ingress, r *ingressMemo) bool {
			return r.call != m.calls || r.obj != metav1.Object(o)
		})
	}
	if len(m.httpRoutes) != m.usedHTTPRoutes {
		maps.DeleteFunc(m.httpRoutes, func(_ Key, r *httpRouteMemo) bool { return r.call != m.calls })
	}
	if len(m.btlsPolicies) != m.usedPolicies {
		maps.DeleteFunc(m.btlsPolicies, func(_ Key, r *btlsPolicyMemo) bool { return r.call != m.calls })
	}
	if len(m.httpRouteOf) != m.usedHTTPRoutes {
		maps.DeleteFunc(m.httpRouteOf, func(o *gwv1.HTTPRoute, r *httpRouteMemo) bool {
			return r.call != m.calls || r.obj != metav1.Object(o)
		})
	}
}

// unchangedBasis reports whether everything an IngressRoute's, an Ingress's or an
// HTTPRoute's translation reads besides the route itself is as it was in the last call.
// None of the three reads the others (IngressRoutes are translated first, HTTPRoutes
// last, and of what the other translations made an HTTPRoute's reads only the Gateways'
// listeners); what an Ingress reads of the other Ingresses is checked by replayIngress.
//
// Kinds in except are not compared (memo_services.go).
func (m *Memo) unchangedBasis(in *Inputs, opts Options, except map[string]bool) bool {
	if m.basis == nil || !sameOptions(m.opts, opts) {
		return false
	}
	for _, k := range Kinds {
		if n := k.Name(); n != KindIngressRoute && n != KindIngress && n != KindHTTPRoute && !except[n] && !k.sameVersions(m.basis, in) {
			return false
		}
	}
	return maps.EqualFunc(m.basis.Unsupported, in.Unsupported, slices.Equal) && maps.Equal(m.basis.Replaced, in.Replaced) &&
		maps.Equal(m.basis.RemovedAPIVersions, in.RemovedAPIVersions)
}

// sameOptions compares the options that translation reads, all but the clock: Now only
// matters through certificate dates (routeMemo.from), and whether it is set at all.
// TestMemoComparesEveryOption fails when a field is added without being compared here.
func sameOptions(a, b Options) bool {
	return a.GatewayNamespace == b.GatewayNamespace && a.AllowCrossNamespace == b.AllowCrossNamespace &&
		a.AllowExternalNameServices == b.AllowExternalNameServices && a.ClusterDomain == b.ClusterDomain &&
		a.Now.IsZero() == b.Now.IsZero() && a.ExpiryWarning == b.ExpiryWarning &&
		a.IngressClass == b.IngressClass && a.IngressWithoutClass == b.IngressWithoutClass &&
		a.RedirectPort == b.RedirectPort && a.TLSDefaultProfile == b.TLSDefaultProfile &&
		maps.Equal(a.EntryPoints, b.EntryPoints) && maps.Equal(a.ListenerPorts, b.ListenerPorts) &&
		a.ListenerPortsFrom == b.ListenerPortsFrom
}

// sameVersion reports whether two objects are the same version of one object. Only a
// resourceVersion says so: an object without one (built in a test, say) is never taken
// for another, even at the same address, since it may have been changed in place.
func sameVersion(a, b metav1.Object) bool {
	rv := a.GetResourceVersion()
	return rv != "" && rv == b.GetResourceVersion() && a.GetUID() == b.GetUID() &&
		a.GetName() == b.GetName() && a.GetNamespace() == b.GetNamespace()
}

// sameGeneration reports whether two versions of a custom resource (our kinds, Traefik's,
// Gateway API's) translate alike: the same version, or two versions from the API server
// (same UID) at the same generation with the same labels and annotations. A custom
// resource's generation moves with every change outside its metadata, translation reads
// nothing else of the metadata, and no object's status. Writing an object's status gives it
// a new resourceVersion at the same generation: without this, the first rebuild after the
// status writer had written 10,000 IngressRoutes' statuses translated every one again, and
// a status written on a Middleware or a Gateway made the next rebuild translate every route.
// An Ingress moves its generation with every change to its spec too (the API server's
// Ingress strategy), and its status is what the Ingress status writer writes, so the
// Ingress memo compares the same way. Other built-in kinds keep sameVersion: not all of
// them move their generation with their spec.
func sameGeneration(a, b metav1.Object) bool {
	if sameVersion(a, b) {
		return true
	}
	uid, gen := a.GetUID(), a.GetGeneration()
	return uid != "" && uid == b.GetUID() && gen > 0 && gen == b.GetGeneration() &&
		a.GetName() == b.GetName() && a.GetNamespace() == b.GetNamespace() &&
		maps.Equal(a.GetLabels(), b.GetLabels()) && maps.Equal(a.GetAnnotations(), b.GetAnnotations())
}

// memoizable reports whether an IngressRoute's translation may be remembered and replayed:
// it reads no other route. (What it writes is its report, its routes, its rule slots and
// its host claims: record keeps all four.)
func (t *translator) memoizable(ir *bhv1.IngressRoute, tree *parentage) bool {
	return t.memo != nil && len(ir.Spec.ParentRefs) == 0 && tree.root(nsName{ir.Namespace, ir.Name})
}

// replay adds a remembered translation of ir to this build, if there is one it may use.
func (t *translator) replay(ir *bhv1.IngressRoute, slots map[ruleSlot][]slotEntry) bool {
	if !t.memo.usable && !t.memo.partial {
		return false
	}
	key := Key{Kind: KindIngressRoute, Namespace: ir.Namespace, Name: ir.Name}
	m, ok := lookupRecord(t.memo.memo.routeOf, t.memo.memo.routes, ir, key)
	if !ok || m.call == t.memo.memo.calls || !sameGeneration(m.obj, ir) || !m.covers(t.opts.Now) || !t.memo.replayable(m) {
		return false // (a record this call already used holds this call's report)
	}
	rep := t.replayReport(key, m)
	t.snap.HTTPRoutes = append(t.snap.HTTPRoutes, m.routes...)
	for _, s := range m.slots {
		// The creation time is the new object's: a folder's loader derives it from the
		// document's place, which may have moved while the document stayed the same.
		add(slots, s.slot, slotEntry{created: ir.CreationTimestamp, id: s.id, rep: rep, field: s.field, served: s.served, remove: t.removeHTTP}, &t.slotLists)
	}
	for _, c := range m.claims {
		hc := c.claim
		hc.rep = rep
		if c.hasCert {
			hc.cert = t.cachedCertificate(c.secret).cert
		}
		add(t.hostClaims, c.name, hc, &t.claimLists)
	}
	if m.obj != metav1.Object(ir) {
		t.memo.memo.routeOf[ir] = m
	}
	m.obj, m.call = ir, t.memo.memo.calls
	t.memo.memo.usedRoutes++
	return true
}

// lookupRecord finds the record of the object o, whose key is key: through o when the
// last build had o itself (see Memo.routeOf), else through key. A record found through
// o is the one under key: each build's end drops from byObj every record it did not use
// for that very object.
func lookupRecord[O comparable, R any](byObj map[O]R, byKey map[Key]R, o O, key Key) (R, bool) {
	if r, ok := byObj[o]; ok {
		return r, true
	}
	r, ok := byKey[key]
	return r, ok
}

// record translates ir with build and remembers what that did.
func (t *translator) record(ir *bhv1.IngressRoute, build func()) {
	key := Key{Kind: KindIngressRoute, Namespace: ir.Namespace, Name: ir.Name}
	before := len(t.snap.HTTPRoutes)
	t.rec = &routeMemo{obj: ir, call: t.memo.memo.calls}
	build()
	m := t.rec
	t.rec = nil
	rep, ok := t.reports[key]
	if !ok {
		return // nothing to replay a report from (every translated route has one)
	}
	m.routes = slices.Clone(t.snap.HTTPRoutes[before:])
	m.keepReport(rep)
	if prev, ok := t.memo.memo.routes[key]; !ok || prev.call != t.memo.memo.calls {
		t.memo.memo.usedRoutes++
	}
	t.memo.memo.routes[key] = m
	t.memo.memo.routeOf[ir] = m
}

// keepReport remembers rep as its translation left it, and ties it to m (see
// rememberStatus).
func (m *routeMemo) keepReport(rep *report) {
	m.report = *rep
	m.report.hosts, m.report.certs = slices.Clip(rep.hosts), slices.Clip(rep.certs)
	m.left = findingsOf(rep)
	rep.memo, rep.recorded = m, rep.shape()
}

// replayReport adds m's remembered report to this build as key's, as the route's
// translation left it, with its remembered status (reportFor would only make an empty
// one first).
func (t *translator) replayReport(key Key, m *routeMemo) *report {
	rep := &m.report
	m.left.restore(rep)
	rep.memo, rep.recorded = m, rep.shape()
	rep.remembered = memoStatus{m.status, m.statusGroup, m.statusGW}
	t.reports[key] = rep
	return rep
}

// reportShape is what the steps after an IngressRoute's translation can change in its
// report: they add findings (a conflict lost, a host's TLSOptions at odds) and take back
// routes counted as served.
type reportShape struct {
	invalid, refs, notReady, warnings, served int
}

func (r *report) shape() reportShape {
	return reportShape{invalid: len(r.invalid), refs: len(r.refs), notReady: len(r.notReady), warnings: len(r.warnings), served: r.served}
}

// rememberedStatus is the status the memo made from this report last time, if the report
// is as its translation left it, as it was then; nil otherwise.
func (r *report) rememberedStatus(group string, gw *GatewayAPIStatus) *ObjectStatus {
	if rs := &r.remembered; rs.status != nil && rs.group == group && rs.gw == gw && r.shape() == r.recorded {
		return rs.status
	}
	return nil
}

// rememberStatus keeps st for the next build, if the report is as its translation left it.
func (r *report) rememberStatus(st *ObjectStatus) {
	if r.memo != nil {
		r.memo.status, r.memo.statusGroup, r.memo.statusGW = nil, "", nil
		if r.shape() == r.recorded {
			r.memo.status, r.memo.statusGroup, r.memo.statusGW = st, st.APIGroup, st.GatewayAPI
		}
	}
}

// reportFindings is what the steps after an IngressRoute's translation can change in its
// report (see reportShape; status adds the refusal of a newer version in front of the
// findings and sets lastGood). Keeping these instead of a second copy of the report saves
// 200 bytes a route: 2 MB of the heap at 10,000 routes.
type reportFindings struct {
	invalid, refs, notReady, warnings []finding
	served                            int
	lastGood                          bool
}

// findingsOf keeps r's findings; their slices are clipped, so that appending to a
// replayed report never writes into them.
func findingsOf(r *report) reportFindings {
	return reportFindings{invalid: slices.Clip(r.invalid), refs: slices.Clip(r.refs), notReady: slices.Clip(r.notReady),
		warnings: slices.Clip(r.warnings), served: r.served, lastGood: r.lastGood}
}

// restore sets r's findings back to f.
func (f *reportFindings) restore(r *report) {
	r.invalid, r.refs, r.notReady, r.warnings, r.served, r.lastGood = f.invalid, f.refs, f.notReady, f.warnings, f.served, f.lastGood
}

// dependsOn narrows the time in which the recorded translation holds to the span in
// which checkExpiry says the same of a certificate that expires at notAfter.
func (m *routeMemo) dependsOn(notAfter time.Time, opts Options) {
	// checkExpiry tells three spans apart: now < notAfter-warning (nothing), then expiring
	// soon, then now >= notAfter (expired). Each edge is the first instant of a span.
	now := opts.Now
	edges := []time.Time{notAfter}
	if opts.ExpiryWarning > 0 {
		edges = append(edges, notAfter.Add(-opts.ExpiryWarning+time.Nanosecond))
	}
	for _, e := range edges {
		switch {
		case !e.After(now) && (m.from.IsZero() || e.After(m.from)):
			m.from = e
		case e.After(now) && (m.until.IsZero() || e.Before(m.until)):
			m.until = e
		}
	}
}

// covers reports whether the recorded translation holds at now.
func (m *routeMemo) covers(now time.Time) bool {
	return (m.from.IsZero() || !now.Before(m.from)) && (m.until.IsZero() || now.Before(m.until))
}

// root reports whether k takes no part in multi-layer routing: no child names it as a
// parent, and it is not a child.
func (p *parentage) root(k nsName) bool {
	if len(p.refused) == 0 && len(p.of) == 0 && len(p.parents) == 0 {
		return true // no route names a parent: the usual folder or cluster
	}
	_, refused := p.refused[k]
	return !refused && len(p.of[k]) == 0 && !p.parents[k]
}
