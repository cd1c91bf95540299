package edge

import (
	"crypto/rsa"
	"log/slog"
	"testing"

	"github.com/bridgehead/bridgehead/internal/pki"
	"github.com/bridgehead/bridgehead/internal/snapshot"
	"github.com/bridgehead/bridgehead/proxy/opensslrsa"
)

func snapshotCert(t *testing.T, l *pki.Leaf, name string) *snapshot.Certificate {
	t.Helper()
	cert := l.TLS
	return &snapshot.Certificate{Source: snapshot.Ref{Kind: "Secret", Namespace: "ns", Name: name}, Fingerprint: name + "-fp", Cert: &cert}
}

// A key is loaded into OpenSSL once and reused while snapshots serve its certificate;
// a snapshot without it drops it, and a later one loads it again.
func TestServedCertsKeepKeysAcrossSnapshots(t *testing.T) {
	if !opensslrsa.Available() {
		t.Skipf("OpenSSL is not available here: %s", opensslrsa.Unavailable())
	}
	ca := pki.MustCA("certs test CA")
	a := snapshotCert(t, ca.MustIssue("a.test", pki.Options{Key: pki.RSA2048}), "a")
	b := snapshotCert(t, ca.MustIssue("b.test", pki.Options{Key: pki.RSA2048}), "b")
	served := newServedCerts(true, slog.Default())

	gen := served.begin()
	first := gen.get(a)
	if _, isGo := first.PrivateKey.(*rsa.PrivateKey); isGo {
		t.Fatal("the RSA key was not handed to OpenSSL")
	}
	if again := gen.get(a); again.PrivateKey != first.PrivateKey {
		t.Fatal("the same certificate got two OpenSSL keys in one snapshot")
	}
	gen.done()

	gen = served.begin()
	if kept := gen.get(a); kept.PrivateKey != first.PrivateKey {
		t.Fatal("an unchanged certificate was loaded into OpenSSL again on the next snapshot")
	}
	gen.get(b)
	gen.done()

	gen = served.begin()
	gen.get(b)
	gen.done()
	if _, ok := served.current["a-fp"]; ok {
		t.Fatal("a certificate no snapshot serves is still held")
	}
}

func TestServedCertsWithGoSigner(t *testing.T) {
	ca := pki.MustCA("certs test CA")
	a := snapshotCert(t, ca.MustIssue("a.test", pki.Options{Key: pki.RSA2048}), "a")
	gen := newServedCerts(false, slog.Default()).begin()
	defer gen.done()
	if got := gen.get(a); got.PrivateKey != a.Cert.PrivateKey {
		t.Fatalf("--rsa-signer=go still changed the key to %T", got.PrivateKey)
	}
}
