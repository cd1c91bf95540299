// Package h1server serves HTTP/1.1 on client connections for the requests that make up
// most traffic — GET and HEAD without a body — in the connection's own goroutine, and
// hands the connection to net/http's server at the first request it does not take.
//
// Why: under keep-alive load, net/http's server was the largest part of the proxy's own
// CPU per request that was not the system calls (see docs/measurements/data-plane-cost.md):
// it reads each head into fresh strings and maps through textproto, derives two contexts,
// and starts a background read per request (a goroutine hand-off, a failed read and two
// deadline changes) to learn whether the client went away. Here a head is parsed from
// one string, the response writer and its buffers live as long as the connection, and the
// client is watched only when a request has run for a second (watchDelay).
//
// What it takes is a strict subset (parseHead); the rest, and the whole connection after
// it, goes to net/http with the bytes already read (Server.HandOver), so every framing
// and smuggling rule of net/http applies to everything but plain GETs and HEADs. Its
// response writer writes what net/http's would (TestResponseEqualsNetHTTP).
package h1server

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"log"
	"net"
	"net/http"
	"os"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/bridgehead/bridgehead/proxy/reqctx"
)

// watchDelay is how long a request runs before the connection is watched for the client
// going away (which cancels the request's context). Shorter requests are not watched: a
// client that leaves during one learns nothing it would not learn anyway, and the backend
// exchange ends on its own deadlines.
const watchDelay = time.Second

// Server serves the connections given to Serve.
type Server struct {
	Handler http.Handler
	// ReadHeaderTimeout bounds the reading of a head once its first byte came;
	// IdleTimeout, the wait for the next request (zero: ReadHeaderTimeout).
	ReadHeaderTimeout, IdleTimeout time.Duration
	// HandOver serves a connection this server gives up, from the request it did not
	// take on (net/http, over Replay).
	HandOver func(net.Conn)
	ErrorLog *log.Logger
	// WatchDelay is how long a request runs before the client is watched (zero:
	// watchDelay).
	WatchDelay time.Duration

	mu       sync.Mutex
	conns    map[*conn]struct{}
	closing  atomic.Bool
	finished chan struct{} // closed when the last connection ends after Shutdown
}

// Connection states (conn.state).
const (
	stateIdle int32 = iota
	stateActive
	stateClosed
)

type conn struct {
	srv   *Server
	rwc   net.Conn
	ctx   context.Context
	tls   *tls.ConnectionState
	cr    connReader
	br    *bufio.Reader
	bw    *bufio.Writer
	state atomic.Int32
	res   response
	watch watch
	h     head
	// remote is the client's address as Request.RemoteAddr carries it.
	remote string
}

var (
	readers = sync.Pool{New: func() any { return bufio.NewReaderSize(nil, 4096) }}
	writers = sync.Pool{New: func() any { return bufio.NewWriterSize(nil, 4096) }}
)

// Serve serves c, whose TLS handshake (if any, state) is done, until the client or the
// server closes it or a request goes to HandOver. ctx is the connection's context (as
// http.Server.ConnContext would make it).
func (s *Server) Serve(ctx context.Context, c net.Conn, state *tls.ConnectionState) {
	sc := &conn{srv: s, rwc: c, ctx: ctx, tls: state, remote: c.RemoteAddr().String()}
	sc.cr.c = c
	sc.br = readers.Get().(*bufio.Reader)
	sc.br.Reset(&sc.cr)
	sc.bw = writers.Get().(*bufio.Writer)
	sc.bw.Reset(c)
	if !s.track(sc) {
		_ = c.Close()
		return
	}
	handedOver := sc.serve()
	s.untrack(sc)
	if !handedOver {
		_ = c.Close()
		sc.br.Reset(nil)
		readers.Put(sc.br)
	}
	sc.bw.Reset(nil)
	writers.Put(sc.bw)
}

