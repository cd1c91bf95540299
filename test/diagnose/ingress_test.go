package diagnose

import (
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	bhv1 "github.com/bridgehead/bridgehead/api/v1alpha1"
	diag "github.com/bridgehead/bridgehead/internal/diagnose"
	"github.com/bridgehead/bridgehead/internal/pki"
	"github.com/bridgehead/bridgehead/internal/translate"
)

// ingressSetup is the working setup served through an Ingress instead of an IngressRoute:
// Ingress web/app of class bridgehead for app.example.test, its certificate in Secret
// app-tls, to Service backend port https, verified by ServersTransport backend (named in
// the bridgehead.dev/servers-transport annotation).
func ingressSetup() (*setup, *networkingv1.Ingress) {
	s := newSetup()
	s.route = nil
	ing := &networkingv1.Ingress{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "app", Annotations: map[string]string{
			translate.AnnotationServersTransport: "backend",
		}},
		Spec: networkingv1.IngressSpec{
			IngressClassName: ptr.To("bridgehead"),
			TLS:              []networkingv1.IngressTLS{{Hosts: []string{host}, SecretName: "app-tls"}},
			Rules: []networkingv1.IngressRule{{Host: host, IngressRuleValue: networkingv1.IngressRuleValue{HTTP: &networkingv1.HTTPIngressRuleValue{
				Paths: []networkingv1.HTTPIngressPath{{Path: "/", PathType: ptr.To(networkingv1.PathTypePrefix), Backend: networkingv1.IngressBackend{
					Service: &networkingv1.IngressServiceBackend{Name: "backend", Port: networkingv1.ServiceBackendPort{Name: "https"}},
				}}},
			}}}},
		},
	}
	class := &networkingv1.IngressClass{ObjectMeta: metav1.ObjectMeta{Name: "bridgehead"}, Spec: networkingv1.IngressClassSpec{Controller: translate.IngressController}}
	s.extra = append(s.extra, ing, class)
	return s, ing
}

var ingressTarget = diag.Target{Kind: translate.KindIngress, Namespace: ns, Name: "app"}

// hop returns the hops with this verdict and reason.
func (d diagnosis) hop(verdict diag.Verdict, reason string) []diag.Hop {
	var out []diag.Hop
	for _, s := range d.report.Sections {
		for _, h := range s.Hops {
			if h.Verdict == verdict && h.Reason == reason {
				out = append(out, h)
			}
		}
	}
	return out
}

// ingressCause is one way to break the Ingress path and what diagnose must say.
type ingressCause struct {
	name    string
	broken  func(s *setup, ing *networkingv1.Ingress)
	verdict diag.Verdict
	kind    string // the hop's kind
	reason  string
	says    []string // in the hop's message and facts
	fix     string   // in the hop's fix
}

