package upstream

import (
	"crypto/tls"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/bridgehead/bridgehead/internal/pki"
)

func TestPrivateCAAndServerNameServe(t *testing.T) {
	ca := pki.MustCA("Backend CA")
	srv, seen := startBackend(t, serving(ca.MustIssue("backend", pki.Options{DNSNames: []string{"backend.example"}})), false)
	b := backend("https", addrOf(srv), "backend.example")

	mustServe(t, NewPool(Options{}), trust(ca, "backend-ca"), b)
	if got := seen.lastSNI(); got != "backend.example" {
		t.Fatalf("backend saw SNI %q, want the backend's serverName", got)
	}
}

func TestAnyOfTheVerifyNamesIsAccepted(t *testing.T) {
	ca := pki.MustCA("Backend CA")
	srv, seen := startBackend(t, serving(ca.MustIssue("backend", pki.Options{DNSNames: []string{"backend.web.svc"}})), false)
	names := []string{"backend", "backend.web", "backend.web.svc", "backend.web.svc.cluster.local"}
	// The SNI is a name the certificate does not hold: crypto/tls alone would refuse it.
	b := backend("https", addrOf(srv), "backend.web.svc.cluster.local", names...)

	mustServe(t, NewPool(Options{}), trust(ca, "backend-ca"), b)
	if got := seen.lastSNI(); got != "backend.web.svc.cluster.local" {
		t.Fatalf("backend saw SNI %q, want b.ServerName", got)
	}

	// Control: with only the server name accepted, the same certificate is refused.
	only := backend("https", addrOf(srv), "backend.web.svc.cluster.local")
	mustFail(t, NewPool(Options{}), trust(ca, "backend-ca"), only, NameMismatch, http.StatusBadGateway)
}

func TestCertificateFromAnotherCAIsUnknownAuthority(t *testing.T) {
	trusted, other := pki.MustCA("Backend CA"), pki.MustCA("Other CA")
	srv, _ := startBackend(t, serving(other.MustIssue("backend", pki.Options{DNSNames: []string{"backend.example"}})), false)
	b := backend("https", addrOf(srv), "backend.example")

	d := mustFail(t, NewPool(Options{}), trust(trusted, "backend-ca"), b, UnknownAuthority, http.StatusBadGateway)
	if !strings.Contains(d.Issuer, "CN=Other CA") || d.Subject != "CN=backend" || d.Endpoint != addrOf(srv) {
		t.Errorf("detail does not show the presented certificate: %+v", d)
	}
	if len(d.Roots) != 1 || d.Roots[0] != "Secret web/backend-ca: CN=Backend CA,O=Bridgehead tests" {
		t.Errorf("roots = %q", d.Roots)
	}
	for _, want := range []string{"CN=Other CA", "Secret web/backend-ca", "rootCAs"} {
		if !strings.Contains(d.Message, want) {
			t.Errorf("message %q does not mention %q", d.Message, want)
		}
	}

	// Without a ServersTransport the system roots decide, and say so.
	d = mustFail(t, NewPool(Options{}), nil, b, UnknownAuthority, http.StatusBadGateway)
	if len(d.Roots) != 1 || d.Roots[0] != "system roots" || !strings.Contains(d.Message, "system roots") {
		t.Errorf("system roots not named: %+v", d)
	}
}

func TestCertificateForAnotherNameIsNameMismatch(t *testing.T) {
	ca := pki.MustCA("Backend CA")
	srv, _ := startBackend(t, serving(ca.MustIssue("other", pki.Options{DNSNames: []string{"other.example"}})), false)
	b := backend("https", addrOf(srv), "backend.example", "backend", "backend.example")

	d := mustFail(t, NewPool(Options{}), trust(ca, "backend-ca"), b, NameMismatch, http.StatusBadGateway)
	if strings.Join(d.SANs, ",") != "other.example" || strings.Join(d.NamesChecked, ",") != "backend,backend.example" {
		t.Errorf("SANs %q, names checked %q", d.SANs, d.NamesChecked)
	}
	if !strings.Contains(d.Message, "serverName") || !strings.Contains(d.Message, "other.example") {
		t.Errorf("message %q should show the SANs and suggest serverName", d.Message)
	}
}

func TestExpiredAndNotYetValidCertificates(t *testing.T) {
	ca := pki.MustCA("Backend CA")
	now := time.Now()
	for name, o := range map[string]pki.Options{
		"expired":       {NotBefore: now.Add(-48 * time.Hour), NotAfter: now.Add(-24 * time.Hour)},
		"not yet valid": {NotBefore: now.Add(24 * time.Hour), NotAfter: now.Add(48 * time.Hour)},
	} {
		t.Run(name, func(t *testing.T) {
			o.DNSNames = []string{"backend.example"}
			leaf := ca.MustIssue("backend", o)
			srv, _ := startBackend(t, serving(leaf), false)
			d := mustFail(t, NewPool(Options{}), trust(ca, "backend-ca"), backend("https", addrOf(srv), "backend.example"),
				CertificateExpired, http.StatusBadGateway)
			if !d.NotAfter.Equal(leaf.Cert.NotAfter) {
				t.Errorf("NotAfter %v, want %v", d.NotAfter, leaf.Cert.NotAfter)
			}
		})
	}
}

