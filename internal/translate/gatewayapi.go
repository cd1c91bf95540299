package translate

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	bhv1 "github.com/bridgehead/bridgehead/api/v1alpha1"
	"github.com/bridgehead/bridgehead/internal/snapshot"
)

// The Gateway API (gateway.networking.k8s.io/v1) onto the same snapshot as IngressRoutes.
//
// One gateway process serves every Gateway of a GatewayClass whose controllerName is
// GatewayController. A listener is served on the gateway's entry point whose port it
// names (Options.ListenerPorts: the entry point's own port or the port its Service
// publishes, e.g. 80 for web and 443 for websecure), so Gateways that share a port share
// that entry point, told apart by host name as the spec's listener isolation asks. Routes
// attached to a listener become snapshot routes on that entry point; their statuses,
// the listeners' and the Gateways' are computed here in the spec's shape
// (GatewayAPIStatus) and written by internal/status.

// GatewayController is the controllerName of the GatewayClasses Bridgehead serves.
const GatewayController = "gateway.bridgehead.dev/gateway-controller"

// gatewayGroup is the Gateway API's group, as written in references.
const gatewayGroup = gwv1.GroupName

// GatewayAPIStatus is the status of a Gateway API object, in the spec's shape; exactly one
// field is set, by kind. Conditions carry ObservedGeneration; LastTransitionTime is left
// for the status writer.
type GatewayAPIStatus struct {
	Class *gwv1.GatewayClassStatus `json:"class,omitempty"`
	// Gateway and ListenerSet leave addresses to the status writer (it knows the Service).
	Gateway     *gwv1.GatewayStatus     `json:"gateway,omitempty"`
	ListenerSet *gwv1.ListenerSetStatus `json:"listenerSet,omitempty"`
	// Parents are a route's statuses per parent reference that names a Gateway of ours.
	Parents []gwv1.RouteParentStatus `json:"parents,omitempty"`
	// Ancestors are a BackendTLSPolicy's statuses per Gateway it is used through.
	Ancestors []gwv1.PolicyAncestorStatus `json:"ancestors,omitempty"`
}

// GatewaySupportedFeatures are the Gateway API features Bridgehead implements, published
// in the GatewayClass status (the conformance suite reads them from there).
var GatewaySupportedFeatures = []gwv1.FeatureName{
	"BackendTLSPolicy",
	"BackendTLSPolicySANValidation",
	"Gateway",
	"GatewayFrontendClientCertificateValidation",
	"GatewayFrontendClientCertificateValidationInsecureFallback",
	"GatewayHTTPSListenerDetectMisdirectedRequests",
	"GatewayBackendClientCertificate",
	"GRPCRoute",
	"HTTPRoute",
	"ReferenceGrant",
	"HTTPRouteHostRewrite",
	"HTTPRouteMethodMatching",
	"HTTPRouteQueryParamMatching",
	"HTTPRouteResponseHeaderModification",
	"HTTPRoutePathRedirect",
	"HTTPRoutePathRewrite",
	"HTTPRoutePortRedirect",
	"HTTPRouteSchemeRedirect",
	"ListenerSet",
	"TCPRoute",
	"TLSRoute",
	"TLSRouteModeMixed",
	"TLSRouteModeTerminate",
	// Wired into translate by gatewayapi_filters.go (tests: gatewayapi_filters*_test.go).
	"HTTPRoute303RedirectStatusCode",
	"HTTPRoute307RedirectStatusCode",
	"HTTPRoute308RedirectStatusCode",
	"HTTPRouteBackendProtocolH2C",
	"HTTPRouteBackendRequestHeaderModification",
	"HTTPRouteBackendProtocolWebSocket",
	"HTTPRouteBackendTimeout",
	"HTTPRouteRequestMirror",
	"HTTPRouteRequestMultipleMirrors",
	"HTTPRouteRequestPercentageMirror",
	"HTTPRouteRequestTimeout",
}