var ingressCauses = []ingressCause{
	// The causes only an Ingress has.
	{
		name: "tls entry with hosts but no secretName",
		broken: func(_ *setup, ing *networkingv1.Ingress) {
			ing.Spec.TLS[0].SecretName = ""
		},
		verdict: diag.Fail, kind: "Ingress", reason: string(bhv1.ReasonTLSSecretNameMissing),
		says: []string{"spec.tls[0] lists hosts " + host + " but no secretName"}, fix: "set secretName",
	},
	{
		name: "tls entry with a secretName but no hosts",
		broken: func(_ *setup, ing *networkingv1.Ingress) {
			ing.Spec.TLS[0].Hosts = nil
		},
		verdict: diag.Warn, kind: "Ingress", reason: string(bhv1.ReasonTLSHostsMissing),
		says: []string{`spec.tls[0] names Secret "app-tls" but lists no hosts`}, fix: "list in the spec.tls entry's hosts",
	},
	{
		name: "the two halves of one tls entry",
		broken: func(_ *setup, ing *networkingv1.Ingress) {
			ing.Spec.TLS = []networkingv1.IngressTLS{{Hosts: []string{host}}, {SecretName: "app-tls"}}
		},
		verdict: diag.Fail, kind: "Ingress", reason: string(bhv1.ReasonTLSSecretNameMissing),
		says: []string{`spec.tls[1] names Secret "app-tls" but no hosts: if they are one entry split in two by a stray "-", merge them`},
	},
	{
		name: "Secret not found, one with a close name exists",
		broken: func(_ *setup, ing *networkingv1.Ingress) {
			ing.Spec.TLS[0].SecretName = "app-tsl"
		},
		verdict: diag.Fail, kind: "Ingress", reason: string(bhv1.ReasonNotFound),
		says: []string{`Secret "app-tsl" not found in namespace web; did you mean Secret web/app-tls?`},
	},
	{
		name: "Secret of another namespace with the same name",
		broken: func(s *setup, _ *networkingv1.Ingress) {
			sec := s.secrets["app-tls"]
			sec.Namespace = "certs"
		},
		verdict: diag.Fail, kind: "Ingress", reason: string(bhv1.ReasonNotFound),
		says: []string{"did you mean Secret certs/app-tls? (a Secret is read from the referencing object's namespace, web: create it there)"},
	},
	{
		name: "Secret of type Opaque holding tls.crt and tls.key",
		broken: func(s *setup, _ *networkingv1.Ingress) {
			s.secrets["app-tls"].Type = corev1.SecretTypeOpaque
		},
		verdict: diag.Warn, kind: "Ingress", reason: string(bhv1.ReasonSecretTypeNotTLS),
		says: []string{"Secret web/app-tls is of type Opaque, not kubernetes.io/tls"}, fix: "kubectl create secret tls",
	},
	{
		name: "class of another controller (spec.ingressClassName)",
		broken: func(_ *setup, ing *networkingv1.Ingress) {
			ing.Spec.IngressClassName = ptr.To("nginx")
		},
		verdict: diag.Fail, kind: "Ingress", reason: string(bhv1.ReasonIngressClassNotServed),
		says: []string{`spec.ingressClassName is "nginx"`, `this gateway serves class "bridgehead"`}, fix: "--ingress-class",
	},
	{
		name: "class of another controller (annotation)",
		broken: func(_ *setup, ing *networkingv1.Ingress) {
			// The API server refuses an annotation that disagrees with spec.ingressClassName.
			ing.Spec.IngressClassName = nil
			ing.Annotations[translate.AnnotationIngressClass] = "nginx"
		},
		verdict: diag.Fail, kind: "Ingress", reason: string(bhv1.ReasonIngressClassNotServed),
		says: []string{`metadata.annotations[kubernetes.io/ingress.class] is "nginx"`, `this gateway serves class "bridgehead"`},
	},
	{
		name: "an annotation value that cannot be read",
		broken: func(_ *setup, ing *networkingv1.Ingress) {
			ing.Annotations[translate.AnnotationSSLRedirect] = "yes please"
		},
		verdict: diag.Fail, kind: "Ingress", reason: string(bhv1.ReasonUnsupportedValue),
		says: []string{"metadata.annotations[bridgehead.dev/ssl-redirect]", `"yes please" is not a boolean`},
	},
	// The causes diagnose names for IngressRoutes, through an Ingress.
	{
		name: "backend certificate not signed by the configured roots",
		broken: func(s *setup, _ *networkingv1.Ingress) {
			s.secrets["backend-ca"] = caSecret("backend-ca", otherCA)
		},
		verdict: diag.Fail, kind: "Endpoint", reason: "UnknownAuthority",
		says: []string{`issued by "CN=Backend CA,O=Bridgehead tests"`},
	},
	{
		name: "backend certificate valid for other names",
		broken: func(s *setup, _ *networkingv1.Ingress) {
			s.backendLeaf = internalLeaf()
		},
		verdict: diag.Fail, kind: "Endpoint", reason: "NameMismatch",
		says: []string{"SANs [backend.internal.test]"},
	},
	{
		name: "backend certificate expired",
		broken: func(s *setup, _ *networkingv1.Ingress) {
			s.backendLeaf = backendCA.MustIssue("backend", pki.Options{DNSNames: []string{"backend.web.svc"},
				NotBefore: time.Now().Add(-48 * time.Hour), NotAfter: time.Now().Add(-24 * time.Hour)})
		},
		verdict: diag.Fail, kind: "Endpoint", reason: "CertificateExpired",
	},
	{
		name: "backend wants a client certificate",
		broken: func(s *setup, _ *networkingv1.Ingress) {
			s.backendClientCA = clientCA
		},
		verdict: diag.Fail, kind: "Endpoint", reason: "ClientCertificateRequired",
	},
	{
		name: "backend speaks plain HTTP on a port spoken to over TLS",
		broken: func(s *setup, _ *networkingv1.Ingress) {
			s.backendPlain = true
		},
		verdict: diag.Fail, kind: "Endpoint", reason: "BackendNotTLS",
	},
	{
		name: "Service missing",
		broken: func(_ *setup, ing *networkingv1.Ingress) {
			ing.Spec.Rules[0].HTTP.Paths[0].Backend.Service.Name = "backnd"
		},
		verdict: diag.Fail, kind: "Service", reason: string(bhv1.ReasonNotFound),
		says: []string{`Service "backnd" not found in namespace web`},
	},
	{
		name: "ServersTransport missing",
		broken: func(_ *setup, ing *networkingv1.Ingress) {
			ing.Annotations[translate.AnnotationServersTransport] = "backend-tls"
		},
		verdict: diag.Fail, kind: "ServersTransport", reason: string(bhv1.ReasonNotFound),
	},
	{
		name: "TLSOption of another namespace (forbidden reference)",
		broken: func(_ *setup, ing *networkingv1.Ingress) {
			ing.Annotations[translate.AnnotationTLSOptions] = "other/strict"
		},
		verdict: diag.Fail, kind: "TLSOption", reason: string(bhv1.ReasonRefNotPermitted),
	},
	{
		name: "edge certificate does not cover the host",
		broken: func(s *setup, _ *networkingv1.Ingress) {
			s.secrets["app-tls"] = tlsSecret("app-tls", edgeCA.MustIssue("other.example.test", pki.Options{DNSNames: []string{"other.example.test"}}))
		},
		verdict: diag.Fail, kind: "TLS host", reason: string(bhv1.ReasonCertificateHostMismatch),
		says: []string{"valid for [other.example.test], not for " + host},
	},
	{
		name: "edge certificate expired",
		broken: func(s *setup, _ *networkingv1.Ingress) {
			s.secrets["app-tls"] = tlsSecret("app-tls", edgeCA.MustIssue(host, pki.Options{DNSNames: []string{host},
				NotBefore: time.Now().Add(-48 * time.Hour), NotAfter: time.Now().Add(-24 * time.Hour)}))
		},
		verdict: diag.Fail, kind: "TLS host", reason: string(bhv1.ReasonCertificateExpired),
	},
	{
		name: "backend spoken to in clear text although a ServersTransport is named",
		broken: func(_ *setup, ing *networkingv1.Ingress) {
			ing.Annotations[translate.AnnotationBackendProtocol] = "http"
		},
		verdict: diag.Warn, kind: "Service", reason: diag.ReasonTransportNotUsed,
	},
}

