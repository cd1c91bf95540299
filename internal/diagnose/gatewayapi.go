package diagnose

import (
	"fmt"
	"sort"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	bhv1 "github.com/bridgehead/bridgehead/api/v1alpha1"
	"github.com/bridgehead/bridgehead/internal/snapshot"
	"github.com/bridgehead/bridgehead/internal/translate"
)

// The walk of a Gateway API route: Gateway -> listener -> route (its status per parent)
// -> each rule as the gateway serves it -> Service -> the BackendTLSPolicy's transport ->
// endpoints, with the same real handshakes as an IngressRoute's.

// gatewayHops adds, for each Gateway of ours a route names, the Gateway's and the
// listeners' conditions and the route's own conditions on that parent. It returns whether
// the route is attached anywhere.
func (e *env) gatewayHops(sec *Section, key translate.Key, kind string) bool {
	st := e.statuses[key]
	if st == nil || st.GatewayAPI == nil || len(st.GatewayAPI.Parents) == 0 {
		sec.add(Hop{Kind: kind, Object: key.Namespace + "/" + key.Name, Verdict: Fail, Reason: "NoGatewayOfOurs",
			Message: fmt.Sprintf("no parentRef of the %s names a Gateway of a GatewayClass whose controllerName is %s, so Bridgehead does not serve it", kind, translate.GatewayController),
			Fix:     "name a Gateway of Bridgehead's GatewayClass in spec.parentRefs (kubectl get gatewayclass shows the controllerName)"})
		return false
	}
	attached := false
	for _, p := range st.GatewayAPI.Parents {
		ns := key.Namespace
		if p.ParentRef.Namespace != nil {
			ns = string(*p.ParentRef.Namespace)
		}
		gwKey := translate.Key{Kind: translate.KindGateway, Namespace: ns, Name: string(p.ParentRef.Name)}
		e.gatewayHop(sec, gwKey, p.ParentRef)
		obj := key.Namespace + "/" + key.Name + " on Gateway " + gwKey.Namespace + "/" + gwKey.Name
		if p.ParentRef.SectionName != nil {
			obj += " listener " + string(*p.ParentRef.SectionName)
		}
		ok := true
		for _, c := range p.Conditions {
			if c.Status == metav1.ConditionTrue {
				continue
			}
			ok = false
			sec.add(Hop{Kind: kind, Object: obj, Verdict: Fail, Reason: c.Reason, Message: c.Type + "=False: " + c.Message, Fix: gatewayFix(c.Reason)})
			if c.Type == string(gwv1.RouteConditionAccepted) {
				continue
			}
			attached = true // attached, with a reference problem shown on its backend below
		}
		if ok {
			attached = true
			msg := "Accepted, every reference resolves"
			for _, c := range p.Conditions {
				if c.Type == string(gwv1.RouteConditionAccepted) {
					msg = "Accepted: " + c.Message
				}
			}
			sec.add(Hop{Kind: kind, Object: obj, Message: msg})
		}
	}
	return attached
}

// gatewayHop shows a Gateway's conditions and those of the listeners a parentRef selects.
func (e *env) gatewayHop(sec *Section, key translate.Key, ref gwv1.ParentReference) {
	obj := key.Namespace + "/" + key.Name
	st := e.statuses[key]
	if st == nil || st.GatewayAPI == nil || st.GatewayAPI.Gateway == nil {
		sec.add(Hop{Kind: "Gateway", Object: obj, Verdict: Fail, Reason: string(bhv1.ReasonNotFound), Message: "Gateway " + obj + " is not served by Bridgehead",
			Fix: "create it with Bridgehead's GatewayClass, or correct the parentRef"})
		return
	}
	gs := st.GatewayAPI.Gateway
	hop := Hop{Kind: "Gateway", Object: obj, Message: "Accepted and Programmed"}
	for _, c := range gs.Conditions {
		if c.Status != metav1.ConditionTrue {
			hop.Verdict, hop.Reason, hop.Message, hop.Fix = Fail, c.Reason, c.Type+"=False: "+c.Message, gatewayFix(c.Reason)
			break
		}
		if c.Reason == string(gwv1.GatewayReasonListenersNotValid) {
			hop.Verdict, hop.Reason, hop.Message = Warn, c.Reason, c.Message
		}
	}
	for _, a := range gs.Addresses {
		hop.Facts = append(hop.Facts, "address: "+a.Value)
	}
	sec.add(hop)
	for _, l := range gs.Listeners {
		if ref.SectionName != nil && *ref.SectionName != l.Name {
			continue
		}
		lh := Hop{Kind: "Listener", Object: obj + " " + string(l.Name), Message: fmt.Sprintf("%d route(s) attached", l.AttachedRoutes)}
		for _, c := range l.Conditions {
			bad := c.Status != metav1.ConditionTrue
			if c.Type == string(gwv1.ListenerConditionConflicted) {
				bad = c.Status == metav1.ConditionTrue
			}
			if bad {
				lh.Verdict, lh.Reason, lh.Message, lh.Fix = Fail, c.Reason, c.Type+": "+c.Message, gatewayFix(c.Reason)
				break
			}
			if c.Type == string(gwv1.ListenerConditionAccepted) {
				lh.Facts = append(lh.Facts, c.Message)
			}
		}
		sec.add(lh)
	}
}