// gwListener is one listener of a served Gateway (or of a ListenerSet attached to one).
type gwListener struct {
	gw       *gwv1.Gateway
	owner    snapshot.Ref // the Gateway or the ListenerSet the listener is written in
	l        gwv1.Listener
	field    string // "spec.listeners[i]", for messages
	entry    string // the entry point it is served on; "" when not served
	kinds    []gwv1.RouteGroupKind
	accepted bool
	resolved bool
	// conds are the listener's conditions besides the ones derived at the end.
	acceptedReason, acceptedMsg string
	resolvedReason, resolvedMsg string
	conflictReason, conflictMsg string
	certs                       []*snapshot.Certificate
	policy                      string
	attached                    int32
	// seq is the listener's place in the order listeners are built (gwState.all): the
	// same listener at every build of the same Gateways, which the memo of HTTPRoutes
	// records attachments by (memo_httproute.go).
	seq int
}

// hostname is the listener's hostname, lower case, "" for any.
func (l *gwListener) hostname() string {
	if l.l.Hostname == nil {
		return ""
	}
	return normalizeHost(string(*l.l.Hostname))
}

// ready: routes attach to the listener and are served.
func (l *gwListener) ready() bool { return l.accepted && l.resolved && l.conflictReason == "" }

// gwState is the Gateway API part of one translation.
type gwState struct {
	classes   map[string]*gwv1.GatewayClass // ours, by name
	gateways  map[nsName]*gwv1.Gateway      // of our classes
	listeners map[nsName][]*gwListener      // by Gateway
	// listenerSets are the ListenerSets whose parent is a Gateway of ours
	// (gatewayapi_listenerset.go).
	listenerSets map[nsName]*gwListenerSet
	status       map[Key]*GatewayAPIStatus
	grants       []*gwv1.ReferenceGrant
	nsLabels     map[string]labels.Set
	// all are the listeners in the order they were built (see gwListener.seq).
	all []*gwListener
	// routes are the snapshot routes built from Gateway API routes, ranked once all are
	// known (gatewayapi_httproute.go).
	ranked []rankedRoute
	// rankedTCP are the snapshot TCP routes built from TLSRoutes and TCPRoutes
	// (gatewayapi_tlsroute.go), ranked the same way.
	rankedTCP []gwRankedTCP
	// frontend are the Gateways' compiled spec.tls.frontend validations, by
	// "ns/name/field" (gatewayapi_frontend.go).
	frontend map[string]*frontendPolicyResult
	// btls are the BackendTLSPolicies (gatewayapi_backendtls.go).
	btls *btlsState
}

func (t *translator) buildGatewayAPI() {
	t.gw = &gwState{classes: map[string]*gwv1.GatewayClass{}, gateways: map[nsName]*gwv1.Gateway{},
		listeners: map[nsName][]*gwListener{}, nsLabels: map[string]labels.Set{}}
	// A status per Gateway API object: sized up front, or the last call's map emptied
	// (grown step by step, it showed in the profile of a cluster's changes at 10,000
	// HTTPRoutes).
	hint := len(t.in.GatewayClasses) + len(t.in.Gateways) + len(t.in.ListenerSets) + len(t.in.BackendTLSPolicies) +
		len(t.in.HTTPRoutes) + len(t.in.GRPCRoutes) + len(t.in.TLSRoutes) + len(t.in.TCPRoutes)
	if t.memo != nil {
		t.gw.status = reuse(&t.memo.memo.gwStatus, hint)
	} else {
		t.gw.status = make(map[Key]*GatewayAPIStatus, hint)
	}
	for _, ns := range t.in.Namespaces {
		t.gw.nsLabels[ns.Name] = labels.Set(ns.Labels)
	}
	if t.memo != nil {
		t.gw.ranked = t.memo.memo.ranked // emptied by the last call
	}
	t.gw.ranked = slices.Grow(t.gw.ranked, len(t.in.HTTPRoutes)+len(t.in.GRPCRoutes))
	t.gw.grants = t.in.ReferenceGrants
	t.buildGatewayClasses()
	for _, gw := range sortedByAge(t.in.Gateways) {
		if _, ok := t.gw.classes[string(gw.Spec.GatewayClassName)]; ok {
			t.buildGateway(gw)
		}
	}
	t.buildListenerSets()       // gatewayapi_listenerset.go
	t.buildBackendTLSPolicies() // gatewayapi_backendtls.go: before the routes that use them
	t.buildHTTPRoutes()
	t.buildGRPCRoutes() // gatewayapi_grpcroute.go; before the ranking, which covers both
	t.rankGatewayRoutes()
	t.reportMixedWorlds() // gatewayapi_mixed.go: the IngressRoutes/Ingresses an HTTPRoute outranks
	t.buildTLSRoutes()    // gatewayapi_tlsroute.go
	t.buildTCPRoutes()    // gatewayapi_tcproute.go
	t.rankGatewayTCPRoutes()
	t.finishBackendTLSPolicies() // gatewayapi_backendtls.go
	t.finishGateways()
	t.finishListenerSets() // gatewayapi_listenerset.go
	t.markRefusedGatewayAPI()
}

