package upstream

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptrace"
	"net/textproto"
	"os"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/net/http/httpguts"
)

// h1Pool is the HTTP/1.1 fast path: a request without a body and with a safe method
// (GET, HEAD, OPTIONS, TRACE) is written to a pooled backend connection and its response
// read back in the calling goroutine. http.Transport runs a read loop and a write loop per
// connection and hands every request and response across channels; under keep-alive load
// those hand-offs and the scheduler's wake-ups around them were a large part of the
// proxy's cost per request (docs/measurements/data-plane-cost.md).
//
// Everything else stays on http.Transport, which the fast path does not try to equal:
// bodies (a backend may answer before it has read the body, so writing and reading must
// overlap), upgrades, Expect: 100-continue, methods that must not be sent twice, HTTP/2
// (a backend that negotiates h2 by ALPN is left to the transport from then on) and h2c.
// The framing of both directions is the standard library's (Request.Write,
// http.ReadResponse) or equal to it byte for byte where the fast path writes or reads
// the plain cases itself (head.go, response.go, each fuzzed against the standard
// library's).
//
// The connection cap is split between the two: the fast path holds at most half of
// MaxConnsPerHost to an endpoint and hands requests beyond that to the transport, which
// holds the rest and makes them wait; so an endpoint never sees more than the cap. The
// handshake rate is split the same way, each pool with its own bucket: with one shared
// bucket, the transport's dials under a burst (its idle pool closes what it cannot keep,
// then dials again) kept it empty, and the fast path, which never waits for a token, could
// not take over.
type h1Pool struct {
	u *upstream
	// maxOpen caps the fast path's connections per endpoint (dialling, in use and idle);
	// 0: no cap.
	maxOpen       int
	handshakes    *handshakeLimiter // the fast path's share of the handshake rate; nil: unlimited
	maxIdle       int
	idleGrace     time.Duration // defaultIdleGrace; shorter in tests
	handWait      time.Duration // defaultHandWait; longer in tests
	idleTimeout   time.Duration
	headerTimeout time.Duration
	// h2 is set once a connection to the backend negotiated HTTP/2 (https only): from
	// then on the transport, which multiplexes, takes every request. learned is set once a
	// connection negotiated HTTP/1.1: until then the transport makes the first
	// connections, so a burst to an HTTP/2 backend costs no extra handshakes.
	h2, learned atomic.Bool

	mu       sync.Mutex
	learning chan struct{} // closed when the first handshake has taught learned or h2
	hosts    map[string]*h1Host
	sweeping bool // a sweep is due by sweepAt
	sweepAt  time.Time
}

// maxResponseHead bounds a response's status line and header, as http.Transport's
// default MaxResponseHeaderBytes does.
const maxResponseHead = 10 << 20

// max1xx bounds the informational responses read before the final one.
const max1xx = 10

// aLongTimeAgo is a deadline in the past: setting it makes blocked I/O return at once.
var aLongTimeAgo = time.Unix(1, 0)

func newH1Pool(u *upstream, maxOpen, maxIdle int, idleTimeout time.Duration) *h1Pool {
	p := &h1Pool{u: u, maxOpen: maxOpen, maxIdle: maxIdle, idleGrace: defaultIdleGrace, handWait: defaultHandWait, idleTimeout: idleTimeout,
		headerTimeout: u.headerTimeout, hosts: map[string]*h1Host{}}
	if u.scheme == "http" || (u.tlsConfig != nil && len(u.tlsConfig.NextProtos) == 1) {
		p.learned.Store(true) // plain HTTP, or HTTP/1.1 is all we offer
	}
	return p
}

// takes reports whether the fast path may carry req.
func (p *h1Pool) takes(req *http.Request) bool {
	return p != nil && !p.h2.Load() && p.learned.Load() && carries(req)
}

// speaksH2 reports whether the backend's connections negotiate HTTP/2 by ALPN: the
// transport, which multiplexes, carries its requests.
func (p *h1Pool) speaksH2() bool {
	return p != nil && p.h2.Load()
}

// undecided reports whether the fast path would carry req once a handshake has told it
// that the backend speaks HTTP/1.1.
func (p *h1Pool) undecided(req *http.Request) bool {
	return p != nil && !p.h2.Load() && !p.learned.Load() && carries(req)
}

// takesKind reports whether the fast path would carry a request with req's method and
// header now (see carries; the body and the address are the caller's to check).
func (p *h1Pool) takesKind(req *http.Request) bool {
	return p != nil && !p.h2.Load() && p.learned.Load() && safeWithoutUpgrade(req)
}

