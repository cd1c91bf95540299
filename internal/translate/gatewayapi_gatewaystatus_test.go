package translate

import (
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"
)

// Conformance GatewayWithAttachedRoutes ("AttachedRoutes set even when Gateway has
// unresolved refs"): a route attached to an HTTPS listener whose certificate is missing
// counts in the listener's attachedRoutes, and is not served.
func TestARouteOnAListenerWithUnresolvedRefsCountsButIsNotServed(t *testing.T) {
	r := testHTTPRoute("r", 0, nil, prefix("/"))
	r.Spec.ParentRefs[0].SectionName = ptr.To[gwv1.SectionName]("tls")
	r.Spec.Rules[0].BackendRefs[0].Name = "does-not-exist"
	in := gwTestInputs("", r)
	in.Gateways[0].Spec.Listeners = []gwv1.Listener{{Name: "tls", Port: 443, Protocol: gwv1.HTTPSProtocolType,
		TLS: &gwv1.ListenerTLSConfig{CertificateRefs: []gwv1.SecretObjectReference{{Name: "does-not-exist"}}}}}
	in.Gateways[0].Generation = 4
	snap, st := Translate(in, DefaultOptions())
	l := listenerStatus(t, st, "gw", "tls")
	if l.AttachedRoutes != 1 {
		t.Errorf("attachedRoutes = %d, want 1", l.AttachedRoutes)
	}
	wantLSCondition(t, "listener tls", l.Conditions, "Programmed", metav1.ConditionFalse, "")
	wantLSCondition(t, "listener tls", l.Conditions, "ResolvedRefs", metav1.ConditionFalse, string(gwv1.ListenerReasonInvalidCertificateRef))
	for _, c := range l.Conditions {
		if c.ObservedGeneration != 4 {
			t.Errorf("listener %s observedGeneration %d, want 4", c.Type, c.ObservedGeneration)
		}
	}
	conds := routeConditions(t, st, KindHTTPRoute, "r")
	wantCondition(t, conds, "Accepted", metav1.ConditionTrue, string(gwv1.RouteReasonAccepted))
	wantCondition(t, conds, "ResolvedRefs", metav1.ConditionFalse, string(gwv1.RouteReasonBackendNotFound))
	for _, hr := range snap.HTTPRoutes {
		if hr.Source.Name == "r" {
			t.Errorf("route %s is served on a listener without its certificate", hr.ID)
		}
	}
}

// Conformance GatewayInvalidRouteKind: supportedKinds lists only the valid kinds, and
// ResolvedRefs is False InvalidRouteKinds.
func TestListenerRouteKindsThatAreNotSupported(t *testing.T) {
	for _, c := range []struct {
		name  string
		kinds []gwv1.RouteGroupKind
		want  int
	}{
		{"only an invalid kind", []gwv1.RouteGroupKind{{Kind: "InvalidRoute"}}, 0},
		{"an invalid kind and HTTPRoute", []gwv1.RouteGroupKind{{Kind: "InvalidRoute"}, {Kind: "HTTPRoute"}}, 1},
	} {
		t.Run(c.name, func(t *testing.T) {
			in := gwTestInputs("")
			in.Gateways[0].Spec.Listeners[0].AllowedRoutes = &gwv1.AllowedRoutes{Kinds: c.kinds}
			_, st := Translate(in, DefaultOptions())
			l := listenerStatus(t, st, "gw", "http")
			if l.SupportedKinds == nil || len(l.SupportedKinds) != c.want {
				t.Errorf("supportedKinds = %+v, want %d (and never null)", l.SupportedKinds, c.want)
			}
			if c.want == 1 && (l.SupportedKinds[0].Kind != "HTTPRoute" || ptr.Deref(l.SupportedKinds[0].Group, "") != gatewayGroup) {
				t.Errorf("supportedKinds = %+v, want gateway.networking.k8s.io/HTTPRoute", l.SupportedKinds)
			}
			wantLSCondition(t, "listener http", l.Conditions, "ResolvedRefs", metav1.ConditionFalse, string(gwv1.ListenerReasonInvalidRouteKinds))
			if l.AttachedRoutes != 0 {
				t.Errorf("attachedRoutes = %d, want 0", l.AttachedRoutes)
			}
		})
	}
}