// markRefusedGatewayAPI says, on the status of a Gateway API object whose newest
// generation was refused (internal/lastgood serves the last good one in its place), that
// the newest generation is not accepted and which generation serves: conditions are
// about the newest generation, never an Accepted=True that the edit did not earn.
func (t *translator) markRefusedGatewayAPI() {
	for k, st := range t.gw.status {
		ref, ok := t.in.Replaced[k]
		if !ok {
			continue
		}
		refused, serving := ref.versions()
		msg := fmt.Sprintf("%s is not served: %s; %s serves meanwhile", refused, ref.Message, serving)
		mark := func(conds []metav1.Condition, accepted string, reason string) {
			for i := range conds {
				c := &conds[i]
				c.ObservedGeneration = ref.Generation
				if c.Type == accepted {
					c.Status, c.Reason, c.Message = metav1.ConditionFalse, reason, msg
				}
			}
		}
		for i := range st.Parents {
			mark(st.Parents[i].Conditions, string(gwv1.RouteConditionAccepted), string(gwv1.RouteReasonUnsupportedValue))
		}
		for i := range st.Ancestors {
			mark(st.Ancestors[i].Conditions, string(gwv1.PolicyConditionAccepted), string(gwv1.PolicyReasonInvalid))
		}
		if st.Gateway != nil {
			mark(st.Gateway.Conditions, string(gwv1.GatewayConditionAccepted), string(gwv1.GatewayReasonInvalid))
		}
	}
}

func (t *translator) buildGatewayClasses() {
	for _, gc := range t.in.GatewayClasses {
		if string(gc.Spec.ControllerName) != GatewayController {
			continue
		}
		t.gw.classes[gc.Name] = gc
		st := &gwv1.GatewayClassStatus{}
		cond := metav1.Condition{Type: string(gwv1.GatewayClassConditionStatusAccepted), Status: metav1.ConditionTrue,
			Reason: string(gwv1.GatewayClassReasonAccepted), Message: "served by Bridgehead", ObservedGeneration: gc.Generation}
		if gc.Spec.ParametersRef != nil {
			cond.Status, cond.Reason = metav1.ConditionFalse, string(gwv1.GatewayClassReasonInvalidParameters)
			cond.Message = "spec.parametersRef: Bridgehead takes no parameters object (its settings are the gateway's flags and Helm values); remove parametersRef"
		}
		st.Conditions = []metav1.Condition{cond,
			{Type: string(gwv1.GatewayClassConditionStatusSupportedVersion), Status: metav1.ConditionTrue,
				Reason: string(gwv1.GatewayClassReasonSupportedVersion), Message: "Gateway API v1.6", ObservedGeneration: gc.Generation}}
		for _, f := range GatewaySupportedFeatures {
			st.SupportedFeatures = append(st.SupportedFeatures, gwv1.SupportedFeature{Name: f})
		}
		sort.Slice(st.SupportedFeatures, func(i, j int) bool { return st.SupportedFeatures[i].Name < st.SupportedFeatures[j].Name })
		t.gw.status[Key{Kind: KindGatewayClass, Name: gc.Name}] = &GatewayAPIStatus{Class: st}
		rep := t.reportFor(KindGatewayClass, &gc.ObjectMeta)
		rep.total = 1
		if cond.Status == metav1.ConditionFalse {
			rep.invalidf(bhv1.ReasonInvalid, cond.Message)
		}
	}
}