// carries reports whether req is a request of the kind the fast path carries: no body, a
// safe method, no upgrade, an address with a port.
func carries(req *http.Request) bool {
	if (req.Body != nil && req.Body != http.NoBody) || req.ContentLength > 0 || len(req.TransferEncoding) > 0 {
		return false
	}
	if !safeWithoutUpgrade(req) {
		return false
	}
	_, port, err := net.SplitHostPort(req.URL.Host)
	return err == nil && port != ""
}

// safeWithoutUpgrade reports whether req has a safe method and asks for no upgrade.
func safeWithoutUpgrade(req *http.Request) bool {
	switch req.Method {
	case http.MethodGet, http.MethodHead, http.MethodOptions, http.MethodTrace:
	default:
		return false
	}
	_, upgrade := req.Header["Upgrade"]
	return !upgrade
}

// noteProtocol learns from a handshake's ALPN which path the backend's requests take.
func (p *h1Pool) noteProtocol(proto string) {
	if p == nil {
		return
	}
	if proto == "h2" {
		p.h2.Store(true)
	} else {
		p.h2.Store(false)
		p.learned.Store(true)
	}
	p.endLearning(nil)
}

// learn is for an undecided request. The first one becomes the learner: learn returns the
// function to call when its round trip through the transport ends, whose first handshake
// teaches the pool the protocol. The others wait until the handshake is done (or the
// learner's round trip ended without one, or their context did) and get nil.
func (p *h1Pool) learn(ctx context.Context) func() {
	p.mu.Lock()
	ch := p.learning
	if ch == nil {
		ch = make(chan struct{})
		p.learning = ch
		p.mu.Unlock()
		return func() { p.endLearning(ch) }
	}
	p.mu.Unlock()
	select {
	case <-ch:
	case <-ctx.Done():
	}
	return nil
}

// endLearning releases the requests waiting on ch, or on whatever learning is under way
// when ch is nil.
func (p *h1Pool) endLearning(ch chan struct{}) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.learning != nil && (ch == nil || p.learning == ch) {
		close(p.learning)
		p.learning = nil
	}
}

// roundTrip sends req over a pooled connection. taken is false when the fast path has
// no connection to give (the endpoint is at its share of the cap, or the backend turned
// out to speak HTTP/2): the caller then sends req through the transport. 1xx responses
// go to informational when it is set, and to the request's client trace.
func (p *h1Pool) roundTrip(req *http.Request, informational Informational, into http.Header) (resp *http.Response, taken bool, err error) {
	ctx := req.Context()
	if err := validHeader(req.Header); err != nil {
		return nil, true, err
	}
	fresh := false
	for {
		c, err := p.get(ctx, req.URL.Host, fresh)
		if c == nil || err != nil {
			return nil, err != nil, err
		}
		resp, err := c.send(req, informational, into)
		if err == nil {
			return resp, true, nil
		}
		c.close()
		// A connection that sat idle may have been closed by the backend (its keep-alive
		// timeout, a restart): the request met EOF or a reset before any byte of an answer.
		// The method is safe and there is no body, so it is sent once more on a new
		// connection, as http.Transport does; the other idle connections to the endpoint
		// waited longer still, so they go too.
		if !c.reused || c.nread > 0 || ctx.Err() != nil || isTimeout(err) {
			return nil, true, err
		}
		p.dropIdle(req.URL.Host)
		fresh = true
	}
}

// h1Conn is one pooled HTTP/1.1 connection to a backend. It is owned by one request at a
// time, or by the pool while idle.
type h1Conn struct {
	pool   *h1Pool
	addr   string
	conn   net.Conn
	tls    *tls.ConnectionState // nil over plain HTTP
	br     *bufio.Reader        // reads through the h1Conn, which counts and limits
	bw     *bufio.Writer
	idleAt time.Time
	reused bool
	// nread counts the bytes read for the current request: a request that failed before
	// any byte of an answer may be sent again.
	nread int64
	// limit is what the response head may still take; negative once the head is read.
	limit int64

	// deadline is the read deadline the header timeout left on the connection (zero:
	// none); only the exchange's own goroutine uses it.
	deadline time.Time

	mu      sync.Mutex // orders abort against the header timeout's deadline changes
	aborted bool
	// abortFunc is abort, made a func value once rather than for every request.
	abortFunc func()
}

var errResponseHeadTooLarge = errors.New("net/http: server response headers exceeded 10485760 bytes; aborted")

// Read feeds br from the connection, counting what arrives and bounding the head.
func (c *h1Conn) Read(b []byte) (int, error) {
	if c.limit == 0 {
		return 0, errResponseHeadTooLarge
	}
	if c.limit > 0 && int64(len(b)) > c.limit {
		b = b[:c.limit]
	}
	n, err := c.conn.Read(b)
	c.nread += int64(n)
	if c.limit > 0 {
		c.limit -= int64(n)
	}
	return n, err
}

