package upstream

import (
	"context"
	"sync"
	"time"
)

// Production defaults of Limits.
const (
	// DefaultMaxConnsPerHost is Envoy's default circuit-breaker max_connections per
	// cluster (1024); HAProxy's per-server maxconn is set in the hundreds to low thousands
	// the same way. It is far above what one endpoint needs when connections are reused
	// (HTTP/2 needs one; HTTP/1.1 needs as many as requests in flight), and it bounds what
	// a client that makes the gateway drop connections (an HTTP/2 rapid reset cancels
	// every backend request it starts, and a cancelled HTTP/1.1 request costs its
	// connection) can make one endpoint hold: about 1024 TLS connections of 40 to 60 KiB
	// each in the gateway.
	DefaultMaxConnsPerHost = 1024
	// DefaultHandshakesPerSecond bounds new TLS connections per endpoint and transport. A
	// warm gateway opens few (a backend that closes keep-alive connections every 1000
	// requests costs 10 a second at 10k requests a second). A rapid-reset client made 500
	// to 700 a second. The burst is one second's worth, or the connection cap when that is
	// larger (see newHandshakeLimiter).
	DefaultHandshakesPerSecond = 100
	// DefaultResponseHeaderTimeout is nginx's proxy_read_timeout: a backend that sends no
	// response header within a minute of getting the whole request gets 504 (Timeout).
	DefaultResponseHeaderTimeout = 60 * time.Second
)

// Limits bound what one client can make the gateway cost a backend. They apply to every
// transport; the ServersTransport's own responseHeaderTimeout wins where it is set.
// Zero means the default; negative turns a limit off.
type Limits struct {
	// MaxConnsPerHost caps the connections (dialling, active and idle) of one transport
	// to one endpoint; requests beyond it wait for one to free up, or for their context.
	MaxConnsPerHost int
	// HandshakesPerSecond bounds how many new TLS connections one transport opens to one
	// endpoint per second (a token bucket holding one second's worth, or MaxConnsPerHost
	// if that is more).
	HandshakesPerSecond float64
	// ResponseHeaderTimeout is how long a backend may take to start its answer once it
	// has the whole request.
	ResponseHeaderTimeout time.Duration
}

// Defaults fills zero fields with the production defaults.
func (l *Limits) Defaults() {
	if l.MaxConnsPerHost == 0 {
		l.MaxConnsPerHost = DefaultMaxConnsPerHost
	}
	if l.HandshakesPerSecond == 0 {
		l.HandshakesPerSecond = DefaultHandshakesPerSecond
	}
	if l.ResponseHeaderTimeout == 0 {
		l.ResponseHeaderTimeout = DefaultResponseHeaderTimeout
	}
}

// maxBuckets bounds the endpoints a limiter remembers when endpoints churn; only buckets
// that are full (as good as new) are forgotten.
const maxBuckets = 1024

// handshakeLimiter is a token bucket per endpoint. Tokens are reserved in order: a dial
// that finds none takes the next one due and sleeps until then, so waiting dials are
// served first come, first served without polling.
type handshakeLimiter struct {
	rate  float64 // tokens per second
	burst float64
	mu    sync.Mutex
	m     map[string]*bucket
}

type bucket struct {
	tokens float64 // may go negative: reservations not yet due
	last   time.Time
}

// newHandshakeLimiter grants perSecond tokens a second, and holds up to one second's worth
// or maxConns (the connections the pool may hold to one endpoint; 0: no cap), whichever is
// more. A cold start under load needs one connection per request in flight, at once. With a
// burst of one second's worth, the fast path grew to the 500 connections of 500 HTTP/2
// streams at its 50 a second, so for 10 s most requests went to http.Transport, whose
// idle cap (200) closed and dialled connections all along. make bench's HTTP/2 run (2 s
// of warm-up, 8 measured), 3 alternating pairs: 59.6/61.8/63.8 -> 55.5/46.4/50.8 µs of
// proxy CPU per request, p99 59-65 -> 46-62 ms, new connections per request 0.01 -> 0.00.
// The connection cap already bounds what the endpoint holds, and the rate still bounds
// the sustained churn a rapid-reset client causes.
func newHandshakeLimiter(perSecond float64, maxConns int) *handshakeLimiter {
	if perSecond <= 0 {
		return nil
	}
	return &handshakeLimiter{rate: perSecond, burst: max(perSecond, float64(maxConns), 1)}
}

// wait takes a token for endpoint, sleeping until one is due or ctx ends. The dial
// context it gets is the transport's (detached from the request that asked, so other
// requests can use the connection), so a request whose client went away stops waiting
// for its connection at once, while this reservation stands for the next request.
func (l *handshakeLimiter) wait(ctx context.Context, endpoint string) error {
	due := l.reserve(endpoint)
	if due <= 0 {
		return nil
	}
	t := time.NewTimer(due)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		l.unreserve(endpoint)
		return ctx.Err()
	}
}

// reserve takes the next token for endpoint without waiting for it: it returns how long
// until that token is due (0: now). A caller that stops waiting before then hands it
// back with unreserve.
func (l *handshakeLimiter) reserve(endpoint string) time.Duration {
	if l == nil {
		return 0
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	b := l.refillLocked(endpoint, time.Now())
	b.tokens--
	if b.tokens >= 0 {
		return 0
	}
	return time.Duration(-b.tokens / l.rate * float64(time.Second))
}

// unreserve hands back a token reserve took and that was not used.
func (l *handshakeLimiter) unreserve(endpoint string) {
	if l == nil {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	b := l.refillLocked(endpoint, time.Now())
	b.tokens = min(l.burst, b.tokens+1)
}

// refillLocked returns endpoint's bucket with the tokens due by now (l.mu held).
func (l *handshakeLimiter) refillLocked(endpoint string, now time.Time) *bucket {
	if l.m == nil {
		l.m = map[string]*bucket{}
	}
	b := l.m[endpoint]
	if b == nil {
		if len(l.m) >= maxBuckets {
			l.forgetFullLocked(now)
		}
		b = &bucket{tokens: l.burst, last: now}
		l.m[endpoint] = b
	}
	b.tokens = min(l.burst, b.tokens+now.Sub(b.last).Seconds()*l.rate)
	b.last = now
	return b
}

func (l *handshakeLimiter) forgetFullLocked(now time.Time) {
	for k, b := range l.m {
		if b.tokens+now.Sub(b.last).Seconds()*l.rate >= l.burst {
			delete(l.m, k)
		}
	}
}
