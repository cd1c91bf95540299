package controllers

import (
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/bridgehead/bridgehead/internal/pki"
	"github.com/bridgehead/bridgehead/internal/translate"
)

var _ = Describe("Gateway frontend client certificate validation", func() {
	It("refuses an HTTPS listener whose client CA is missing, serves it once the ConfigMap exists, and flags insecure fallback", func() {
		ns := "gwapi-frontend"
		create(namespace(ns))
		ca := pki.MustCA("frontend client CA")
		create(tlsSecret(ns, "edge", pki.MustCA("frontend edge CA").MustIssue("app.example.com", pki.Options{DNSNames: []string{"app.example.com"}})))
		create(&gwv1.GatewayClass{ObjectMeta: metav1.ObjectMeta{Name: "bridgehead-frontend"},
			Spec: gwv1.GatewayClassSpec{ControllerName: translate.GatewayController}})
		create(&gwv1.Gateway{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "gw"},
			Spec: gwv1.GatewaySpec{GatewayClassName: "bridgehead-frontend",
				TLS: &gwv1.GatewayTLSConfig{Frontend: &gwv1.FrontendTLSConfig{Default: gwv1.TLSConfig{Validation: &gwv1.FrontendTLSValidation{
					CACertificateRefs: []gwv1.ObjectReference{{Group: "", Kind: "ConfigMap", Name: "client-ca"}}}}}},
				Listeners: []gwv1.Listener{
					{Name: "https", Port: 443, Protocol: gwv1.HTTPSProtocolType, TLS: &gwv1.ListenerTLSConfig{CertificateRefs: []gwv1.SecretObjectReference{{Name: "edge"}}}},
					{Name: "http", Port: 80, Protocol: gwv1.HTTPProtocolType},
				}}})
		listener := func(g Gomega, name, typ string) *metav1.Condition {
			gw := &gwv1.Gateway{}
			g.Expect(k8s.Get(bg(), client.ObjectKey{Namespace: ns, Name: "gw"}, gw)).To(Succeed())
			for _, l := range gw.Status.Listeners {
				if string(l.Name) == name {
					c := apimeta.FindStatusCondition(l.Conditions, typ)
					g.Expect(c).NotTo(BeNil())
					return c
				}
			}
			g.Expect(gw.Status.Listeners).To(HaveLen(2), "no status for listener %s yet", name)
			return nil
		}

		By("the CA ConfigMap does not exist: the HTTPS listener is not Accepted (NoValidCACertificate), the HTTP one is served")
		Eventually(func(g Gomega) {
			c := listener(g, "https", string(gwv1.ListenerConditionResolvedRefs))
			g.Expect(c.Status).To(Equal(metav1.ConditionFalse))
			g.Expect(c.Reason).To(Equal(string(gwv1.ListenerReasonInvalidCACertificateRef)))
			g.Expect(c.Message).To(ContainSubstring("spec.tls.frontend.default.validation.caCertificateRefs[0]"))
			g.Expect(listener(g, "https", string(gwv1.ListenerConditionAccepted)).Reason).To(Equal(string(gwv1.ListenerReasonNoValidCACertificate)))
			g.Expect(listener(g, "https", string(gwv1.ListenerConditionProgrammed)).Status).To(Equal(metav1.ConditionFalse))
			g.Expect(listener(g, "http", string(gwv1.ListenerConditionProgrammed)).Status).To(Equal(metav1.ConditionTrue))
		}).Should(Succeed())

		By("creating the ConfigMap re-translates the Gateway: the listener is served with validation")
		create(&corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "client-ca"}, Data: map[string]string{"ca.crt": string(ca.PEM)}})
		Eventually(func(g Gomega) {
			g.Expect(listener(g, "https", string(gwv1.ListenerConditionProgrammed)).Status).To(Equal(metav1.ConditionTrue))
			g.Expect(listener(g, "https", string(gwv1.ListenerConditionResolvedRefs)).Status).To(Equal(metav1.ConditionTrue))
			s := store.Load()
			g.Expect(s).NotTo(BeNil())
			found := false
			for _, p := range s.TLS.Policies {
				found = found || (p.ID == "gateway/"+ns+"/gw/default" && p.ClientCAs != nil && p.Failure == nil)
			}
			g.Expect(found).To(BeTrue(), "no validating policy for the Gateway in the snapshot")
		}).Should(Succeed())

		By("mode AllowInsecureFallback: the Gateway has InsecureFrontendValidationMode=True ConfigurationChanged")
		gw := &gwv1.Gateway{}
		Expect(k8s.Get(bg(), client.ObjectKey{Namespace: ns, Name: "gw"}, gw)).To(Succeed())
		gw.Spec.TLS.Frontend.Default.Validation.Mode = gwv1.AllowInsecureFallback
		Expect(k8s.Update(bg(), gw)).To(Succeed())
		Eventually(func(g Gomega) {
			gw := &gwv1.Gateway{}
			g.Expect(k8s.Get(bg(), client.ObjectKey{Namespace: ns, Name: "gw"}, gw)).To(Succeed())
			c := apimeta.FindStatusCondition(gw.Status.Conditions, string(gwv1.GatewayConditionInsecureFrontendValidationMode))
			g.Expect(c).NotTo(BeNil())
			g.Expect(c.Status).To(Equal(metav1.ConditionTrue))
			g.Expect(c.Reason).To(Equal(string(gwv1.GatewayReasonConfigurationChanged)))
			g.Expect(c.ObservedGeneration).To(Equal(gw.Generation))
		}).Should(Succeed())
	})
})
