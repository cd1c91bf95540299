package edge

import (
	"crypto/tls"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/bridgehead/bridgehead/internal/snapshot"
)

// Options configures a Builder.
type Options struct {
	// OpenSSL signs handshakes of RSA certificates through OpenSSL's libcrypto when it is
	// available (see proxy/opensslrsa); false keeps Go's signer.
	OpenSSL bool
	// Log receives the signer choice at startup, keys that stay with Go's signer, and
	// (at debug level) every client handshake.
	Log *slog.Logger
}

// Builder compiles each snapshot's client TLS. It holds what outlives snapshots: the
// session-ticket keys (so tickets stay valid across swaps), the default certificate,
// and the keys already loaded into OpenSSL.
type Builder struct {
	certs       *servedCerts
	tickets     *ticketKeys
	defaultCert *tls.Certificate
	log         *slog.Logger
}

// New prepares the client TLS of one data plane and says at startup who signs RSA
// handshakes.
func New(opts Options) (*Builder, error) {
	if opts.Log == nil {
		opts.Log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	b := &Builder{certs: newServedCerts(opts.OpenSSL, opts.Log), tickets: newTicketKeys(), log: opts.Log}
	b.certs.logSigner(opts.OpenSSL)
	var err error
	if b.defaultCert, err = defaultCertificate(); err != nil {
		return nil, err
	}
	return b, nil
}

// Compile builds every TLS config of a snapshot. It runs on each swap, off the hot path.
func (b *Builder) Compile(snap *snapshot.Snapshot) *Configs {
	return compile(snap, b.defaultCert, b.certs, b.tickets, b.debugHandshake)
}

// ClientKey returns what prepares a client certificate the gateway presents to backends
// so that an RSA key signs through OpenSSL too (for upstream.Options.ClientKey), or nil
// when handshakes sign with Go's crypto.
func (b *Builder) ClientKey() func(tls.Certificate) tls.Certificate {
	if !b.certs.openssl {
		return nil
	}
	return b.certs.clientKey
}

// defaultCertificate is served to clients whose SNI matches nothing, as Traefik does.
func defaultCertificate() (*tls.Certificate, error) {
	c, err := selfSigned("Bridgehead default certificate", time.Now())
	if err != nil {
		return nil, fmt.Errorf("generating the default certificate: %w", err)
	}
	return c, nil
}

// debugHandshake logs each client handshake's outcome at debug level.
func (b *Builder) debugHandshake(cs tls.ConnectionState) {
	if !b.log.Enabled(nil, slog.LevelDebug) { //nolint:staticcheck // a nil context is allowed by slog
		return
	}
	var peers []string
	for _, c := range cs.PeerCertificates {
		peers = append(peers, c.Subject.String())
	}
	b.log.Debug("client TLS handshake",
		"sni", cs.ServerName, "version", tls.VersionName(cs.Version), "cipher", tls.CipherSuiteName(cs.CipherSuite),
		"alpn", cs.NegotiatedProtocol, "resumed", cs.DidResume, "peerCertificates", peers)
}
