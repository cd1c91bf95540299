package translate

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	bhv1 "github.com/bridgehead/bridgehead/api/v1alpha1"
	"github.com/bridgehead/bridgehead/internal/snapshot"
)

// What every Gateway API route kind shares: attaching to listeners through parentRefs,
// the hostnames a route serves on a listener, backend references and their status.

// gwAttachment is one listener a route is attached to, with the names it serves there
// (nil: any name the listener takes).
type gwAttachment struct {
	l     *gwListener
	hosts []string
}

// gwRoute is one route object of the Gateway API being translated.
type gwRoute struct {
	kind    string
	meta    *metav1.ObjectMeta
	rep     *report
	obj     string // "HTTPRoute ns/name"
	parents []gwv1.RouteParentStatus
	// attached is, per entry of parents, the listeners the route serves on.
	attached [][]gwAttachment
	// resolved is the route's ResolvedRefs condition (true until a backend fails).
	resolvedReason, resolvedMsg string
}

// attachRoute resolves a route's parentRefs against the served Gateways. Parent
// references to Gateways that are not ours get no status entry (another controller's).
func (t *translator) attachRoute(kind string, meta *metav1.ObjectMeta, refs []gwv1.ParentReference, hostnames []gwv1.Hostname) *gwRoute {
	r := &gwRoute{kind: kind, meta: meta, rep: t.reportFor(kind, meta), obj: kind + " " + meta.Namespace + "/" + meta.Name}
	r.rep.total = 1
	for i, ref := range refs {
		field := fmt.Sprintf("spec.parentRefs[%d]", i)
		group, pkind := gatewayGroup, KindGateway
		if ref.Group != nil {
			group = string(*ref.Group)
		}
		if ref.Kind != nil {
			pkind = string(*ref.Kind)
		}
		ns := meta.Namespace
		if ref.Namespace != nil {
			ns = string(*ref.Namespace)
		}
		parent, listeners, ok := t.parentListeners(group, pkind, ns, string(ref.Name))
		if !ok {
			continue // not a parent of ours
		}
		ps := gwv1.RouteParentStatus{ParentRef: ref, ControllerName: GatewayController}
		atts, unserved, reason, msg := t.attachToListeners(kind, meta, parent, listeners, ref, hostnames)
		cond := metav1.Condition{Type: string(gwv1.RouteConditionAccepted), Status: metav1.ConditionTrue,
			Reason: string(gwv1.RouteReasonAccepted), Message: "attached to " + describeAttachments(atts), ObservedGeneration: meta.Generation}
		switch {
		case len(atts) == 0 && len(unserved) == 0:
			cond.Status, cond.Reason, cond.Message = metav1.ConditionFalse, string(reason), msg
			r.rep.notReadyf(bhv1.ReasonInvalid, field+": "+msg)
		case len(unserved) > 0:
			// Attached (the spec counts the route on the listener) but not served there
			// until the listener's references resolve.
			var names []string
			for _, l := range unserved {
				names = append(names, string(l.l.Name))
				t.attach(l)
			}
			note := fmt.Sprintf("not served on listener %s of %s: its references do not resolve (see its ResolvedRefs condition)", strings.Join(names, ", "), parent)
			if len(atts) == 0 {
				cond.Message = "attached, but " + note
			} else {
				cond.Message += "; " + note
			}
			r.rep.notReadyf(bhv1.ReasonInvalidRef, field+": "+note)
		}
		for _, a := range atts {
			t.attach(a.l)
		}
		ps.Conditions = []metav1.Condition{cond}
		r.parents = append(r.parents, ps)
		r.attached = append(r.attached, atts)
	}
	return r
}

// attach counts a route on a listener (its status's attachedRoutes).
func (t *translator) attach(l *gwListener) {
	l.attached++
	if t.hrec != nil {
		t.hrec.attached = append(t.hrec.attached, l.seq)
	}
}

