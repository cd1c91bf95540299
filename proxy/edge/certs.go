package edge

import (
	"crypto"
	"crypto/tls"
	"log/slog"
	"sync"

	"github.com/bridgehead/bridgehead/internal/snapshot"
	"github.com/bridgehead/bridgehead/proxy/opensslrsa"
)

// servedCerts turns a snapshot's certificates into the ones handshakes use: with
// OpenSSL signing for RSA keys (see proxy/opensslrsa) unless turned off. Each key is
// loaded into OpenSSL once and kept across snapshots for as long as one serves its
// certificate, so a swap that does not touch a Secret costs nothing here; the rest are
// dropped (and their OpenSSL keys freed with them). Keys are found by the leaf's
// fingerprint: crypto/tls checked that the key matches the leaf's public key, so the leaf
// names the key. The chain, staples and leaf always come from the snapshot.
type servedCerts struct {
	openssl bool
	log     *slog.Logger

	mu      sync.Mutex
	current map[string]crypto.PrivateKey // by leaf fingerprint
}

func newServedCerts(openssl bool, log *slog.Logger) *servedCerts {
	return &servedCerts{openssl: openssl && opensslrsa.Available(), log: log, current: map[string]crypto.PrivateKey{}}
}

// logSigner says at startup who signs handshakes for RSA certificates, and why not
// OpenSSL when it was asked for and is missing.
func (c *servedCerts) logSigner(asked bool) {
	switch {
	case c.openssl:
		c.log.Info("RSA certificates sign TLS handshakes through OpenSSL's libcrypto", "rsaSigner", "openssl")
	case asked:
		c.log.Warn("RSA certificates sign TLS handshakes with Go's crypto, about 3.5x costlier: OpenSSL is not available", "rsaSigner", "go", "reason", opensslrsa.Unavailable())
	default:
		c.log.Info("RSA certificates sign TLS handshakes with Go's crypto (--rsa-signer=go)", "rsaSigner", "go")
	}
}

// clientKey prepares a client certificate the gateway presents to backends
// (certificatesSecrets): an RSA key signs through OpenSSL too. The upstream pool calls it
// once per transport it builds; the OpenSSL key lives as long as that transport.
func (c *servedCerts) clientKey(cert tls.Certificate) tls.Certificate {
	wrapped, err := opensslrsa.Wrap(cert)
	if err != nil {
		c.log.Warn("RSA client key stays with Go's signer", "error", err)
		return cert
	}
	return wrapped
}

// certGeneration collects the certificates one snapshot serves.
type certGeneration struct {
	c    *servedCerts
	next map[string]crypto.PrivateKey
}

func (c *servedCerts) begin() *certGeneration {
	c.mu.Lock()
	return &certGeneration{c: c, next: map[string]crypto.PrivateKey{}}
}

// get returns the certificate to serve for sc.
func (g *certGeneration) get(sc *snapshot.Certificate) tls.Certificate {
	if !g.c.openssl || sc.Fingerprint == "" {
		return *sc.Cert
	}
	cert := *sc.Cert
	key, ok := g.next[sc.Fingerprint]
	if !ok {
		key, ok = g.c.current[sc.Fingerprint]
	}
	if !ok {
		wrapped, err := opensslrsa.Wrap(cert)
		if err != nil {
			// Still served, with Go's signer: slower handshakes, never a refused one.
			g.c.log.Warn("RSA key stays with Go's signer", "certificate", sc.Source.String(), "error", err)
		}
		key = wrapped.PrivateKey
	}
	g.next[sc.Fingerprint] = key
	cert.PrivateKey = key
	return cert
}

// done makes this generation's certificates the current ones.
func (g *certGeneration) done() {
	g.c.current = g.next
	g.c.mu.Unlock()
}
