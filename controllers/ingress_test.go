package controllers

import (
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	eventsv1 "k8s.io/api/events/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/bridgehead/bridgehead/internal/pki"
	"github.com/bridgehead/bridgehead/internal/translate"
)

func ingress(ns, name, class, host, svc string, port int32) *networkingv1.Ingress {
	ing := &networkingv1.Ingress{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec: networkingv1.IngressSpec{Rules: []networkingv1.IngressRule{{
			Host: host,
			IngressRuleValue: networkingv1.IngressRuleValue{HTTP: &networkingv1.HTTPIngressRuleValue{Paths: []networkingv1.HTTPIngressPath{{
				Path: "/", PathType: ptr.To(networkingv1.PathTypePrefix),
				Backend: networkingv1.IngressBackend{Service: &networkingv1.IngressServiceBackend{Name: svc, Port: networkingv1.ServiceBackendPort{Number: port}}},
			}}}},
		}}},
	}
	if class != "" {
		ing.Spec.IngressClassName = ptr.To(class)
	}
	return ing
}

// ingressRoutes lists the IDs of the snapshot's routes that come from an Ingress.
func ingressRoutes(ns, name string) []string {
	var out []string
	if s := store.Load(); s != nil {
		for _, r := range s.HTTPRoutes {
			if r.Source.Kind == translate.KindIngress && r.Source.Namespace == ns && r.Source.Name == name {
				out = append(out, r.ID)
			}
		}
	}
	return out
}

// eventsFor returns "Type/Reason: note" of the Events regarding an object.
func eventsFor(g Gomega, ns, kind, name string) []string {
	var evs eventsv1.EventList
	g.Expect(k8s.List(bg(), &evs, client.InNamespace(ns))).To(Succeed())
	var out []string
	for _, e := range evs.Items {
		if e.Regarding.Kind == kind && e.Regarding.Name == name {
			out = append(out, e.Type+"/"+e.Reason+": "+e.Note)
		}
	}
	return out
}

// ingressEvents returns the Events regarding an Ingress.
func ingressEvents(g Gomega, ns, name string) []eventsv1.Event {
	var evs eventsv1.EventList
	g.Expect(k8s.List(bg(), &evs, client.InNamespace(ns))).To(Succeed())
	var out []eventsv1.Event
	for _, e := range evs.Items {
		if e.Regarding.Kind == "Ingress" && e.Regarding.Name == name {
			out = append(out, e)
		}
	}
	return out
}

