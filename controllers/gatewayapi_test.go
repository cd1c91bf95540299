package controllers

import (
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/bridgehead/bridgehead/internal/snapshot"
	"github.com/bridgehead/bridgehead/internal/translate"
)

// httpService is a Service with a plain port and a ready endpoint (never dialled here).
func httpService(ns, name, ip string) []client.Object {
	return []client.Object{
		&corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
			Spec: corev1.ServiceSpec{Ports: []corev1.ServicePort{{Name: "http", Port: 8080}}}},
		&discoveryv1.EndpointSlice{
			ObjectMeta:  metav1.ObjectMeta{Namespace: ns, Name: name + "-1", Labels: map[string]string{discoveryv1.LabelServiceName: name}},
			AddressType: discoveryv1.AddressTypeIPv4,
			Ports:       []discoveryv1.EndpointPort{{Name: ptr.To("http"), Port: ptr.To[int32](3000)}},
			Endpoints:   []discoveryv1.Endpoint{{Addresses: []string{ip}, Conditions: discoveryv1.EndpointConditions{Ready: ptr.To(true)}}},
		},
	}
}

// httpGateway creates the GatewayClass class of ours and, in ns, the Gateway "gw" of that
// class with one HTTP listener, "http" on port 80.
func httpGateway(ns, class string) {
	GinkgoHelper()
	create(&gwv1.GatewayClass{ObjectMeta: metav1.ObjectMeta{Name: class},
		Spec: gwv1.GatewayClassSpec{ControllerName: translate.GatewayController}})
	create(&gwv1.Gateway{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "gw"},
		Spec: gwv1.GatewaySpec{GatewayClassName: gwv1.ObjectName(class), Listeners: []gwv1.Listener{{Name: "http", Port: 80, Protocol: gwv1.HTTPProtocolType}}}})
}

// httpRouteTo is the HTTPRoute name in ns, on the Gateway "gw", for host, with one rule
// to port 8080 of service.
func httpRouteTo(ns, name, host, service string) *gwv1.HTTPRoute {
	return &gwv1.HTTPRoute{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec: gwv1.HTTPRouteSpec{
			CommonRouteSpec: gwv1.CommonRouteSpec{ParentRefs: []gwv1.ParentReference{{Name: "gw"}}},
			Hostnames:       []gwv1.Hostname{gwv1.Hostname(host)},
			Rules: []gwv1.HTTPRouteRule{{BackendRefs: []gwv1.HTTPBackendRef{{BackendRef: gwv1.BackendRef{
				BackendObjectReference: gwv1.BackendObjectReference{Name: gwv1.ObjectName(service), Port: ptr.To[gwv1.PortNumber](8080)}}}}}},
		}}
}

func gatewayHTTPRoutes(ns, name string) []*snapshot.HTTPRoute {
	var out []*snapshot.HTTPRoute
	if s := store.Load(); s != nil {
		for _, r := range s.HTTPRoutes {
			if r.Source.Kind == translate.KindHTTPRoute && r.Source.Namespace == ns && r.Source.Name == name {
				out = append(out, r)
			}
		}
	}
	return out
}

func parentCondition(g Gomega, ns, name, typ string) *metav1.Condition {
	hr := &gwv1.HTTPRoute{}
	g.Expect(k8s.Get(bg(), client.ObjectKey{Namespace: ns, Name: name}, hr)).To(Succeed())
	g.Expect(hr.Status.Parents).To(HaveLen(1), "HTTPRoute %s/%s has no parent status of ours yet", ns, name)
	g.Expect(string(hr.Status.Parents[0].ControllerName)).To(Equal(translate.GatewayController))
	c := apimeta.FindStatusCondition(hr.Status.Parents[0].Conditions, typ)
	g.Expect(c).NotTo(BeNil())
	g.Expect(c.ObservedGeneration).To(Equal(hr.Generation))
	return c
}

