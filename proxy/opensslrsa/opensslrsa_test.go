package opensslrsa_test

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/bridgehead/bridgehead/internal/pki"
	"github.com/bridgehead/bridgehead/proxy/opensslrsa"
)

func rsaLeaf(t testing.TB) (*pki.CA, *pki.Leaf) {
	t.Helper()
	ca := pki.MustCA("opensslrsa test CA")
	return ca, ca.MustIssue("server.test", pki.Options{DNSNames: []string{"server.test"}, Key: pki.RSA2048})
}

func wrapped(t testing.TB, leaf *pki.Leaf) tls.Certificate {
	t.Helper()
	w, err := opensslrsa.Wrap(leaf.TLS)
	if err != nil {
		t.Fatalf("Wrap: %v", err)
	}
	if opensslrsa.Available() {
		if _, isGo := w.PrivateKey.(*rsa.PrivateKey); isGo {
			t.Fatal("Wrap kept Go's RSA key although OpenSSL is available")
		}
	}
	return w
}

// Every signature the wrapped key makes must verify with Go's own RSA code, for each
// scheme crypto/tls asks for.
func TestSignaturesVerifyWithGo(t *testing.T) {
	_, leaf := rsaLeaf(t)
	signer := wrapped(t, leaf).PrivateKey.(crypto.Signer)
	pub := leaf.Cert.PublicKey.(*rsa.PublicKey)
	msg := []byte("the handshake transcript")
	for _, h := range []crypto.Hash{crypto.SHA1, crypto.SHA256, crypto.SHA384, crypto.SHA512} {
		d := h.New()
		d.Write(msg)
		digest := d.Sum(nil)

		sig, err := signer.Sign(rand.Reader, digest, h)
		if err != nil {
			t.Fatalf("PKCS1v15 %v: %v", h, err)
		}
		if err := rsa.VerifyPKCS1v15(pub, h, digest, sig); err != nil {
			t.Errorf("PKCS1v15 %v signature does not verify: %v", h, err)
		}
		for _, salt := range []int{rsa.PSSSaltLengthEqualsHash, rsa.PSSSaltLengthAuto, 20} {
			opts := &rsa.PSSOptions{SaltLength: salt, Hash: h}
			sig, err := signer.Sign(rand.Reader, digest, opts)
			if err != nil {
				t.Fatalf("PSS %v salt %d: %v", h, salt, err)
			}
			if err := rsa.VerifyPSS(pub, h, digest, sig, &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthAuto}); err != nil {
				t.Errorf("PSS %v salt %d signature does not verify: %v", h, salt, err)
			}
		}
	}
	// TLS 1.0 and 1.1 sign an MD5+SHA1 concatenation without a hash OID.
	digest := make([]byte, crypto.MD5SHA1.Size())
	rand.Read(digest)
	sig, err := signer.Sign(rand.Reader, digest, crypto.MD5SHA1)
	if err != nil {
		t.Fatalf("MD5SHA1: %v", err)
	}
	if err := rsa.VerifyPKCS1v15(pub, crypto.MD5SHA1, digest, sig); err != nil {
		t.Errorf("MD5SHA1 signature does not verify: %v", err)
	}
	// A digest of the wrong length is an error, as with Go's key, not a bad signature.
	if _, err := signer.Sign(rand.Reader, digest[:5], crypto.SHA256); err == nil {
		t.Error("a 5-byte SHA-256 digest was signed")
	}
}

// A real handshake per TLS version: the client verifies the server's signature.
func TestHandshakeWithWrappedKey(t *testing.T) {
	ca, leaf := rsaLeaf(t)
	cert := wrapped(t, leaf)
	for _, v := range []uint16{tls.VersionTLS12, tls.VersionTLS13} {
		ln, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: v, MaxVersion: v})
		if err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() {
			c, err := ln.Accept()
			if err == nil {
				err = c.(*tls.Conn).Handshake()
				_ = c.Close()
			}
			done <- err
		}()
		c, err := tls.Dial("tcp", ln.Addr().String(), &tls.Config{RootCAs: ca.Pool(), ServerName: "server.test"})
		if err != nil {
			t.Fatalf("TLS %x: client handshake: %v", v, err)
		}
		if got := c.ConnectionState().Version; got != v {
			t.Errorf("negotiated %x, want %x", got, v)
		}
		_ = c.Close()
		if err := <-done; err != nil {
			t.Errorf("TLS %x: server handshake: %v", v, err)
		}
		_ = ln.Close()
	}
}

func TestNonRSAKeysAreUnchanged(t *testing.T) {
	ca := pki.MustCA("opensslrsa test CA")
	leaf := ca.MustIssue("ec.test", pki.Options{DNSNames: []string{"ec.test"}, Key: pki.ECDSA})
	w, err := opensslrsa.Wrap(leaf.TLS)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := w.PrivateKey.(*ecdsa.PrivateKey); !ok {
		t.Errorf("an ECDSA key came back as %T", w.PrivateKey)
	}
}

// BenchmarkSignPSS compares one TLS 1.3 CertificateVerify signature (RSA-2048, PSS,
// SHA-256) with Go's key and with the wrapped one.
func BenchmarkSignPSS(b *testing.B) {
	_, leaf := rsaLeaf(b)
	digest := make([]byte, 32)
	opts := &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash, Hash: crypto.SHA256}
	for name, key := range map[string]crypto.Signer{
		"go":      leaf.TLS.PrivateKey.(crypto.Signer),
		"wrapped": wrapped(b, leaf).PrivateKey.(crypto.Signer), // OpenSSL where Available
	} {
		b.Run(name, func(b *testing.B) {
			for b.Loop() {
				if _, err := key.Sign(rand.Reader, digest, opts); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// Without libcrypto the gateway still serves: Wrap keeps Go's key and says why. The
// test runs itself again in a process whose BRIDGEHEAD_LIBCRYPTO names no file.
func TestWithoutLibcryptoGoSigns(t *testing.T) {
	if os.Getenv("OPENSSLRSA_CHILD") == "1" {
		_, leaf := rsaLeaf(t)
		w, err := opensslrsa.Wrap(leaf.TLS)
		if err != nil {
			t.Fatal(err)
		}
		if opensslrsa.Available() {
			t.Fatalf("OpenSSL available with %s=%s", opensslrsa.LibraryEnv, os.Getenv(opensslrsa.LibraryEnv))
		}
		if _, ok := w.PrivateKey.(*rsa.PrivateKey); !ok {
			t.Fatalf("the key became %T", w.PrivateKey)
		}
		if opensslrsa.Unavailable() == "" {
			t.Fatal("no reason given for the missing OpenSSL")
		}
		return
	}
	cmd := exec.Command(os.Args[0], "-test.run", "^TestWithoutLibcryptoGoSigns$", "-test.v")
	cmd.Env = append(os.Environ(), "OPENSSLRSA_CHILD=1", opensslrsa.LibraryEnv+"=/nonexistent/libcrypto.so.3")
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "--- PASS") {
		t.Fatalf("child: %v\n%s", err, out)
	}
}
