package tlsmatrix

import (
	"context"
	"crypto/tls"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/bridgehead/bridgehead/internal/pki"
	"github.com/bridgehead/bridgehead/internal/translate"
)

// The same causes through the Gateway API: an HTTPRoute to a Service a BackendTLSPolicy
// targets. The handshake's outcome must show, within 5 seconds, as BackendTLSReady on the
// policy's ancestor (the Gateway) and on the route's parent, and in Bridgehead-Error.

const matrixClass = "bridgehead-matrix"

func (s *scenario) gatewayAPI(g Gomega, clientCert string) {
	gw := &gwv1.Gateway{ObjectMeta: metav1.ObjectMeta{Namespace: s.ns, Name: "gw"}, Spec: gwv1.GatewaySpec{GatewayClassName: matrixClass,
		Listeners: []gwv1.Listener{{Name: "https", Port: 443, Protocol: gwv1.HTTPSProtocolType, Hostname: ptr.To(gwv1.Hostname(s.host)),
			TLS: &gwv1.ListenerTLSConfig{CertificateRefs: []gwv1.SecretObjectReference{{Name: "edge"}}}}}}}
	if clientCert != "" {
		gw.Spec.TLS = &gwv1.GatewayTLSConfig{Backend: &gwv1.GatewayBackendTLS{ClientCertificateRef: &gwv1.SecretObjectReference{Name: gwv1.ObjectName(clientCert)}}}
	}
	apply(g,
		&gwv1.GatewayClass{ObjectMeta: metav1.ObjectMeta{Name: matrixClass}, Spec: gwv1.GatewayClassSpec{ControllerName: translate.GatewayController}},
		gw,
		&gwv1.HTTPRoute{ObjectMeta: metav1.ObjectMeta{Namespace: s.ns, Name: "app"}, Spec: gwv1.HTTPRouteSpec{
			CommonRouteSpec: gwv1.CommonRouteSpec{ParentRefs: []gwv1.ParentReference{{Name: "gw"}}},
			Rules: []gwv1.HTTPRouteRule{{BackendRefs: []gwv1.HTTPBackendRef{{BackendRef: gwv1.BackendRef{
				BackendObjectReference: gwv1.BackendObjectReference{Name: "backend", Port: ptr.To[gwv1.PortNumber](443)}}}}}}}},
		&gwv1.BackendTLSPolicy{ObjectMeta: metav1.ObjectMeta{Namespace: s.ns, Name: "backend"}, Spec: gwv1.BackendTLSPolicySpec{
			TargetRefs: []gwv1.LocalPolicyTargetReferenceWithSectionName{{LocalPolicyTargetReference: gwv1.LocalPolicyTargetReference{Kind: "Service", Name: "backend"}}},
			Validation: gwv1.BackendTLSPolicyValidation{
				CACertificateRefs: []gwv1.LocalObjectReference{{Kind: "Secret", Name: "backend-ca"}},
				Hostname:          gwv1.PreciseHostname("backend." + s.ns + ".svc"),
			}}},
	)
}

// gatewayAPIVerdict is BackendTLSReady on the policy's ancestor and on the route's parent.
func gatewayAPIVerdict(g Gomega, s *scenario) (policy, route *metav1.Condition) {
	ctx := context.Background()
	p := &gwv1.BackendTLSPolicy{}
	g.Expect(env.k8s.Get(ctx, client.ObjectKey{Namespace: s.ns, Name: "backend"}, p)).To(Succeed())
	g.Expect(p.Status.Ancestors).To(HaveLen(1))
	g.Expect(string(p.Status.Ancestors[0].AncestorRef.Name)).To(Equal("gw"))
	policy = apimeta.FindStatusCondition(p.Status.Ancestors[0].Conditions, "BackendTLSReady")
	g.Expect(policy).NotTo(BeNil(), "no BackendTLSReady on the policy yet")
	r := &gwv1.HTTPRoute{}
	g.Expect(env.k8s.Get(ctx, client.ObjectKey{Namespace: s.ns, Name: "app"}, r)).To(Succeed())
	g.Expect(r.Status.Parents).To(HaveLen(1))
	route = apimeta.FindStatusCondition(r.Status.Parents[0].Conditions, "BackendTLSReady")
	g.Expect(route).NotTo(BeNil(), "no BackendTLSReady on the route yet")
	return policy, route
}

