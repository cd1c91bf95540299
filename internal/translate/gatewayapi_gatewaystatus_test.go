package translate

import (
	"strings"
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

// A listener on a port the gateway's Service does not publish is PortUnavailable naming
// the Service and the ports it publishes, even when the pods listen on it: clients reach
// the Gateway's address, the Service's.
func TestListenerOnAPortTheServiceDoesNotPublish(t *testing.T) {
	r := testHTTPRoute("r", 0, nil, prefix("/"))
	in := gwTestInputs("", r)
	in.Gateways[0].Spec.Listeners[0].Port = 8000 // web's own port in the pod
	opts := DefaultOptions()
	opts.ListenerPorts = map[int32]ListenerEntryPoint{80: {Name: "web", Kind: EntryPointHTTP}, 443: {Name: "websecure", Kind: EntryPointTLS}}
	opts.ListenerPortsFrom = "Service bridgehead/bridgehead"
	snap, st := Translate(in, opts)
	l := listenerStatus(t, st, "gw", "http")
	wantLSCondition(t, "listener http", l.Conditions, "Accepted", metav1.ConditionFalse, string(gwv1.ListenerReasonPortUnavailable))
	for _, c := range l.Conditions {
		for _, want := range []string{"port 8000 is not published by the gateway's Service bridgehead/bridgehead", "80: web (http), 443: websecure (tls)"} {
			if c.Type == "Accepted" && !strings.Contains(c.Message, want) {
				t.Errorf("Accepted message %q lacks %q", c.Message, want)
			}
		}
	}
	if len(snap.HTTPRoutes) != 0 {
		t.Errorf("a route is served on a port clients cannot reach: %+v", snap.HTTPRoutes[0].ID)
	}
}

// An HTTP listener on a user TCP entry point's port is served there (such an entry point
// serves plain HTTP as web does): conformance TCPRouteInvalidNonTCPListener needs that
// Gateway Programmed.
func TestHTTPListenerOnATCPEntryPoint(t *testing.T) {
	r := testHTTPRoute("r", 0, nil, prefix("/"))
	in := gwTestInputs("", r)
	in.Gateways[0].Spec.Listeners[0].Port = 5300
	opts := DefaultOptions()
	opts.ListenerPorts = DefaultListenerPorts()
	opts.ListenerPorts[5300] = ListenerEntryPoint{Name: "tcp5300", Kind: "tcp"}
	snap, st := Translate(in, opts)
	l := listenerStatus(t, st, "gw", "http")
	wantLSCondition(t, "listener http", l.Conditions, "Programmed", metav1.ConditionTrue, "")
	served := false
	for _, hr := range snap.HTTPRoutes {
		if hr.Source.Name == "r" {
			served = true
			if hr.TLS || len(hr.EntryPoints) != 1 || hr.EntryPoints[0] != "tcp5300" {
				t.Errorf("route %s: TLS %v entry points %v, want plain on tcp5300", hr.ID, hr.TLS, hr.EntryPoints)
			}
		}
	}
	if !served {
		t.Error("the HTTPRoute is not served on the TCP entry point")
	}
}
