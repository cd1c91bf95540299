package controllers

import (
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/bridgehead/bridgehead/internal/translate"
)

var _ = Describe("Gateway API HTTPRoute filters", func() {
	It("serves a rule's filters, mirror and timeouts through the API server, and refuses CORS on the route", func() {
		ns := "gwapi-filters"
		create(namespace(ns))
		create(httpService(ns, "echo", "10.9.1.1")...)
		create(&gwv1.GatewayClass{ObjectMeta: metav1.ObjectMeta{Name: "bridgehead-filters"},
			Spec: gwv1.GatewayClassSpec{ControllerName: translate.GatewayController}})
		create(&gwv1.Gateway{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "gw"},
			Spec: gwv1.GatewaySpec{GatewayClassName: "bridgehead-filters", Listeners: []gwv1.Listener{{Name: "http", Port: 80, Protocol: gwv1.HTTPProtocolType}}}})
		echo := gwv1.HTTPBackendRef{BackendRef: gwv1.BackendRef{BackendObjectReference: gwv1.BackendObjectReference{Name: "echo", Port: ptr.To[gwv1.PortNumber](8080)}}}
		create(&gwv1.HTTPRoute{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "filtered"},
			Spec: gwv1.HTTPRouteSpec{
				CommonRouteSpec: gwv1.CommonRouteSpec{ParentRefs: []gwv1.ParentReference{{Name: "gw"}}},
				Rules: []gwv1.HTTPRouteRule{{
					BackendRefs: []gwv1.HTTPBackendRef{echo},
					Filters: []gwv1.HTTPRouteFilter{
						{Type: gwv1.HTTPRouteFilterRequestHeaderModifier, RequestHeaderModifier: &gwv1.HTTPHeaderFilter{Set: []gwv1.HTTPHeader{{Name: "X-Set", Value: "v"}}}},
						{Type: gwv1.HTTPRouteFilterRequestMirror, RequestMirror: &gwv1.HTTPRequestMirrorFilter{
							BackendRef: gwv1.BackendObjectReference{Name: "shadow", Port: ptr.To[gwv1.PortNumber](8080)}, Percent: ptr.To[int32](50)}},
					},
					Timeouts: &gwv1.HTTPRouteTimeouts{Request: ptr.To[gwv1.Duration]("10s"), BackendRequest: ptr.To[gwv1.Duration]("2s")},
				}},
			}})

		By("the mirror's Service does not exist yet: ResolvedRefs=False BackendNotFound, the copies dropped, the rule served")
		Eventually(func(g Gomega) {
			c := parentCondition(g, ns, "filtered", string(gwv1.RouteConditionResolvedRefs))
			g.Expect(c.Status).To(Equal(metav1.ConditionFalse))
			g.Expect(c.Reason).To(Equal(string(gwv1.RouteReasonBackendNotFound)))
			g.Expect(c.Message).To(ContainSubstring("requestMirror"))
			routes := gatewayHTTPRoutes(ns, "filtered")
			g.Expect(routes).To(HaveLen(1))
			g.Expect(routes[0].Failure).To(BeNil())
			g.Expect(routes[0].Balance).To(BeNil())
			g.Expect(routes[0].Middlewares).To(HaveLen(1))
			g.Expect(routes[0].Middlewares[0].RequestHeaderModifier).NotTo(BeNil())
			g.Expect(routes[0].Timeouts).NotTo(BeNil())
			g.Expect(routes[0].Timeouts.Request).To(Equal(10 * time.Second))
			g.Expect(routes[0].Timeouts.BackendRequest).To(Equal(2 * time.Second))
		}).Should(Succeed())

		By("the Service appears: the mirror is served and the route resolves")
		create(httpService(ns, "shadow", "10.9.1.2")...)
		Eventually(func(g Gomega) {
			g.Expect(parentCondition(g, ns, "filtered", string(gwv1.RouteConditionResolvedRefs)).Status).To(Equal(metav1.ConditionTrue))
			routes := gatewayHTTPRoutes(ns, "filtered")
			g.Expect(routes).To(HaveLen(1))
			g.Expect(routes[0].Balance).NotTo(BeNil())
			g.Expect(routes[0].Balance.Mirroring).NotTo(BeNil())
			g.Expect(routes[0].Balance.Mirroring.Mirrors).To(HaveLen(1))
			g.Expect(routes[0].Balance.Mirroring.Mirrors[0].Percent).To(Equal(50))
		}).Should(Succeed())

		By("a new route with a CORS filter is not served: Accepted=False UnsupportedValue naming it, and the rule answers 500")
		// (A served route edited to add one keeps its last good version: internal/lastgood.)
		create(&gwv1.HTTPRoute{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "cors"},
			Spec: gwv1.HTTPRouteSpec{
				CommonRouteSpec: gwv1.CommonRouteSpec{ParentRefs: []gwv1.ParentReference{{Name: "gw"}}},
				Hostnames:       []gwv1.Hostname{"cors.example"},
				Rules: []gwv1.HTTPRouteRule{{BackendRefs: []gwv1.HTTPBackendRef{echo}, Filters: []gwv1.HTTPRouteFilter{{Type: gwv1.HTTPRouteFilterCORS,
					CORS: &gwv1.HTTPCORSFilter{AllowOrigins: []gwv1.CORSOrigin{"https://a.example"}}}}}},
			}})
		Eventually(func(g Gomega) {
			c := parentCondition(g, ns, "cors", string(gwv1.RouteConditionAccepted))
			g.Expect(c.Status).To(Equal(metav1.ConditionFalse))
			g.Expect(c.Reason).To(Equal(string(gwv1.RouteReasonUnsupportedValue)))
			g.Expect(c.Message).To(ContainSubstring("spec.rules[0].filters[0]: filter type CORS"))
			routes := gatewayHTTPRoutes(ns, "cors")
			g.Expect(routes).To(HaveLen(1))
			g.Expect(routes[0].Failure).NotTo(BeNil())
			g.Expect(routes[0].Failure.Status).To(Equal(500))
		}).Should(Succeed())
	})
})
