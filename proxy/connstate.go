package proxy

import (
	"context"
	"crypto/tls"
	"net"
)

// connPolicyKey carries, in a connection's context, which policy its handshake used.
type connPolicyKey struct{}

// connState is recorded per connection: the TLS policy it was negotiated under, so that a
// request is only served by a route of that same policy (421 otherwise).
type connState struct {
	policy string
	// port is the entry point's port, ready to use as the X-Forwarded-Port header value.
	port []string
	// trustForwarded: the client is in the entry point's ForwardedTrustedIPs, so its
	// X-Forwarded-* headers are kept.
	trustForwarded bool
	// tls is the connection's TLS state once its handshake is done by the entry point
	// (serveTLS), for requests net/http serves over h1server.Replay, which is no *tls.Conn.
	tls *tls.ConnectionState
}

func (ep *entryPoint) newConnState(c net.Conn) *connState {
	return &connState{port: ep.port, trustForwarded: ep.trustsForwarded(c)}
}

func connStateFrom(ctx context.Context) *connState {
	s, _ := ctx.Value(connPolicyKey{}).(*connState)
	return s
}
