package proxy

import (
	"crypto/tls"
	"errors"
	"net"
	"net/netip"
	"time"

	"github.com/bridgehead/bridgehead/proxy/proxyproto"
	"github.com/bridgehead/bridgehead/proxy/sniff"
)

// routedListener accepts connections for one entry point and decides, per connection,
// whether a TCP route takes it (passthrough, or TLS then TCP) or HTTP is served on it
// (h1server, or net/http). Peeking and handshakes happen on the connection's own
// goroutine, so a slow client never blocks the accept loop; net/http receives the
// connections it should serve from Accept.
type routedListener struct {
	net.Listener
	srv *Server
	ep  *entryPoint
	out *chanListener // what net/http accepts
}

func newRoutedListener(ln net.Listener, s *Server, ep *entryPoint) *routedListener {
	l := &routedListener{Listener: ln, srv: s, ep: ep, out: newChanListener(ln.Addr())}
	go l.acceptLoop()
	return l
}

func (l *routedListener) acceptLoop() {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				continue
			}
			l.out.fail(err)
			return
		}
		st := l.srv.state.Load()
		if len(l.ep.TrustedProxies) > 0 {
			go l.route(c, st)
			continue
		}
		if st == nil || len(st.tcp[l.ep.Name]) == 0 {
			// No TCP route on this entry point: no need to look before handing over.
			if l.ep.h1 != nil {
				go l.serve(c)
				continue
			}
			l.handOver(l.wrap(c))
			continue
		}
		go l.route(c, st)
	}
}

// route peeks (on TLS entry points) and dispatches one connection.
func (l *routedListener) route(c net.Conn, st *state) {
	start := time.Now()
	client, _ := netip.ParseAddrPort(c.RemoteAddr().String())
	if l.trusted(client.Addr()) {
		_ = c.SetReadDeadline(start.Add(l.srv.cfg.PeekTimeout))
		remote, err := proxyproto.ReadHeader(c)
		_ = c.SetReadDeadline(time.Time{})
		if err != nil {
			l.srv.metrics.HandshakeFailure("ProxyProtocol")
			l.srv.log.Debug("closing a connection from a trusted load balancer without a valid PROXY header", "peer", c.RemoteAddr().String(), "error", err.Error())
			_ = c.Close()
			return
		}
		if remote != nil {
			c = &remoteConn{Conn: c, remote: remote}
			client, _ = netip.ParseAddrPort(remote.String())
		}
	}
	if st == nil || len(st.tcp[l.ep.Name]) == 0 {
		l.serve(c)
		return
	}
	if !l.ep.TLS {
		if r := st.matchTCP(l.ep.Name, sniff.Hello{}, client.Addr()); r != nil {
			l.srv.serveTCP(l.ep, st, r, c, start)
			return
		}
		l.serve(c)
		return
	}
	hello, peeked, err := sniff.Peek(c, l.srv.cfg.PeekTimeout, sniff.DefaultMaxBytes)
	if err != nil {
		// Not a TLS ClientHello, too large, or too slow: closed, never a fall-through.
		l.srv.metrics.HandshakeFailure(peekReason(err))
		_ = c.Close()
		return
	}
	pc := &peekedConn{Conn: peeked.(*sniff.Conn), hello: hello}
	if r := st.matchTCP(l.ep.Name, *hello, client.Addr()); r != nil {
		l.srv.serveTCP(l.ep, st, r, pc, start)
		return
	}
	l.serve(pc)
}

// serve serves a connection no TCP route takes, in the calling goroutine when it is
// h1server's.
func (l *routedListener) serve(c net.Conn) {
	switch {
	case l.ep.h1 == nil:
		l.handOver(l.wrap(c))
	case l.ep.TLS:
		l.serveTLS(tls.Server(lingering(c), l.srv.base))
	default:
		l.servePlain(c)
	}
}

func (l *routedListener) trusted(a netip.Addr) bool {
	a = a.Unmap()
	for _, p := range l.ep.TrustedProxies {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

func peekReason(err error) string {
	switch {
	case errors.Is(err, sniff.ErrNotTLS):
		return "NotTLS"
	case errors.Is(err, sniff.ErrTooLarge):
		return "ClientHelloTooLarge"
	default:
		return "ClientHelloTimeout"
	}
}

func (l *routedListener) wrap(c net.Conn) net.Conn {
	if l.ep.TLS {
		return tls.Server(lingering(c), l.srv.base)
	}
	return c
}

func (l *routedListener) handOver(c net.Conn) { l.out.put(c) }

// Accept returns the next connection net/http should serve.
func (l *routedListener) Accept() (net.Conn, error) { return l.out.Accept() }

func (l *routedListener) Close() error {
	_ = l.out.Close()
	return l.Listener.Close()
}

// peekedConn is a connection whose ClientHello was read (and will be replayed).
type peekedConn struct {
	*sniff.Conn
	hello *sniff.Hello
}

// configForClient returns the prebuilt config of the ClientHello's SNI and records, in
// the connection's context, which TLS policy the connection is negotiated under.
func (s *Server) configForClient(chi *tls.ClientHelloInfo) (*tls.Config, error) {
	st := s.state.Load()
	if st == nil {
		s.metrics.HandshakeFailure("NotReady")
		return nil, errNotReady
	}
	cfg, policy, err := st.edge.For(chi.ServerName)
	if err != nil {
		s.metrics.HandshakeFailure("Refused")
		s.log.Debug("TLS handshake refused", "sni", chi.ServerName, "remote", chi.Conn.RemoteAddr().String(), "reason", err.Error())
		return nil, err
	}
	if cs := connStateFrom(chi.Context()); cs != nil {
		cs.policy = policy
	}
	return cfg, nil
}

// remoteConn reports the client address a trusted PROXY header carried.
type remoteConn struct {
	net.Conn
	remote net.Addr
}

func (c *remoteConn) RemoteAddr() net.Addr { return c.remote }
