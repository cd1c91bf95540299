package middleware

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/base64"
	"fmt"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/bridgehead/bridgehead/internal/pki"
	"github.com/bridgehead/bridgehead/internal/snapshot"
)

func serveCert(t *testing.T, cfg snapshot.PassTLSClientCert, state *tls.ConnectionState, sent http.Header) http.Header {
	t.Helper()
	next := &capture{}
	h := Chain([]*snapshot.Middleware{{PassTLSClientCert: &cfg}}, next)
	r := newReq(http.MethodGet, "/", "example.com")
	r.TLS = state
	for k, v := range sent {
		r.Header[k] = v
	}
	h.ServeHTTP(httptest.NewRecorder(), r)
	if !next.called {
		t.Fatal("next not called")
	}
	return next.header
}

func TestPassTLSClientCertPEM(t *testing.T) {
	ca := pki.MustCA("Test CA")
	leaf := ca.MustIssue("client", pki.Options{DNSNames: []string{"client.example"}})
	state := &tls.ConnectionState{PeerCertificates: []*x509.Certificate{leaf.Cert, ca.Cert}}

	got := serveCert(t, snapshot.PassTLSClientCert{PEM: true}, state, nil)
	values := got.Values(xForwardedTLSClientCert)
	if len(values) != 1 {
		t.Fatalf("%s = %q, want one value", xForwardedTLSClientCert, values)
	}
	parts := strings.Split(values[0], ",")
	if len(parts) != 2 {
		t.Fatalf("want the leaf and the CA, got %d parts", len(parts))
	}
	for i, c := range state.PeerCertificates {
		der, err := base64.StdEncoding.DecodeString(parts[i])
		if err != nil || string(der) != string(c.Raw) {
			t.Fatalf("part %d is not the certificate's base64 DER: %v", i, err)
		}
	}
	// Traefik v3 removes exactly the armour and the newlines from the PEM.
	pemBody := strings.NewReplacer("-----BEGIN CERTIFICATE-----", "", "-----END CERTIFICATE-----", "", "\n", "").Replace(string(leaf.CertPEM))
	if parts[0] != pemBody {
		t.Fatalf("leaf value differs from the stripped PEM")
	}
	if got.Get(xForwardedTLSClientCertInfo) != "" {
		t.Fatal("info header set without Info")
	}
}

func TestPassTLSClientCertInfo(t *testing.T) {
	ca := pki.MustCA("Test CA")
	uri := "spiffe://example.org/ns/a/sa/b"
	leaf := ca.MustIssue("client", pki.Options{
		DNSNames: []string{"client.example", "alt.example"},
		IPs:      []net.IP{net.ParseIP("10.0.0.1")},
		URIs:     []string{uri},
	})
	state := &tls.ConnectionState{PeerCertificates: []*x509.Certificate{leaf.Cert}}
	cfg := snapshot.PassTLSClientCert{Info: []string{
		"issuer.commonName", "issuer.organization", "notAfter", "notBefore", "sans", "serialNumber", "subject.commonName",
	}}
	got := serveCert(t, cfg, state, nil)
	want := fmt.Sprintf(`Subject="CN=client";Issuer="O=Bridgehead tests,CN=Test CA";SerialNumber="%s";NB="%d";NA="%d";SAN="client.example,alt.example,10.0.0.1,%s"`,
		leaf.Cert.SerialNumber, leaf.Cert.NotBefore.Unix(), leaf.Cert.NotAfter.Unix(), uri)
	if v := got.Get(xForwardedTLSClientCertInfo); v != url.QueryEscape(want) {
		t.Fatalf("info\n got %q\nwant %q", v, url.QueryEscape(want))
	}
	if got.Get(xForwardedTLSClientCert) != "" {
		t.Fatal("PEM header set without PEM")
	}
}

func TestPassTLSClientCertDN(t *testing.T) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	name := pkix.Name{
		Country: []string{"FR", "US"}, Province: []string{"Occitanie"}, Locality: []string{"Toulouse"},
		Organization: []string{"Cheese"}, OrganizationalUnit: []string{"Signing"}, SerialNumber: "42", CommonName: "dn.example",
		ExtraNames: []pkix.AttributeTypeAndValue{
			{Type: asn1.ObjectIdentifier{0, 9, 2342, 19200300, 100, 1, 25}, Value: "org"},
			{Type: asn1.ObjectIdentifier{0, 9, 2342, 19200300, 100, 1, 25}, Value: "cheese"},
		},
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(7), Subject: name, NotBefore: time.Unix(1e9, 0), NotAfter: time.Unix(2e9, 0)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	all := []string{"country", "province", "locality", "organization", "organizationalUnit", "commonName", "serialNumber", "domainComponent"}
	var info []string
	for _, f := range all {
		info = append(info, "subject."+f)
	}
	info = append(info, "issuer.commonName", "issuer.country", "sans", "nonsense")
	got := serveCert(t, snapshot.PassTLSClientCert{Info: info}, &tls.ConnectionState{PeerCertificates: []*x509.Certificate{cert}}, nil)
	// No SANs: the SAN field is left out, as Traefik does.
	want := `Subject="DC=org,DC=cheese,C=FR,C=US,ST=Occitanie,L=Toulouse,O=Cheese,OU=Signing,SN=42,CN=dn.example";Issuer="C=FR,C=US,CN=dn.example"`
	if v, _ := url.QueryUnescape(got.Get(xForwardedTLSClientCertInfo)); v != want {
		t.Fatalf("info\n got %q\nwant %q", v, want)
	}
}

func TestPassTLSClientCertStripsClientHeaders(t *testing.T) {
	ca := pki.MustCA("Test CA")
	leaf := ca.MustIssue("client", pki.Options{})
	forged := http.Header{
		"X-Forwarded-Tls-Client-Cert":      {"forged"},
		"X-Forwarded-Tls-Client-Cert-Info": {"forged"},
		"x-forwarded-tls-client-cert":      {"forged"}, // a non-canonical key set by code
		"X_forwarded_tls_client_cert":      {"forged"}, // CGI stacks fold '_' into '-'
		"X-Forwarded-Tls-Client-Cert_Info": {"forged"},
		"X-Other":                          {"kept"},
	}
	tests := []struct {
		name  string
		cfg   snapshot.PassTLSClientCert
		state *tls.ConnectionState
		set   bool
	}{
		{"plain http", snapshot.PassTLSClientCert{PEM: true, Info: []string{"notAfter"}}, nil, false},
		{"tls without client cert", snapshot.PassTLSClientCert{PEM: true, Info: []string{"notAfter"}}, &tls.ConnectionState{}, false},
		{"tls with client cert", snapshot.PassTLSClientCert{PEM: true, Info: []string{"notAfter"}},
			&tls.ConnectionState{PeerCertificates: []*x509.Certificate{leaf.Cert}}, true},
		{"nothing selected still strips", snapshot.PassTLSClientCert{}, nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sent := forged.Clone()
			got := serveCert(t, tt.cfg, tt.state, sent)
			for k, v := range got {
				if strings.Contains(strings.Join(v, ","), "forged") {
					t.Errorf("client header %s=%q reached the backend", k, v)
				}
			}
			if got.Get("X-Other") != "kept" {
				t.Error("unrelated header removed")
			}
			if set := got.Get(xForwardedTLSClientCert) != "" && got.Get(xForwardedTLSClientCertInfo) != ""; set != tt.set {
				t.Errorf("headers set = %v, want %v", set, tt.set)
			}
		})
	}
}
