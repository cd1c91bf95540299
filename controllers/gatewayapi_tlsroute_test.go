package controllers

import (
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/bridgehead/bridgehead/internal/pki"
	"github.com/bridgehead/bridgehead/internal/snapshot"
	"github.com/bridgehead/bridgehead/internal/translate"
)

func gatewayTCPRoutes(kind, ns, name string) []*snapshot.TCPRoute {
	var out []*snapshot.TCPRoute
	if s := store.Load(); s != nil {
		for _, r := range s.TCPRoutes {
			if r.Source.Kind == kind && r.Source.Namespace == ns && r.Source.Name == name {
				out = append(out, r)
			}
		}
	}
	return out
}

// routeParentCondition reads a TLSRoute's or TCPRoute's one parent status from the API server.
func routeParentCondition(g Gomega, obj client.Object, typ string) *metav1.Condition {
	g.Expect(k8s.Get(bg(), client.ObjectKeyFromObject(obj), obj)).To(Succeed())
	var parents []gwv1.RouteParentStatus
	switch o := obj.(type) {
	case *gwv1.TLSRoute:
		parents = o.Status.Parents
	case *gwv1.TCPRoute:
		parents = o.Status.Parents
	}
	g.Expect(parents).To(HaveLen(1), "%s has no parent status of ours yet", obj.GetName())
	g.Expect(string(parents[0].ControllerName)).To(Equal(translate.GatewayController))
	c := apimeta.FindStatusCondition(parents[0].Conditions, typ)
	g.Expect(c).NotTo(BeNil())
	g.Expect(c.ObservedGeneration).To(Equal(obj.GetGeneration()))
	return c
}

func tlsRouteTo(ns, name, section, host, svc string) *gwv1.TLSRoute {
	return &gwv1.TLSRoute{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}, Spec: gwv1.TLSRouteSpec{
		CommonRouteSpec: gwv1.CommonRouteSpec{ParentRefs: []gwv1.ParentReference{{Name: "gw", SectionName: ptr.To(gwv1.SectionName(section))}}},
		Hostnames:       []gwv1.Hostname{gwv1.Hostname(host)},
		Rules: []gwv1.TLSRouteRule{{BackendRefs: []gwv1.BackendRef{{BackendObjectReference: gwv1.BackendObjectReference{
			Name: gwv1.ObjectName(svc), Port: ptr.To[gwv1.PortNumber](8080)}}}}},
	}}
}

