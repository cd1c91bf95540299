package proxy

import (
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/bridgehead/bridgehead/proxy/h1server"
	"github.com/bridgehead/bridgehead/proxy/h2server"
)

// serveHandedOver sets up an entry point's HTTP/1.1 serving: h1server first, and a
// net/http server for the connections it gives up; and, on a TLS entry point, h2server
// for its HTTP/2 connections (unless Config.NetHTTP2). On a TLS entry point the net/http
// server speaks HTTP/1 only (the client chose HTTP/1.1 in its handshake); on a plain one
// it also takes HTTP/2 with prior knowledge, whose preface h1server leaves to it.
func (s *Server) serveHandedOver(ep *entryPoint, addr net.Addr, errs chan<- error) {
	ep.handedOver = newChanListener(addr)
	hs := s.httpServer(ep)
	hs.Protocols = new(http.Protocols)
	hs.Protocols.SetHTTP1(true)
	hs.Protocols.SetUnencryptedHTTP2(!ep.TLS)
	ep.handOverServer = hs
	ep.h1 = &h1server.Server{
		Handler:           ep,
		ReadHeaderTimeout: s.headTimeout(),
		IdleTimeout:       s.cfg.IdleTimeout,
		HandOver:          ep.handedOver.put,
		ErrorLog:          s.errorLog,
	}
	if ep.TLS && !s.cfg.NetHTTP2 {
		ep.h2 = &h2server.Server{
			Handler:              ep,
			MaxConcurrentStreams: uint32(s.cfg.MaxConcurrentStreams), //nolint:gosec // a configured count
			MaxHeaderBytes:       s.cfg.MaxHeaderBytes,
			IdleTimeout:          s.cfg.IdleTimeout,
			PrefaceTimeout:       s.headTimeout(),
			ReadTimeout:          s.cfg.ReadTimeout,
			ErrorLog:             s.errorLog,
		}
		s.h2servers = append(s.h2servers, ep.h2)
	}
	s.servers = append(s.servers, hs)
	s.h1servers = append(s.h1servers, ep.h1)
	go func() { errs <- serveErr(hs.Serve(ep.handedOver)) }()
}

// serveTLS makes the handshake of a connection to a TLS entry point, then serves it:
// HTTP/2 through h2server (or net/http, handed to it already shaken hands), HTTP/1.1
// through h1server. It does what net/http's server does before its first request: the same
// handshake deadline, the same answer to plain HTTP sent to a TLS port, the same log line.
func (l *routedListener) serveTLS(tc *tls.Conn) {
	s, ep := l.srv, l.ep
	lc, _ := tc.NetConn().(*lingerConn)
	cs := ep.newConnState(tc)
	if lc != nil {
		lc.state = cs
	}
	ctx := ep.connContext(tc, cs)
	if d := s.headTimeout(); d > 0 {
		dl := time.Now().Add(d)
		_ = tc.SetReadDeadline(dl)
		_ = tc.SetWriteDeadline(dl)
	}
	if err := tc.HandshakeContext(ctx); err != nil {
		reason := err.Error()
		var re tls.RecordHeaderError
		if errors.As(err, &re) && re.Conn != nil && looksLikeHTTP(re.RecordHeader) {
			_, _ = io.WriteString(re.Conn, "HTTP/1.0 400 Bad Request\r\n\r\nClient sent an HTTP request to an HTTPS server.\n")
			reason = "client sent an HTTP request to an HTTPS server"
		}
		s.errorLog.Printf("http: TLS handshake error from %s: %v", tc.RemoteAddr(), reason)
		_ = tc.Close()
		return
	}
	_ = tc.SetReadDeadline(time.Time{})
	_ = tc.SetWriteDeadline(time.Time{})
	state := tc.ConnectionState()
	if state.NegotiatedProtocol == "h2" && ep.h2 == nil {
		l.handOver(tc)
		return
	}
	markServed(tc)
	cs.tls = &state
	if state.NegotiatedProtocol == "h2" {
		ep.h2.ServeConn(ctx, tc, &state)
		return
	}
	ep.h1.Serve(ctx, tc, &state)
}

// servePlain serves a connection to a plain entry point with h1server.
func (l *routedListener) servePlain(c net.Conn) {
	l.ep.h1.Serve(l.ep.connContext(c, l.ep.newConnState(c)), c, nil)
}

// connContext is the context of a connection h1server serves: the values net/http's
// server gives its connections (the server, the local address) and the entry point's
// state of the connection. The server is the one that takes the connections h1server
// hands over. Handlers look there: httputil.ReverseProxy aborts a response whose body
// breaks off (panic(http.ErrAbortHandler)) only under a server, and otherwise sends the
// head and the part it has, as if whole.
func (ep *entryPoint) connContext(c net.Conn, cs *connState) context.Context {
	ctx := context.WithValue(context.Background(), http.ServerContextKey, ep.handOverServer)
	ctx = context.WithValue(ctx, http.LocalAddrContextKey, c.LocalAddr())
	return context.WithValue(ctx, connPolicyKey{}, cs)
}

// looksLikeHTTP is net/http's test of a TLS record header that is a plain request.
func looksLikeHTTP(hdr [5]byte) bool {
	switch string(hdr[:]) {
	case "GET /", "HEAD ", "POST ", "PUT /", "OPTIO":
		return true
	}
	return false
}

// handshakenState returns the state of a connection the entry point started serving
// when net/http is given it: an HTTP/2 one whose handshake it made (serveTLS), or one
// h1server handed over.
func handshakenState(c net.Conn) *connState {
	switch v := c.(type) {
	case *h1server.Replay:
		return connStateFrom(v.Context)
	case *tls.Conn:
		if lc, ok := v.NetConn().(*lingerConn); ok {
			return lc.state
		}
	}
	return nil
}

// headTimeout bounds a handshake and a request head, as net/http bounds both: the shorter
// of ReadHeaderTimeout and ReadTimeout that is set.
func (s *Server) headTimeout() time.Duration {
	return minPositive(s.cfg.ReadHeaderTimeout, s.cfg.ReadTimeout)
}

func minPositive(a, b time.Duration) time.Duration {
	switch {
	case a <= 0:
		return b
	case b <= 0:
		return a
	}
	return min(a, b)
}

// chanListener is the listener of a net/http server fed connections one by one: the
// entry point's (routedListener) and the hand-over server's.
type chanListener struct {
	addr  net.Addr
	conns chan net.Conn
	errs  chan error
	done  chan struct{}
	once  sync.Once
}

func newChanListener(addr net.Addr) *chanListener {
	return &chanListener{addr: addr, conns: make(chan net.Conn), errs: make(chan error, 1), done: make(chan struct{})}
}

// put gives net/http c, or closes it once the listener is closed.
func (l *chanListener) put(c net.Conn) {
	select {
	case l.conns <- c:
	case <-l.done:
		_ = c.Close()
	}
}

// fail makes Accept return err (the accept loop behind it ended).
func (l *chanListener) fail(err error) {
	select {
	case l.errs <- err:
	case <-l.done:
	}
}

func (l *chanListener) Accept() (net.Conn, error) {
	select {
	case c := <-l.conns:
		return c, nil
	case err := <-l.errs:
		return nil, err
	case <-l.done:
		return nil, net.ErrClosed
	}
}

func (l *chanListener) Close() error {
	l.once.Do(func() { close(l.done) })
	return nil
}

func (l *chanListener) Addr() net.Addr { return l.addr }