// abort makes the connection's blocked and future I/O fail at once: the request's
// context ended (the client went away, or the route's backend timeout passed).
func (c *h1Conn) abort() {
	c.mu.Lock()
	c.aborted = true
	_ = c.conn.SetDeadline(aLongTimeAgo)
	c.mu.Unlock()
}

// armHeaderTimeout makes sure that the connection's reads fail if no answer arrives
// within timeout. A read deadline is a runtime timer, and setting it before and clearing
// it after each answer cost 2.4% of the proxy's CPU under HTTP/2 load. So the deadline
// is left in place after an answer whose body is already buffered (send), and moved only
// when the one in place is closer than timeout: up to timeout/16 later, once in a
// sixteenth of timeout per busy connection. A backend that sends nothing is cut off
// between timeout and 17/16 of it.
func (c *h1Conn) armHeaderTimeout(timeout time.Duration) {
	now := time.Now()
	if !c.deadline.IsZero() && !c.deadline.Before(now.Add(timeout)) {
		return
	}
	c.deadline = now.Add(timeout + timeout/16)
	c.setReadDeadline(c.deadline)
}

// bodyBuffered reports whether resp's body needs no read from the connection: none, or
// one whose every byte is in br already.
func bodyBuffered(resp *http.Response, br *bufio.Reader) bool {
	if resp.Body == http.NoBody {
		return true
	}
	lb, ok := resp.Body.(*lengthBody)
	return ok && lb.n <= int64(br.Buffered())
}

func (c *h1Conn) setReadDeadline(t time.Time) {
	c.mu.Lock()
	if !c.aborted {
		_ = c.conn.SetReadDeadline(t)
	}
	c.mu.Unlock()
}

// close closes the connection for good.
func (c *h1Conn) close() {
	_ = c.conn.Close()
	c.pool.forget(c.addr)
}

// yieldBeforeWrite lets the other goroutines that are ready run before a request goes to
// the origin. Under load, the goroutines of other client connections (or streams) that
// are ready reach their own writes meanwhile. The origin then receives
// several requests in one wake-up instead of one wake-up per request. This is the batching
// an event loop such as HAProxy's gets from handling every ready connection before it
// sleeps. With nothing else ready it returns at once.
//
// make bench, keep-alive, 3 alternating runs: 50.5 -> 46.5 µs of proxy CPU per request
// (its system time 22.6 -> 18.8 µs), and the origin's own cost per request 19.1 -> 14.7 µs.
// For HTTP/2 clients it first cost more (65 -> 72 µs) while their requests went through
// httputil.ReverseProxy; since they take the direct way (proxy/direct.go), it helps them
// too: 8 alternating pairs, 5 better, medians 67.0 -> 62.6 µs.
func yieldBeforeWrite() { runtime.Gosched() }

// yieldBeforeRead lets the other goroutines that are ready run between writing a request
// and reading its answer. The answer cannot be there yet right after the write; after the
// others ran, under load, it often is. A read that comes too early costs a system call
// that fails (EAGAIN), and a park and a wake-up in the network poller before the read
// that succeeds. With nothing else ready it returns at once.
//
// make bench, HTTP/2, 8 alternating pairs (17:29-17:38 UTC): Bridgehead 25.4 -> 23.5 us
// per request, 1.19x -> 1.11x HAProxy (7 of 8 pairs better); strace over 3 s of the load:
// failed reads 0.65 -> 0.09 per upstream write.
func yieldBeforeRead() { runtime.Gosched() }

