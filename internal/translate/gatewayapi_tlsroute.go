package translate

import (
	"fmt"
	"net"
	"regexp"
	"sort"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	bhv1 "github.com/bridgehead/bridgehead/api/v1alpha1"
	"github.com/bridgehead/bridgehead/internal/rule"
	"github.com/bridgehead/bridgehead/internal/snapshot"
)

// TLSRoute (and, in gatewayapi_tcproute.go, TCPRoute) onto the snapshot's TCP routes, the
// ones IngressRouteTCP uses: a TLSRoute on a Passthrough listener is a passthrough route
// chosen by SNI, on a Terminate listener the gateway terminates TLS with the listener's
// certificate and sends the plain bytes to the backend (what the conformance suite's
// terminate tests expect the backend to see). Passthrough, Terminate and HTTPS listeners
// on one port share its entry point: the SNI decides, as it does for IngressRouteTCP.

// gwRankedTCP is a snapshot TCP route built from a Gateway API route, with what orders it.
type gwRankedTCP struct {
	tr      *snapshot.TCPRoute
	host    string // the SNI the route matches, "" for any
	created metav1.Time
	src     string // namespace/name
}

func (t *translator) buildTLSRoutes() {
	for _, route := range sortedByAge(t.in.TLSRoutes) {
		t.buildTLSRoute(route)
	}
}

func (t *translator) buildTLSRoute(route *gwv1.TLSRoute) {
	// The API server refuses these (the CRD's rules); a folder of manifests may not.
	hostnames := route.Spec.Hostnames
	var bad []string
	for i, h := range hostnames {
		if !validSNIHostname(string(h)) {
			bad = append(bad, fmt.Sprintf("spec.hostnames[%d] %q", i, h))
		}
	}
	if len(bad) > 0 {
		hostnames = []gwv1.Hostname{"invalid.invalid"} // attach nowhere it could serve
	}
	r := t.attachRoute(KindTLSRoute, &route.ObjectMeta, route.Spec.ParentRefs, hostnames)
	if len(r.parents) == 0 {
		delete(t.reports, r.rep.key) // not ours: no status, no findings
		return
	}
	if len(bad) > 0 {
		msg := strings.Join(bad, ", ") + ": not a host name the SNI can carry (lower-case letters, digits, '-' and '.', optionally after a leading \"*.\"; no IP address); fix the hostnames"
		r.rep.invalidf(bhv1.ReasonInvalid, msg)
		for i := range r.parents {
			c := &r.parents[i].Conditions[0]
			c.Status, c.Reason, c.Message = metav1.ConditionFalse, string(gwv1.RouteReasonUnsupportedValue), msg
		}
		for _, atts := range r.attached {
			for _, a := range atts {
				a.l.attached--
			}
		}
		r.attached = nil
		t.finishRoute(r)
		return
	}
	backends, failure := t.gwTCPRule(r, len(route.Spec.Rules), func(i int) []gwv1.BackendRef { return route.Spec.Rules[i].BackendRefs })
	var terminated []*snapshot.TCPBackend // backends as a Terminate listener uses them, made once
	for _, a := range uniqueAttachments(r) {
		mode := tlsMode(a.l.l)
		backends := backends
		if mode == gwv1.TLSModeTerminate {
			if terminated == nil {
				terminated = t.withoutBackendTLS(r, backends)
			}
			backends = terminated
		}
		hosts := a.hosts
		if hosts == nil {
			hosts = []string{""}
		}
		for _, h := range hosts {
			tr := &snapshot.TCPRoute{
				RouteHead: snapshot.RouteHead{ID: fmt.Sprintf("%s/%s/0@%s/%s/%s/%s", route.Namespace, route.Name, a.l.owner.Namespace, a.l.owner.Name, a.l.l.Name, h),
					Source: snapshot.Ref{Kind: KindTLSRoute, Namespace: route.Namespace, Name: route.Name},
					Match:  joinRule(sniRule(h), t.moreSpecificListeners(a.l, h)), EntryPoints: []string{a.l.entry}},
				Passthrough: mode == gwv1.TLSModePassthrough,
				Terminate:   mode == gwv1.TLSModeTerminate,
				Backends:    backends,
				Failure:     failure,
			}
			if failure == nil && !anyTCPBackendServes(backends) {
				tr.Failure = firstTCPFailure(backends)
			}
			if h != "" {
				tr.Hosts = []string{h}
			}
			if tr.Terminate {
				tr.Policy = a.l.policy
			}
			t.snap.TCPRoutes = append(t.snap.TCPRoutes, tr)
			t.gw.rankedTCP = append(t.gw.rankedTCP, gwRankedTCP{tr: tr, host: h, created: route.CreationTimestamp, src: route.Namespace + "/" + route.Name})
		}
	}
	t.finishRoute(r)
}

