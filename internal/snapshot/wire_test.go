package snapshot

import (
	"bytes"
	"crypto/x509"
	"strings"
	"testing"

	"github.com/bridgehead/bridgehead/internal/pki"
)

// wireExample is a snapshot with every place a certificate or CA pool can sit, one
// certificate shared by two hosts, an ECDSA and an RSA key.
func wireExample(t testing.TB) (*Snapshot, *pki.CA) {
	ca := pki.MustCA("wire CA")
	edge := ca.MustIssue("edge", pki.Options{DNSNames: []string{"a.example", "b.example"}})
	rsaLeaf := ca.MustIssue("store", pki.Options{DNSNames: []string{"store.example"}, Key: pki.RSA2048})
	client := ca.MustIssue("client", pki.Options{})
	cert := func(l *pki.Leaf) *Certificate {
		return &Certificate{Source: Ref{Kind: "Secret", Namespace: "ns", Name: l.Cert.Subject.CommonName}, Subject: l.Cert.Subject.String(), Fingerprint: "f", Cert: &l.TLS}
	}
	pool := func() *CertPool {
		return &CertPool{Sources: []Ref{{Kind: "Secret", Namespace: "ns", Name: "ca"}}, Subjects: []string{"CN=wire CA"}, Fingerprints: []string{"x"}, Pool: ca.Pool(), Roots: [][]byte{ca.Cert.Raw}}
	}
	shared := cert(edge)
	s := &Snapshot{
		TLS: TLS{
			Policies:           []*Policy{{ID: BuiltinPolicyID}, {ID: "ns/mtls", ClientCAs: pool()}},
			DefaultPolicy:      BuiltinPolicyID,
			Hosts:              []*HostTLS{{Name: "a.example", Certificate: shared, Policy: BuiltinPolicyID}, {Name: "b.example", Certificate: shared, Policy: "ns/mtls"}, {Name: "c.example", Policy: BuiltinPolicyID}},
			DefaultCertificate: cert(edge),
			StoreCertificates:  []*Certificate{cert(rsaLeaf)},
		},
		Transports: []*Transport{{ID: "ServersTransport/ns/t", RootCAs: pool(), ClientCertificates: []*Certificate{cert(client)}}, {ID: "ServersTransport/ns/system"}},
	}
	return s, ca
}

// A snapshot that crosses to a data-plane process arrives whole: the same hash, the same
// chains and keys, CA pools that verify what the originals verified, and a certificate
// shared by two hosts still shared.
func TestWireRoundTrip(t *testing.T) {
	s, ca := wireExample(t)
	data, err := s.MarshalWire()
	if err != nil {
		t.Fatal(err)
	}
	got, err := UnmarshalWire(data)
	if err != nil {
		t.Fatal(err)
	}
	if got.Hash() != s.Hash() {
		t.Fatal("the decoded snapshot hashes differently")
	}
	pairs := [][2]*Certificate{
		{s.TLS.DefaultCertificate, got.TLS.DefaultCertificate},
		{s.TLS.StoreCertificates[0], got.TLS.StoreCertificates[0]},
		{s.TLS.Hosts[0].Certificate, got.TLS.Hosts[0].Certificate},
		{s.Transports[0].ClientCertificates[0], got.Transports[0].ClientCertificates[0]},
	}
	for i, p := range pairs {
		want, have := p[0].Cert, p[1].Cert
		if have == nil || len(have.Certificate) != len(want.Certificate) || !bytes.Equal(have.Certificate[0], want.Certificate[0]) {
			t.Fatalf("certificate %d: chain differs", i)
		}
		wantKey, _ := x509.MarshalPKCS8PrivateKey(want.PrivateKey)
		haveKey, _ := x509.MarshalPKCS8PrivateKey(have.PrivateKey)
		if !bytes.Equal(wantKey, haveKey) || have.Leaf == nil {
			t.Fatalf("certificate %d: key or leaf differs", i)
		}
	}
	if got.TLS.Hosts[0].Certificate.Cert != got.TLS.Hosts[1].Certificate.Cert {
		t.Fatal("a certificate two hosts share was decoded twice")
	}
	if got.TLS.Hosts[2].Certificate != nil || got.Transports[1].RootCAs != nil {
		t.Fatal("an absent certificate or pool was invented")
	}
	leaf := ca.MustIssue("verified", pki.Options{DNSNames: []string{"v.example"}})
	for _, p := range []*CertPool{got.TLS.Policies[1].ClientCAs, got.Transports[0].RootCAs} {
		if _, err := leaf.Cert.Verify(x509.VerifyOptions{Roots: p.Pool, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}}); err != nil {
			t.Fatalf("a decoded CA pool does not verify what its CA issued: %v", err)
		}
	}
}

// A pool built without its roots' DER cannot cross: that is a programming error, named.
func TestWireRefusesAPoolWithoutRoots(t *testing.T) {
	s, _ := wireExample(t)
	s.Transports[0].RootCAs.Roots = nil
	if _, err := s.MarshalWire(); err == nil || !strings.Contains(err.Error(), "without Roots") {
		t.Fatalf("err = %v", err)
	}
}

// Damaged messages are refused with an error, never a panic or a half-built snapshot.
func TestWireRefusesDamagedMessages(t *testing.T) {
	s, _ := wireExample(t)
	data, err := s.MarshalWire()
	if err != nil {
		t.Fatal(err)
	}
	for name, msg := range map[string][]byte{
		"truncated":         data[:len(data)/2],
		"no snapshot":       []byte(`{}`),
		"dangling cert ref": bytes.Replace(data, []byte(`"certRefs":[0`), []byte(`"certRefs":[9`), 1),
		"missing pool refs": bytes.Replace(data, []byte(`"poolRefs":[0,`), []byte(`"poolRefs":[`), 1),
	} {
		if _, err := UnmarshalWire(msg); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func FuzzUnmarshalWire(f *testing.F) {
	s, _ := wireExample(f)
	data, err := s.MarshalWire()
	if err != nil {
		f.Fatal(err)
	}
	f.Add(data)
	f.Add([]byte(`{"snapshot":{"tls":{"hosts":[{"name":"a","certificate":{}}]}},"certRefs":[5]}`))
	f.Fuzz(func(t *testing.T, msg []byte) {
		got, err := UnmarshalWire(msg)
		if err == nil && got == nil {
			t.Fatal("no error and no snapshot")
		}
	})
}