// serve runs the connection's requests; it reports whether it handed the connection over.
func (sc *conn) serve() (handedOver bool) {
	s := sc.srv
	defer func() {
		if v := recover(); v != nil {
			if v != http.ErrAbortHandler { //nolint:errorlint // a panic value, compared as net/http does
				buf := make([]byte, 64<<10)
				buf = buf[:runtime.Stack(buf, false)]
				s.logf("http: panic serving %v: %v\n%s", sc.remote, v, buf)
			}
			_ = sc.bw.Flush() // what was written before the panic, as net/http does
			handedOver = false
		}
	}()
	wait := s.ReadHeaderTimeout
	for {
		if wait > 0 {
			_ = sc.rwc.SetReadDeadline(time.Now().Add(wait))
		}
		if _, err := sc.br.Peek(1); err != nil {
			return false
		}
		if !sc.state.CompareAndSwap(stateIdle, stateActive) {
			return false // Shutdown closed it
		}
		end, err := sc.readHead()
		if err != nil {
			return false
		}
		if end < 0 || !parseHead(sc.headString(end), &sc.h) {
			sc.handOver()
			return true
		}
		_, _ = sc.br.Discard(end)
		if !sc.serveRequest() {
			return false
		}
		sc.state.Store(stateIdle)
		if s.draining() {
			return false
		}
		wait = s.IdleTimeout
		if wait == 0 {
			wait = s.ReadHeaderTimeout
		}
	}
}

// readHead waits until the buffer holds a whole head and returns its length, or a
// negative number when the head is not one to take: it does not fit in the buffer
// (net/http then reads it, with its own limit) or has a bare LF.
func (sc *conn) readHead() (int, error) {
	b, _ := sc.br.Peek(sc.br.Buffered())
	if end := headEnd(b, 0); end != -1 {
		return end, nil
	}
	if d := sc.srv.ReadHeaderTimeout; d > 0 {
		_ = sc.rwc.SetReadDeadline(time.Now().Add(d))
	}
	for {
		searched := len(b)
		if searched == sc.br.Size() {
			return -1, nil
		}
		if _, err := sc.br.Peek(searched + 1); err != nil {
			return 0, err
		}
		b, _ = sc.br.Peek(sc.br.Buffered())
		if end := headEnd(b, searched); end != -1 {
			return end, nil
		}
	}
}

// headString returns the head as one string, which the fields then point into.
func (sc *conn) headString(end int) string {
	b, _ := sc.br.Peek(end)
	return string(b)
}

// serveRequest runs the handler on the parsed head and finishes the response; it reports
// whether the connection carries another request.
func (sc *conn) serveRequest() (reuse bool) {
	h := &sc.h
	ctx := reqctx.New(sc.ctx)
	req := (&http.Request{
		Method:     h.method,
		URL:        h.url,
		Proto:      "HTTP/1.1",
		ProtoMajor: 1,
		ProtoMinor: 1,
		Header:     h.header,
		Body:       http.NoBody,
		Host:       h.host,
		RemoteAddr: sc.remote,
		RequestURI: h.target,
		TLS:        sc.tls,
		Close:      h.close,
	}).WithContext(ctx)
	w := &sc.res
	w.reset(sc, req)
	d := sc.srv.WatchDelay
	if d == 0 {
		d = watchDelay
	}
	watching := sc.watchAfter(d, ctx)
	defer func() {
		// Deferred, so that no watch outlives a handler that panics either.
		if watching && sc.watch.stop() {
			reuse = false
		}
		ctx.Cancel()
	}()
	sc.srv.Handler.ServeHTTP(w, req)
	return w.finish()
}

// handOver gives the connection, with the bytes read so far, to net/http.
func (sc *conn) handOver() {
	sc.srv.untrack(sc)
	_ = sc.rwc.SetReadDeadline(time.Time{})
	sc.srv.HandOver(&Replay{Conn: sc.rwc, r: sc.br, Context: sc.ctx})
}

// Replay is a connection handed over: its reads return the bytes this server read first.
// Context is the connection's context as Serve was given it, for http.Server.ConnContext
// (net/http cannot see a TLS connection's state through Replay: the caller keeps it
// there).
type Replay struct {
	net.Conn
	r       *bufio.Reader
	Context context.Context
}

func (c *Replay) Read(p []byte) (int, error) {
	if c.r == nil {
		return c.Conn.Read(p)
	}
	if c.r.Buffered() == 0 {
		// Everything read before the hand-over is consumed: read the connection itself.
		c.r.Reset(nil)
		readers.Put(c.r)
		c.r = nil
		return c.Conn.Read(p)
	}
	return c.r.Read(p)
}