// routeKindsFor are the route kinds a listener of protocol p takes by default.
func routeKindsFor(p gwv1.ProtocolType, tlsMode gwv1.TLSModeType) []gwv1.Kind {
	switch p {
	case gwv1.HTTPProtocolType, gwv1.HTTPSProtocolType:
		return []gwv1.Kind{KindHTTPRoute, KindGRPCRoute}
	case gwv1.TLSProtocolType:
		return []gwv1.Kind{KindTLSRoute}
	case gwv1.TCPProtocolType:
		return []gwv1.Kind{KindTCPRoute}
	}
	return nil
}

// servedProtocols are the listener protocols Bridgehead serves.
var servedProtocols = map[gwv1.ProtocolType]bool{gwv1.HTTPProtocolType: true, gwv1.HTTPSProtocolType: true, gwv1.TLSProtocolType: true, gwv1.TCPProtocolType: true}

func (t *translator) buildGateway(gw *gwv1.Gateway) {
	key := nsName{gw.Namespace, gw.Name}
	t.gw.gateways[key] = gw
	rep := t.reportFor(KindGateway, &gw.ObjectMeta)
	rep.total = 1
	var ls []*gwListener
	for i := range gw.Spec.Listeners {
		ls = append(ls, t.listener(rep, gw, snapshot.Ref{Kind: KindGateway, Namespace: gw.Namespace, Name: gw.Name},
			gw.Spec.Listeners[i], fmt.Sprintf("spec.listeners[%d]", i)))
	}
	markConflicts(ls)
	t.gw.listeners[key] = ls
	for _, l := range ls {
		if l.ready() {
			t.listenerTLS(rep, l)
		}
	}
	if len(gw.Spec.Addresses) > 0 {
		rep.invalidf(bhv1.ReasonUnsupportedField, "spec.addresses: Bridgehead serves every Gateway on the addresses of its own Service; remove spec.addresses")
	}
}

