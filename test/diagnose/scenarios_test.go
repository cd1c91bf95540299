package diagnose

import (
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	bhv1 "github.com/bridgehead/bridgehead/api/v1alpha1"
	diag "github.com/bridgehead/bridgehead/internal/diagnose"
	"github.com/bridgehead/bridgehead/internal/pki"
)

// scenario is one way to break the path, what diagnose must say about it, and the change
// that mends it.
type scenario struct {
	name string
	// broken breaks the working setup.
	broken func(s *setup)
	// fixed is the mended setup, as a user would correct the manifests; nil means the
	// working setup itself.
	fixed func(s *setup)
	// A hop of this kind must fail with this reason...
	kind, reason string
	// ...saying these things (its message and facts)...
	cause []string
	// ...and this fix.
	fix []string
}

var (
	internalLeaf = func() *pki.Leaf {
		return backendCA.MustIssue("backend.internal.test", pki.Options{DNSNames: []string{"backend.internal.test"}})
	}
	clientLeaf = clientCA.MustIssue("bridgehead-gateway", pki.Options{})
)

func requireClientCert(maxTLS uint16) func(s *setup) {
	return func(s *setup) { s.backendClientCA, s.backendMaxTLS = clientCA, maxTLS }
}

func withClientCert(s *setup) {
	s.backendClientCA = clientCA
	s.secrets["gateway-client"] = tlsSecret("gateway-client", clientLeaf)
	s.transport.Spec.CertificatesSecrets = []bhv1.SecretName{"gateway-client"}
}

