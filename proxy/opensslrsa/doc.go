// Package opensslrsa signs with RSA private keys through OpenSSL's libcrypto, for the
// TLS handshakes of certificates the gateway serves.
//
// Why: a full TLS handshake with an RSA-2048 certificate is dominated by one private-key
// signature. Go's constant-time RSA (crypto/internal/fips140/bigmod) takes about 890 µs
// for it on the machines we measure; OpenSSL's takes about 250 µs (`openssl speed
// rsa2048`). Handshake-heavy traffic (clients that do not resume, short-lived
// connections) is therefore 2x cheaper with OpenSSL doing the signature, while crypto/tls
// still does everything else: only the private-key operation moves.
//
// The OpenSSL path needs a build with cgo on Linux, and libcrypto 3 at run time (Debian's
// libssl3; $BRIDGEHEAD_LIBCRYPTO names another file). libcrypto is opened with dlopen, so
// building needs no OpenSSL headers. Without it, Wrap returns the certificate unchanged
// and Go signs, as it does for keys this package does not handle.
package opensslrsa

import (
	"crypto"
	"crypto/rsa"
	"crypto/tls"
	"io"
)

// Wrap returns cert with its RSA private key signing through OpenSSL, or cert unchanged
// (and a nil error) when the key is not RSA or this build has no OpenSSL. The returned
// certificate's PrivateKey still decrypts with Go (RSA key exchange, which crypto/tls
// disables by default, is the only user of that).
func Wrap(cert tls.Certificate) (tls.Certificate, error) {
	key, ok := cert.PrivateKey.(*rsa.PrivateKey)
	if !ok || !Available() {
		return cert, nil
	}
	s, err := newSigner(key)
	if err != nil {
		return cert, err
	}
	cert.PrivateKey = s
	return cert, nil
}

// signer is the crypto.Signer (and crypto.Decrypter) crypto/tls gets instead of the Go
// key. It keeps the Go key for what OpenSSL is not asked to do.
type signer struct {
	key  *rsa.PrivateKey
	impl *opensslKey
}

func (s *signer) Public() crypto.PublicKey { return &s.key.PublicKey }

// Sign implements crypto.Signer: PKCS #1 v1.5 (TLS 1.2) and PSS (TLS 1.3, TLS 1.2 with
// rsa_pss_* schemes) over the digests crypto/tls uses; anything else goes to Go's signer.
func (s *signer) Sign(rand io.Reader, digest []byte, opts crypto.SignerOpts) ([]byte, error) {
	if sig, ok, err := s.impl.sign(digest, opts); ok {
		return sig, err
	}
	return s.key.Sign(rand, digest, opts)
}

// Decrypt implements crypto.Decrypter with Go's key.
func (s *signer) Decrypt(rand io.Reader, msg []byte, opts crypto.DecrypterOpts) ([]byte, error) {
	return s.key.Decrypt(rand, msg, opts)
}