// TestIngressCauses diagnoses Ingress web/app in folder mode, once per cause, with real
// handshakes to a real backend on 127.0.0.1.
func TestIngressCauses(t *testing.T) {
	for _, c := range ingressCauses {
		t.Run(c.name, func(t *testing.T) {
			s, ing := ingressSetup()
			c.broken(s, ing)
			d := s.diagnoseTarget(t, ingressTarget)
			checkCause(t, d, c)
		})
	}
}

func checkCause(t *testing.T, d diagnosis, c ingressCause) {
	t.Helper()
	hops := d.hop(c.verdict, c.reason)
	var found *diag.Hop
	for i := range hops {
		if hops[i].Kind == c.kind {
			found = &hops[i]
		}
	}
	if found == nil {
		t.Fatalf("no %s hop of kind %s with reason %s; report:\n%s", c.verdict, c.kind, c.reason, d.text)
	}
	for _, want := range c.says {
		if !strings.Contains(hopText(*found), want) {
			t.Errorf("the %s hop does not say %q:\n%s", c.reason, want, hopText(*found))
		}
	}
	if c.fix != "" && !strings.Contains(found.Fix, c.fix) {
		t.Errorf("the %s hop's fix does not say %q: %s", c.reason, c.fix, found.Fix)
	}
	if c.verdict == diag.Fail && !d.report.Broken() {
		t.Errorf("a failing hop, but the report is not broken:\n%s", d.text)
	}
}