var scenarios = []scenario{
	{
		name: "backend certificate not signed by the configured roots",
		broken: func(s *setup) {
			s.secrets["backend-ca"] = caSecret("backend-ca", otherCA)
		},
		kind: "Endpoint", reason: "UnknownAuthority",
		cause: []string{`issued by "CN=Backend CA,O=Bridgehead tests"`, "trusted roots: Secret web/backend-ca: CN=Other CA,O=Bridgehead tests"},
		fix:   []string{`add the CA certificate of "CN=Backend CA,O=Bridgehead tests" to spec.rootCAs of ServersTransport web/backend`},
	},
	{
		name: "backend certificate valid for other names",
		broken: func(s *setup) {
			s.backendLeaf = internalLeaf()
		},
		fixed: func(s *setup) {
			s.backendLeaf = internalLeaf()
			s.transport.Spec.ServerName = "backend.internal.test"
		},
		kind: "Endpoint", reason: "NameMismatch",
		cause: []string{"SANs [backend.internal.test]", "names checked: [backend, backend.web, backend.web.svc, backend.web.svc.cluster.local]"},
		fix:   []string{"set spec.serverName: backend.internal.test on ServersTransport web/backend"},
	},
	{
		name: "backend certificate expired",
		broken: func(s *setup) {
			s.backendLeaf = backendCA.MustIssue("backend", pki.Options{DNSNames: []string{"backend.web.svc"},
				NotBefore: time.Now().Add(-48 * time.Hour), NotAfter: time.Now().Add(-24 * time.Hour)})
		},
		kind: "Endpoint", reason: "CertificateExpired",
		cause: []string{"expired at"},
		fix:   []string{"renew the backend's certificate"},
	},
	{
		name: "backend certificate not yet valid",
		broken: func(s *setup) {
			s.backendLeaf = backendCA.MustIssue("backend", pki.Options{DNSNames: []string{"backend.web.svc"},
				NotBefore: time.Now().Add(24 * time.Hour), NotAfter: time.Now().Add(48 * time.Hour)})
		},
		kind: "Endpoint", reason: "CertificateExpired",
		cause: []string{"is not valid before"},
		fix:   []string{"not valid yet", "clocks"},
	},
	{
		// Traefik's documentation example: a serversTransport on a port that is not named
		// https (nor 443), so the backend is spoken to in clear text.
		name: "service port resolves to http, so the ServersTransport is never used",
		broken: func(s *setup) {
			s.usePort("web", 8443)
		},
		fixed: func(s *setup) {
			s.usePort("web", 8443)
			s.backendService().Scheme = bhv1.SchemeHTTPS
		},
		kind: "Endpoint", reason: "BackendExpectsTLS",
		cause: []string{"speaks TLS but was reached without it"},
		fix:   []string{"set scheme: https on spec.routes[0].services[0]", "ServersTransport web/backend, unused today, verifies it"},
	},
	{
		name: "https backend without a ServersTransport, whose certificate the default checks refuse",
		broken: func(s *setup) {
			s.backendLeaf = internalLeaf()
			s.transport = nil
			s.backendService().ServersTransport = ""
		},
		fixed: func(s *setup) {
			s.backendLeaf = internalLeaf()
			s.transport.Spec.ServerName = "backend.internal.test"
		},
		kind: "Endpoint", reason: "UnknownAuthority",
		cause: []string{"not among the system roots", "name check: the certificate is valid for [backend.internal.test], none of the names checked"},
		fix:   []string{"create a ServersTransport with spec.rootCAs", "set serversTransport: <its name> on spec.routes[0].services[0]", "set serverName: backend.internal.test"},
	},
	{
		name:   "backend requires a client certificate, certificatesSecrets is empty (TLS 1.3)",
		broken: requireClientCert(0),
		fixed:  withClientCert,
		kind:   "Endpoint", reason: "ClientCertificateRequired",
		cause: []string{"client certificate"},
		fix:   []string{"set spec.certificatesSecrets on ServersTransport web/backend"},
	},
	{
		name:   "backend requires a client certificate, certificatesSecrets is empty (TLS 1.2)",
		broken: requireClientCert(0x0303),
		fixed:  withClientCert,
		kind:   "Endpoint", reason: "ClientCertificateRequired",
		cause: []string{"requires a client certificate"},
		fix:   []string{"set spec.certificatesSecrets on ServersTransport web/backend"},
	},
	{
		name: "backend requires a client certificate, certificatesSecrets names a missing Secret",
		broken: func(s *setup) {
			withClientCert(s)
			delete(s.secrets, "gateway-client")
		},
		fixed: withClientCert,
		kind:  "ServersTransport", reason: "NotFound",
		cause: []string{`spec.certificatesSecrets[0]: Secret "gateway-client" not found in namespace web`},
		fix:   []string{"create the object"},
	},
	{
		name: "backend speaks plain HTTP on a port marked https",
		broken: func(s *setup) {
			s.backendPlain = true
		},
		fixed: func(s *setup) {
			s.backendPlain = true
			s.backendService().Scheme = bhv1.SchemeHTTP
			s.backendService().ServersTransport = ""
			s.transport = nil
		},
		kind: "Endpoint", reason: "BackendNotTLS",
		cause: []string{"answered in plain text to our TLS handshake"},
		fix:   []string{"set scheme: http on spec.routes[0].services[0]"},
	},
	{
		name: "backend speaks TLS on a port marked http",
		broken: func(s *setup) {
			s.usePort("http", 80)
			s.backendService().ServersTransport = ""
			s.transport = nil
		},
		kind: "Endpoint", reason: "BackendExpectsTLS",
		cause: []string{"speaks TLS but was reached without it"},
		fix:   []string{"set scheme: https on spec.routes[0].services[0]", "add a ServersTransport with rootCAs"},
	},
	{
		name: "edge certificate does not cover the route's host",
		broken: func(s *setup) {
			s.secrets["app-tls"] = tlsSecret("app-tls", edgeCA.MustIssue("other", pki.Options{DNSNames: []string{"other.example.test"}}))
		},
		kind: "TLS host", reason: "CertificateHostMismatch",
		cause: []string{"valid for [other.example.test], not for app.example.test"},
		fix:   []string{"issue a certificate whose SANs include app.example.test and put it in Secret web/app-tls (spec.tls.secretName)"},
	},
	{
		name: "edge certificate expired",
		broken: func(s *setup) {
			s.secrets["app-tls"] = tlsSecret("app-tls", edgeCA.MustIssue(host, pki.Options{DNSNames: []string{host},
				NotBefore: time.Now().Add(-48 * time.Hour), NotAfter: time.Now().Add(-time.Hour)}))
		},
		kind: "TLS host", reason: "CertificateExpired",
		cause: []string{"the certificate served for app.example.test expired at"},
		fix:   []string{"renew the certificate in Secret web/app-tls"},
	},
	{
		name: "TLSOption clientAuth on a route without Host()",
		broken: func(s *setup) {
			s.route.Spec.Routes[0].Match = "PathPrefix(`/`)"
			s.route.Spec.TLS.Options = &bhv1.ObjectReference{Name: "mtls"}
			s.secrets["client-ca"] = caSecret("client-ca", clientCA)
			s.extra = append(s.extra, tlsOption("mtls", bhv1.RequireAndVerifyClientCert, "client-ca"))
		},
		fixed: func(s *setup) {
			s.route.Spec.Routes[0].Match = "Host(`" + host + "`) && PathPrefix(`/`)"
			s.route.Spec.TLS.Options = &bhv1.ObjectReference{Name: "mtls"}
			s.secrets["client-ca"] = caSecret("client-ca", clientCA)
			s.extra = append(s.extra, tlsOption("mtls", bhv1.RequireAndVerifyClientCert, "client-ca"))
		},
		kind: "TLSOption", reason: diag.ReasonClientAuthWithoutHost,
		cause: []string{"spec.routes[0] (PathPrefix(`/`)) pins no host", "421 Misdirected Request"},
		fix:   []string{"add Host(`...`) to spec.routes[0].match, or list the names in spec.tls.domains"},
	},
	{
		name: "two routes ask for different TLSOptions on one host",
		broken: func(s *setup) {
			other := s.route.DeepCopy()
			other.Name = "app-admin"
			other.Spec.Routes[0].Match = "Host(`" + host + "`) && PathPrefix(`/admin`)"
			other.Spec.TLS.Options = &bhv1.ObjectReference{Name: "strict"}
			s.extra = append(s.extra, other, tlsOption("strict", bhv1.RequireAnyClientCert))
		},
		fixed: func(s *setup) {
			other := s.route.DeepCopy()
			other.Name = "app-admin"
			other.Spec.Routes[0].Match = "Host(`" + host + "`) && PathPrefix(`/admin`)"
			s.extra = append(s.extra, other)
		},
		kind: "TLS host", reason: "TLSOptionConflict",
		cause: []string{"IngressRoute web/app-admin asks for TLSOption web/strict", "IngressRoute web/app asks for TLSOption bridgehead/builtin-default"},
		fix:   []string{"make every route that serves the host name the same TLSOption"},
	},
	{
		// The mix-up of client mTLS with upstream trust: the backend's serving Secret in a
		// TLSOption's clientAuth, meant to make the gateway trust the backend.
		name: "TLSOption clientAuth trusts the backend's serving certificate",
		broken: func(s *setup) {
			s.secrets["backend-tls"] = tlsSecret("backend-tls", s.backendLeaf)
			s.route.Spec.TLS.Options = &bhv1.ObjectReference{Name: "backend-tls-opts"}
			s.extra = append(s.extra, tlsOption("backend-tls-opts", bhv1.RequireAndVerifyClientCert, "backend-tls"))
		},
		kind: "TLSOption", reason: diag.ReasonClientAuthTrustsServingCertificate,
		cause: []string{"spec.clientAuth.secretNames[0] names Secret web/backend-tls, which holds a serving certificate, not a CA",
			"demands a client certificate signed by it from every browser", "does nothing to make the gateway trust the backend"},
		fix: []string{"put the CA that signed its certificate in a ServersTransport's spec.rootCAs", "remove spec.clientAuth from TLSOption web/backend-tls-opts"},
	},
	{
		name: "TLSOption clientAuth trusts the Secret a ServersTransport uses as rootCAs",
		broken: func(s *setup) {
			s.route.Spec.TLS.Options = &bhv1.ObjectReference{Name: "backend-tls-opts"}
			s.extra = append(s.extra, tlsOption("backend-tls-opts", bhv1.RequireAndVerifyClientCert, "backend-ca"))
		},
		kind: "TLSOption", reason: diag.ReasonClientAuthTrustsServingCertificate,
		cause: []string{"names Secret web/backend-ca, which is the backend trust of ServersTransport web/backend (spec.rootCAs[0])"},
		fix:   []string{"to trust the backend, put the CA"},
	},
	{
		name: "referenced ServersTransport missing",
		broken: func(s *setup) {
			s.backendService().ServersTransport = "backend-transport"
		},
		kind: "ServersTransport", reason: "NotFound",
		cause: []string{`ServersTransport "backend-transport" not found in namespace web`},
		fix:   []string{"create ServersTransport web/backend-transport, or correct spec.routes[0].services[0].serversTransport"},
	},
	{
		name: "referenced rootCAs Secret missing",
		broken: func(s *setup) {
			delete(s.secrets, "backend-ca")
		},
		kind: "ServersTransport", reason: "CASecretNotFound",
		cause: []string{`spec.rootCAs[0]: Secret "backend-ca" (CA certificates) not found in namespace web`, "never falls back to weaker verification"},
		fix:   []string{"create the Secret (or ConfigMap) the message names"},
	},
	{
		name: "referenced rootCAs ConfigMap missing",
		broken: func(s *setup) {
			s.transport.Spec.RootCAs = []bhv1.RootCA{{ConfigMap: ptr.To("backend-ca")}}
		},
		fixed: func(s *setup) {
			s.transport.Spec.RootCAs = []bhv1.RootCA{{ConfigMap: ptr.To("backend-ca")}}
			s.extra = append(s.extra, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "backend-ca"},
				Data: map[string]string{"ca.crt": string(backendCA.PEM)}})
		},
		kind: "ServersTransport", reason: "CAConfigMapNotFound",
		cause: []string{`spec.rootCAs[0]: ConfigMap "backend-ca" (CA certificates) not found in namespace web`},
		fix:   []string{"create the Secret (or ConfigMap) the message names"},
	},
	{
		name: "referenced TLSOption missing",
		broken: func(s *setup) {
			s.route.Spec.TLS.Options = &bhv1.ObjectReference{Name: "modern"}
		},
		fixed: func(s *setup) {
			s.route.Spec.TLS.Options = &bhv1.ObjectReference{Name: "modern"}
			s.extra = append(s.extra, tlsOption("modern", ""))
		},
		kind: "TLSOption", reason: "NotFound",
		cause: []string{`spec.tls.options names TLSOption "modern", which does not exist in namespace web`},
		fix:   []string{"create TLSOption web/modern, or correct spec.tls.options"},
	},
	{
		name: "referenced TLSOption in a namespace it may not be read from",
		broken: func(s *setup) {
			s.route.Spec.TLS.Options = &bhv1.ObjectReference{Name: "modern", Namespace: "security"}
			o := tlsOption("modern", "")
			o.Namespace = "security"
			s.extra = append(s.extra, o)
		},
		kind: "TLSOption", reason: "RefNotPermitted",
		cause: []string{"TLSOption security/modern in another namespace, and cross-namespace references are off"},
		fix:   []string{"use a TLSOption in namespace web, or run the gateway (and diagnose) with --allow-cross-namespace"},
	},
	{
		name: "referenced Service in a namespace it may not be read from",
		broken: func(s *setup) {
			s.backendService().Namespace = "backends"
			s.service.Namespace, s.slice.Namespace = "backends", "backends"
		},
		kind: "Service", reason: "RefNotPermitted",
		cause: []string{"Service backends/backend is in another namespace; cross-namespace references are off"},
		fix:   []string{"route to a Service in namespace web, or run the gateway (and diagnose) with --allow-cross-namespace"},
	},
	{
		name: "referenced edge certificate Secret missing",
		broken: func(s *setup) {
			delete(s.secrets, "app-tls")
		},
		kind: "IngressRoute", reason: "NotFound",
		cause: []string{`spec.tls.secretName: Secret "app-tls" not found in namespace web`},
		fix:   []string{"create the object"},
	},
}