// withoutBackendTLS: behind a Terminate listener the gateway opens the connection to the
// backend, and a BackendTLSPolicy on the backend's Service asks for TLS there. Bridgehead
// does not re-encrypt TLSRoute traffic yet, so such a backend is not sent plain bytes the
// policy forbids: its connections are closed, and the route says why (fail closed).
func (t *translator) withoutBackendTLS(r *gwRoute, backends []*snapshot.TCPBackend) []*snapshot.TCPBackend {
	out := make([]*snapshot.TCPBackend, len(backends))
	for i, b := range backends {
		out[i] = b
		if b.Failure != nil {
			continue
		}
		p := t.backendTLSPolicyOn(b.Service.Namespace, b.Service.Name, b.Port)
		if p == nil {
			continue
		}
		msg := fmt.Sprintf("spec.rules[0].backendRefs[%d]: BackendTLSPolicy %s/%s asks for TLS to Service %s/%s, and TLS from the gateway to the backend of a TLSRoute on a Terminate listener is not implemented yet; connections for this backend are closed (use a Passthrough listener, an HTTPRoute, or remove the policy)",
			i, p.Namespace, p.Name, b.Service.Namespace, b.Service.Name)
		// A reference finding, not the route's own fault: its last good version would
		// meet the same policy.
		r.rep.refError(bhv1.ReasonUnsupportedValue, msg)
		c := *b
		c.Failure = &snapshot.Failure{Reason: string(bhv1.ReasonUnsupportedValue), Message: r.obj + " " + msg}
		out[i] = &c
	}
	return out
}

func firstTCPFailure(bs []*snapshot.TCPBackend) *snapshot.Failure {
	for _, b := range bs {
		if b.Failure != nil {
			return b.Failure
		}
	}
	return nil
}

// backendTLSPolicyOn is a BackendTLSPolicy that targets the Service (and, when it names
// one, the Service port), or nil.
func (t *translator) backendTLSPolicyOn(ns, svc, port string) *gwv1.BackendTLSPolicy {
	for _, p := range sortedByAge(t.in.BackendTLSPolicies) {
		if p.Namespace != ns {
			continue
		}
		for _, ref := range p.Spec.TargetRefs {
			if ref.Group != "" || ref.Kind != "Service" || string(ref.Name) != svc {
				continue
			}
			if ref.SectionName != nil {
				s := t.services[nsName{ns, svc}]
				sp := (*corev1.ServicePort)(nil)
				if s != nil {
					sp = FindServicePort(s, bhv1.Port(port))
				}
				if sp == nil || sp.Name != string(*ref.SectionName) {
					continue
				}
			}
			return p
		}
	}
	return nil
}

// validSNIHostname: the Gateway API's hostname (RFC 1123, an optional leading "*."
// label), which is also what the SNI rules accept.
func validSNIHostname(h string) bool {
	return len(h) <= 253 && sniHostnameRE.MatchString(h) && net.ParseIP(h) == nil
}

var sniHostnameRE = regexp.MustCompile(`^(\*\.)?[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$`)

// uniqueAttachments are the listeners a route serves on, each once (two parentRefs may
// name the same listener).
func uniqueAttachments(r *gwRoute) []gwAttachment {
	var out []gwAttachment
	seen := map[*gwListener]bool{}
	for _, atts := range r.attached {
		for _, a := range atts {
			if !seen[a.l] {
				seen[a.l] = true
				out = append(out, a)
			}
		}
	}
	return out
}

// gwTCPRule resolves the one rule of a TLSRoute or TCPRoute (the CRDs allow exactly one)
// to weighted backends. A route with nothing to forward to gets a failure: its connections
// are closed, as the spec asks of a rule without a usable backend.
func (t *translator) gwTCPRule(r *gwRoute, rules int, refs func(int) []gwv1.BackendRef) ([]*snapshot.TCPBackend, *snapshot.Failure) {
	if rules != 1 {
		msg := fmt.Sprintf("spec.rules: a %s has exactly one rule, this one has %d; connections are closed until it has one", r.kind, rules)
		r.rep.invalidf(bhv1.ReasonInvalid, msg)
		r.unsupported(msg)
		return nil, &snapshot.Failure{Reason: string(gwv1.RouteReasonUnsupportedValue), Message: r.obj + " " + msg}
	}
	var out []*snapshot.TCPBackend
	for k, ref := range refs(0) {
		weight := int32(1)
		if ref.Weight != nil {
			weight = *ref.Weight
		}
		out = append(out, t.gwTCPBackend(r, fmt.Sprintf("spec.rules[0].backendRefs[%d]", k), ref.BackendObjectReference, weight))
	}
	if !anyTCPBackendServes(out) {
		reason, msg := "NoBackends", "spec.rules[0].backendRefs: no backend can take connections (none is usable, or every weight is 0); connections are closed"
		for _, b := range out {
			if b.Failure != nil {
				reason, msg = b.Failure.Reason, b.Failure.Message
				break
			}
		}
		if len(out) == 0 {
			r.rep.invalidf(bhv1.ReasonInvalid, msg)
		}
		return out, &snapshot.Failure{Reason: reason, Message: strings.TrimPrefix(msg, r.obj+" ")}
	}
	return out, nil
}