// listener checks one listener: protocol, port, allowed kinds, TLS references.
func (t *translator) listener(rep *report, gw *gwv1.Gateway, owner snapshot.Ref, l gwv1.Listener, field string) *gwListener {
	out := &gwListener{gw: gw, owner: owner, l: l, field: field, accepted: true, resolved: true, seq: len(t.gw.all)}
	t.gw.all = append(t.gw.all, out)
	fail := func(reason gwv1.ListenerConditionReason, msg string) {
		out.accepted, out.acceptedReason, out.acceptedMsg = false, string(reason), msg
		rep.notReadyf(bhv1.ReasonInvalid, field+": "+msg)
	}
	switch {
	case !servedProtocols[l.Protocol]:
		fail(gwv1.ListenerReasonUnsupportedProtocol, fmt.Sprintf("protocol %s is not served by Bridgehead (it serves HTTP, HTTPS, TLS and TCP)", l.Protocol))
	default:
		entry, ok := t.opts.ListenerPorts[l.Port]
		want := t.entryPointKind(l.Protocol)
		switch {
		case !ok:
			if from := t.opts.ListenerPortsFrom; from != "" {
				fail(gwv1.ListenerReasonPortUnavailable, fmt.Sprintf("port %d is not published by the gateway's %s (it publishes %s); use one of those ports, or add an entry point with %s and publish it on the Service (Helm value entryPoints does both)", l.Port, from, t.describeListenerPorts(), entryPointFlagFor(want, l.Port)))
			} else {
				fail(gwv1.ListenerReasonPortUnavailable, fmt.Sprintf("port %d is not one of the gateway's entry points (%s); use one of those ports, or add an entry point with %s (Helm value entryPoints)", l.Port, t.describeListenerPorts(), entryPointFlagFor(want, l.Port)))
			}
		// A user TCP entry point serves plain HTTP routes as well as TCP ones (as web does).
		case entry.Kind != want && (want != EntryPointHTTP || entry.Kind != entryPointPlain):
			fail(gwv1.ListenerReasonPortUnavailable, fmt.Sprintf("port %d is the gateway's %s entry point %q, which cannot serve protocol %s; use a port of a %s entry point (%s), or add one with %s", l.Port, entry.Kind, entry.Name, l.Protocol, want, t.describeListenerPorts(), entryPointFlagFor(want, 0)))
		default:
			out.entry = entry.Name
		}
	}
	// Route kinds: the listener's own list, or the protocol's defaults.
	defaults := routeKindsFor(l.Protocol, tlsMode(l))
	if l.AllowedRoutes == nil || len(l.AllowedRoutes.Kinds) == 0 {
		for _, k := range defaults {
			out.kinds = append(out.kinds, gwv1.RouteGroupKind{Group: ptrGroup(gatewayGroup), Kind: k})
		}
	} else {
		var bad []string
		for _, k := range l.AllowedRoutes.Kinds {
			g := gatewayGroup
			if k.Group != nil {
				g = string(*k.Group)
			}
			if g == gatewayGroup && containsKind(defaults, k.Kind) {
				out.kinds = append(out.kinds, gwv1.RouteGroupKind{Group: ptrGroup(g), Kind: k.Kind})
			} else {
				bad = append(bad, g+"/"+string(k.Kind))
			}
		}
		if len(bad) > 0 {
			out.resolved, out.resolvedReason = false, string(gwv1.ListenerReasonInvalidRouteKinds)
			out.resolvedMsg = fmt.Sprintf("allowedRoutes.kinds: %s cannot attach to a %s listener (it takes %s)", strings.Join(bad, ", "), l.Protocol, kindList(defaults))
			rep.refError(bhv1.ReasonInvalid, field+"."+out.resolvedMsg)
		}
	}
	switch l.Protocol {
	case gwv1.HTTPSProtocolType, gwv1.TLSProtocolType:
		t.listenerCertificates(rep, out)
	}
	t.listenerFrontend(rep, out) // gatewayapi_frontend.go: the Gateway's client certificate validation
	return out
}

func tlsMode(l gwv1.Listener) gwv1.TLSModeType {
	if l.TLS == nil || l.TLS.Mode == nil {
		return gwv1.TLSModeTerminate
	}
	return *l.TLS.Mode
}

// entryPointKind is the kind of entry point a listener protocol needs.
func (t *translator) entryPointKind(p gwv1.ProtocolType) string {
	switch p {
	case gwv1.HTTPSProtocolType, gwv1.TLSProtocolType:
		return EntryPointTLS
	case gwv1.UDPProtocolType:
		return "udp"
	case gwv1.TCPProtocolType:
		return "tcp"
	}
	return EntryPointHTTP
}

func (t *translator) describeListenerPorts() string {
	ports := make([]int, 0, len(t.opts.ListenerPorts))
	for p := range t.opts.ListenerPorts {
		ports = append(ports, int(p))
	}
	sort.Ints(ports)
	var parts []string
	for _, p := range ports {
		e := t.opts.ListenerPorts[int32(p)]
		parts = append(parts, fmt.Sprintf("%d: %s (%s)", p, e.Name, e.Kind))
	}
	if len(parts) == 0 {
		return "none known"
	}
	return strings.Join(parts, ", ")
}

