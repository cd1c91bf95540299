package middleware

import (
	"context"
	"io"
	"math"
	"math/rand/v2"
	"net/http"
	"net/http/httptrace"
	"sync/atomic"
	"time"

	"github.com/bridgehead/bridgehead/internal/snapshot"
)

// Attempt is one try of a request under a retry Middleware. The forwarder (package proxy)
// learns of it from the request's context: it marks when the request's headers went to a
// backend (ClientTrace), and when a round trip fails before that it calls Unreached and
// answers nothing, so that the retry Middleware can try again. A request without an
// Attempt (no retry, or its last try) is answered as usual.
type Attempt struct {
	sent      atomic.Bool
	unreached atomic.Bool
	// deadline, when set, is the retry timeout: a failure after it is answered.
	deadline time.Time
}

type attemptKey struct{}

// AttemptFrom returns the Attempt the request is, or nil.
func AttemptFrom(ctx context.Context) *Attempt {
	a, _ := ctx.Value(attemptKey{}).(*Attempt)
	return a
}

// ClientTrace marks the attempt sent as soon as a transport has written the request's
// headers to a backend: from then on the backend may have acted on it.
func (a *Attempt) ClientTrace() *httptrace.ClientTrace {
	return &httptrace.ClientTrace{
		WroteHeaders: func() { a.sent.Store(true) },
		WroteRequest: func(httptrace.WroteRequestInfo) { a.sent.Store(true) },
	}
}

// Unreached reports a failure before anything of the request was sent, and whether the
// caller may leave the answer to the retry Middleware (true: write nothing). It is false
// once the request went out: the backend may have acted on it, so it is not sent twice.
func (a *Attempt) Unreached() bool {
	if a == nil || a.sent.Load() || (!a.deadline.IsZero() && !time.Now().Before(a.deadline)) {
		return false
	}
	a.unreached.Store(true)
	return true
}

// retry is Traefik's retry on network errors: a request whose backend could not be
// reached (dial, or TLS handshake, failed) is tried again, up to attempts times in all,
// with Traefik's exponential backoff between tries. A backend that answered, with any
// status, is never asked twice, and neither is one that received the request's headers.
// Each try gets its own copy of the request (a later middleware's rewrite of the path does
// not apply twice) and of the response headers; the body is never resent once any of it
// was read, which cannot happen before the headers are sent anyway.
type retry struct {
	next     http.Handler
	attempts int
	initial  time.Duration
	timeout  time.Duration
	// jitter returns a number in [0, 1) (rand.Float64; fixed in tests).
	jitter func() float64
	// sleep waits d, or less when ctx ends first (false then); recorded in tests.
	sleep func(ctx context.Context, d time.Duration) bool
}

// Traefik's backoff (cenkalti/backoff's exponential defaults): each wait varies by ±50%,
// no wait exceeds a minute, and retrying stops 15 minutes after the first try.
const (
	retryRandomization = 0.5
	retryMaxInterval   = time.Minute
	retryMaxElapsed    = 15 * time.Minute
)

func newRetry(c *snapshot.Retry, next http.Handler) http.Handler {
	if c.Attempts <= 1 {
		return next
	}
	return &retry{next: next, attempts: c.Attempts, initial: c.InitialInterval, timeout: c.Timeout, jitter: rand.Float64, sleep: sleep}
}

func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

func (m *retry) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var body *replayGuard
	if r.Body != nil && r.Body != http.NoBody {
		body = &replayGuard{body: r.Body}
		defer func() { _ = body.body.Close() }() // the transport reports read errors; closing has nothing to add
	}
	start := time.Now()
	interval := float64(m.initial)
	// Traefik's multiplier: the waits grow to twice the first by the last attempt.
	multiplier := math.Pow(2, 1/float64(m.attempts-1))
	for try := 1; ; try++ {
		req := r.Clone(r.Context())
		if body != nil {
			req.Body = body
		}
		elapsed := time.Since(start)
		last := try >= m.attempts || (m.timeout > 0 && elapsed >= m.timeout) || elapsed >= retryMaxElapsed ||
			(body != nil && body.read.Load())
		if last {
			m.next.ServeHTTP(w, req)
			return
		}
		a := &Attempt{}
		if m.timeout > 0 {
			a.deadline = start.Add(m.timeout)
		}
		rw := &retryWriter{w: w, header: http.Header{}}
		m.next.ServeHTTP(rw, req.WithContext(context.WithValue(req.Context(), attemptKey{}, a)))
		if rw.written || !a.unreached.Load() {
			rw.commit() // a handler that wrote nothing still set its headers
			return
		}
		if m.initial > 0 {
			wait := time.Duration(interval * (1 + retryRandomization*(2*m.jitter()-1)))
			interval = min(interval*multiplier, float64(retryMaxInterval))
			if !m.sleep(r.Context(), wait) {
				return // the client went away; nobody to answer
			}
		}
	}
}

// replayGuard hands one request body to every try, never closing it (the transport closes
// a body when its round trip fails), and says whether any of it was read: a body read
// even in part is not sent again.
type replayGuard struct {
	body io.ReadCloser
	read atomic.Bool
}

func (g *replayGuard) Read(p []byte) (int, error) {
	n, err := g.body.Read(p)
	if n > 0 {
		g.read.Store(true)
	}
	return n, err
}

func (g *replayGuard) Close() error { return nil }

// retryWriter holds one try's response headers until the try answers: a try left to the
// next one sets nothing on the client's response.
type retryWriter struct {
	w       http.ResponseWriter
	header  http.Header
	written bool
}

func (rw *retryWriter) Header() http.Header {
	if rw.written {
		return rw.w.Header()
	}
	return rw.header
}

func (rw *retryWriter) commit() {
	if rw.written {
		return
	}
	rw.written = true
	h := rw.w.Header()
	for k, v := range rw.header {
		h[k] = v
	}
}

func (rw *retryWriter) WriteHeader(code int) {
	rw.commit()
	rw.w.WriteHeader(code)
}

func (rw *retryWriter) Write(p []byte) (int, error) {
	rw.commit()
	return rw.w.Write(p)
}

// Flush passes streaming on.
func (rw *retryWriter) Flush() {
	rw.commit()
	if f, ok := rw.w.(http.Flusher); ok {
		f.Flush()
	}
}

// Unwrap lets http.ResponseController (hijack for WebSocket, deadlines) and the proxy's
// recorder look-up reach the writer beneath.
func (rw *retryWriter) Unwrap() http.ResponseWriter { return rw.w }