func expectGatewayAPIBroken(g Gomega, s *scenario, reason string, message ...string) {
	g.Eventually(func(g Gomega) {
		p, r := gatewayAPIVerdict(g, s)
		for _, c := range []*metav1.Condition{p, r} {
			g.Expect(c.Status).To(Equal(metav1.ConditionFalse), c.Message)
			g.Expect(c.Reason).To(Equal(reason), c.Message)
			for _, m := range message {
				g.Expect(c.Message).To(ContainSubstring(m))
			}
		}
	}).WithTimeout(5 * time.Second).WithPolling(50 * time.Millisecond).Should(Succeed())
	code, got, err := env.get(s.host)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(code).To(Equal(502))
	g.Expect(got).To(Equal(reason))
}

func expectGatewayAPIReady(g Gomega, s *scenario) {
	g.Eventually(func(g Gomega) {
		code, reason, err := env.get(s.host)
		g.Expect(err).NotTo(HaveOccurred())
		g.Expect(code).To(Equal(200), reason)
		p, r := gatewayAPIVerdict(g, s)
		g.Expect(p.Status).To(Equal(metav1.ConditionTrue), p.Message)
		g.Expect(r.Status).To(Equal(metav1.ConditionTrue), r.Message)
	}).WithTimeout(5 * time.Second).WithPolling(50 * time.Millisecond).Should(Succeed())
}

func TestGatewayAPIBackendTLSPolicyVerdicts(t *testing.T) {
	name := func(ns string) string { return "backend." + ns + ".svc" }
	t.Run("untrusted CA", func(t *testing.T) {
		g := NewWithT(t)
		s := newScenario(g, 41, "gw-unknown-authority")
		s.serve(t, pki.MustCA("someone else").MustIssue(name(s.ns), pki.Options{DNSNames: []string{name(s.ns)}}))
		s.gatewayAPI(g, "")
		expectGatewayAPIBroken(g, s, "UnknownAuthority", "issued by")
		s.serve(t, s.backendCA.MustIssue(name(s.ns), pki.Options{DNSNames: []string{name(s.ns)}}))
		expectGatewayAPIReady(g, s)
	})
	t.Run("wrong name", func(t *testing.T) {
		g := NewWithT(t)
		s := newScenario(g, 42, "gw-name-mismatch")
		s.serve(t, s.backendCA.MustIssue("db.internal", pki.Options{DNSNames: []string{"db.internal"}}))
		s.gatewayAPI(g, "")
		expectGatewayAPIBroken(g, s, "NameMismatch", "db.internal", name(s.ns))
	})
	t.Run("expired", func(t *testing.T) {
		g := NewWithT(t)
		s := newScenario(g, 43, "gw-expired")
		s.serve(t, s.backendCA.MustIssue(name(s.ns), pki.Options{DNSNames: []string{name(s.ns)},
			NotBefore: time.Now().Add(-48 * time.Hour), NotAfter: time.Now().Add(-24 * time.Hour)}))
		s.gatewayAPI(g, "")
		expectGatewayAPIBroken(g, s, "CertificateExpired")
	})
	t.Run("backend wants a client certificate", func(t *testing.T) {
		g := NewWithT(t)
		s := newScenario(g, 44, "gw-client-cert")
		s.serve(t, s.backendCA.MustIssue(name(s.ns), pki.Options{DNSNames: []string{name(s.ns)}}), requireClientCertFrom(s.backendCA))
		s.gatewayAPI(g, "")
		expectGatewayAPIBroken(g, s, "ClientCertificateRequired")
		id := s.backendCA.MustIssue("gateway", pki.Options{})
		apply(g, tlsSecretIn(s.ns, "gateway-id", id))
		s.gatewayAPI(g, "gateway-id")
		expectGatewayAPIReady(g, s)
	})
	t.Run("plain HTTP", func(t *testing.T) {
		g := NewWithT(t)
		s := newScenario(g, 45, "gw-not-tls")
		s.servePlain(t)
		s.gatewayAPI(g, "")
		expectGatewayAPIBroken(g, s, "BackendNotTLS")
	})
}

func requireClientCertFrom(ca *pki.CA) func(*tls.Config) {
	return func(c *tls.Config) { c.ClientAuth, c.ClientCAs = tls.RequireAndVerifyClientCert, ca.Pool() }
}

func tlsSecretIn(ns, name string, l *pki.Leaf) *corev1.Secret {
	return &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}, Type: corev1.SecretTypeTLS,
		Data: map[string][]byte{"tls.crt": l.CertPEM, "tls.key": l.KeyPEM}}
}