// listeners are the listeners the route is attached to through any parentRef, each once
// (the first attachment's host names).
func (r *gwRoute) listeners() []gwAttachment {
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

// parentListeners are the listeners a parentRef can reach: a Gateway of ours (its own
// listeners), or a ListenerSet attached to one (only the ListenerSet's,
// gatewayapi_listenerset.go); ok is false for any other parent.
func (t *translator) parentListeners(group, kind, ns, name string) (parent string, listeners []*gwListener, ok bool) {
	switch {
	case group == gatewayGroup && kind == KindGateway:
		gw, found := t.gw.gateways[nsName{ns, name}]
		if !found {
			return "", nil, false
		}
		return fmt.Sprintf("Gateway %s/%s", gw.Namespace, gw.Name), t.gw.listeners[nsName{gw.Namespace, gw.Name}], true
	case group == gatewayGroup && kind == KindListenerSet:
		s, found := t.gw.listenerSets[nsName{ns, name}]
		if !found {
			return "", nil, false
		}
		return fmt.Sprintf("ListenerSet %s/%s", ns, name), s.attachable(), true
	}
	return "", nil, false
}

// attachToListeners finds the listeners of a parent (a Gateway or a ListenerSet,
// described as "Kind ns/name") a route attaches to through ref; when none, the reason and
// message say why (the first listener's refusal, in the spec's terms). unserved are the
// listeners the route attaches to that are accepted but not served because their
// references do not resolve: the spec counts the route in their attachedRoutes
// (conformance GatewayWithAttachedRoutes), the gateway serves nothing there.
func (t *translator) attachToListeners(kind string, meta *metav1.ObjectMeta, parent string, listeners []*gwListener, ref gwv1.ParentReference, hostnames []gwv1.Hostname) (atts []gwAttachment, unserved []*gwListener, reason gwv1.RouteConditionReason, msg string) {
	reason, msg = gwv1.RouteReasonNoMatchingParent, parent+" has no listener"
	if ref.SectionName != nil {
		msg = fmt.Sprintf("%s has no listener named %q", parent, *ref.SectionName)
	}
	if ref.Port != nil {
		msg += fmt.Sprintf(" on port %d", *ref.Port)
	}
	refused := false
	for _, l := range listeners {
		if ref.SectionName != nil && *ref.SectionName != l.l.Name {
			continue
		}
		if ref.Port != nil && *ref.Port != l.l.Port {
			continue
		}
		// The kind first: a listener that can never take this kind refuses it as
		// NotAllowedByListeners even while it is not valid itself (conformance
		// TCPRouteInvalidNonTCPListener: an HTTP listener on a port with no entry point).
		if !kindAllowed(l.kinds, kind) {
			refused = true
			reason, msg = gwv1.RouteReasonNotAllowedByListeners, fmt.Sprintf("listener %s of %s takes %s, not %s", l.l.Name, parent, describeKinds(l.kinds), kind)
			continue
		}
		if !l.ready() && (!l.accepted || l.conflictReason != "") {
			if !refused {
				reason, msg = gwv1.RouteReasonNoMatchingParent, fmt.Sprintf("listener %s of %s is not valid (see its status)", l.l.Name, parent)
			}
			continue
		}
		if !t.namespaceAllowed(l, meta.Namespace) {
			refused = true
			reason, msg = gwv1.RouteReasonNotAllowedByListeners, fmt.Sprintf("listener %s of %s does not allow routes from namespace %s (allowedRoutes.namespaces)", l.l.Name, parent, meta.Namespace)
			continue
		}
		hosts, ok := intersectHostnames(l.hostname(), hostnames)
		if !ok {
			refused = true
			reason, msg = gwv1.RouteReasonNoMatchingListenerHostname, fmt.Sprintf("spec.hostnames (%s) has no name in common with hostname %q of listener %s of %s", joinHostnames(hostnames), l.hostname(), l.l.Name, parent)
			continue
		}
		if !l.ready() {
			unserved = append(unserved, l)
			continue
		}
		atts = append(atts, gwAttachment{l: l, hosts: hosts})
	}
	return atts, unserved, reason, msg
}

func joinHostnames(hs []gwv1.Hostname) string {
	out := make([]string, len(hs))
	for i, h := range hs {
		out[i] = string(h)
	}
	return strings.Join(out, ", ")
}

func kindAllowed(kinds []gwv1.RouteGroupKind, kind string) bool {
	for _, k := range kinds {
		if string(k.Kind) == kind && (k.Group == nil || string(*k.Group) == gatewayGroup) {
			return true
		}
	}
	return false
}

func describeKinds(kinds []gwv1.RouteGroupKind) string {
	var ks []gwv1.Kind
	for _, k := range kinds {
		ks = append(ks, k.Kind)
	}
	return kindList(ks)
}

func describeAttachments(atts []gwAttachment) string {
	var parts []string
	for _, a := range atts {
		parts = append(parts, "listener "+string(a.l.l.Name))
	}
	return strings.Join(parts, ", ")
}

// namespaceAllowed applies a listener's allowedRoutes.namespaces to a route's namespace.
func (t *translator) namespaceAllowed(l *gwListener, ns string) bool {
	from := gwv1.NamespacesFromSame
	var sel *metav1.LabelSelector
	if ar := l.l.AllowedRoutes; ar != nil && ar.Namespaces != nil {
		if ar.Namespaces.From != nil {
			from = *ar.Namespaces.From
		}
		sel = ar.Namespaces.Selector
	}
	switch from {
	case gwv1.NamespacesFromAll:
		return true
	case gwv1.NamespacesFromSelector:
		if sel == nil {
			return false
		}
		s, err := metav1.LabelSelectorAsSelector(sel)
		if err != nil {
			return false
		}
		return s.Matches(t.namespaceLabels(ns))
	case gwv1.NamespacesFromNone:
		return false
	}
	return ns == l.owner.Namespace
}

// intersectHostnames is the spec's intersection of a listener's hostname ("" for any)
// with a route's hostnames: nil when the route serves every name the listener takes, ok
// false when they have none in common.
func intersectHostnames(listener string, route []gwv1.Hostname) ([]string, bool) {
	if len(route) == 0 {
		if listener == "" {
			return nil, true
		}
		return []string{listener}, true
	}
	var out []string
	seen := map[string]bool{}
	add := func(h string) {
		if !seen[h] {
			seen[h] = true
			out = append(out, h)
		}
	}
	for _, rh := range route {
		h := normalizeHost(string(rh))
		switch {
		case listener == "" || h == listener:
			add(h)
		case gwWildcardCovers(listener, h):
			add(h)
		case gwWildcardCovers(h, listener):
			add(listener)
		}
	}
	return out, len(out) > 0
}

// gwWildcardCovers: the Gateway API's wildcard is a suffix of one label or more, pattern "*.example.com" covers "a.example.com", "a.b.example.com" and
// the narrower wildcard "*.a.example.com", not "example.com".
func gwWildcardCovers(pattern, host string) bool {
	suffix, ok := strings.CutPrefix(pattern, "*")
	if !ok {
		return false
	}
	rest, ok := strings.CutSuffix(host, suffix)
	return ok && rest != ""
}

// gwBackend resolves one backendRef of a route to a Service port. A reference that
// cannot be used gives a backend that answers 500 for its share of the requests, as the
// spec asks, and sets the route's ResolvedRefs condition.
func (t *translator) gwBackend(r *gwRoute, field string, ref gwv1.BackendObjectReference, weight int32) *snapshot.Backend {
	ns := r.meta.Namespace
	if ref.Namespace != nil {
		ns = string(*ref.Namespace)
	}
	b := &snapshot.Backend{Service: snapshot.Ref{Kind: "Service", Namespace: ns, Name: string(ref.Name)}, Weight: int(weight), PassHostHeader: true, Scheme: "http"}
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
	fail := func(reason gwv1.RouteConditionReason, msg string) *snapshot.Backend {
		if r.resolvedReason == "" {
			r.resolvedReason, r.resolvedMsg = string(reason), field+": "+msg
		}
		r.rep.refError(bhv1.ConditionReason(reason), field+": "+msg)
		b.Failure = &snapshot.Failure{Reason: string(reason), Status: http.StatusInternalServerError, Message: r.obj + " " + field + ": " + msg}
		return b
	}
	switch {
	case group != "" || kind != "Service":
		return fail(gwv1.RouteReasonInvalidKind, fmt.Sprintf("%s is not a Service; Bridgehead routes to Services (group \"\", kind Service); requests for this backend get 500", groupKind(group, kind)))
	case ns != r.meta.Namespace && !t.granted(r.kind, r.meta.Namespace, "", "Service", ns, string(ref.Name)):
		return fail(gwv1.RouteReasonRefNotPermitted, fmt.Sprintf("Service %s/%s is in another namespace and no ReferenceGrant in %s allows %ss of namespace %s to use it; add one (requests for this backend get 500 meanwhile)", ns, ref.Name, ns, r.kind, r.meta.Namespace))
	case ref.Port == nil:
		return fail(gwv1.RouteReasonUnsupportedValue, "port: a Service backend needs a port")
	}
	res, problem, _ := t.resolveService(ns, ns, string(ref.Name), bhv1.Port(b.Port))
	if res != nil {
		b.Endpoints = res.endpoints
		if res.port != nil && res.port.AppProtocol != nil && *res.port.AppProtocol == "kubernetes.io/h2c" {
			b.Scheme = "h2c"
		}
	}
	if problem != nil && problem.reason != bhv1.ReasonNoEndpoints {
		return fail(gwv1.RouteReasonBackendNotFound, problem.message+"; requests for this backend get 500")
	}
	// A BackendTLSPolicy on the Service: TLS to it (gatewayapi_backendtls.go). Also for a
	// Service with no endpoints yet: the policy is in use through the route's Gateways
	// (its ancestors and status) whether or not a pod is ready.
	if res != nil {
		t.applyBackendTLS(r, b, res.port)
	}
	if problem != nil {
		r.rep.notReadyf(problem.reason, field+": "+problem.message)
		if b.Failure == nil { // a policy that cannot be used says so first
			b.Failure = &snapshot.Failure{Reason: string(problem.reason), Status: http.StatusServiceUnavailable, Message: r.obj + " " + field + ": " + problem.message}
		}
	}
	return b
}

// finishRoute writes a route's parent statuses: each parent's Accepted condition, and
// the route's ResolvedRefs.
func (t *translator) finishRoute(r *gwRoute) {
	resolved := metav1.Condition{Type: string(gwv1.RouteConditionResolvedRefs), Status: metav1.ConditionTrue,
		Reason: string(gwv1.RouteReasonResolvedRefs), Message: "every backend reference resolves", ObservedGeneration: r.meta.Generation}
	if r.resolvedReason != "" {
		resolved.Status, resolved.Reason, resolved.Message = metav1.ConditionFalse, r.resolvedReason, r.resolvedMsg
	}
	for i := range r.parents {
		r.parents[i].Conditions = append(r.parents[i].Conditions, resolved)
	}
	served := false
	for _, atts := range r.attached {
		served = served || len(atts) > 0
	}
	if served {
		r.rep.served = 1
	}
	if len(r.parents) > 0 {
		t.gw.status[Key{Kind: r.kind, Namespace: r.meta.Namespace, Name: r.meta.Name}] = &GatewayAPIStatus{Parents: r.parents}
	}
}

// hostRule is the match on host names of a route on one listener: Host for exact names,
// HostRegexp for wildcards (the spec's wildcard is a suffix of one label or more).
func hostRule(h string) string {
	if suffix, ok := strings.CutPrefix(h, "*."); ok {
		return "HostRegexp(" + quoteRule(`^[^.]+(\.[^.]+)*\.`+regexpQuote(suffix)+`$`) + ")"
	}
	return "Host(" + quoteRule(h) + ")"
}

func regexpQuote(s string) string {
	var b strings.Builder
	for _, c := range s {
		if strings.ContainsRune(`\.+*?()|[]{}^$`, c) {
			b.WriteByte('\\')
		}
		b.WriteRune(c)
	}
	return b.String()
}
