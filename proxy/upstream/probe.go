package upstream

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"io"
	"net/http"
	"time"

	"github.com/bridgehead/bridgehead/internal/snapshot"
)

// Presented describes the certificate a backend presented in a successful handshake.
type Presented struct {
	Subject  string
	Issuer   string
	SANs     []string
	NotAfter time.Time
}

// Probe checks one endpoint of a backend with exactly the configuration requests use:
// for https a real TLS handshake (trust, names, pins, client certificate), for http and
// h2c a small GET (a HEAD answer has no body, which would hide the "plain HTTP request was
// sent to an HTTPS port" page of a TLS backend). It returns what the backend presented, or an *Error that Classify
// names. The proxy probes when a snapshot changes a TLS path, so the status is right
// before the first user request fails; `bridgehead diagnose` uses it too.
func (p *Pool) Probe(ctx context.Context, t *snapshot.Transport, b *snapshot.Backend, addr string) (*Presented, error) {
	rt := p.For(t, b)
	if f, ok := rt.(*failing); ok {
		return nil, &Error{Reason: f.reason, status: http.StatusBadGateway, Detail: Detail{Endpoint: addr, Message: f.message}}
	}
	u := rt.(*upstream)
	if b.Scheme == "https" {
		conn, err := u.dialTLS(ctx, "tcp", addr)
		if err != nil {
			return nil, err
		}
		defer func() { _ = conn.Close() }()
		// A TLS 1.3 backend that wants a client certificate (or rejects ours) says so only after the
		// handshake: read once, briefly, to catch that alert.
		tc := conn.(*tls.Conn)
		if tc.ConnectionState().Version == tls.VersionTLS13 {
			_ = tc.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
			if _, err := tc.Read(make([]byte, 1)); err != nil && !isTimeout(err) {
				return nil, u.wrap(addr, err)
			}
		}
		return presented(tc.ConnectionState().PeerCertificates), nil
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+addr+"/", nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("User-Agent", "bridgehead-probe")
	resp, err := rt.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 4096))
	_ = resp.Body.Close()
	return nil, nil
}

func isTimeout(err error) bool {
	te, ok := err.(interface{ Timeout() bool })
	return ok && te.Timeout()
}

func presented(chain []*x509.Certificate) *Presented {
	if len(chain) == 0 {
		return &Presented{}
	}
	leaf := chain[0]
	p := &Presented{Subject: leaf.Subject.String(), Issuer: leaf.Issuer.String(), NotAfter: leaf.NotAfter, SANs: leaf.DNSNames}
	for _, ip := range leaf.IPAddresses {
		p.SANs = append(p.SANs, ip.String())
	}
	for _, u := range leaf.URIs {
		p.SANs = append(p.SANs, u.String())
	}
	return p
}
