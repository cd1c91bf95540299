package translate

import (
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"
)

// The ReferenceGrant and parentRef expectations of the conformance tests
// HTTPRouteReferenceGrant, HTTPRouteInvalidCrossNamespaceBackendRef,
// HTTPRoutePartiallyInvalidViaInvalidReferenceGrant, HTTPRouteInvalidCrossNamespaceParentRef
// and HTTPRouteInvalidParentRef*.

// teamRoute is HTTPRoute team/name to Service web/app, through Gateway web/gw.
func teamRoute(name string) *gwv1.HTTPRoute {
	r := testHTTPRoute(name, 0, nil, prefix("/"))
	r.Namespace = "team"
	r.Spec.ParentRefs = []gwv1.ParentReference{{Name: "gw", Namespace: ptr.To[gwv1.Namespace]("web")}}
	r.Spec.Rules[0].BackendRefs[0].Namespace = ptr.To[gwv1.Namespace]("web")
	return r
}

func teamRouteConditions(t *testing.T, st Statuses, name string) map[string]metav1.Condition {
	t.Helper()
	s := st[Key{Kind: KindHTTPRoute, Namespace: "team", Name: name}]
	if s == nil || s.GatewayAPI == nil || len(s.GatewayAPI.Parents) != 1 {
		t.Fatalf("HTTPRoute team/%s: want one parent status, got %+v", name, s)
	}
	out := map[string]metav1.Condition{}
	for _, c := range s.GatewayAPI.Parents[0].Conditions {
		out[c.Type] = c
	}
	return out
}

func TestCrossNamespaceBackendsNeedAMatchingReferenceGrant(t *testing.T) {
	grant := func(fromKind, fromNS string, toName *string) *gwv1.ReferenceGrant {
		to := gwv1.ReferenceGrantTo{Group: "", Kind: "Service"}
		if toName != nil {
			to.Name = ptr.To(gwv1.ObjectName(*toName))
		}
		return &gwv1.ReferenceGrant{ObjectMeta: metav1.ObjectMeta{Namespace: "web", Name: "g"},
			Spec: gwv1.ReferenceGrantSpec{From: []gwv1.ReferenceGrantFrom{{Group: gatewayGroup, Kind: gwv1.Kind(fromKind), Namespace: gwv1.Namespace(fromNS)}},
				To: []gwv1.ReferenceGrantTo{to}}}
	}
	for _, c := range []struct {
		name  string
		grant *gwv1.ReferenceGrant
		ok    bool
	}{
		{"no grant", nil, false},
		{"to the Service by name", grant(KindHTTPRoute, "team", ptr.To("app")), true},
		{"to every Service of the namespace", grant(KindHTTPRoute, "team", nil), true},
		{"to another Service", grant(KindHTTPRoute, "team", ptr.To("other")), false},
		{"from another kind", grant(KindTLSRoute, "team", nil), false},
		{"from another namespace", grant(KindHTTPRoute, "elsewhere", nil), false},
	} {
		t.Run(c.name, func(t *testing.T) {
			in := gwTestInputs("", teamRoute("r"))
			in.Gateways[0].Spec.Listeners[0].AllowedRoutes = &gwv1.AllowedRoutes{Namespaces: &gwv1.RouteNamespaces{From: ptr.To(gwv1.NamespacesFromAll)}}
			if c.grant != nil {
				in.ReferenceGrants = []*gwv1.ReferenceGrant{c.grant}
			}
			snap, st := Translate(in, DefaultOptions())
			conds := teamRouteConditions(t, st, "r")
			wantCondition(t, conds, "Accepted", metav1.ConditionTrue, string(gwv1.RouteReasonAccepted))
			var backendFailure *int
			for _, r := range snap.HTTPRoutes {
				if r.Source.Name == "r" && r.Backends[0].Failure != nil {
					backendFailure = &r.Backends[0].Failure.Status
				}
			}
			if c.ok {
				wantCondition(t, conds, "ResolvedRefs", metav1.ConditionTrue, string(gwv1.RouteReasonResolvedRefs))
				if backendFailure != nil {
					t.Errorf("the granted backend answers %d", *backendFailure)
				}
			} else {
				wantCondition(t, conds, "ResolvedRefs", metav1.ConditionFalse, string(gwv1.RouteReasonRefNotPermitted))
				if backendFailure == nil || *backendFailure != 500 {
					t.Errorf("the backend that is not granted: failure %v, want 500", backendFailure)
				}
			}
		})
	}
}

func TestParentRefsThatMatchNoListenerAreRefusedWithTheSpecsReason(t *testing.T) {
	crossNS := teamRoute("cross-ns")
	wrongPort := testHTTPRoute("wrong-port", 0, nil, prefix("/"))
	wrongPort.Spec.ParentRefs[0].Port = ptr.To[gwv1.PortNumber](8080)
	wrongSection := testHTTPRoute("wrong-section", 0, nil, prefix("/"))
	wrongSection.Spec.ParentRefs[0].SectionName = ptr.To[gwv1.SectionName]("nope")
	sectionOtherPort := testHTTPRoute("section-other-port", 0, nil, prefix("/"))
	sectionOtherPort.Spec.ParentRefs[0].SectionName = ptr.To[gwv1.SectionName]("http")
	sectionOtherPort.Spec.ParentRefs[0].Port = ptr.To[gwv1.PortNumber](443)
	in := gwTestInputs("", wrongPort, wrongSection, sectionOtherPort, crossNS)
	_, st := Translate(in, DefaultOptions())

	conds := teamRouteConditions(t, st, "cross-ns")
	wantCondition(t, conds, "Accepted", metav1.ConditionFalse, string(gwv1.RouteReasonNotAllowedByListeners))
	for _, name := range []string{"wrong-port", "wrong-section", "section-other-port"} {
		conds := routeConditions(t, st, KindHTTPRoute, name)
		wantCondition(t, conds, "Accepted", metav1.ConditionFalse, string(gwv1.RouteReasonNoMatchingParent))
		wantCondition(t, conds, "ResolvedRefs", metav1.ConditionTrue, string(gwv1.RouteReasonResolvedRefs))
	}
	if got := listenerStatus(t, st, "gw", "http").AttachedRoutes; got != 0 {
		t.Errorf("attachedRoutes = %d, want 0", got)
	}
}