// httpRoute walks an HTTPRoute.
func (e *env) httpRoute(hr *gwv1.HTTPRoute) Section {
	key := translate.Key{Kind: translate.KindHTTPRoute, Namespace: hr.Namespace, Name: hr.Name}
	obj := "HTTPRoute " + hr.Namespace + "/" + hr.Name
	sec := Section{Title: obj, Origin: e.opts.Origin.Of(key)}
	if !e.gatewayHops(&sec, key, translate.KindHTTPRoute) {
		return sec
	}
	ref := snapshot.Ref{Kind: key.Kind, Namespace: key.Namespace, Name: key.Name}
	byRule := map[int][]*snapshot.HTTPRoute{}
	for _, r := range e.snap.HTTPRoutes {
		if r.Source == ref {
			byRule[r.RouteIndex] = append(byRule[r.RouteIndex], r)
		}
	}
	for i, rule := range hr.Spec.Rules {
		field := fmt.Sprintf("spec.rules[%d]", i)
		routes := byRule[i]
		if len(routes) == 0 {
			sec.add(Hop{Kind: "Route", Object: hr.Namespace + "/" + hr.Name + " " + field, Verdict: Fail, Reason: "NotServed",
				Message: field + " is not served: see the route's conditions above", Fix: "fix what the conditions name for this rule"})
			continue
		}
		sort.Slice(routes, func(a, b int) bool { return routes[a].Priority > routes[b].Priority })
		for _, r := range routes {
			e.routeHop(&sec, hr.Namespace+"/"+hr.Name+" "+field, r.Match, r.Priority, r.EntryPoints, r.Failure)
		}
		first := routes[0]
		for j, b := range rule.BackendRefs {
			if j >= len(first.Backends) {
				break
			}
			e.gatewayBackend(&sec, obj, hr.Namespace, fmt.Sprintf("%s.backendRefs[%d]", field, j), b.BackendObjectReference, first.Backends[j])
		}
	}
	return sec
}

// gatewayBackend walks one backendRef: a reference translate refused is that hop's
// failure; a Service goes through the same hops as an IngressRoute's.
func (e *env) gatewayBackend(sec *Section, obj, routeNS, field string, ref gwv1.BackendObjectReference, b *snapshot.Backend) {
	ns := routeNS
	if ref.Namespace != nil {
		ns = string(*ref.Namespace)
	}
	if f := b.Failure; f != nil && f.Reason != string(bhv1.ReasonNoEndpoints) && f.Reason != string(gwv1.RouteReasonBackendNotFound) {
		sec.add(Hop{Kind: "Backend", Object: ns + "/" + string(ref.Name), Verdict: Fail, Reason: f.Reason,
			Message: fmt.Sprintf("requests for this backend get %d: %s", f.Status, f.Message), Fix: gatewayFix(f.Reason)})
		return
	}
	port := ""
	if ref.Port != nil {
		port = fmt.Sprint(*ref.Port)
	}
	e.backend(sec, svcRef{obj: obj, field: field, routeNS: routeNS, name: string(ref.Name), ns: ns, port: bhv1.Port(port), gatewayAPI: true}, viewHTTP(b))
}

// gatewayTransportHop shows the transport a BackendTLSPolicy made for a backend, or why
// the backend is spoken to in clear text.
func (e *env) gatewayTransportHop(sec *Section, s svcRef, v view) *snapshot.Transport {
	t := e.transports[v.transport]
	if t == nil {
		if v.tls {
			sec.add(Hop{Kind: translate.KindBackendTLSPolicy, Object: "(none)", Verdict: Fail, Reason: string(bhv1.ReasonNotFound),
				Message: s.field + ": spoken to over TLS but no transport was compiled for it"})
		}
		return nil
	}
	hop := Hop{Kind: translate.KindBackendTLSPolicy, Object: t.Source.Namespace + "/" + t.Source.Name, Facts: transportFacts(t, v)}
	failure := ""
	if t.Failure != nil {
		failure = t.Failure.Message
	}
	judgeTransport(&hop, t, v, failure,
		"the backend's certificate is not verified",
		"set validation.caCertificateRefs (or wellKnownCACertificates: System) on the BackendTLSPolicy")
	sec.add(hop)
	return t
}

// gatewayFix says what to change for a Gateway API reason.
func gatewayFix(reason string) string {
	switch reason {
	case string(gwv1.RouteReasonNotAllowedByListeners):
		return "allow the route's namespace and kind in the listener's allowedRoutes, or attach the route to another listener"
	case string(gwv1.RouteReasonNoMatchingListenerHostname):
		return "make spec.hostnames intersect the listener's hostname"
	case string(gwv1.RouteReasonNoMatchingParent):
		return "correct the parentRef's sectionName or port to one of the Gateway's valid listeners"
	case string(gwv1.RouteReasonRefNotPermitted):
		return "add a ReferenceGrant in the referenced object's namespace that allows this kind from this namespace"
	case string(gwv1.RouteReasonBackendNotFound):
		return "create the Service, or correct the backendRef's name, namespace and port"
	case string(gwv1.RouteReasonInvalidKind):
		return "name a Service (group \"\", kind Service) in backendRefs"
	case string(gwv1.ListenerReasonInvalidCertificateRef):
		return "name a kubernetes.io/tls Secret with a valid certificate and key in tls.certificateRefs"
	case string(gwv1.ListenerReasonPortUnavailable):
		return "use a port of one of the gateway's entry points (the listener's condition lists them), or add one with --entrypoint"
	case string(gwv1.GatewayReasonAddressNotAssigned):
		return "start the gateway with --publish-service (the Helm chart does), or wait for the load balancer's address"
	}
	if f := conditionFix(reason); f != "" {
		return f
	}
	return "see the message"
}
