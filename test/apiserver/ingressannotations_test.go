package apiserver

import (
	"fmt"
	"net/http"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	"github.com/bridgehead/bridgehead/controllers"
	"github.com/bridgehead/bridgehead/internal/pki"
	"github.com/bridgehead/bridgehead/internal/translate"
)

// The HAProxy Ingress field report (seeds/01) against a real API server: its Ingress with
// only the class changed to bridgehead serves through verified TLS, and the Secret its
// server-ca annotation names is watched, so creating it fixes the Ingress.
var _ = Describe("HAProxy annotations against the API server", Ordered, func() {
	const (
		ns   = "capnajax"
		host = "my-app.capnajax.com"
	)
	edgeCA, backendCA := pki.MustCA("edge CA"), pki.MustCA("capnajax CA")
	var gw *inProcess

	BeforeAll(func() {
		backend := httpsBackend(backendCA.MustIssue("my-app.capnajax.svc", pki.Options{DNSNames: []string{"my-app.capnajax.svc"}}))
		create(namespace(ns), tlsSecret(ns, "my-app-tls", edgeCA.MustIssue(host, pki.Options{DNSNames: []string{host}})),
			&corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "my-app"},
				Spec: corev1.ServiceSpec{Selector: map[string]string{"app": "my-app"}, Ports: []corev1.ServicePort{{Name: "https", Port: 443}}}},
			&discoveryv1.EndpointSlice{
				ObjectMeta:  metav1.ObjectMeta{Namespace: ns, Name: "my-app-k2x8p", Labels: map[string]string{discoveryv1.LabelServiceName: "my-app"}},
				AddressType: discoveryv1.AddressTypeIPv4,
				Ports:       []discoveryv1.EndpointPort{{Name: ptr.To("https"), Port: ptr.To(int32(8443)), Protocol: ptr.To(corev1.ProtocolTCP)}},
				Endpoints: []discoveryv1.Endpoint{{Addresses: []string{"10.0.8.20"}, Conditions: discoveryv1.EndpointConditions{Ready: ptr.To(true)},
					TargetRef: &corev1.ObjectReference{Kind: "Pod", Namespace: ns, Name: "my-app-0"}}},
			})
		// The seed's Ingress, as written, but for the class.
		seed := ingress(ns, "my-app", host, "my-app", networkingv1.ServiceBackendPort{Name: "https"}, map[string]string{
			"haproxy.org/server-ca":       "capnajax/ca",
			"haproxy.org/server-ssl":      "true",
			"haproxy.org/ssl-redirect":    "true",
			"kubernetes.io/ingress.class": "bridgehead",
		})
		seed.Spec.IngressClassName = nil
		seed.Spec.TLS = []networkingv1.IngressTLS{{Hosts: []string{host}, SecretName: "my-app-tls"}}
		create(seed)

		opts := translate.DefaultOptions()
		opts.Now = time.Now()
		gw = startInProcess([]string{ns, "bridgehead"}, controllers.Config{Options: opts},
			map[string]string{"10.0.8.20:8443": backend.Listener.Addr().String()})
	})

	It("fails closed, naming the annotation, while the server-ca Secret is missing", func() {
		c := tlsClient(edgeCA, gw.websecure)
		Eventually(func(g Gomega) {
			r, err := get(c, "https://"+host+"/")
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(r.status).To(Equal(http.StatusBadGateway))
			g.Expect(r.reason).To(Equal("CASecretNotFound capnajax/ca"))
		}).WithTimeout(10 * time.Second).Should(Succeed())
	})

	It("serves through verified TLS once the Secret (CA at tls.crt, as HAProxy reads it) exists", func() {
		create(&corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "ca"}, Data: map[string][]byte{"tls.crt": backendCA.PEM}})
		c := tlsClient(edgeCA, gw.websecure)
		Eventually(func(g Gomega) {
			r, err := get(c, "https://"+host+"/")
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(r.status).To(Equal(http.StatusOK), "Bridgehead-Error %q", r.reason)
			g.Expect(r.body).To(Equal(fmt.Sprintf("backend: TLS, SNI %s, path /\n", "my-app.capnajax.svc")))
		}).WithTimeout(10 * time.Second).Should(Succeed())
	})
})