// listenerCertificates resolves an HTTPS or TLS listener's tls section.
func (t *translator) listenerCertificates(rep *report, l *gwListener) {
	mode := tlsMode(l.l)
	if l.l.Protocol == gwv1.HTTPSProtocolType && mode != gwv1.TLSModeTerminate {
		l.accepted, l.acceptedReason = false, string(gwv1.ListenerReasonUnsupportedValue)
		l.acceptedMsg = "tls.mode: an HTTPS listener terminates TLS; use protocol TLS for Passthrough"
		rep.notReadyf(bhv1.ReasonInvalid, l.field+"."+l.acceptedMsg)
		return
	}
	if mode == gwv1.TLSModePassthrough {
		if l.l.TLS != nil && len(l.l.TLS.CertificateRefs) > 0 {
			rep.warn(bhv1.ReasonIneffectiveSetting, l.field+".tls.certificateRefs: a Passthrough listener does not terminate TLS, so its certificates are not used")
		}
		return
	}
	if l.l.TLS == nil || len(l.l.TLS.CertificateRefs) == 0 {
		l.resolved, l.resolvedReason = false, string(gwv1.ListenerReasonInvalidCertificateRef)
		l.resolvedMsg = "tls.certificateRefs: a listener that terminates TLS needs a certificate: name a kubernetes.io/tls Secret"
		rep.refError(bhv1.ReasonInvalid, l.field+"."+l.resolvedMsg)
		return
	}
	for j, ref := range l.l.TLS.CertificateRefs {
		f := fmt.Sprintf("%s.tls.certificateRefs[%d]", l.field, j)
		ns := l.owner.Namespace
		if ref.Namespace != nil {
			ns = string(*ref.Namespace)
		}
		group, kind := "", "Secret"
		if ref.Group != nil {
			group = string(*ref.Group)
		}
		if ref.Kind != nil {
			kind = string(*ref.Kind)
		}
		var reason gwv1.ListenerConditionReason
		var msg string
		switch {
		case group != "" || kind != "Secret":
			reason, msg = gwv1.ListenerReasonInvalidCertificateRef, fmt.Sprintf("%s: %s is not a Secret; name a kubernetes.io/tls Secret (group \"\", kind Secret)", f, groupKind(group, kind))
		case ns != l.owner.Namespace && !t.granted(l.owner.Kind, l.owner.Namespace, "", "Secret", ns, string(ref.Name)):
			reason, msg = gwv1.ListenerReasonRefNotPermitted, fmt.Sprintf("%s: Secret %s/%s is in another namespace and no ReferenceGrant in %s allows %ss of namespace %s to use it; add one", f, ns, ref.Name, ns, l.owner.Kind, l.owner.Namespace)
		default:
			r := t.certificate(rep, ns, string(ref.Name))
			if r.problem != nil {
				reason, msg = gwv1.ListenerReasonInvalidCertificateRef, f+": "+r.problem.message
			} else {
				l.certs = append(l.certs, r.cert)
				t.checkExpiry(rep, f, r.cert)
			}
		}
		if msg != "" && l.resolved {
			l.resolved, l.resolvedReason, l.resolvedMsg = false, string(reason), msg
			rep.refError(bhv1.ReasonInvalidRef, msg)
		}
	}
}

// listenerTLS puts a terminating listener's certificates on the edge: for its hostname,
// or, when it has none, as certificates served for the names they cover.
func (t *translator) listenerTLS(rep *report, l *gwListener) {
	if l.policy == "" { // HTTPS listeners have theirs from listenerFrontend
		l.policy = t.snap.TLS.DefaultPolicy
	}
	if len(l.certs) == 0 {
		return
	}
	if h := l.hostname(); h != "" {
		t.hostClaims[h] = append(t.hostClaims[h], hostClaim{rep: rep, source: l.owner, routeID: l.owner.Namespace + "/" + l.owner.Name + "/" + string(l.l.Name),
			policy: l.policy, cert: l.certs[0], certOnly: true})
		return
	}
	t.snap.TLS.StoreCertificates = append(t.snap.TLS.StoreCertificates, l.certs...)
	if t.snap.TLS.DefaultCertificate == nil {
		t.snap.TLS.DefaultCertificate = l.certs[0]
	}
}

// markConflicts flags listeners of one Gateway that share a port with another protocol,
// or a port, protocol and hostname (the spec's Conflicted condition).
func markConflicts(ls []*gwListener) {
	for i, a := range ls {
		for _, b := range ls[:i] {
			if reason, msg := listenerConflict(a, b); reason != "" {
				a.conflictReason, a.conflictMsg = reason, msg
			}
		}
	}
}