var _ = Describe("Ingresses", Ordered, func() {
	const ns = "ingress-watch"

	BeforeAll(func() {
		create(namespace(ns),
			&networkingv1.IngressClass{ObjectMeta: metav1.ObjectMeta{Name: "bridgehead"}, Spec: networkingv1.IngressClassSpec{Controller: translate.IngressController}},
			&networkingv1.IngressClass{ObjectMeta: metav1.ObjectMeta{Name: "nginx"}, Spec: networkingv1.IngressClassSpec{Controller: "k8s.io/ingress-nginx"}},
		)
		create(httpsService(ns, "app", "10.0.3.5")...)
	})

	It("serves an Ingress of class bridgehead and ignores one of another class", func() {
		create(ingress(ns, "ours", "bridgehead", "ours.example.com", "app", 443),
			ingress(ns, "theirs", "nginx", "theirs.example.com", "app", 443))
		Eventually(func(g Gomega) {
			g.Expect(ingressRoutes(ns, "ours")).To(ConsistOf(ns + "/ours/ingress/rules[0].paths[0]/web"))
		}).Should(Succeed())
		Expect(ingressRoutes(ns, "theirs")).To(BeEmpty())
		Expect(gateway.Statuses()).NotTo(HaveKey(translate.Key{Kind: translate.KindIngress, Namespace: ns, Name: "theirs"}))
	})

	It("stops serving an Ingress moved to another class", func() {
		ing := &networkingv1.Ingress{}
		Expect(k8s.Get(bg(), client.ObjectKey{Namespace: ns, Name: "ours"}, ing)).To(Succeed())
		ing.Spec.IngressClassName = ptr.To("nginx")
		Expect(k8s.Update(bg(), ing)).To(Succeed())
		Eventually(func() []string { return ingressRoutes(ns, "ours") }).Should(BeEmpty())
		ing.Spec.IngressClassName = ptr.To("bridgehead")
		Expect(k8s.Update(bg(), ing)).To(Succeed())
		Eventually(func() []string { return ingressRoutes(ns, "ours") }).ShouldNot(BeEmpty())
	})

	It("rebuilds when only an annotation changes (the generation does not)", func() {
		ing := &networkingv1.Ingress{}
		Expect(k8s.Get(bg(), client.ObjectKey{Namespace: ns, Name: "ours"}, ing)).To(Succeed())
		generation := ing.Generation
		ing.Annotations = map[string]string{translate.AnnotationBackendProtocol: "https", translate.AnnotationSSLRedirect: "true"}
		ing.Spec.TLS = []networkingv1.IngressTLS{{Hosts: []string{"ours.example.com"}, SecretName: "ours-tls"}}
		Expect(k8s.Update(bg(), ing)).To(Succeed())
		Eventually(func(g Gomega) {
			g.Expect(ingressRoutes(ns, "ours")).To(ConsistOf(
				ns+"/ours/ingress/rules[0].paths[0]/websecure",
				ns+"/ours/ingress/ssl-redirect/ours.example.com",
			))
		}).Should(Succeed())

		Expect(k8s.Get(bg(), client.ObjectKey{Namespace: ns, Name: "ours"}, ing)).To(Succeed())
		Expect(ing.Generation).To(Equal(generation+1), "the tls change bumped the generation once")
		ing.Annotations[translate.AnnotationSSLRedirect] = "false"
		Expect(k8s.Update(bg(), ing)).To(Succeed())
		Expect(k8s.Get(bg(), client.ObjectKey{Namespace: ns, Name: "ours"}, ing)).To(Succeed())
		Expect(ing.Generation).To(Equal(generation + 1))
		Eventually(func() []string { return ingressRoutes(ns, "ours") }).Should(ContainElement(ns + "/ours/ingress/rules[0].paths[0]/web"))
	})

	It("tells what is wrong with an Ingress in a Warning Event, and announces when it is fixed", func() {
		Eventually(func(g Gomega) {
			g.Expect(eventsFor(g, ns, "Ingress", "ours")).To(ContainElement(
				`Warning/NotFound: spec.tls[0].secretName: Secret "ours-tls" not found in namespace ingress-watch; the default certificate is served meanwhile, which clients will refuse`))
		}).Should(Succeed())

		// The Secret is referenced by the Ingress only: creating it must rebuild.
		ca := pki.MustCA("edge CA")
		create(tlsSecret(ns, "ours-tls", ca.MustIssue("ours.example.com", pki.Options{DNSNames: []string{"ours.example.com"}})))
		Eventually(func(g Gomega) {
			g.Expect(eventsFor(g, ns, "Ingress", "ours")).To(ContainElement("Normal/Ready: the gateway serves this Ingress for ours.example.com"))
			host := false
			for _, h := range store.Load().TLS.Hosts {
				if h.Name == "ours.example.com" && h.Certificate != nil && h.Certificate.Source.Name == "ours-tls" {
					host = true
				}
			}
			g.Expect(host).To(BeTrue(), "the Ingress's certificate is served for its host")
		}).Should(Succeed())
	})

	It("names the mistakes of spec.tls in Warning Events: hosts without secretName, a secretName without hosts, a Secret with a close name", func() {
		split := ingress(ns, "split", "bridgehead", "split.example.com", "app", 443)
		// One entry split in two by a stray "-", and a typo in the Secret's name.
		split.Spec.TLS = []networkingv1.IngressTLS{{Hosts: []string{"split.example.com"}}, {SecretName: "ours-tl"}}
		create(split)
		Eventually(func(g Gomega) {
			events := strings.Join(eventsFor(g, ns, "Ingress", "split"), "\n")
			g.Expect(events).To(ContainSubstring("spec.tls[0] lists hosts split.example.com but no secretName"))
			g.Expect(events).To(ContainSubstring(`Secret "ours-tl" not found in namespace ingress-watch; did you mean Secret ingress-watch/ours-tls?`))
			g.Expect(events).To(ContainSubstring(`spec.tls[1] names Secret "ours-tl" but lists no hosts`))
		}).Should(Succeed())
		st := gateway.Statuses()[translate.Key{Kind: translate.KindIngress, Namespace: ns, Name: "split"}]
		Expect(st).NotTo(BeNil())
		var reasons []string
		for _, f := range append(append([]translate.Finding(nil), st.Blocking...), st.Warnings...) {
			reasons = append(reasons, string(f.Reason))
		}
		Expect(reasons).To(ContainElements("NotFound", "TLSSecretNameMissing", "TLSHostsMissing"))
	})

	It("records one Warning Event per finding, each naming its annotation, and after a change only the Event about it", func() {
		// Three annotations Bridgehead does not read, of three controllers, and two
		// families disagreeing on the backend protocol.
		shop := ingress(ns, "shop", "bridgehead", "shop.example.com", "app", 443)
		shop.Annotations = map[string]string{
			"nginx.ingress.kubernetes.io/proxy-body-size":  "8m",
			"haproxy.org/timeout-server":                   "30s",
			"haproxy-ingress.github.io/balance-algorithm":  "leastconn",
			"nginx.ingress.kubernetes.io/backend-protocol": "HTTPS",
			"haproxy-ingress.github.io/backend-protocol":   "h1",
		}
		create(shop)
		naming := func(evs []eventsv1.Event, key string) []eventsv1.Event {
			var out []eventsv1.Event
			for _, e := range evs {
				if strings.Contains(e.Note, "metadata.annotations["+key+"]") {
					out = append(out, e)
				}
			}
			return out
		}
		var before []eventsv1.Event
		Eventually(func(g Gomega) {
			evs := ingressEvents(g, ns, "shop")
			for _, key := range []string{"nginx.ingress.kubernetes.io/proxy-body-size", "haproxy.org/timeout-server",
				"haproxy-ingress.github.io/balance-algorithm", "haproxy-ingress.github.io/backend-protocol"} {
				about := naming(evs, key)
				g.Expect(about).To(HaveLen(1), "one Event names %s", key)
				g.Expect(about[0].Type).To(Equal("Warning"))
				g.Expect(about[0].Reason).To(Equal("IneffectiveSetting"))
			}
			g.Expect(naming(evs, "haproxy.org/timeout-server")[0].Note).To(ContainSubstring("use forwardingTimeouts in a ServersTransport"))
			g.Expect(naming(evs, "haproxy-ingress.github.io/backend-protocol")[0].Note).To(ContainSubstring(
				`backend scheme is "h1" here but nginx.ingress.kubernetes.io/backend-protocol says "HTTPS" and takes precedence`))
			g.Expect(evs).To(ContainElement(HaveField("Note", "the gateway serves this Ingress for shop.example.com")))
			before = evs
		}).Should(Succeed())

		Expect(k8s.Get(bg(), client.ObjectKey{Namespace: ns, Name: "shop"}, shop)).To(Succeed())
		shop.Annotations["haproxy-ingress.github.io/backend-protocol"] = "h2"
		Expect(k8s.Update(bg(), shop)).To(Succeed())
		Eventually(func(g Gomega) {
			g.Expect(ingressEvents(g, ns, "shop")).To(ContainElement(HaveField("Note",
				ContainSubstring(`metadata.annotations[haproxy-ingress.github.io/backend-protocol]: "h2": backend scheme is "h2" here`))))
		}).Should(Succeed())
		// Exactly one more Event, and none of the earlier ones recorded again (a repeat
		// would be a new Event, or the same one with a series count).
		Consistently(func(g Gomega) {
			evs := ingressEvents(g, ns, "shop")
			g.Expect(evs).To(HaveLen(len(before) + 1))
			for _, e := range evs {
				g.Expect(e.Series).To(BeNil(), "recorded again: %s", e.Note)
			}
		}).WithTimeout(time.Second).Should(Succeed())
	})

	It("never writes Events or status on an Ingress of another class", func() {
		Consistently(func(g Gomega) {
			g.Expect(eventsFor(g, ns, "Ingress", "theirs")).To(BeEmpty())
			ing := &networkingv1.Ingress{}
			g.Expect(k8s.Get(bg(), client.ObjectKey{Namespace: ns, Name: "theirs"}, ing)).To(Succeed())
			g.Expect(ing.Status.LoadBalancer.Ingress).To(BeEmpty())
		}).WithTimeout(time.Second).Should(Succeed())
	})

	It("does not rebuild for a change to an Ingress of another class", func() {
		before := rebuildCount()
		ing := &networkingv1.Ingress{}
		Expect(k8s.Get(bg(), client.ObjectKey{Namespace: ns, Name: "theirs"}, ing)).To(Succeed())
		ing.Spec.Rules[0].Host = "elsewhere.example.com"
		Expect(k8s.Update(bg(), ing)).To(Succeed())
		Consistently(rebuildCount).WithTimeout(time.Second).Should(Equal(before))
	})

	It("leaves status.loadBalancer alone without --publish-service or --publish-address", func() {
		ing := &networkingv1.Ingress{}
		Expect(k8s.Get(bg(), client.ObjectKey{Namespace: ns, Name: "ours"}, ing)).To(Succeed())
		Expect(ing.Status).To(Equal(networkingv1.IngressStatus{}))
	})
})
