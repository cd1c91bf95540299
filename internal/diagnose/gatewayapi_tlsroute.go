package diagnose

import (
	"fmt"
	"sort"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	bhv1 "github.com/bridgehead/bridgehead/api/v1alpha1"
	"github.com/bridgehead/bridgehead/internal/snapshot"
	"github.com/bridgehead/bridgehead/internal/translate"
)

// The walk of a TLSRoute or TCPRoute: Gateway -> listener -> route (its status per
// parent) -> how each listener serves it (passthrough by SNI, terminated, plain TCP) ->
// Service -> endpoints.

func (e *env) tlsRoute(r *gwv1.TLSRoute) Section {
	var refs []gwv1.BackendRef
	if len(r.Spec.Rules) > 0 {
		refs = r.Spec.Rules[0].BackendRefs
	}
	return e.gatewayTCPRoute(translate.KindTLSRoute, &r.ObjectMeta, refs)
}

func (e *env) tcpRoute(r *gwv1.TCPRoute) Section {
	var refs []gwv1.BackendRef
	if len(r.Spec.Rules) > 0 {
		refs = r.Spec.Rules[0].BackendRefs
	}
	return e.gatewayTCPRoute(translate.KindTCPRoute, &r.ObjectMeta, refs)
}

func (e *env) gatewayTCPRoute(kind string, meta *metav1.ObjectMeta, refs []gwv1.BackendRef) Section {
	key := translate.Key{Kind: kind, Namespace: meta.Namespace, Name: meta.Name}
	obj := kind + " " + meta.Namespace + "/" + meta.Name
	sec := Section{Title: obj, Origin: e.opts.Origin.Of(key)}
	if !e.gatewayHops(&sec, key, kind) {
		return sec
	}
	ref := snapshot.Ref{Kind: kind, Namespace: meta.Namespace, Name: meta.Name}
	var routes []*snapshot.TCPRoute
	for _, r := range e.snap.TCPRoutes {
		if r.Source == ref {
			routes = append(routes, r)
		}
	}
	if len(routes) == 0 {
		sec.add(Hop{Kind: "Route", Object: meta.Namespace + "/" + meta.Name, Verdict: Fail, Reason: "NotServed",
			Message: "the route is not served on any listener: see its conditions above", Fix: "fix what the conditions name"})
		return sec
	}
	sort.Slice(routes, func(a, b int) bool { return routes[a].Priority > routes[b].Priority })
	for _, r := range routes {
		h := Hop{Kind: "Route", Object: r.ID, Message: fmt.Sprintf("match %s, priority %d, on entry point %s: %s", r.Match, r.Priority, strings.Join(r.EntryPoints, ", "), tcpMode(r))}
		if f := r.Failure; f != nil {
			h.Verdict, h.Reason = Fail, f.Reason
			h.Message = fmt.Sprintf("connections matching %s are closed: %s", r.Match, f.Message)
			h.Fix = gatewayFix(f.Reason)
		}
		sec.add(h)
	}
	first := routes[0]
	for j, b := range refs {
		if j >= len(first.Backends) {
			break
		}
		field := fmt.Sprintf("spec.rules[0].backendRefs[%d]", j)
		ns := meta.Namespace
		if b.Namespace != nil {
			ns = string(*b.Namespace)
		}
		tb := first.Backends[j]
		if f := tb.Failure; f != nil && f.Reason != string(bhv1.ReasonNoEndpoints) && f.Reason != string(gwv1.RouteReasonBackendNotFound) {
			sec.add(Hop{Kind: "Backend", Object: ns + "/" + string(b.Name), Verdict: Fail, Reason: f.Reason,
				Message: "connections for this backend are closed: " + f.Message, Fix: gatewayFix(f.Reason)})
			continue
		}
		port := ""
		if b.Port != nil {
			port = fmt.Sprint(*b.Port)
		}
		e.backend(&sec, svcRef{obj: obj, field: field, routeNS: meta.Namespace, name: string(b.Name), ns: ns, port: bhv1.Port(port), gatewayAPI: true}, viewTCP(tb))
	}
	return sec
}

// tcpMode says what the gateway does with a connection the route takes.
func tcpMode(r *snapshot.TCPRoute) string {
	switch {
	case r.Passthrough:
		return "passed through untouched, chosen by SNI: clients see the backend's own certificate"
	case r.Terminate:
		return "TLS terminated with the listener's certificate, the bytes sent to the backend in plain TCP"
	}
	return "forwarded as plain TCP"
}
