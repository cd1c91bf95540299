package diagnose

import (
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	bhv1 "github.com/bridgehead/bridgehead/api/v1alpha1"
	diag "github.com/bridgehead/bridgehead/internal/diagnose"
	"github.com/bridgehead/bridgehead/internal/pki"
	"github.com/bridgehead/bridgehead/internal/translate"
)

// TestWarningsDoNotBreak: a serversTransport on a backend that really speaks plain HTTP is
// a warning (the setting does nothing), not a broken path: exit status 0.
func TestWarningsDoNotBreak(t *testing.T) {
	s := newSetup()
	s.backendPlain = true
	s.usePort("http", 80)
	d := s.diagnose(t)
	if d.report.Broken() || d.report.Verdict != diag.Warn {
		t.Fatalf("verdict %s, want WARN:\n%s", d.report.Verdict, d.text)
	}
	if !strings.Contains(d.text, "WARN  Service web/backend port http: TransportNotUsed") || !strings.Contains(d.text, "GET / over http answered 200") {
		t.Errorf("want the unused ServersTransport flagged and the backend answering:\n%s", d.text)
	}
}

// TestIngressRouteTCP: a TCP route that terminates TLS and re-encrypts to its backend is
// walked the same way, with ServersTransportTCP and the TCP dialer the gateway uses.
func TestIngressRouteTCP(t *testing.T) {
	build := func(roots *pki.CA) *setup {
		s := newSetup()
		s.route, s.transport = nil, nil
		s.secrets["db-ca"] = caSecret("db-ca", roots)
		s.secrets["db-tls"] = tlsSecret("db-tls", edgeCA.MustIssue("db.example.test", pki.Options{DNSNames: []string{"db.example.test"}}))
		s.extra = append(s.extra,
			&bhv1.IngressRouteTCP{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "db"}, Spec: bhv1.IngressRouteTCPSpec{
				Routes: []bhv1.RouteTCP{{Match: "HostSNI(`db.example.test`)", Services: []bhv1.ServiceTCP{{
					Name: "backend", Port: "https", TLS: true, ServersTransport: "db",
				}}}},
				TLS: &bhv1.TLSTCP{SecretName: "db-tls"},
			}},
			&bhv1.ServersTransportTCP{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "db"}, Spec: bhv1.ServersTransportTCPSpec{
				TLS: &bhv1.UpstreamTLS{RootCAs: []bhv1.RootCA{{Secret: ptr.To(bhv1.SecretName("db-ca"))}}},
			}})
		return s
	}
	target := diag.Target{Kind: translate.KindIngressRouteTCP, Namespace: ns, Name: "db"}
	d := build(otherCA).diagnoseTarget(t, target)
	if testing.Verbose() {
		t.Log("\n" + d.text)
	}
	hops := d.failed("UnknownAuthority")
	if !d.report.Broken() || len(hops) != 1 || hops[0].Kind != "Endpoint" ||
		!strings.Contains(hops[0].Fix, "spec.rootCAs of ServersTransportTCP web/db") {
		t.Fatalf("want the endpoint to fail with UnknownAuthority and the ServersTransportTCP named:\n%s", d.text)
	}
	for _, want := range []string{"OK    TLS host db.example.test", "TLS: spec.routes[0].services[0].tls is true"} {
		if !strings.Contains(d.text, want) {
			t.Errorf("the report does not say %q:\n%s", want, d.text)
		}
	}
	if d := build(backendCA).diagnoseTarget(t, target); d.report.Verdict != diag.OK {
		t.Errorf("mended: verdict %s, want OK:\n%s", d.report.Verdict, d.text)
	}
}

// TestEveryRoute: without a name, every route of the folder is diagnosed, each in its
// own section, and one broken route breaks the run.
func TestEveryRoute(t *testing.T) {
	s := newSetup()
	other := s.route.DeepCopy()
	other.Name = "api"
	other.Spec.Routes[0].Match = "Host(`api.example.test`)"
	other.Spec.TLS = nil
	other.Spec.Routes[0].Services[0].ServersTransport = "missing"
	s.extra = append(s.extra, other)
	dir := t.TempDir()
	writeFolder(t, dir, "app.yaml", s.objects(s.startBackend(t))...)
	d := diagnoseDir(t, dir, s.opts)
	if len(d.report.Sections) != 2 || !d.report.Broken() {
		t.Fatalf("want 2 sections, broken:\n%s", d.text)
	}
	if d.report.Sections[0].Title != "IngressRoute web/api" || d.report.Sections[0].Verdict != diag.Fail || d.report.Sections[1].Verdict != diag.OK {
		t.Errorf("want web/api broken and web/app OK:\n%s", d.text)
	}
}