// listenerConflict is why listener a cannot be served next to b, which takes precedence
// ("" when they can).
func listenerConflict(a, b *gwListener) (reason, msg string) {
	if a.l.Port != b.l.Port {
		return "", ""
	}
	switch {
	case a.l.Protocol != b.l.Protocol && (!isTLSProto(a.l.Protocol) || !isTLSProto(b.l.Protocol)):
		return string(gwv1.ListenerReasonProtocolConflict), fmt.Sprintf("listener %s%s also uses port %d, with protocol %s", b.l.Name, b.ownerSuffix(a), a.l.Port, b.l.Protocol)
	case a.hostname() == b.hostname():
		return string(gwv1.ListenerReasonHostnameConflict), fmt.Sprintf("listener %s%s also serves hostname %q on port %d", b.l.Name, b.ownerSuffix(a), a.hostname(), a.l.Port)
	}
	return "", ""
}

func isTLSProto(p gwv1.ProtocolType) bool {
	return p == gwv1.HTTPSProtocolType || p == gwv1.TLSProtocolType
}

// granted reports whether a ReferenceGrant in toNS lets objects of fromKind in fromNS
// refer to the object group/kind/name there.
func (t *translator) granted(fromKind, fromNS, toGroup, toKind, toNS, toName string) bool {
	for _, g := range t.gw.grants {
		if g.Namespace != toNS {
			continue
		}
		from := false
		for _, f := range g.Spec.From {
			if string(f.Group) == gatewayGroup && string(f.Kind) == fromKind && string(f.Namespace) == fromNS {
				from = true
			}
		}
		if !from {
			continue
		}
		for _, to := range g.Spec.To {
			if string(to.Group) == toGroup && string(to.Kind) == toKind && (to.Name == nil || string(*to.Name) == toName) {
				return true
			}
		}
	}
	return false
}

// finishGateways writes the Gateways' and listeners' statuses.
func (t *translator) finishGateways() {
	for key, gw := range t.gw.gateways {
		st := &gwv1.GatewayStatus{}
		invalid := 0
		for _, l := range t.gw.listeners[key] {
			ls := gwv1.ListenerStatus{Name: l.l.Name, SupportedKinds: l.kinds, AttachedRoutes: l.attached}
			if ls.SupportedKinds == nil {
				ls.SupportedKinds = []gwv1.RouteGroupKind{}
			}
			ls.Conditions = listenerConditions(l, gw.Generation)
			if !l.ready() {
				invalid++
			}
			st.Listeners = append(st.Listeners, ls)
		}
		rep := t.reportFor(KindGateway, &gw.ObjectMeta)
		accepted := metav1.Condition{Type: string(gwv1.GatewayConditionAccepted), Status: metav1.ConditionTrue,
			Reason: string(gwv1.GatewayReasonAccepted), Message: "served by Bridgehead", ObservedGeneration: gw.Generation}
		programmed := metav1.Condition{Type: string(gwv1.GatewayConditionProgrammed), Status: metav1.ConditionTrue,
			Reason: string(gwv1.GatewayReasonProgrammed), Message: "the gateway serves it", ObservedGeneration: gw.Generation}
		switch {
		case len(rep.invalid) > 0:
			accepted.Status, accepted.Reason, accepted.Message = metav1.ConditionFalse, string(gwv1.GatewayReasonUnsupportedAddress), rep.invalid[0].message
			programmed.Status, programmed.Reason, programmed.Message = metav1.ConditionFalse, string(gwv1.GatewayReasonInvalid), rep.invalid[0].message
		case invalid > 0 && invalid == len(t.gw.listeners[key]):
			accepted.Status, accepted.Reason, accepted.Message = metav1.ConditionFalse, string(gwv1.GatewayReasonListenersNotValid), "no listener is valid: see status.listeners"
			programmed.Status, programmed.Reason, programmed.Message = metav1.ConditionFalse, string(gwv1.GatewayReasonInvalid), "no listener is valid: see status.listeners"
		case invalid > 0:
			accepted.Reason, accepted.Message = string(gwv1.GatewayReasonListenersNotValid), fmt.Sprintf("%d of %d listeners are not valid: see status.listeners", invalid, len(t.gw.listeners[key]))
		}
		st.Conditions = []metav1.Condition{accepted, programmed}
		st.Conditions = append(st.Conditions, frontendGatewayConditions(gw)...) // gatewayapi_frontend.go
		if c := t.gatewayBackendTLSCondition(gw); c != nil {                    // spec.tls.backend, gatewayapi_backendtls.go
			st.Conditions = append(st.Conditions, *c)
		}
		t.gw.status[Key{Kind: KindGateway, Namespace: gw.Namespace, Name: gw.Name}] = &GatewayAPIStatus{Gateway: st}
	}
}

