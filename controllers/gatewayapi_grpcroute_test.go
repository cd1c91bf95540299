package controllers

import (
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/bridgehead/bridgehead/internal/translate"
)

var _ = Describe("GRPCRoute", func() {
	It("is watched, served as h2c routes on the HTTP listener, and gets the spec's parent statuses", func() {
		ns := "gwapi-grpc"
		create(namespace(ns))
		create(httpService(ns, "echo", "10.9.0.2")...)
		httpGateway(ns, "bridgehead-grpc")
		create(&gwv1.GRPCRoute{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "echo"},
			Spec: gwv1.GRPCRouteSpec{
				CommonRouteSpec: gwv1.CommonRouteSpec{ParentRefs: []gwv1.ParentReference{{Name: "gw"}}},
				Rules: []gwv1.GRPCRouteRule{{
					Matches:     []gwv1.GRPCRouteMatch{{Method: &gwv1.GRPCMethodMatch{Service: ptr.To("grpc.echo.Echo"), Method: ptr.To("Say")}}},
					BackendRefs: []gwv1.GRPCBackendRef{{BackendRef: gwv1.BackendRef{BackendObjectReference: gwv1.BackendObjectReference{Name: "echo", Port: ptr.To[gwv1.PortNumber](8080)}}}},
				}},
			}})

		By("the route is Accepted with its references resolved, and the listener counts and lists it")
		Eventually(func(g Gomega) {
			gr := &gwv1.GRPCRoute{}
			g.Expect(k8s.Get(bg(), client.ObjectKey{Namespace: ns, Name: "echo"}, gr)).To(Succeed())
			g.Expect(gr.Status.Parents).To(HaveLen(1))
			g.Expect(string(gr.Status.Parents[0].ControllerName)).To(Equal(translate.GatewayController))
			for _, typ := range []gwv1.RouteConditionType{gwv1.RouteConditionAccepted, gwv1.RouteConditionResolvedRefs} {
				c := apimeta.FindStatusCondition(gr.Status.Parents[0].Conditions, string(typ))
				g.Expect(c).NotTo(BeNil())
				g.Expect(c.Status).To(Equal(metav1.ConditionTrue), "%s: %s", typ, c.Message)
				g.Expect(c.ObservedGeneration).To(Equal(gr.Generation))
			}
			gw := &gwv1.Gateway{}
			g.Expect(k8s.Get(bg(), client.ObjectKey{Namespace: ns, Name: "gw"}, gw)).To(Succeed())
			g.Expect(gw.Status.Listeners).To(HaveLen(1))
			g.Expect(gw.Status.Listeners[0].AttachedRoutes).To(Equal(int32(1)))
			g.Expect(gw.Status.Listeners[0].SupportedKinds).To(ContainElement(gwv1.RouteGroupKind{Group: ptr.To(gwv1.Group(gwv1.GroupName)), Kind: "GRPCRoute"}))
		}).Should(Succeed())
		Eventually(func(g Gomega) {
			s := store.Load()
			g.Expect(s).NotTo(BeNil())
			var found int
			for _, r := range s.HTTPRoutes {
				if r.Source.Kind == translate.KindGRPCRoute && r.Source.Namespace == ns {
					found++
					g.Expect(r.Match).To(Equal("Path(`/grpc.echo.Echo/Say`)"))
					g.Expect(r.Backends[0].Scheme).To(Equal("h2c"))
				}
			}
			g.Expect(found).To(Equal(1))
		}).Should(Succeed())

		By("a new route with a filter Bridgehead does not serve for GRPCRoute: Accepted=False UnsupportedValue naming the field")
		// (A newer version of a route that served is refused by lastgood instead: the
		// old generation keeps serving.)
		create(&gwv1.GRPCRoute{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "mirror"},
			Spec: gwv1.GRPCRouteSpec{
				CommonRouteSpec: gwv1.CommonRouteSpec{ParentRefs: []gwv1.ParentReference{{Name: "gw"}}},
				Hostnames:       []gwv1.Hostname{"mirror.example.com"},
				Rules: []gwv1.GRPCRouteRule{{
					Filters: []gwv1.GRPCRouteFilter{{Type: gwv1.GRPCRouteFilterRequestMirror,
						RequestMirror: &gwv1.HTTPRequestMirrorFilter{BackendRef: gwv1.BackendObjectReference{Name: "echo", Port: ptr.To[gwv1.PortNumber](8080)}}}},
					BackendRefs: []gwv1.GRPCBackendRef{{BackendRef: gwv1.BackendRef{BackendObjectReference: gwv1.BackendObjectReference{Name: "echo", Port: ptr.To[gwv1.PortNumber](8080)}}}},
				}},
			}})
		Eventually(func(g Gomega) {
			got := &gwv1.GRPCRoute{}
			g.Expect(k8s.Get(bg(), client.ObjectKey{Namespace: ns, Name: "mirror"}, got)).To(Succeed())
			g.Expect(got.Status.Parents).To(HaveLen(1))
			c := apimeta.FindStatusCondition(got.Status.Parents[0].Conditions, string(gwv1.RouteConditionAccepted))
			g.Expect(c).NotTo(BeNil())
			g.Expect(c.Status).To(Equal(metav1.ConditionFalse), "%+v gen %d filters %+v", c, got.Generation, got.Spec.Rules[0].Filters)
			g.Expect(c.Reason).To(Equal(string(gwv1.RouteReasonUnsupportedValue)))
			g.Expect(c.Message).To(ContainSubstring("spec.rules[0].filters[0].requestMirror"))
			g.Expect(c.ObservedGeneration).To(Equal(got.Generation))
		}).Should(Succeed())
	})
})
