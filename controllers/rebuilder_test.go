package controllers

import (
	"context"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	eventsv1 "k8s.io/api/events/v1"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	bhv1 "github.com/bridgehead/bridgehead/api/v1alpha1"
	"github.com/bridgehead/bridgehead/internal/pki"
	"github.com/bridgehead/bridgehead/internal/snapshot"
)

func bg() context.Context { return context.Background() }

func create(objs ...client.Object) {
	GinkgoHelper()
	for _, o := range objs {
		Expect(k8s.Create(bg(), o)).To(Succeed(), "creating %T %s", o, o.GetName())
	}
}

func namespace(name string) *corev1.Namespace {
	return &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}
}

func tlsSecret(ns, name string, leaf *pki.Leaf) *corev1.Secret {
	return &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}, Type: corev1.SecretTypeTLS,
		Data: map[string][]byte{"tls.crt": leaf.CertPEM, "tls.key": leaf.KeyPEM}}
}

func caSecret(ns, name string, ca *pki.CA) *corev1.Secret {
	return &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}, Data: map[string][]byte{"ca.crt": ca.PEM}}
}

// httpsService is a Service with an https port and a ready endpoint. The address is never
// dialled here (the API server refuses loopback addresses in EndpointSlices).
func httpsService(ns, name, ip string) []client.Object {
	return []client.Object{
		&corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
			Spec: corev1.ServiceSpec{Ports: []corev1.ServicePort{{Name: "https", Port: 443}}}},
		&discoveryv1.EndpointSlice{
			ObjectMeta:  metav1.ObjectMeta{Namespace: ns, Name: name + "-1", Labels: map[string]string{discoveryv1.LabelServiceName: name}},
			AddressType: discoveryv1.AddressTypeIPv4,
			Ports:       []discoveryv1.EndpointPort{{Name: ptr.To("https"), Port: ptr.To[int32](8443)}},
			Endpoints:   []discoveryv1.Endpoint{{Addresses: []string{ip}, Conditions: discoveryv1.EndpointConditions{Ready: ptr.To(true)}}},
		},
	}
}

func route(ns, name, host, svc, transport, tlsSecretName, option string) *bhv1.IngressRoute {
	ir := &bhv1.IngressRoute{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec: bhv1.IngressRouteSpec{
			EntryPoints: []string{"websecure"},
			Routes: []bhv1.Route{{Match: "Host(`" + host + "`)", Services: []bhv1.Service{{
				Name: svc, Port: "443", ServersTransport: transport,
			}}}},
			TLS: &bhv1.TLS{SecretName: bhv1.SecretName(tlsSecretName)},
		},
	}
	if option != "" {
		ir.Spec.TLS.Options = &bhv1.ObjectReference{Name: option}
	}
	return ir
}

// readyCondition reads the IngressRoute's Ready condition from the API server.
func readyCondition(g Gomega, ns, name string) *metav1.Condition {
	ir := &bhv1.IngressRoute{}
	g.Expect(k8s.Get(bg(), client.ObjectKey{Namespace: ns, Name: name}, ir)).To(Succeed())
	c := apimeta.FindStatusCondition(ir.Status.Conditions, string(bhv1.ConditionReady))
	g.Expect(c).NotTo(BeNil(), "IngressRoute %s/%s has no Ready condition yet", ns, name)
	g.Expect(c.ObservedGeneration).To(Equal(ir.Generation))
	return c
}

func routeInSnapshot(id string) *snapshot.HTTPRoute {
	if s := store.Load(); s != nil {
		for _, r := range s.HTTPRoutes {
			if r.ID == id {
				return r
			}
		}
	}
	return nil
}