// TestScenarios: for every cause, diagnose on the broken folder names the cause and the
// fix, reports the route broken (exit status 1), and reports it healthy (exit status 0)
// once the manifests are mended.
func TestScenarios(t *testing.T) {
	for _, sc := range scenarios {
		t.Run(sc.name, func(t *testing.T) {
			t.Parallel()
			s := newSetup()
			sc.broken(s)
			d := s.diagnose(t)
			if testing.Verbose() {
				t.Log("\n" + d.text)
			}
			if !d.report.Broken() {
				t.Fatalf("the broken setup is not reported broken:\n%s", d.text)
			}
			hops := d.failed(sc.reason)
			var hop *diag.Hop
			for i := range hops {
				if hops[i].Kind == sc.kind {
					hop = &hops[i]
				}
			}
			if hop == nil {
				t.Fatalf("no failed %s hop with reason %s; failed hops: %v\n%s", sc.kind, sc.reason, d.hops(diag.Fail), d.text)
			}
			for _, want := range sc.cause {
				if !strings.Contains(hopText(*hop), want) {
					t.Errorf("the %s hop does not say %q:\n%s", sc.kind, want, hopText(*hop))
				}
			}
			for _, want := range sc.fix {
				if !strings.Contains(hop.Fix, want) {
					t.Errorf("the fix does not say %q:\n%s", want, hop.Fix)
				}
			}
			if hop.Fix == "" || !strings.Contains(d.text, "fix:   "+hop.Fix) || !strings.Contains(d.text, "FAIL  "+sc.kind) {
				t.Errorf("the printed report does not show the failed hop and its fix:\n%s", d.text)
			}

			fixed := newSetup()
			if sc.fixed != nil {
				sc.fixed(fixed)
			}
			if d := fixed.diagnose(t); d.report.Broken() {
				t.Errorf("the mended setup is still reported broken (%v):\n%s", d.hops(diag.Fail), d.text)
			}
		})
	}
}

// TestWorkingSetupIsOK: the working path is OK at every hop and says what it verified.
func TestWorkingSetupIsOK(t *testing.T) {
	d := newSetup().diagnose(t)
	if d.report.Verdict != diag.OK {
		t.Fatalf("verdict %s, want OK:\n%s", d.report.Verdict, d.text)
	}
	for _, want := range []string{
		"OK    TLS host app.example.test",
		"OK    ServersTransport web/backend",
		"roots: Secret web/backend-ca: CN=Backend CA,O=Bridgehead tests",
		"https: the Service port is 443",
		"the TLS handshake verified the backend; GET / over https answered 200",
		"Result: OK",
	} {
		if !strings.Contains(d.text, want) {
			t.Errorf("the report does not say %q:\n%s", want, d.text)
		}
	}
}
