package proxy

import (
	"context"
	"net"
	"net/http"
	"net/http/httptrace"
	"net/http/httputil"
	"strings"
	"sync/atomic"
	"time"

	"github.com/bridgehead/bridgehead/internal/snapshot"
	"github.com/bridgehead/bridgehead/proxy/health"
	"github.com/bridgehead/bridgehead/proxy/metrics"
	"github.com/bridgehead/bridgehead/proxy/middleware"
)

// forwarder balances a route's requests over its backends by weight.
type forwarder struct {
	srv      *Server
	route    *route
	backends []*backend
	schedule *schedule
	// tree, when set, serves instead of schedule: the route's snapshot has a Balance.
	tree *balanceNode
	// backendTimeout bounds each request to a backend (timeouts.backendRequest); 0: none.
	backendTimeout time.Duration
}

// backend is one weighted Service of a route, with its proxy and endpoints.
type backend struct {
	snap      *snapshot.Backend
	failure   *snapshot.Failure
	proxy     *httputil.ReverseProxy
	direct    *directProxy // nil: every request goes through proxy
	endpoints []*health.Endpoint
	next      schedule // round-robin over endpoints
	sticky    map[string]*health.Endpoint
	latency   atomic.Pointer[metrics.Latency] // made on the first request, see observe
}

func (f *forwarder) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if f.tree != nil {
		f.tree.ServeHTTP(w, r)
		return
	}
	i := f.schedule.pick()
	if i < 0 {
		// No backend can serve: answer the first backend's cause (503 NoEndpoints, or the
		// 502 of a backend whose TLS cannot be built).
		reason, status := "NoEndpoints", http.StatusServiceUnavailable
		for _, b := range f.backends {
			if b.failure != nil {
				reason, status = b.failure.Header(), b.failure.Status
				break
			}
		}
		f.srv.fail(w, status, reason)
		return
	}
	b := f.backends[i]
	if a := middleware.AttemptFrom(r.Context()); a != nil {
		// Under a retry Middleware: learn whether the request reached the backend, which
		// decides whether a failure may be left to the next attempt (upstreamError).
		r = r.WithContext(httptrace.WithClientTrace(r.Context(), a.ClientTrace()))
	}
	f.send(b, w, r)
}

// send forwards r to b, within the route's backendRequest timeout.
func (f *forwarder) send(b *backend, w http.ResponseWriter, r *http.Request) {
	if f.backendTimeout > 0 {
		var cancel context.CancelFunc
		r, cancel = withBackendTimeout(r, f.backendTimeout)
		defer cancel()
	}
	start := time.Now()
	if !b.direct.takes(r) || !b.direct.serve(f.srv, f, b, w, r) {
		b.proxy.ServeHTTP(w, r)
	}
	b.observe(f.route.stats, time.Since(start))
}

// observe records how long the backend took, in its series on the route (looked up once
// per snapshot, not per request).
func (b *backend) observe(stats *metrics.Route, d time.Duration) {
	lat := b.latency.Load()
	if lat == nil {
		lat = stats.BackendLatency(b.snap.Service.String() + ":" + b.snap.Port)
		b.latency.Store(lat)
	}
	lat.Observe(d)
}

// pick chooses the endpoint: the sticky one when the client's cookie names an available
// endpoint, else the next available one in round-robin order. When every endpoint is
// ejected it still returns one: failing a request beats refusing it outright.
func (b *backend) pick(r *http.Request) *health.Endpoint {
	now := time.Now().UnixNano()
	if b.sticky != nil {
		if c, err := r.Cookie(b.snap.Sticky.Name); err == nil {
			if es, ok := b.sticky[c.Value]; ok && es.Available(now) {
				return es
			}
		}
	}
	n := uint64(len(b.endpoints))
	start := b.next.next.Add(1) - 1
	for k := range n {
		es := b.endpoints[(start+k)%n]
		if es.Available(now) {
			return es
		}
	}
	return b.endpoints[start%n]
}

// endpoint finds the state of an endpoint by address (backends have few endpoints).
func (b *backend) endpoint(address string) *health.Endpoint {
	for _, es := range b.endpoints {
		if es.Address == address {
			return es
		}
	}
	return nil
}

func (b *backend) setStickyCookie(resp *http.Response) {
	c := b.snap.Sticky
	want := stickyValue(resp.Request.URL.Host)
	if got, err := resp.Request.Cookie(c.Name); err == nil && got.Value == want {
		return
	}
	resp.Header.Add("Set-Cookie", stickyCookieFor(c, want).String())
}

// Shared X-Forwarded-Proto values (read-only, len == cap).
var (
	protoHTTP  = []string{"http"}
	protoHTTPS = []string{"https"}
)

// setForwarded sets X-Forwarded-For, -Host, -Proto, -Port and X-Real-Ip from what the
// gateway saw. The entry point has removed the ones an untrusted client sent
// (scrubHeader), and headers named in the client's Connection header were removed before
// the middlewares ran; so what the inbound request still carries was sent by a trusted
// client or set by a middleware, and it stands: X-Forwarded-For is appended to, the others
// are kept, and a present but nil X-Forwarded-For (a headers middleware deleting it) sends
// none. ReverseProxy drops Forwarded, X-Forwarded-For, -Host and -Proto from the outbound
// request before Rewrite runs, so those are carried over from the inbound one.
func setForwarded(pr *httputil.ProxyRequest) {
	in, out := pr.In.Header, pr.Out.Header
	var ipv []string // the client's address, shared by X-Forwarded-For and X-Real-Ip
	if ip, _, err := net.SplitHostPort(pr.In.RemoteAddr); err == nil {
		ipv = []string{ip}
	}
	switch prior, ok := in["X-Forwarded-For"]; {
	case ok && prior == nil, ipv == nil:
	case len(prior) == 0:
		out["X-Forwarded-For"] = ipv
	default:
		out["X-Forwarded-For"] = []string{strings.Join(prior, ", ") + ", " + ipv[0]}
	}
	if _, ok := in["X-Real-Ip"]; !ok && ipv != nil {
		out["X-Real-Ip"] = ipv
	}
	if v, ok := in["Forwarded"]; ok {
		out["Forwarded"] = v
	}
	if v, ok := in["X-Forwarded-Host"]; ok {
		out["X-Forwarded-Host"] = v
	} else {
		out["X-Forwarded-Host"] = []string{pr.In.Host}
	}
	switch v, ok := in["X-Forwarded-Proto"]; {
	case ok:
		out["X-Forwarded-Proto"] = v
	case pr.In.TLS != nil:
		out["X-Forwarded-Proto"] = protoHTTPS
	default:
		out["X-Forwarded-Proto"] = protoHTTP
	}
	if _, ok := in["X-Forwarded-Port"]; !ok {
		if cs := connStateFrom(pr.In.Context()); cs != nil {
			out["X-Forwarded-Port"] = cs.port
		}
	}
}
