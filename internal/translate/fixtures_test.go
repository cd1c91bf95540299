package translate

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"flag"
	"math/big"
	"os"
	"path/filepath"
	"testing"
	"time"
)

var genCerts = flag.Bool("gen-certs", false, "regenerate testdata/certs (changes every golden fingerprint)")

// TestGenerateFixtures writes the certificates the golden cases share. They are committed
// so that fingerprints in the golden files stay put; run with -gen-certs only to replace them.
func TestGenerateFixtures(t *testing.T) {
	if !*genCerts {
		t.Skip("run with -gen-certs to regenerate testdata/certs")
	}
	dir := filepath.Join("testdata", "certs")
	from, until := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2125, 1, 1, 0, 0, 0, 0, time.UTC)
	serial := int64(1)
	issue := func(name string, tmpl *x509.Certificate, parent *x509.Certificate, parentKey *ecdsa.PrivateKey) (*x509.Certificate, *ecdsa.PrivateKey) {
		key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		serial++
		tmpl.SerialNumber = big.NewInt(serial)
		if tmpl.NotBefore.IsZero() {
			tmpl.NotBefore, tmpl.NotAfter = from, until
		}
		if parent == nil {
			parent, parentKey = tmpl, key
		}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, &key.PublicKey, parentKey)
		if err != nil {
			t.Fatal(err)
		}
		cert, _ := x509.ParseCertificate(der)
		write(t, filepath.Join(dir, name+".crt"), "CERTIFICATE", der)
		keyDER, _ := x509.MarshalECPrivateKey(key)
		write(t, filepath.Join(dir, name+".key"), "EC PRIVATE KEY", keyDER)
		return cert, key
	}
	ca := func(cn string) *x509.Certificate {
		return &x509.Certificate{Subject: pkix.Name{CommonName: cn, Organization: []string{"Bridgehead tests"}}, IsCA: true,
			BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign}
	}
	leaf := func(cn string, names ...string) *x509.Certificate {
		return &x509.Certificate{Subject: pkix.Name{CommonName: cn}, DNSNames: names, KeyUsage: x509.KeyUsageDigitalSignature,
			ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth}}
	}
	edgeCA, edgeKey := issue("edge-ca", ca("Bridgehead Test Edge CA"), nil, nil)
	issue("web", leaf("web.example.com", "web.example.com", "www.example.com"), edgeCA, edgeKey)
	issue("wildcard", leaf("*.example.com", "*.example.com"), edgeCA, edgeKey)
	expired := leaf("web.example.com", "web.example.com")
	expired.NotBefore, expired.NotAfter = time.Date(2023, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2024, 6, 1, 0, 0, 0, 0, time.UTC)
	issue("expired", expired, edgeCA, edgeKey)
	expiring := leaf("web.example.com", "web.example.com")
	expiring.NotBefore, expiring.NotAfter = from, time.Date(2026, 1, 10, 0, 0, 0, 0, time.UTC)
	issue("expiring", expiring, edgeCA, edgeKey)
	backendCA, backendKey := issue("backend-ca", ca("Bridgehead Test Backend CA"), nil, nil)
	issue("backend", leaf("backend", "backend", "backend.web", "backend.web.svc", "backend.web.svc.cluster.local"), backendCA, backendKey)
	clientCA, clientKey := issue("client-ca", ca("Bridgehead Test Client CA"), nil, nil)
	issue("client", leaf("gateway-client"), clientCA, clientKey)
	issue("other", leaf("other"), nil, nil) // self-signed: its key does not match web.crt
	if err := os.WriteFile(filepath.Join(dir, "garbage.pem"), []byte("this is not PEM\n"), 0o644); err != nil {
		t.Fatal(err)
	}
}

func write(t *testing.T, path, typ string, der []byte) {
	t.Helper()
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o644); err != nil {
		t.Fatal(err)
	}
}