// gwTCPBackend resolves one backendRef of a TLSRoute or TCPRoute to a Service port. A
// reference that cannot be used takes its share of the connections and closes them (the
// spec: "rejections must respect weight"), and sets the route's ResolvedRefs condition.
func (t *translator) gwTCPBackend(r *gwRoute, field string, ref gwv1.BackendObjectReference, weight int32) *snapshot.TCPBackend {
	ns := r.meta.Namespace
	if ref.Namespace != nil {
		ns = string(*ref.Namespace)
	}
	b := &snapshot.TCPBackend{Service: snapshot.Ref{Kind: "Service", Namespace: ns, Name: string(ref.Name)}, Weight: int(weight)}
	if ref.Port != nil {
		b.Port = strconv.Itoa(int(*ref.Port))
	}
	group, kind := "", "Service"
	if ref.Group != nil {
		group = string(*ref.Group)
	}
	if ref.Kind != nil {
		kind = string(*ref.Kind)
	}
	fail := func(reason gwv1.RouteConditionReason, msg string) *snapshot.TCPBackend {
		msg = field + ": " + msg
		if r.resolvedReason == "" {
			r.resolvedReason, r.resolvedMsg = string(reason), msg
		}
		r.rep.refError(bhv1.ConditionReason(reason), msg)
		b.Failure = &snapshot.Failure{Reason: string(reason), Message: r.obj + " " + msg}
		return b
	}
	switch {
	case group != "" || kind != "Service":
		return fail(gwv1.RouteReasonInvalidKind, fmt.Sprintf("%s is not a Service; Bridgehead forwards to Services (group \"\", kind Service); connections for this backend are closed", groupKind(group, kind)))
	case ns != r.meta.Namespace && !t.granted(r.kind, r.meta.Namespace, "", "Service", ns, string(ref.Name)):
		return fail(gwv1.RouteReasonRefNotPermitted, fmt.Sprintf("Service %s/%s is in another namespace and no ReferenceGrant in %s allows %ss of namespace %s to use it; add one (connections for this backend are closed meanwhile)", ns, ref.Name, ns, r.kind, r.meta.Namespace))
	case ref.Port == nil:
		return fail(gwv1.RouteReasonUnsupportedValue, "port: a Service backend needs a port")
	}
	res, problem, _ := t.resolveService(ns, ns, string(ref.Name), bhv1.Port(b.Port))
	if res != nil {
		b.Endpoints = res.endpoints
	}
	if problem != nil {
		if problem.reason == bhv1.ReasonNoEndpoints {
			msg := field + ": " + strings.Replace(problem.message, "requests get 503", "connections are closed", 1)
			r.rep.notReadyf(problem.reason, msg)
			b.Failure = &snapshot.Failure{Reason: string(problem.reason), Message: r.obj + " " + msg}
			return b
		}
		return fail(gwv1.RouteReasonBackendNotFound, problem.message+"; connections for this backend are closed")
	}
	return b
}

// sniRule is the match on the SNI of a route on one listener: HostSNI for an exact name,
// HostSNIRegexp for a wildcard (the spec's wildcard is a suffix of one label or more,
// where HostSNI(`*.x`) would take exactly one), HostSNI(`*`) for any.
func sniRule(h string) string {
	switch {
	case h == "":
		return "HostSNI(`*`)"
	case strings.HasPrefix(h, "*."):
		return "HostSNIRegexp(" + quoteRule(`^[^.]+(\.[^.]+)*\.`+regexpQuote(h[2:])+`$`) + ")"
	}
	return "HostSNI(" + quoteRule(h) + ")"
}

