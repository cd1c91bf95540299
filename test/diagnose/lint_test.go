package diagnose

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	bhv1 "github.com/bridgehead/bridgehead/api/v1alpha1"
	diag "github.com/bridgehead/bridgehead/internal/diagnose"
	"github.com/bridgehead/bridgehead/internal/pki"
	"github.com/bridgehead/bridgehead/internal/source/manifests"
)

// lintSet is the manifests of a setup as a team keeps them before kubectl apply: the
// route, its ServersTransport, Secrets and Service, but no EndpointSlice (the cluster
// makes those).
func (s *setup) lintSet() []client.Object {
	objs := []client.Object{s.route, s.service}
	if s.transport != nil {
		objs = append(objs, s.transport)
	}
	for _, name := range sortedNames(s.secrets) {
		objs = append(objs, s.secrets[name])
	}
	return append(objs, s.extra...)
}

func lint(t *testing.T, strict bool, objs ...client.Object) (*diag.LintResult, string) {
	t.Helper()
	dir := t.TempDir()
	writeFolder(t, dir, "app.yaml", objs...)
	return lintDir(t, dir, strict)
}

func lintDir(t *testing.T, dir string, strict bool) (*diag.LintResult, string) {
	t.Helper()
	res, err := manifests.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	s := newSetup()
	s.opts.Now = time.Now()
	r := diag.Lint(res, diag.LintOptions{Translate: s.opts, Strict: strict})
	var buf bytes.Buffer
	r.WriteText(&buf)
	return r, buf.String()
}

// TestLintCleanSet: the working manifests, without EndpointSlices, have no finding; the
// Service's endpoints are assumed, and the output says so.
func TestLintCleanSet(t *testing.T) {
	r, out := lint(t, false, newSetup().lintSet()...)
	if !r.Clean() {
		t.Fatalf("findings in the working set:\n%s", out)
	}
	for _, want := range []string{"no EndpointSlice in the manifests, assumed to have ready endpoints (--strict reports them): Service web/backend", "no findings in 5 objects"} {
		if !strings.Contains(out, want) {
			t.Errorf("the output does not say %q:\n%s", want, out)
		}
	}
	// Without the Service either: a gateway team's folder, the apps' Services elsewhere.
	s := newSetup()
	objs := s.lintSet()[:1]
	objs = append(objs, s.lintSet()[2:]...)
	if r, out := lint(t, false, objs...); !r.Clean() || !strings.Contains(out, "assumed to exist with ready endpoints (--strict reports them): Service web/backend") {
		t.Fatalf("a set without the Service: want clean, with a note:\n%s", out)
	}
}