// send writes req and reads the response head (its fields into into, see readResponse);
// the body is read by the caller.
func (c *h1Conn) send(req *http.Request, informational Informational, into http.Header) (*http.Response, error) {
	ctx := req.Context()
	trace := httptrace.ContextClientTrace(ctx)
	stop := afterFunc(ctx, c.abortFunc)
	c.nread = 0
	// A client trace is told of every field written; req.Write does that.
	if trace != nil || !writeHead(c.bw, req) {
		if err := req.Write(c.bw); err != nil {
			stop()
			return nil, c.failure(ctx, err)
		}
	}
	yieldBeforeWrite()
	if err := c.bw.Flush(); err != nil {
		stop()
		return nil, c.failure(ctx, err)
	}
	if trace != nil {
		if trace.WroteHeaders != nil {
			trace.WroteHeaders()
		}
		if trace.WroteRequest != nil {
			trace.WroteRequest(httptrace.WroteRequestInfo{})
		}
	}

	timeout := c.pool.headerTimeout
	if timeout > 0 {
		c.armHeaderTimeout(timeout)
	}
	c.limit = maxResponseHead
	yieldBeforeRead()
	var resp *http.Response
	for n := 0; ; n++ {
		var err error
		resp, err = readResponse(c.br, req, into)
		if err != nil {
			stop()
			return nil, c.failure(ctx, err)
		}
		code := resp.StatusCode
		if code >= 200 {
			break
		}
		if code == http.StatusSwitchingProtocols {
			stop()
			return nil, errors.New("the backend answered 101 Switching Protocols to a request that asked for no upgrade; it does not speak HTTP/1.1 as expected")
		}
		if n == max1xx {
			stop()
			return nil, errors.New("the backend sent more than 10 informational (1xx) responses before its answer")
		}
		if informational != nil {
			if err := informational(code, resp.Header); err != nil {
				stop()
				return nil, err
			}
		}
		if trace != nil && trace.Got1xxResponse != nil {
			if err := trace.Got1xxResponse(code, textproto.MIMEHeader(resp.Header)); err != nil {
				stop()
				return nil, err
			}
		}
	}
	c.limit = -1
	if timeout > 0 && !bodyBuffered(resp, c.br) {
		// The body is read from the connection: the header timeout must not cut it off.
		c.deadline = time.Time{}
		c.setReadDeadline(c.deadline)
	}
	resp.TLS = c.tls
	reusable := !resp.Close && !req.Close
	if resp.Body == http.NoBody {
		// HEAD, 204, 304, Content-Length: 0: the exchange is over already.
		c.done(stop, reusable)
		return resp, nil
	}
	resp.Body = &h1Body{c: c, body: resp.Body, stop: stop, reusable: reusable, ctx: ctx}
	return resp, nil
}

// afterFunc is context.AfterFunc, through ctx's own AfterFunc method when it has one
// (the client side's request context, proxy/h1server: it keeps the function in a slot of
// its own, where context.AfterFunc would add it to a map of children made for the request).
func afterFunc(ctx context.Context, f func()) (stop func() bool) {
	if a, ok := ctx.(interface{ AfterFunc(func()) func() bool }); ok {
		return a.AfterFunc(f)
	}
	return context.AfterFunc(ctx, f)
}

// done ends an exchange: the connection goes back to the pool when the answer was read
// whole, nothing more arrived, and the request's context did not abort it.
func (c *h1Conn) done(stop func() bool, reusable bool) {
	if stop() && reusable && c.br.Buffered() == 0 {
		c.pool.put(c)
		return
	}
	c.close()
}

// failure names why an exchange failed: the request's context when it ended, the
// response-header timeout when that passed, else the I/O or parse error itself.
func (c *h1Conn) failure(ctx context.Context, err error) error {
	if ctxErr := ctx.Err(); ctxErr != nil {
		return ctxErr
	}
	if c.limit > 0 && errors.Is(err, os.ErrDeadlineExceeded) {
		return errHeaderTimeout
	}
	return err
}

// errHeaderTimeout reads as http.Transport's, which classify and RoundTrip recognise.
var errHeaderTimeout error = headerTimeoutError{}

type headerTimeoutError struct{}

func (headerTimeoutError) Error() string   { return "net/http: timeout awaiting response headers" }
func (headerTimeoutError) Timeout() bool   { return true }
func (headerTimeoutError) Temporary() bool { return true }

// h1Body returns the connection to the pool when the body has been read to its end, and
// closes it when the body is closed before.
type h1Body struct {
	c        *h1Conn
	body     io.ReadCloser
	stop     func() bool
	ctx      context.Context
	reusable bool
	finished atomic.Bool
}

func (b *h1Body) Read(p []byte) (int, error) {
	if b.finished.Load() {
		return 0, io.EOF
	}
	n, err := b.body.Read(p)
	switch {
	case errors.Is(err, io.EOF):
		if b.finished.CompareAndSwap(false, true) {
			b.c.done(b.stop, b.reusable)
		}
	case err != nil:
		err = b.c.failure(b.ctx, err)
		if b.finished.CompareAndSwap(false, true) {
			b.stop()
			b.c.close()
		}
	}
	return n, err
}

// Close closes the connection unless the body was read whole: what is left of the answer
// is not worth reading. Closing the connection also ends a Read blocked in another
// goroutine.
func (b *h1Body) Close() error {
	if b.finished.CompareAndSwap(false, true) {
		b.stop()
		b.c.close()
	}
	return nil
}

// validHeader refuses what http.Transport refuses before sending: field names and values
// that are not valid HTTP (a value with CR or LF would otherwise be rewritten, not
// refused).
func validHeader(h http.Header) error {
	for k, vv := range h {
		if !httpguts.ValidHeaderFieldName(k) {
			return errors.New("net/http: invalid header field name " + textproto.CanonicalMIMEHeaderKey(k))
		}
		for _, v := range vv {
			if !httpguts.ValidHeaderFieldValue(v) {
				return errors.New("net/http: invalid header field value for " + k)
			}
		}
	}
	return nil
}