var _ = Describe("Gateway API TLSRoute and TCPRoute", func() {
	It("serves TLSRoutes on Passthrough and Terminate listeners and a TCPRoute, with the spec's statuses", func() {
		ns := "gwapi-tls"
		create(namespace(ns))
		create(httpService(ns, "echo", "10.9.1.1")...)
		create(tlsSecret(ns, "edge", pki.MustCA("edge CA").MustIssue("tls.example.com", pki.Options{DNSNames: []string{"tls.example.com"}})))
		create(&gwv1.GatewayClass{ObjectMeta: metav1.ObjectMeta{Name: "bridgehead-tls"},
			Spec: gwv1.GatewayClassSpec{ControllerName: translate.GatewayController}})
		create(&gwv1.Gateway{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "gw"},
			Spec: gwv1.GatewaySpec{GatewayClassName: "bridgehead-tls", Listeners: []gwv1.Listener{
				{Name: "pass", Port: 443, Protocol: gwv1.TLSProtocolType, Hostname: ptr.To(gwv1.Hostname("*.example.com")),
					TLS: &gwv1.ListenerTLSConfig{Mode: ptr.To(gwv1.TLSModePassthrough)}},
				{Name: "term", Port: 443, Protocol: gwv1.TLSProtocolType, Hostname: ptr.To(gwv1.Hostname("tls.example.com")),
					TLS: &gwv1.ListenerTLSConfig{Mode: ptr.To(gwv1.TLSModeTerminate), CertificateRefs: []gwv1.SecretObjectReference{{Name: "edge"}}}},
				{Name: "tcp", Port: 9300, Protocol: gwv1.TCPProtocolType},
				{Name: "http", Port: 80, Protocol: gwv1.HTTPProtocolType},
			}}})
		pass := tlsRouteTo(ns, "pass", "pass", "db.example.com", "echo")
		term := tlsRouteTo(ns, "term", "term", "tls.example.com", "echo")
		onHTTP := tlsRouteTo(ns, "on-http", "http", "db.example.com", "echo")
		raw := &gwv1.TCPRoute{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "raw"}, Spec: gwv1.TCPRouteSpec{
			CommonRouteSpec: gwv1.CommonRouteSpec{ParentRefs: []gwv1.ParentReference{{Name: "gw", Port: ptr.To[gwv1.PortNumber](9300)}}},
			Rules: []gwv1.TCPRouteRule{{BackendRefs: []gwv1.BackendRef{{BackendObjectReference: gwv1.BackendObjectReference{
				Name: "echo", Port: ptr.To[gwv1.PortNumber](8080)}}}}}}}
		create(pass, term, onHTTP, raw)

		By("the GatewayClass lists TLSRoute, TLSRouteModeTerminate and TCPRoute")
		Eventually(func(g Gomega) {
			gc := &gwv1.GatewayClass{}
			g.Expect(k8s.Get(bg(), client.ObjectKey{Name: "bridgehead-tls"}, gc)).To(Succeed())
			for _, f := range []gwv1.FeatureName{"TLSRoute", "TLSRouteModeTerminate", "TCPRoute"} {
				g.Expect(gc.Status.SupportedFeatures).To(ContainElement(gwv1.SupportedFeature{Name: f}))
			}
		}).Should(Succeed())

		By("each route is Accepted with its references resolved, and served on its entry point in its mode")
		Eventually(func(g Gomega) {
			for _, r := range []client.Object{pass, term, raw} {
				g.Expect(routeParentCondition(g, r, string(gwv1.RouteConditionAccepted)).Status).To(Equal(metav1.ConditionTrue))
				g.Expect(routeParentCondition(g, r, string(gwv1.RouteConditionResolvedRefs)).Status).To(Equal(metav1.ConditionTrue))
			}
			p := gatewayTCPRoutes(translate.KindTLSRoute, ns, "pass")
			g.Expect(p).To(HaveLen(1))
			g.Expect(p[0].Match).To(Equal("HostSNI(`db.example.com`)"))
			g.Expect(p[0].EntryPoints).To(Equal([]string{"websecure"}))
			g.Expect(p[0].Passthrough).To(BeTrue())
			tm := gatewayTCPRoutes(translate.KindTLSRoute, ns, "term")
			g.Expect(tm).To(HaveLen(1))
			g.Expect(tm[0].Terminate).To(BeTrue())
			g.Expect(tm[0].Policy).NotTo(BeEmpty())
			rw := gatewayTCPRoutes(translate.KindTCPRoute, ns, "raw")
			g.Expect(rw).To(HaveLen(1))
			g.Expect(rw[0].EntryPoints).To(Equal([]string{"tcp9300"}))
			g.Expect(rw[0].Backends[0].Endpoints).To(HaveLen(1))
		}).Should(Succeed())

		By("a TLSRoute on an HTTP listener is NotAllowedByListeners, and the listeners count what attached")
		Eventually(func(g Gomega) {
			c := routeParentCondition(g, onHTTP, string(gwv1.RouteConditionAccepted))
			g.Expect(c.Status).To(Equal(metav1.ConditionFalse))
			g.Expect(c.Reason).To(Equal(string(gwv1.RouteReasonNotAllowedByListeners)))
			gw := &gwv1.Gateway{}
			g.Expect(k8s.Get(bg(), client.ObjectKey{Namespace: ns, Name: "gw"}, gw)).To(Succeed())
			g.Expect(gw.Status.Listeners).To(HaveLen(4))
			attached := map[gwv1.SectionName]int32{}
			for _, l := range gw.Status.Listeners {
				attached[l.Name] = l.AttachedRoutes
				prog := apimeta.FindStatusCondition(l.Conditions, string(gwv1.ListenerConditionProgrammed))
				g.Expect(prog).NotTo(BeNil())
				g.Expect(prog.Status).To(Equal(metav1.ConditionTrue), "listener %s: %s", l.Name, prog.Message)
			}
			g.Expect(attached).To(Equal(map[gwv1.SectionName]int32{"pass": 1, "term": 1, "tcp": 1, "http": 0}))
		}).Should(Succeed())

		By("a backend that does not exist: ResolvedRefs=False BackendNotFound, and the route closes its connections")
		Expect(k8s.Get(bg(), client.ObjectKeyFromObject(pass), pass)).To(Succeed())
		pass.Spec.Rules[0].BackendRefs[0].Name = "missing"
		Expect(k8s.Update(bg(), pass)).To(Succeed())
		Eventually(func(g Gomega) {
			c := routeParentCondition(g, pass, string(gwv1.RouteConditionResolvedRefs))
			g.Expect(c.Status).To(Equal(metav1.ConditionFalse))
			g.Expect(c.Reason).To(Equal(string(gwv1.RouteReasonBackendNotFound)))
			g.Expect(c.Message).To(ContainSubstring(`"missing"`))
			p := gatewayTCPRoutes(translate.KindTLSRoute, ns, "pass")
			g.Expect(p).To(HaveLen(1))
			g.Expect(p[0].Failure).NotTo(BeNil())
		}).Should(Succeed())
	})
})
