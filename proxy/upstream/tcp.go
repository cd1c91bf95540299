package upstream

import (
	"context"
	"net"
	"sync"
	"time"

	"github.com/bridgehead/bridgehead/internal/snapshot"
)

// TCP backends get the same trust, server-name rules and failure classification as HTTP
// ones: the dialer below reuses the HTTP transport's TLS setup and error wrapping.

// tcpKey caches one TLS client setup per transport and backend identity, so TCP
// connections to a TLS backend can resume sessions.
type tcpKey struct {
	id, hash, serverName, names string
}

type tcpCache struct {
	mu sync.Mutex
	m  map[tcpKey]*upstream
}

// DialTCP connects to a TCP backend endpoint: plain, or TLS verified as t (a
// ServersTransportTCP, or nil for the system roots) says when b.TLS is set. Errors are
// *Error values that Classify names.
func (p *Pool) DialTCP(ctx context.Context, t *snapshot.Transport, b *snapshot.TCPBackend, addr string) (net.Conn, error) {
	u := p.tcpUpstream(t, b)
	if t != nil && t.Failure != nil {
		return nil, &Error{Reason: Reason(t.Failure.Reason), Detail: Detail{Endpoint: addr, Message: t.Failure.Message}}
	}
	if b.TLS {
		return u.dialTLS(ctx, "tcp", addr)
	}
	return u.dial(ctx, "tcp", addr)
}

func (p *Pool) tcpUpstream(t *snapshot.Transport, b *snapshot.TCPBackend) *upstream {
	k := tcpKey{serverName: b.ServerName}
	if t != nil {
		k.id, k.hash = t.ID, t.Hash
	}
	for _, n := range b.VerifyNames {
		k.names += n + "\x00"
	}
	p.tcp.mu.Lock()
	defer p.tcp.mu.Unlock()
	if u, ok := p.tcp.m[k]; ok {
		return u
	}
	u := &upstream{scheme: "tcp", urlScheme: "tcp"}
	st := t
	if st == nil {
		st = &snapshot.Transport{}
	}
	dialTimeout := orDefault(st.DialTimeout, defaultDialTimeout)
	keepAlive := orDefault(st.DialKeepAlive, 15*time.Second)
	dial := p.opts.DialContext
	if dial == nil {
		d := &net.Dialer{Timeout: dialTimeout, KeepAlive: keepAlive}
		dial = d.DialContext
	}
	u.dial = func(ctx context.Context, network, addr string) (net.Conn, error) {
		ctx, cancel := context.WithTimeout(ctx, dialTimeout)
		defer cancel()
		c, err := dial(ctx, network, addr)
		if err != nil {
			return nil, u.wrap(addr, err)
		}
		return c, nil
	}
	if b.TLS {
		u.setupTLS(p.opts.ClientKey, t, &snapshot.Backend{Scheme: "https", ServerName: b.ServerName, VerifyNames: b.VerifyNames})
		// Raw TCP carries no ALPN of ours.
		u.tlsConfig.NextProtos = nil
	}
	if p.tcp.m == nil {
		p.tcp.m = map[tcpKey]*upstream{}
	}
	p.tcp.m[k] = u
	return u
}