// connReader is the connection beneath the buffered reader; it returns first the byte
// the watch read, if any.
type connReader struct {
	c       net.Conn
	hasByte bool
	byteBuf [1]byte
}

func (cr *connReader) Read(p []byte) (int, error) {
	if cr.hasByte && len(p) > 0 {
		p[0] = cr.byteBuf[0]
		cr.hasByte = false
		return 1, nil
	}
	return cr.c.Read(p)
}

// watch notices a client that goes away while a long request runs. One per connection,
// its timer reset for each request.
type watch struct {
	sc    *conn
	timer *time.Timer
	ctx   *reqctx.Context // the watched request's
	// mu orders run's start against stop: a read that starts after stop would wait
	// for the client forever.
	mu      sync.Mutex
	aborted bool
	reading bool
	gone    bool
	exited  chan struct{} // run sends when it ends
}

// watchAfter starts watching the connection after d unless stop comes first; it reports
// whether it will. Nothing is watched when the next request is already buffered
// (pipelining): reading more would only read that request.
func (sc *conn) watchAfter(d time.Duration, ctx *reqctx.Context) bool {
	if sc.br.Buffered() > 0 {
		return false
	}
	w := &sc.watch
	w.mu.Lock()
	w.sc, w.ctx, w.aborted, w.reading, w.gone = sc, ctx, false, false, false
	w.mu.Unlock()
	if w.timer == nil {
		w.exited = make(chan struct{}, 1)
		w.timer = time.AfterFunc(d, w.run)
	} else {
		w.timer.Reset(d)
	}
	return true
}

func (w *watch) run() {
	defer func() { w.exited <- struct{}{} }()
	w.mu.Lock()
	if w.aborted {
		w.mu.Unlock()
		return
	}
	w.reading = true
	_ = w.sc.rwc.SetReadDeadline(time.Time{})
	w.mu.Unlock()
	cr := &w.sc.cr
	n, err := cr.c.Read(cr.byteBuf[:])
	if n == 1 {
		cr.hasByte = true // the start of the next request: the client is still there
		return
	}
	if err != nil && !errors.Is(err, os.ErrDeadlineExceeded) {
		w.gone = true
		w.ctx.Cancel()
	}
}

// stop ends the watch; it reports whether the client went away. When the timer fired,
// it waits for run to end, so that no read of this request's watch is left running.
func (w *watch) stop() (gone bool) {
	if w.timer.Stop() {
		return false
	}
	w.mu.Lock()
	w.aborted = true
	if w.reading {
		_ = w.sc.rwc.SetReadDeadline(aLongTimeAgo)
	}
	w.mu.Unlock()
	<-w.exited
	return w.gone
}

var aLongTimeAgo = time.Unix(1, 0)

func (s *Server) track(sc *conn) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closing.Load() {
		return false
	}
	if s.conns == nil {
		s.conns = map[*conn]struct{}{}
	}
	s.conns[sc] = struct{}{}
	return true
}

func (s *Server) untrack(sc *conn) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.conns[sc]; !ok {
		return
	}
	delete(s.conns, sc)
	if len(s.conns) == 0 && s.finished != nil {
		close(s.finished)
		s.finished = nil
	}
}

func (s *Server) draining() bool { return s.closing.Load() }

// Shutdown closes the idle connections, lets the others finish their request (then they
// close), and waits for them until ctx ends.
func (s *Server) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	s.closing.Store(true)
	var finished chan struct{}
	if len(s.conns) > 0 {
		finished = make(chan struct{})
		s.finished = finished
	}
	for sc := range s.conns {
		if sc.state.CompareAndSwap(stateIdle, stateClosed) {
			_ = sc.rwc.Close()
		}
	}
	s.mu.Unlock()
	if finished == nil {
		return nil
	}
	select {
	case <-finished:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (s *Server) logf(format string, args ...any) {
	if s.ErrorLog != nil {
		s.ErrorLog.Printf(format, args...)
	} else {
		log.Printf(format, args...)
	}
}