var _ = Describe("the gateway controller", func() {
	It("is ready once the first snapshot is stored", func() {
		Eventually(func() error { return gateway.ReadyCheck(nil) }).WithTimeout(30 * time.Second).Should(Succeed())
	})

	Describe("the Traefik end-to-end TLS example", Ordered, func() {
		const ns = "web"
		backendCA := pki.MustCA("backend CA")
		clientCA := pki.MustCA("client CA")
		edgeCA := pki.MustCA("edge CA")

		BeforeAll(func() {
			create(namespace(ns),
				tlsSecret(ns, "web-tls", edgeCA.MustIssue("web.example.com", pki.Options{DNSNames: []string{"web.example.com"}})),
				caSecret(ns, "backend-ca", backendCA),
				caSecret(ns, "client-ca", clientCA),
				&bhv1.ServersTransport{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "web-transport"},
					Spec: bhv1.ServersTransportSpec{UpstreamTLS: bhv1.UpstreamTLS{
						ServerName: "backend.web.svc", RootCAs: []bhv1.RootCA{{Secret: ptr.To(bhv1.SecretName("backend-ca"))}},
					}}},
				&bhv1.TLSOption{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "mtls"},
					Spec: bhv1.TLSOptionSpec{ClientAuth: bhv1.ClientAuth{ClientAuthType: bhv1.RequireAndVerifyClientCert, SecretNames: []bhv1.SecretName{"client-ca"}}}},
				route(ns, "web-ingressroute", "web.example.com", "backend", "web-transport", "web-tls", "mtls"),
				route(ns, "other", "other.example.com", "other", "", "", ""),
			)
			create(httpsService(ns, "backend", "10.0.0.11")...)
			create(httpsService(ns, "other", "10.0.0.21")...)
		})

		It("serves the routes and marks them Ready", func() {
			Eventually(func(g Gomega) {
				c := readyCondition(g, ns, "web-ingressroute")
				g.Expect(c.Status).To(Equal(metav1.ConditionTrue), c.Message)
				r := routeInSnapshot("web/web-ingressroute/0")
				g.Expect(r).NotTo(BeNil())
				g.Expect(r.Policy).To(Equal("web/mtls"))
				g.Expect(r.Backends[0].Transport).To(Equal("ServersTransport/web/web-transport"))
				g.Expect(r.Backends[0].ServerName).To(Equal("backend.web.svc"))
				g.Expect(r.Backends[0].Endpoints).To(ConsistOf(snapshot.Endpoint{Address: "10.0.0.11:8443"}))
			}).Should(Succeed())
			ir := &bhv1.IngressRoute{}
			Expect(k8s.Get(bg(), client.ObjectKey{Namespace: ns, Name: "web-ingressroute"}, ir)).To(Succeed())
			Expect(ir.Status.Hosts).To(Equal([]string{"web.example.com"}))
		})

		It("turns the route Ready=False within 2s when the CA Secret is deleted, and keeps the rest serving", func() {
			Expect(k8s.Delete(bg(), &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "backend-ca"}})).To(Succeed())
			Eventually(func(g Gomega) {
				c := readyCondition(g, ns, "web-ingressroute")
				g.Expect(c.Status).To(Equal(metav1.ConditionFalse))
				g.Expect(c.Reason).To(Equal(string(bhv1.ReasonCASecretNotFound)))
				g.Expect(c.Message).To(ContainSubstring(`ServersTransport web/web-transport: spec.rootCAs[0]: Secret "backend-ca" (CA certificates) not found in namespace web; create it with the PEM roots at key ca.crt; requests on this route get 502 until it exists`))
			}).WithTimeout(2 * time.Second).WithPolling(50 * time.Millisecond).Should(Succeed())

			broken := routeInSnapshot("web/web-ingressroute/0")
			Expect(broken).NotTo(BeNil(), "a broken route stays in the snapshot and fails closed")
			Expect(broken.Backends[0].Failure).NotTo(BeNil())
			Expect(broken.Backends[0].Failure.Status).To(Equal(502))
			Expect(broken.Backends[0].Failure.Header()).To(Equal("CASecretNotFound web/backend-ca"), "Bridgehead-Error names the missing Secret")
			Expect(routeInSnapshot("web/other/0")).NotTo(BeNil(), "the rest of the snapshot keeps serving")
			Expect(readyCondition(Default, ns, "other").Status).To(Equal(metav1.ConditionTrue))
		})

		It("records an Event when Ready changes", func() {
			Eventually(func(g Gomega) {
				var evs eventsv1.EventList
				g.Expect(k8s.List(bg(), &evs, client.InNamespace(ns))).To(Succeed())
				var reasons []string
				for _, e := range evs.Items {
					if e.Regarding.Name == "web-ingressroute" {
						reasons = append(reasons, e.Type+"/"+e.Reason)
					}
				}
				g.Expect(reasons).To(ContainElement("Warning/CASecretNotFound"))
			}).Should(Succeed())
		})

		It("recovers when the Secret is restored", func() {
			create(caSecret(ns, "backend-ca", backendCA))
			Eventually(func(g Gomega) {
				g.Expect(readyCondition(g, ns, "web-ingressroute").Status).To(Equal(metav1.ConditionTrue))
				g.Expect(routeInSnapshot("web/web-ingressroute/0").Backends[0].Failure).To(BeNil())
			}).WithTimeout(2 * time.Second).Should(Succeed())
		})

		It("does not rebuild for a Secret nobody references", func() {
			Eventually(func(g Gomega) {
				g.Expect(readyCondition(g, ns, "web-ingressroute").Status).To(Equal(metav1.ConditionTrue))
			}).Should(Succeed())
			before := rebuildCount()
			create(&corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "unrelated"}, Data: map[string][]byte{"x": []byte("y")}})
			Consistently(rebuildCount).WithTimeout(time.Second).Should(Equal(before))
		})
	})

	Describe("references to another namespace", func() {
		It("are refused with RefNotPermitted", func() {
			create(namespace("shop"), namespace("shared"))
			create(httpsService("shared", "catalog", "10.0.1.5")...)
			ir := route("shop", "storefront", "shop.example.com", "catalog", "", "", "")
			ir.Spec.Routes[0].Services[0].Namespace = "shared"
			create(ir)
			Eventually(func(g Gomega) {
				c := readyCondition(g, "shop", "storefront")
				g.Expect(c.Status).To(Equal(metav1.ConditionFalse))
				g.Expect(c.Reason).To(Equal(string(bhv1.ReasonRefNotPermitted)))
				g.Expect(c.Message).To(ContainSubstring("Service shared/catalog is in another namespace"))
				g.Expect(c.Message).To(ContainSubstring("--allow-cross-namespace"))
			}).Should(Succeed())
		})
	})

	Describe("a MiddlewareTCP", func() {
		It("is watched, has its own status, and filters the TCP routes that list it", func() {
			create(namespace("tcp"))
			create(httpsService("tcp", "db", "10.0.2.5")...)
			create(&bhv1.MiddlewareTCP{ObjectMeta: metav1.ObjectMeta{Namespace: "tcp", Name: "office"},
				Spec: bhv1.MiddlewareTCPSpec{IPAllowList: &bhv1.TCPIPAllowList{SourceRange: []string{"192.0.2.0/24"}}}})
			create(&bhv1.IngressRouteTCP{ObjectMeta: metav1.ObjectMeta{Namespace: "tcp", Name: "db"},
				Spec: bhv1.IngressRouteTCPSpec{
					Routes: []bhv1.RouteTCP{{Match: "HostSNI(`db.example.com`)", Middlewares: []bhv1.ObjectReference{{Name: "office"}},
						Services: []bhv1.ServiceTCP{{Name: "db", Port: "443"}}}},
					TLS: &bhv1.TLSTCP{Passthrough: true}}})
			Eventually(func(g Gomega) {
				mw := &bhv1.MiddlewareTCP{}
				g.Expect(k8s.Get(bg(), client.ObjectKey{Namespace: "tcp", Name: "office"}, mw)).To(Succeed())
				c := apimeta.FindStatusCondition(mw.Status.Conditions, string(bhv1.ConditionReady))
				g.Expect(c).NotTo(BeNil())
				g.Expect(c.Status).To(Equal(metav1.ConditionTrue))
				var r *snapshot.TCPRoute
				for _, tr := range store.Load().TCPRoutes {
					if tr.ID == "tcp/db/0" {
						r = tr
					}
				}
				g.Expect(r).NotTo(BeNil())
				g.Expect(r.Middlewares).To(HaveLen(1))
				g.Expect(r.Middlewares[0].IPAllowList.SourceRange[0].String()).To(Equal("192.0.2.0/24"))
			}).Should(Succeed())

			// Deleting it fails the route closed, naming the field and the MiddlewareTCP.
			Expect(k8s.Delete(bg(), &bhv1.MiddlewareTCP{ObjectMeta: metav1.ObjectMeta{Namespace: "tcp", Name: "office"}})).To(Succeed())
			Eventually(func(g Gomega) {
				irt := &bhv1.IngressRouteTCP{}
				g.Expect(k8s.Get(bg(), client.ObjectKey{Namespace: "tcp", Name: "db"}, irt)).To(Succeed())
				c := apimeta.FindStatusCondition(irt.Status.Conditions, string(bhv1.ConditionReady))
				g.Expect(c).NotTo(BeNil())
				g.Expect(c.Status).To(Equal(metav1.ConditionFalse))
				g.Expect(c.Message).To(ContainSubstring(`spec.routes[0].middlewares[0]: MiddlewareTCP "office" not found in namespace tcp`))
			}).Should(Succeed())
		})
	})

	Describe("two routes asking for different TLSOptions on one host", func() {
		It("fail closed on both routes", func() {
			const ns = "payments"
			ca := pki.MustCA("client CA")
			create(namespace(ns), caSecret(ns, "client-ca", ca),
				&bhv1.TLSOption{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "mtls"},
					Spec: bhv1.TLSOptionSpec{ClientAuth: bhv1.ClientAuth{ClientAuthType: bhv1.RequireAndVerifyClientCert, SecretNames: []bhv1.SecretName{"client-ca"}}}},
				&bhv1.TLSOption{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "open"}, Spec: bhv1.TLSOptionSpec{MinVersion: bhv1.VersionTLS12}},
			)
			create(httpsService(ns, "api", "10.0.2.5")...)
			strict := route(ns, "api-strict", "pay.example.com", "api", "", "", "mtls")
			strict.Spec.Routes[0].Match = "Host(`pay.example.com`) && PathPrefix(`/admin`)"
			create(strict, route(ns, "api-open", "pay.example.com", "api", "", "", "open"))
			for _, name := range []string{"api-strict", "api-open"} {
				Eventually(func(g Gomega) {
					c := readyCondition(g, ns, name)
					g.Expect(c.Status).To(Equal(metav1.ConditionFalse))
					g.Expect(c.Reason).To(Equal(string(bhv1.ReasonTLSOptionConflict)))
					g.Expect(c.Message).To(ContainSubstring("payments/mtls"))
					g.Expect(c.Message).To(ContainSubstring("payments/open"))
				}).Should(Succeed())
			}
			var host *snapshot.HostTLS
			for _, h := range store.Load().TLS.Hosts {
				if h.Name == "pay.example.com" {
					host = h
				}
			}
			Expect(host).NotTo(BeNil())
			Expect(host.Failure).NotTo(BeNil(), "the host must refuse handshakes rather than pick one policy")
		})
	})

	It("never keeps a status computed for an older generation", func() {
		ir := &bhv1.IngressRoute{}
		Eventually(func(g Gomega) {
			g.Expect(k8s.Get(bg(), client.ObjectKey{Namespace: "web", Name: "other"}, ir)).To(Succeed())
			ir.Spec.Routes[0].Priority = 7
			// A conflict with the status writer's update is retried with a fresh read.
			g.Expect(k8s.Update(bg(), ir)).To(Succeed())
		}).Should(Succeed())
		Eventually(func(g Gomega) {
			readyCondition(g, "web", "other") // asserts ObservedGeneration == Generation
			g.Expect(routeInSnapshot("web/other/0").Priority).To(Equal(7))
		}).Should(Succeed())
	})
})