var _ = Describe("Gateway API objects", func() {
	It("serves an HTTPRoute attached to a Gateway of our GatewayClass, with the spec's statuses", func() {
		ns := "gwapi-basic"
		create(namespace(ns))
		create(httpService(ns, "echo", "10.9.0.1")...)
		create(&gwv1.GatewayClass{ObjectMeta: metav1.ObjectMeta{Name: "bridgehead-basic"},
			Spec: gwv1.GatewayClassSpec{ControllerName: translate.GatewayController}})
		create(&gwv1.Gateway{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "gw"},
			Spec: gwv1.GatewaySpec{GatewayClassName: "bridgehead-basic", Listeners: []gwv1.Listener{
				{Name: "http", Port: 80, Protocol: gwv1.HTTPProtocolType},
				{Name: "odd", Port: 9999, Protocol: gwv1.HTTPProtocolType},
			}}})
		create(&gwv1.HTTPRoute{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "web"},
			Spec: gwv1.HTTPRouteSpec{
				CommonRouteSpec: gwv1.CommonRouteSpec{ParentRefs: []gwv1.ParentReference{{Name: "gw", SectionName: ptr.To[gwv1.SectionName]("http")}}},
				Hostnames:       []gwv1.Hostname{"app.example.com"},
				Rules: []gwv1.HTTPRouteRule{{
					Matches:     []gwv1.HTTPRouteMatch{{Path: &gwv1.HTTPPathMatch{Type: ptr.To(gwv1.PathMatchPathPrefix), Value: ptr.To("/api")}}},
					BackendRefs: []gwv1.HTTPBackendRef{{BackendRef: gwv1.BackendRef{BackendObjectReference: gwv1.BackendObjectReference{Name: "echo", Port: ptr.To[gwv1.PortNumber](8080)}}}},
				}},
			}})

		By("the GatewayClass is Accepted and lists its features")
		Eventually(func(g Gomega) {
			gc := &gwv1.GatewayClass{}
			g.Expect(k8s.Get(bg(), client.ObjectKey{Name: "bridgehead-basic"}, gc)).To(Succeed())
			c := apimeta.FindStatusCondition(gc.Status.Conditions, string(gwv1.GatewayClassConditionStatusAccepted))
			g.Expect(c).NotTo(BeNil())
			g.Expect(c.Status).To(Equal(metav1.ConditionTrue))
			g.Expect(gc.Status.SupportedFeatures).To(ContainElement(gwv1.SupportedFeature{Name: "HTTPRoute"}))
		}).Should(Succeed())

		By("the listener on port 80 takes the route; the one on a port of no entry point is refused, naming the ports")
		Eventually(func(g Gomega) {
			gw := &gwv1.Gateway{}
			g.Expect(k8s.Get(bg(), client.ObjectKey{Namespace: ns, Name: "gw"}, gw)).To(Succeed())
			g.Expect(gw.Status.Listeners).To(HaveLen(2))
			g.Expect(gw.Status.Listeners[0].AttachedRoutes).To(Equal(int32(1)))
			prog := apimeta.FindStatusCondition(gw.Status.Listeners[0].Conditions, string(gwv1.ListenerConditionProgrammed))
			g.Expect(prog).NotTo(BeNil())
			g.Expect(prog.Status).To(Equal(metav1.ConditionTrue))
			odd := apimeta.FindStatusCondition(gw.Status.Listeners[1].Conditions, string(gwv1.ListenerConditionAccepted))
			g.Expect(odd).NotTo(BeNil())
			g.Expect(odd.Reason).To(Equal(string(gwv1.ListenerReasonPortUnavailable)))
			g.Expect(odd.Message).To(ContainSubstring("80: web"))
			acc := apimeta.FindStatusCondition(gw.Status.Conditions, string(gwv1.GatewayConditionAccepted))
			g.Expect(acc).NotTo(BeNil())
			g.Expect(acc.Reason).To(Equal(string(gwv1.GatewayReasonListenersNotValid)))
		}).Should(Succeed())

		By("the route is Accepted with its references resolved, and served on web for its host and path")
		Eventually(func(g Gomega) {
			g.Expect(parentCondition(g, ns, "web", string(gwv1.RouteConditionAccepted)).Status).To(Equal(metav1.ConditionTrue))
			g.Expect(parentCondition(g, ns, "web", string(gwv1.RouteConditionResolvedRefs)).Status).To(Equal(metav1.ConditionTrue))
			routes := gatewayHTTPRoutes(ns, "web")
			g.Expect(routes).To(HaveLen(1))
			g.Expect(routes[0].EntryPoints).To(Equal([]string{"web"}))
			g.Expect(routes[0].Match).To(Equal("Host(`app.example.com`) && (Path(`/api`) || PathPrefix(`/api/`))"))
			g.Expect(routes[0].Backends).To(HaveLen(1))
			g.Expect(routes[0].Backends[0].Endpoints).To(HaveLen(1))
		}).Should(Succeed())

		By("a backend that does not exist: ResolvedRefs=False BackendNotFound, and its requests get 500")
		hr := &gwv1.HTTPRoute{}
		Expect(k8s.Get(bg(), client.ObjectKey{Namespace: ns, Name: "web"}, hr)).To(Succeed())
		hr.Spec.Rules[0].BackendRefs[0].Name = "missing"
		Expect(k8s.Update(bg(), hr)).To(Succeed())
		Eventually(func(g Gomega) {
			c := parentCondition(g, ns, "web", string(gwv1.RouteConditionResolvedRefs))
			g.Expect(c.Status).To(Equal(metav1.ConditionFalse))
			g.Expect(c.Reason).To(Equal(string(gwv1.RouteReasonBackendNotFound)))
			g.Expect(c.Message).To(ContainSubstring(`"missing"`))
			routes := gatewayHTTPRoutes(ns, "web")
			g.Expect(routes).To(HaveLen(1))
			g.Expect(routes[0].Backends[0].Failure).NotTo(BeNil())
			g.Expect(routes[0].Backends[0].Failure.Status).To(Equal(500))
		}).Should(Succeed())
	})

	It("takes its parent status off a route whose Gateway is deleted", func() {
		ns := "gwapi-gone"
		create(namespace(ns))
		create(httpService(ns, "echo", "10.9.0.2")...)
		create(&gwv1.GatewayClass{ObjectMeta: metav1.ObjectMeta{Name: "bridgehead-gone"},
			Spec: gwv1.GatewayClassSpec{ControllerName: translate.GatewayController}})
		gw := &gwv1.Gateway{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "gw"},
			Spec: gwv1.GatewaySpec{GatewayClassName: "bridgehead-gone", Listeners: []gwv1.Listener{{Name: "http", Port: 80, Protocol: gwv1.HTTPProtocolType}}}}
		create(gw)
		create(&gwv1.HTTPRoute{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "web"},
			Spec: gwv1.HTTPRouteSpec{
				CommonRouteSpec: gwv1.CommonRouteSpec{ParentRefs: []gwv1.ParentReference{{Name: "gw"}}},
				Rules: []gwv1.HTTPRouteRule{{BackendRefs: []gwv1.HTTPBackendRef{{BackendRef: gwv1.BackendRef{
					BackendObjectReference: gwv1.BackendObjectReference{Name: "echo", Port: ptr.To[gwv1.PortNumber](8080)}}}}}},
			}})
		Eventually(func(g Gomega) {
			g.Expect(parentCondition(g, ns, "web", string(gwv1.RouteConditionAccepted)).Status).To(Equal(metav1.ConditionTrue))
		}).Should(Succeed())
		Expect(k8s.Delete(bg(), gw)).To(Succeed())
		Eventually(func(g Gomega) {
			hr := &gwv1.HTTPRoute{}
			g.Expect(k8s.Get(bg(), client.ObjectKey{Namespace: ns, Name: "web"}, hr)).To(Succeed())
			g.Expect(hr.Status.Parents).To(BeEmpty(), "an Accepted=True of ours must not outlive the Gateway")
			g.Expect(gatewayHTTPRoutes(ns, "web")).To(BeEmpty())
		}).Should(Succeed())
	})

	It("keeps serving the last good HTTPRoute when an edit is refused, and says so on the newest generation", func() {
		ns := "gwapi-lastgood"
		create(namespace(ns))
		create(httpService(ns, "echo", "10.9.0.3")...)
		httpGateway(ns, "bridgehead-lastgood")
		create(httpRouteTo(ns, "web", "lastgood.example.com", "echo"))
		Eventually(func(g Gomega) {
			g.Expect(parentCondition(g, ns, "web", string(gwv1.RouteConditionAccepted)).Status).To(Equal(metav1.ConditionTrue))
		}).Should(Succeed())

		By("an edit adding a filter Bridgehead refuses (CORS)")
		hr := &gwv1.HTTPRoute{}
		Expect(k8s.Get(bg(), client.ObjectKey{Namespace: ns, Name: "web"}, hr)).To(Succeed())
		hr.Spec.Rules[0].Filters = []gwv1.HTTPRouteFilter{{Type: gwv1.HTTPRouteFilterCORS, CORS: &gwv1.HTTPCORSFilter{AllowOrigins: []gwv1.CORSOrigin{"https://a.example.com"}}}}
		Expect(k8s.Update(bg(), hr)).To(Succeed())
		Eventually(func(g Gomega) {
			c := parentCondition(g, ns, "web", string(gwv1.RouteConditionAccepted)) // ObservedGeneration: the newest
			g.Expect(c.Status).To(Equal(metav1.ConditionFalse))
			g.Expect(c.Reason).To(Equal(string(gwv1.RouteReasonUnsupportedValue)))
			g.Expect(c.Message).To(And(ContainSubstring("CORS"), ContainSubstring("generation 1, the last that was accepted, serves meanwhile")))
			routes := gatewayHTTPRoutes(ns, "web")
			g.Expect(routes).To(HaveLen(1))
			g.Expect(routes[0].Failure).To(BeNil(), "the last good generation keeps serving")
		}).Should(Succeed())
	})

	It("leaves Gateways of other controllers' classes alone", func() {
		ns := "gwapi-foreign"
		create(namespace(ns))
		create(&gwv1.GatewayClass{ObjectMeta: metav1.ObjectMeta{Name: "someone-else"},
			Spec: gwv1.GatewayClassSpec{ControllerName: "example.com/other"}})
		create(&gwv1.Gateway{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "gw"},
			Spec: gwv1.GatewaySpec{GatewayClassName: "someone-else", Listeners: []gwv1.Listener{{Name: "http", Port: 80, Protocol: gwv1.HTTPProtocolType}}}})
		create(&gwv1.HTTPRoute{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "web"},
			Spec: gwv1.HTTPRouteSpec{CommonRouteSpec: gwv1.CommonRouteSpec{ParentRefs: []gwv1.ParentReference{{Name: "gw"}}}}})
		marker := namespace(ns + "-marker")
		create(marker)
		// A rebuild after the objects exist, then: still nothing of ours on them.
		before := rebuildCount()
		Eventually(rebuildCount).Should(BeNumerically(">", before))
		Consistently(func(g Gomega) {
			gw := &gwv1.Gateway{}
			g.Expect(k8s.Get(bg(), client.ObjectKey{Namespace: ns, Name: "gw"}, gw)).To(Succeed())
			g.Expect(gw.Status.Listeners).To(BeEmpty())
			hr := &gwv1.HTTPRoute{}
			g.Expect(k8s.Get(bg(), client.ObjectKey{Namespace: ns, Name: "web"}, hr)).To(Succeed())
			g.Expect(hr.Status.Parents).To(BeEmpty())
			g.Expect(gatewayHTTPRoutes(ns, "web")).To(BeEmpty())
		}).WithTimeout(2 * time.Second).Should(Succeed())

	})
})

