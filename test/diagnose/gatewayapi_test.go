package diagnose

import (
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	diag "github.com/bridgehead/bridgehead/internal/diagnose"
	"github.com/bridgehead/bridgehead/internal/translate"
)

// httpRouteSetup is a Gateway of Bridgehead's class with an HTTP listener for host, and an
// HTTPRoute to the plain HTTP backend.
func httpRouteSetup() (*setup, *gwv1.Gateway, *gwv1.HTTPRoute) {
	s := newSetup()
	s.route, s.transport, s.backendPlain = nil, nil, true
	s.service.Spec.Ports = []corev1.ServicePort{{Name: "http", Port: 80}}
	s.slice.Ports[0].Name = ptr.To("http")
	class := &gwv1.GatewayClass{ObjectMeta: metav1.ObjectMeta{Name: "bridgehead-diagnose"}, Spec: gwv1.GatewayClassSpec{ControllerName: translate.GatewayController}}
	gw := &gwv1.Gateway{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "edge"}, Spec: gwv1.GatewaySpec{GatewayClassName: "bridgehead-diagnose",
		Listeners: []gwv1.Listener{{Name: "http", Port: 80, Protocol: gwv1.HTTPProtocolType, Hostname: ptr.To(gwv1.Hostname(host))}}}}
	hr := &gwv1.HTTPRoute{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "app"}, Spec: gwv1.HTTPRouteSpec{
		CommonRouteSpec: gwv1.CommonRouteSpec{ParentRefs: []gwv1.ParentReference{{Name: "edge"}}},
		Rules: []gwv1.HTTPRouteRule{{BackendRefs: []gwv1.HTTPBackendRef{{BackendRef: gwv1.BackendRef{
			BackendObjectReference: gwv1.BackendObjectReference{Name: "backend", Port: ptr.To[gwv1.PortNumber](80)}}}}}},
	}}
	s.extra = append(s.extra, class, gw, hr)
	return s, gw, hr
}

var httpRouteTarget = diag.Target{Kind: translate.KindHTTPRoute, Namespace: ns, Name: "app"}

// TestHTTPRouteInCluster walks an HTTPRoute read from a real API server: Gateway,
// listener, the route's parent conditions, the rule, the Service and a real request to
// the endpoint; then the causes a user meets, each named with its fix.
func TestHTTPRouteInCluster(t *testing.T) {
	t.Run("working", func(t *testing.T) {
		s, _, _ := httpRouteSetup()
		d := s.inCluster(t, httpRouteTarget)
		if d.report.Verdict != diag.OK {
			t.Fatalf("verdict %s, want OK:\n%s", d.report.Verdict, d.text)
		}
		for _, want := range []string{"Gateway", "Listener", "attached to listener http", "plain HTTP to a backend unless one does"} {
			if !strings.Contains(d.text, want) {
				t.Errorf("the report does not say %q:\n%s", want, d.text)
			}
		}
	})
	for _, c := range []struct {
		name    string
		breakIt func(gw *gwv1.Gateway, hr *gwv1.HTTPRoute)
		reason  string
		says    []string
	}{
		{"hostname that no listener takes", func(_ *gwv1.Gateway, hr *gwv1.HTTPRoute) {
			hr.Spec.Hostnames = []gwv1.Hostname{"other.example.test"}
		}, string(gwv1.RouteReasonNoMatchingListenerHostname), []string{"listener http", "spec.hostnames"}},
		{"missing Service", func(_ *gwv1.Gateway, hr *gwv1.HTTPRoute) {
			hr.Spec.Rules[0].BackendRefs[0].Name = "gone"
		}, string(gwv1.RouteReasonBackendNotFound), []string{`"gone"`, "500"}},
		{"Service in another namespace without a ReferenceGrant", func(_ *gwv1.Gateway, hr *gwv1.HTTPRoute) {
			hr.Spec.Rules[0].BackendRefs[0].Namespace = ptr.To(gwv1.Namespace("elsewhere"))
		}, string(gwv1.RouteReasonRefNotPermitted), []string{"ReferenceGrant", "elsewhere"}},
		{"listener on a port of no entry point", func(gw *gwv1.Gateway, _ *gwv1.HTTPRoute) {
			gw.Spec.Listeners[0].Port = 9999
		}, string(gwv1.ListenerReasonPortUnavailable), []string{"9999", "80: web"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			s, gw, hr := httpRouteSetup()
			c.breakIt(gw, hr)
			d := s.inCluster(t, httpRouteTarget)
			hops := d.hop(diag.Fail, c.reason)
			if len(hops) == 0 {
				t.Fatalf("no failed hop with reason %s:\n%s", c.reason, d.text)
			}
			text := hopText(hops[0])
			for _, want := range c.says {
				if !strings.Contains(text, want) {
					t.Errorf("the %s hop does not say %q:\n%s", c.reason, want, text)
				}
			}
		})
	}
}