// TestLintFindings: every static cause is a finding that names the document, the object,
// the reason and what to do.
func TestLintFindings(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(s *setup)
		object string // "Kind ns/name"
		reason string
		says   string
	}{
		{"service port resolves to http with a ServersTransport", func(s *setup) { s.usePort("web", 8443) },
			"IngressRoute web/app", "IneffectiveSetting", `serversTransport "backend" is set but the backend is spoken to over plain http`},
		{"edge certificate does not cover the host", func(s *setup) {
			s.secrets["app-tls"] = tlsSecret("app-tls", edgeCA.MustIssue("other", pki.Options{DNSNames: []string{"other.example.test"}}))
		}, "IngressRoute web/app", "CertificateHostMismatch", "valid for other.example.test but the route serves app.example.test"},
		{"edge certificate expired", func(s *setup) {
			s.secrets["app-tls"] = tlsSecret("app-tls", edgeCA.MustIssue(host, pki.Options{DNSNames: []string{host},
				NotBefore: time.Now().Add(-48 * time.Hour), NotAfter: time.Now().Add(-time.Hour)}))
		}, "IngressRoute web/app", "CertificateExpired", "renew the Secret"},
		{"TLSOption clientAuth on a route without Host()", func(s *setup) {
			s.route.Spec.Routes[0].Match = "PathPrefix(`/`)"
			s.route.Spec.TLS.Options = &bhv1.ObjectReference{Name: "mtls"}
			s.secrets["client-ca"] = caSecret("client-ca", clientCA)
			s.extra = append(s.extra, tlsOption("mtls", bhv1.RequireAndVerifyClientCert, "client-ca"))
		}, "IngressRoute web/app", "IneffectiveSetting", "the match has no Host() that pins the host"},
		{"two routes ask for different TLSOptions on one host", func(s *setup) {
			other := s.route.DeepCopy()
			other.Name = "app-admin"
			other.Spec.Routes[0].Match = "Host(`" + host + "`) && PathPrefix(`/admin`)"
			other.Spec.TLS.Options = &bhv1.ObjectReference{Name: "strict"}
			s.extra = append(s.extra, other, tlsOption("strict", bhv1.RequireAnyClientCert))
		}, "IngressRoute web/app-admin", "TLSOptionConflict", "the host fails closed"},
		{"clientAuth trusts a serving certificate", func(s *setup) {
			s.secrets["backend-tls"] = tlsSecret("backend-tls", s.backendLeaf)
			s.extra = append(s.extra, tlsOption("backend-tls-opts", bhv1.RequireAndVerifyClientCert, "backend-tls"))
		}, "TLSOption web/backend-tls-opts", diag.ReasonClientAuthTrustsServingCertificate, "holds a serving certificate, not a CA"},
		{"clientAuth trusts the Secret a ServersTransport uses as rootCAs", func(s *setup) {
			s.extra = append(s.extra, tlsOption("opts", bhv1.RequireAndVerifyClientCert, "backend-ca"))
		}, "TLSOption web/opts", diag.ReasonClientAuthTrustsServingCertificate, "is the backend trust of ServersTransport web/backend (spec.rootCAs[0])"},
		{"ServersTransport missing", func(s *setup) { s.transport = nil },
			"IngressRoute web/app", "NotFound", `ServersTransport "backend" not found in namespace web`},
		{"rootCAs Secret missing", func(s *setup) { delete(s.secrets, "backend-ca") },
			"ServersTransport web/backend", "CASecretNotFound", `Secret "backend-ca" (CA certificates) not found in namespace web`},
		{"TLSOption missing", func(s *setup) { s.route.Spec.TLS.Options = &bhv1.ObjectReference{Name: "modern"} },
			"IngressRoute web/app", "NotFound", `TLSOption "modern" not found in namespace web`},
		{"Service in another namespace", func(s *setup) {
			s.backendService().Namespace = "backends"
			s.service.Namespace = "backends"
		}, "IngressRoute web/app", "RefNotPermitted", "cross-namespace references are off"},
		{"port the Service does not have", func(s *setup) { s.backendService().Port = "metrics" },
			"IngressRoute web/app", "PortNotFound", `port "metrics" not found on Service web/backend (it has: https/443)`},
		{"certificate an HTTP route can never serve", func(s *setup) { s.route.Spec.Routes[0].Match = "PathPrefix(`/`)" },
			"IngressRoute web/app", diag.ReasonCertificateNotServed, `spec.tls.secretName "app-tls" is set, but no rule pins a host`},
		{"certificate a TCP route can never serve", func(s *setup) {
			s.extra = append(s.extra, &bhv1.IngressRouteTCP{
				ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "db"},
				Spec: bhv1.IngressRouteTCPSpec{
					EntryPoints: []string{"websecure"},
					Routes:      []bhv1.RouteTCP{{Match: "HostSNI(`*`)", Services: []bhv1.ServiceTCP{{Name: "backend", Port: "https"}}}},
					TLS:         &bhv1.TLSTCP{SecretName: "app-tls"},
				},
			})
		}, "IngressRouteTCP web/db", diag.ReasonCertificateNotServed, `spec.tls.secretName "app-tls" is set, but no rule pins a host`},
		{"insecureSkipVerify", func(s *setup) { s.transport.Spec.InsecureSkipVerify = true },
			"ServersTransport web/backend", "InsecureSkipVerify", "backend certificates are not verified"},
		{"EndpointSlice whose port name does not match the Service's", func(s *setup) {
			s.slice.Ports[0].Name = ptr.To("tls")
			s.slice.Ports[0].Port = ptr.To(int32(8443))
			s.extra = append(s.extra, s.slice)
		}, "IngressRoute web/app", "NoEndpoints", "has no ready endpoints"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newSetup()
			tt.mutate(s)
			r, out := lint(t, false, s.lintSet()...)
			if r.Clean() {
				t.Fatalf("no finding:\n%s", out)
			}
			found := false
			for _, f := range r.Findings {
				if f.Object == tt.object && f.Reason == tt.reason && strings.Contains(f.Message, tt.says) {
					found = true
					if f.Origin == "" || !strings.HasPrefix(f.Origin, "app.yaml#") {
						t.Errorf("the finding does not name its document: %+v", f)
					}
				}
			}
			if !found {
				t.Errorf("no finding %s %s saying %q:\n%s", tt.object, tt.reason, tt.says, out)
			}
		})
	}
}

// TestLintDocumentProblems: a document the loader refuses is a finding with its file,
// document and field.
func TestLintDocumentProblems(t *testing.T) {
	dir := t.TempDir()
	writeFolder(t, dir, "app.yaml", newSetup().lintSet()...)
	bad := "apiVersion: gateway.bridgehead.dev/v1alpha1\nkind: ServersTransport\nmetadata: {name: extra, namespace: web}\nspec:\n  serverNme: typo.example\n"
	if err := os.WriteFile(filepath.Join(dir, "typo.yaml"), []byte(bad), 0o600); err != nil {
		t.Fatal(err)
	}
	r, out := lintDir(t, dir, false)
	if r.Clean() || !strings.Contains(out, `typo.yaml#1 spec.serverNme: DocumentNotUsed: unknown field "spec.serverNme"`) {
		t.Fatalf("want the unknown field reported with its file, document and field:\n%s", out)
	}
}

// TestLintStrict: --strict reports what the cluster, not the manifests, would provide.
func TestLintStrict(t *testing.T) {
	s := newSetup()
	if r, out := lint(t, true, s.lintSet()...); r.Clean() || !strings.Contains(out, "NoEndpoints") {
		t.Errorf("strict: want the Service without endpoints reported:\n%s", out)
	}
	objs := []client.Object{s.route, s.transport}
	for _, name := range sortedNames(s.secrets) {
		objs = append(objs, s.secrets[name])
	}
	if r, out := lint(t, true, objs...); r.Clean() || !strings.Contains(out, `Service "backend" not found in namespace web`) {
		t.Errorf("strict: want the missing Service reported:\n%s", out)
	}
	if r, out := lint(t, false, objs...); !r.Clean() {
		t.Errorf("not strict: want the missing Service assumed:\n%s", out)
	}
}