// moreSpecificListeners keeps a TLS route on listener l from taking the names that
// another HTTPS or TLS listener on the same entry point (of any Gateway: they share the
// port) claims with a more specific hostname: the spec picks the listener whose hostname
// matches the SNI most specifically, and a TCP route would otherwise win over every HTTP
// route on the shared port. Returns "" when none.
func (t *translator) moreSpecificListeners(l *gwListener, h string) string {
	var names []string
	seen := map[string]bool{}
	for _, key := range t.sortedGatewayKeys() {
		for _, o := range t.gw.listeners[key] {
			oh := o.hostname()
			if o == l || o.entry != l.entry || !o.ready() || !isTLSProto(o.l.Protocol) || oh == "" || seen[oh] {
				continue
			}
			overlaps := h == "" || h == oh || gwWildcardCovers(h, oh)
			if !overlaps || !hostMoreSpecific(oh, l.hostname()) {
				continue
			}
			seen[oh] = true
			names = append(names, "!"+sniRule(oh))
		}
	}
	return strings.Join(names, " && ")
}

// hostMoreSpecific: a listener hostname a wins over b for the names both match (exact over
// wildcard over none, a longer wildcard over a shorter one).
func hostMoreSpecific(a, b string) bool {
	ra, la := sniHostRank(a)
	rb, lb := sniHostRank(b)
	if ra != rb {
		return ra > rb
	}
	return ra == 1 && la > lb
}

func sniHostRank(h string) (int, int) {
	switch {
	case h == "":
		return 0, 0
	case strings.HasPrefix(h, "*."):
		return 1, len(h)
	}
	return 2, len(h)
}

func (t *translator) sortedGatewayKeys() []nsName {
	keys := make([]nsName, 0, len(t.gw.listeners))
	for k := range t.gw.listeners {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return keys[i].String() < keys[j].String() })
	return keys
}

// rankGatewayTCPRoutes gives the TCP routes built from TLSRoutes and TCPRoutes priorities
// in the spec's order: an exact SNI before a wildcard (the longer first) before any name,
// then the oldest route, then namespace/name. Above IngressRouteTCPs, as HTTPRoutes are
// above IngressRoutes (gatewayPriorityBase).
func (t *translator) rankGatewayTCPRoutes() {
	rs := t.gw.rankedTCP
	sort.SliceStable(rs, func(i, j int) bool {
		a, b := rs[i], rs[j]
		ah, al := sniHostRank(a.host)
		bh, bl := sniHostRank(b.host)
		switch {
		case ah != bh:
			return ah > bh
		case al != bl:
			return al > bl
		case !a.created.Equal(&b.created):
			return a.created.Before(&b.created)
		case a.src != b.src:
			return a.src < b.src
		}
		return a.tr.ID < b.tr.ID
	})
	for i, r := range rs {
		r.tr.Priority = gatewayPriorityBase + len(rs) - i
	}
	t.warnShadowedIngressRouteTCPs()
}

// warnShadowedIngressRouteTCPs: Gateway API routes rank above IngressRouteTCPs, so an
// IngressRouteTCP host name a TLSRoute also takes on the same entry point gets no
// connections; say so on the IngressRouteTCP rather than shadow it silently.
func (t *translator) warnShadowedIngressRouteTCPs() {
	if len(t.gw.rankedTCP) == 0 {
		return
	}
	type compiled struct {
		r    *snapshot.TCPRoute
		rule *rule.Rule
	}
	var gws []compiled
	for _, g := range t.gw.rankedTCP {
		if parsed, err := rule.Parse(g.tr.Match, rule.TCP); err == nil {
			gws = append(gws, compiled{g.tr, parsed})
		}
	}
	for _, r := range t.snap.TCPRoutes {
		if r.Source.Kind != KindIngressRouteTCP {
			continue
		}
		rep := t.reports[Key{Kind: KindIngressRouteTCP, Namespace: r.Source.Namespace, Name: r.Source.Name}]
		if rep == nil {
			continue
		}
		for _, h := range r.Hosts {
			for _, g := range gws {
				if !shareEntryPoint(r.EntryPoints, g.r.EntryPoints[0]) || !g.rule.MatchConn(rule.ConnInfo{SNI: h}) {
					continue
				}
				rep.warn(bhv1.ReasonIneffectiveSetting, fmt.Sprintf("spec.routes[%d]: host %s on entry point %s is taken by %s %s/%s (Gateway API routes rank above IngressRouteTCPs), so this route gets no connections for it; remove one of the two",
					r.RouteIndex, h, g.r.EntryPoints[0], g.r.Source.Kind, g.r.Source.Namespace, g.r.Source.Name))
				break
			}
		}
	}
}

// shareEntryPoint: a route on entryPoints (none: every entry point of its kind) also
// serves on entry.
func shareEntryPoint(entryPoints []string, entry string) bool {
	if len(entryPoints) == 0 {
		return true
	}
	for _, e := range entryPoints {
		if e == entry {
			return true
		}
	}
	return false
}