// TestIngressWorking: the working Ingress gives no warning and no failure, and its
// endpoint answers through a verified handshake.
func TestIngressWorking(t *testing.T) {
	s, _ := ingressSetup()
	d := s.diagnoseTarget(t, ingressTarget)
	if d.report.Verdict != diag.OK {
		t.Fatalf("verdict %s, want OK:\n%s", d.report.Verdict, d.text)
	}
	for _, want := range []string{"Ingress web/app", "TLS host", "the certificate covers " + host, "Endpoint"} {
		if !strings.Contains(d.text, want) {
			t.Errorf("the report does not say %q:\n%s", want, d.text)
		}
	}
}

// TestIngressEveryTarget: without a target, the Ingresses the gateway serves are
// diagnosed with the routes, and those of other classes are not.
func TestIngressEveryTarget(t *testing.T) {
	s, _ := ingressSetup()
	other := &networkingv1.Ingress{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "nginx-one"},
		Spec: networkingv1.IngressSpec{IngressClassName: ptr.To("nginx"), DefaultBackend: &networkingv1.IngressBackend{
			Service: &networkingv1.IngressServiceBackend{Name: "backend", Port: networkingv1.ServiceBackendPort{Number: 443}}}}}
	s.extra = append(s.extra, other)
	dir := t.TempDir()
	writeFolder(t, dir, "app.yaml", s.objects(s.startBackend(t))...)
	d := diagnoseDir(t, dir, s.opts)
	if !strings.Contains(d.text, "Ingress web/app") || strings.Contains(d.text, "nginx-one") {
		t.Fatalf("want Ingress web/app diagnosed and web/nginx-one left out:\n%s", d.text)
	}
}

// An Ingress whose end-to-end TLS lives in ingress-nginx annotations is diagnosed as the
// gateway serves it: the scheme the annotation sets (the Service port alone would say
// plain HTTP), the transport the annotations make (their CA, not the system roots), and a
// real handshake checked against that CA.
func TestIngressAnnotationsAsTheGatewayReadsThem(t *testing.T) {
	annotate := func(s *setup, ing *networkingv1.Ingress, caSecret string) {
		ing.Annotations = map[string]string{
			"nginx.ingress.kubernetes.io/backend-protocol": "HTTPS",
			"nginx.ingress.kubernetes.io/proxy-ssl-secret": ns + "/" + caSecret,
			"nginx.ingress.kubernetes.io/proxy-ssl-verify": "on",
			"nginx.ingress.kubernetes.io/proxy-ssl-name":   "backend.web.svc",
		}
		// A port neither 443 nor named https: only the annotation makes it TLS.
		s.service.Spec.Ports[0] = corev1.ServicePort{Name: "web", Port: 8443}
		s.slice.Ports[0].Name = ptr.To("web")
		ing.Spec.Rules[0].HTTP.Paths[0].Backend.Service.Port = networkingv1.ServiceBackendPort{Name: "web"}
	}
	t.Run("verified", func(t *testing.T) {
		s, ing := ingressSetup()
		annotate(s, ing, "backend-ca")
		d := s.diagnoseTarget(t, ingressTarget)
		if d.report.Verdict != diag.OK {
			t.Fatalf("verdict %s, want OK:\n%s", d.report.Verdict, d.text)
		}
		for _, want := range []string{"the annotation nginx.ingress.kubernetes.io/backend-protocol says so", "Ingress web/app annotations", "Secret web/backend-ca"} {
			if !strings.Contains(d.text, want) {
				t.Errorf("the report does not say %q:\n%s", want, d.text)
			}
		}
	})
	t.Run("a CA that did not sign the backend", func(t *testing.T) {
		s, ing := ingressSetup()
		s.secrets["other-ca"] = caSecret("other-ca", pki.MustCA("Somebody else's CA"))
		annotate(s, ing, "other-ca")
		d := s.diagnoseTarget(t, ingressTarget)
		if hops := d.hop(diag.Fail, "UnknownAuthority"); len(hops) == 0 {
			t.Fatalf("no UnknownAuthority hop:\n%s", d.text)
		}
	})
}