func listenerConditions(l *gwListener, gen int64) []metav1.Condition {
	c := func(typ gwv1.ListenerConditionType, ok bool, reason string, msg string) metav1.Condition {
		s := metav1.ConditionTrue
		if !ok {
			s = metav1.ConditionFalse
		}
		return metav1.Condition{Type: string(typ), Status: s, Reason: reason, Message: msg, ObservedGeneration: gen}
	}
	accepted := c(gwv1.ListenerConditionAccepted, true, string(gwv1.ListenerReasonAccepted), "served on entry point "+l.entry)
	if !l.accepted {
		accepted = c(gwv1.ListenerConditionAccepted, false, l.acceptedReason, l.acceptedMsg)
	}
	resolved := c(gwv1.ListenerConditionResolvedRefs, true, string(gwv1.ListenerReasonResolvedRefs), "every reference resolves")
	if !l.resolved {
		resolved = c(gwv1.ListenerConditionResolvedRefs, false, l.resolvedReason, l.resolvedMsg)
	}
	conflicted := c(gwv1.ListenerConditionConflicted, false, string(gwv1.ListenerReasonNoConflicts), "no conflict")
	if l.conflictReason != "" {
		conflicted = c(gwv1.ListenerConditionConflicted, true, l.conflictReason, l.conflictMsg)
	}
	programmed := c(gwv1.ListenerConditionProgrammed, true, string(gwv1.ListenerReasonProgrammed), "routes attached to it are served")
	if !l.ready() {
		programmed = c(gwv1.ListenerConditionProgrammed, false, string(gwv1.ListenerReasonInvalid), "not served: see the Accepted, ResolvedRefs and Conflicted conditions")
	}
	return []metav1.Condition{accepted, programmed, resolved, conflicted}
}

// sortedByAge orders objects oldest first, then by namespace/name (the spec's tie-break).
// The result is only read: when objs is in that order already (objects created in the
// order of their names, as a cluster lists them), it is objs itself, not a sorted copy.
func sortedByAge[T metav1.Object](objs []T) []T {
	if slices.IsSortedFunc(objs, compareByAge[T]) {
		return slices.Clip(objs)
	}
	out := slices.Clone(objs)
	slices.SortStableFunc(out, compareByAge[T])
	return out
}

func compareByAge[T metav1.Object](a, b T) int {
	ta, tb := a.GetCreationTimestamp(), b.GetCreationTimestamp()
	if !ta.Equal(&tb) {
		if ta.Before(&tb) {
			return -1
		}
		return 1
	}
	return compareByName(a, b)
}

func ptrGroup(g string) *gwv1.Group { v := gwv1.Group(g); return &v }

func containsKind(ks []gwv1.Kind, k gwv1.Kind) bool {
	for _, x := range ks {
		if x == k {
			return true
		}
	}
	return false
}

func kindList(ks []gwv1.Kind) string {
	var s []string
	for _, k := range ks {
		s = append(s, string(k))
	}
	if len(s) == 0 {
		return "no route kind"
	}
	return strings.Join(s, ", ")
}

func groupKind(group, kind string) string {
	if group == "" {
		return kind
	}
	return group + "/" + kind
}

// namespaceLabels returns the labels of a namespace (empty when it is not known).
func (t *translator) namespaceLabels(ns string) labels.Set { return t.gw.nsLabels[ns] }
