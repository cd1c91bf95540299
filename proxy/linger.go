package proxy

import (
	"crypto/tls"
	"io"
	"net"
	"runtime"
	"sync/atomic"
	"time"

	"github.com/bridgehead/bridgehead/proxy/sniff"
)

// Lingering close bounds: how long, and how much, a closing connection still reads.
const (
	lingerTime  = 2 * time.Second
	lingerBytes = 256 << 10
)

// lingerConn closes a client connection that never got to HTTP the way nginx's
// lingering_close does: FIN first, then whatever the client still sends is read and
// dropped for a short while, then the socket closes. A plain close answers bytes that
// arrive after it with a reset, and the client reports that instead of what we sent last.
// The case that matters is a refused TLS handshake: a TLS 1.3 client sends its request
// right behind its Finished, before it learns that its certificate was refused, and curl
// said "getpeername() failed ... Transport endpoint is not connected" (or "Connection
// reset by peer") instead of "alert certificate required" in 19 of 20 tries.
//
// Connections that served HTTP close plainly (net/http already avoids resets there, and
// lingering every close cost 3% more CPU per connection in the handshake benchmark).
//
// Being the connection beneath TLS, it also batches the writes to clients (Write).
type lingerConn struct {
	net.Conn
	tcp    *net.TCPConn // nil when the listener's wrappers hide it: no lingering then
	served atomic.Bool  // the handshake completed and HTTP was served
	// state is the connection's, when the entry point made the handshake (serveTLS).
	state *connState
}

// Write lets the other goroutines that are ready run before it writes to a client whose
// connection served HTTP. Go's HTTP/2 server writes a connection's frames from its serve
// loop and flushes them (one TLS record, one system call) whenever its queue is empty. A
// stream's handler that ends hands its response to that loop, which the scheduler runs
// next. So under load the server flushed about once per response. After the yield, the
// handlers of the other streams whose origin answered in the same poll queue their frames
// first, and the next flush carries them all, as HAProxy's one write for many streams
// does. Over HTTP/1.1 each connection has one response at a time, but the writes of the
// connections that are ready go out together, and the client is woken once for several.
// With nothing else ready it returns at once. The yield changes no write's bytes, errors
// or deadlines.
//
// make bench, alternating runs of the same build without and with it: HTTP/2 (50
// connections x 10 streams) 71.7–80.5 -> 61.1–66.4 µs of proxy CPU per request, its
// system time 24–27 -> 15–23 µs; keep-alive HTTP/1.1 (with the origin-side yield of
// proxy/upstream in both) a median of 49.0 -> 46.3 µs over 5 pairs.
func (c *lingerConn) Write(b []byte) (int, error) {
	if c.served.Load() {
		runtime.Gosched()
	}
	return c.Conn.Write(b)
}

// lingering wraps a client connection for TLS serving.
func lingering(c net.Conn) net.Conn {
	return &lingerConn{Conn: c, tcp: tcpOf(c)}
}

// tcpOf finds the TCP socket beneath the wrappers the listener adds.
func tcpOf(c net.Conn) *net.TCPConn {
	for {
		switch v := c.(type) {
		case *net.TCPConn:
			return v
		case *peekedConn:
			c = v.Underlying()
		case *sniff.Conn:
			c = v.Underlying()
		case *remoteConn:
			c = v.Conn
		default:
			return nil
		}
	}
}

// markServed records that net/http served c (a *tls.Conn over a lingerConn).
func markServed(c net.Conn) {
	if tc, ok := c.(*tls.Conn); ok {
		if lc, ok := tc.NetConn().(*lingerConn); ok && !lc.served.Load() {
			lc.served.Store(true)
		}
	}
}

func (c *lingerConn) Close() error {
	if c.served.Load() || c.tcp == nil || c.tcp.CloseWrite() != nil {
		return c.Conn.Close()
	}
	go func() {
		_ = c.tcp.SetReadDeadline(time.Now().Add(lingerTime))
		_, _ = io.CopyN(io.Discard, c.tcp, lingerBytes)
		_ = c.Conn.Close()
	}()
	return nil
}