var _ = Describe("BackendTLSPolicies", func() {
	It("rebuild only when a route sends to a Service they target, and serve once one does", func() {
		ns := "gwapi-btls-sent"
		create(namespace(ns))
		create(httpService(ns, "used", "10.9.0.7")...)
		create(httpService(ns, "spare", "10.9.0.8")...)
		httpGateway(ns, "bridgehead-btls-sent")
		create(httpRouteTo(ns, "web", "btls-sent.example.com", "used"))
		policy := func(name, target string) *gwv1.BackendTLSPolicy {
			return &gwv1.BackendTLSPolicy{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
				Spec: gwv1.BackendTLSPolicySpec{
					TargetRefs: []gwv1.LocalPolicyTargetReferenceWithSectionName{{LocalPolicyTargetReference: gwv1.LocalPolicyTargetReference{Kind: "Service", Name: gwv1.ObjectName(target)}}},
					Validation: gwv1.BackendTLSPolicyValidation{WellKnownCACertificates: ptr.To(gwv1.WellKnownCACertificatesSystem), Hostname: "app.internal"},
				}}
		}
		// backendTransport is the transport the route's backend is reached through ("" in
		// plain HTTP).
		backendTransport := func(g Gomega) string {
			routes := gatewayHTTPRoutes(ns, "web")
			g.Expect(routes).To(HaveLen(1))
			g.Expect(routes[0].Backends).To(HaveLen(1))
			return routes[0].Backends[0].Transport
		}
		Eventually(func(g Gomega) {
			g.Expect(parentCondition(g, ns, "web", string(gwv1.RouteConditionAccepted)).Status).To(Equal(metav1.ConditionTrue))
			g.Expect(backendTransport(g)).To(BeEmpty())
		}).Should(Succeed())

		By("a policy of a Service no route sends to does not rebuild")
		before := rebuildCount()
		create(policy("spare-tls", "spare"))
		Consistently(rebuildCount).WithTimeout(time.Second).Should(Equal(before))

		By("a policy of the route's Service does, and the route's backend is verified with it")
		create(policy("used-tls", "used"))
		Eventually(backendTransport).Should(Equal("BackendTLSPolicy/" + ns + "/used-tls"))

		By("retargeted to the spare Service, the policy no longer applies to the route")
		// (Read and written again until no status write comes in between.)
		Eventually(func(g Gomega) {
			p := &gwv1.BackendTLSPolicy{}
			g.Expect(k8s.Get(bg(), client.ObjectKey{Namespace: ns, Name: "used-tls"}, p)).To(Succeed())
			p.Spec.TargetRefs[0].Name = "spare"
			g.Expect(k8s.Update(bg(), p)).To(Succeed())
		}).Should(Succeed())
		Eventually(backendTransport).Should(BeEmpty())

		By("the route sent to the spare Service: the policy first created without a rebuild verifies it")
		Eventually(func(g Gomega) {
			hr := &gwv1.HTTPRoute{}
			g.Expect(k8s.Get(bg(), client.ObjectKey{Namespace: ns, Name: "web"}, hr)).To(Succeed())
			hr.Spec.Rules[0].BackendRefs[0].Name = "spare"
			g.Expect(k8s.Update(bg(), hr)).To(Succeed())
		}).Should(Succeed())
		// The older of the two policies of the Service wins (GEP-1897).
		Eventually(backendTransport).Should(Equal("BackendTLSPolicy/" + ns + "/spare-tls"))
	})
})