func TestPeerCertSANAndURIPins(t *testing.T) {
	ca := pki.MustCA("Backend CA")
	const spiffe = "spiffe://cluster.local/ns/web/sa/backend"
	srv, _ := startBackend(t, serving(ca.MustIssue("backend", pki.Options{
		DNSNames: []string{"backend.example"}, IPs: []net.IP{net.ParseIP("10.0.0.7")}, URIs: []string{spiffe},
	})), false)
	b := backend("https", addrOf(srv), "backend.example")

	for _, tc := range []struct {
		name string
		sans []string
		uri  string
		want Reason
	}{
		{"DNS SAN pinned", []string{"nope.example", "backend.example"}, "", ""},
		{"IP SAN pinned", []string{"10.0.0.7"}, "", ""},
		{"URI pinned", nil, spiffe, ""},
		{"both pinned", []string{"backend.example"}, spiffe, ""},
		{"SAN pin missing", []string{"other.example"}, "", NameMismatch},
		{"wildcard does not satisfy an exact pin", []string{"*.example"}, "", NameMismatch},
		{"URI pin missing", nil, "spiffe://cluster.local/ns/web/sa/other", NameMismatch},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tr := trust(ca, "backend-ca")
			tr.PeerCertSANs, tr.PeerCertURI = tc.sans, tc.uri
			if tc.want == "" {
				mustServe(t, NewPool(Options{}), tr, b)
				return
			}
			d := mustFail(t, NewPool(Options{}), tr, b, tc.want, http.StatusBadGateway)
			if !contains(d.SANs, spiffe) || !contains(d.SANs, "10.0.0.7") {
				t.Errorf("SANs %q should list DNS, IP and URI SANs", d.SANs)
			}
			if !strings.Contains(d.Message, "peerCert") {
				t.Errorf("message %q should name the pin", d.Message)
			}
		})
	}
}

// Traefik's {type, value} pins: DNSName matches as hostname verification does (a wildcard
// SAN covers the name), URI ignores case; one match among every pin is enough.
func TestTypedPeerCertSANPins(t *testing.T) {
	ca := pki.MustCA("Backend CA")
	const spiffe = "spiffe://cluster.local/ns/web/sa/backend"
	srv, _ := startBackend(t, serving(ca.MustIssue("backend", pki.Options{
		DNSNames: []string{"backend.example", "*.pool.example"}, URIs: []string{spiffe},
	})), false)
	b := backend("https", addrOf(srv), "backend.example")
	for _, tc := range []struct {
		name       string
		dns, uris  []string
		plain      []string
		wantReason Reason
	}{
		{"DNSName pinned", []string{"backend.example"}, nil, nil, ""},
		{"DNSName under a wildcard SAN", []string{"node-1.pool.example"}, nil, nil, ""},
		{"URI pinned, other case", nil, []string{"SPIFFE://cluster.local/ns/web/sa/backend"}, nil, ""},
		{"one of a plain and a typed pin", nil, []string{spiffe}, []string{"other.example"}, ""},
		{"DNSName missing", []string{"other.example"}, nil, nil, NameMismatch},
		{"URI missing", nil, []string{"spiffe://cluster.local/ns/web/sa/other"}, nil, NameMismatch},
		{"a plain pin is exact: the wildcard does not stretch", nil, nil, []string{"node-1.pool.example"}, NameMismatch},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tr := trust(ca, "backend-ca")
			tr.PeerCertDNSNames, tr.PeerCertURIs, tr.PeerCertSANs = tc.dns, tc.uris, tc.plain
			if tc.wantReason == "" {
				mustServe(t, NewPool(Options{}), tr, b)
				return
			}
			d := mustFail(t, NewPool(Options{}), tr, b, tc.wantReason, http.StatusBadGateway)
			if !strings.Contains(d.Message, "peerCertSANs") {
				t.Errorf("message %q should name peerCertSANs", d.Message)
			}
		})
	}
}

func TestInsecureSkipVerifyServesAnyCertificate(t *testing.T) {
	trusted, other := pki.MustCA("Backend CA"), pki.MustCA("Other CA")
	srv, _ := startBackend(t, serving(other.MustIssue("x", pki.Options{DNSNames: []string{"other.example"}})), false)
	tr := trust(trusted, "backend-ca")
	tr.InsecureSkipVerify = true
	mustServe(t, NewPool(Options{}), tr, backend("https", addrOf(srv), "backend.example"))
}

func TestResumedSessionsAreVerifiedToo(t *testing.T) {
	ca := pki.MustCA("Backend CA")
	srv, seen := startBackend(t, serving(ca.MustIssue("backend", pki.Options{DNSNames: []string{"backend.example"}})), false)
	p, tr, b := NewPool(Options{}), trust(ca, "backend-ca"), backend("https", addrOf(srv), "backend.example")
	u := p.For(tr, b).(*upstream)
	var verified atomic.Int32
	verify := u.tlsConfig.VerifyConnection
	u.tlsConfig.VerifyConnection = func(cs tls.ConnectionState) error {
		verified.Add(1)
		return verify(cs)
	}

	mustServe(t, p, tr, b)
	u.CloseIdleConnections() // the next request dials again, with the session ticket
	mustServe(t, p, tr, b)
	seen.mu.Lock()
	defer seen.mu.Unlock()
	if len(seen.resumed) != 2 || !seen.resumed[1] {
		t.Fatalf("resumed = %v, want the second connection resumed", seen.resumed)
	}
	if verified.Load() != 2 {
		t.Fatalf("VerifyConnection ran %d times, want once per connection, resumed or not", verified.Load())
	}
}
