package proxy

import (
	"net"
	"net/http"
	"net/http/httputil"
	"time"

	"github.com/bridgehead/bridgehead/internal/snapshot"
)

// forwarder balances a route's requests over its backends by weight.
type forwarder struct {
	srv      *Server
	route    *route
	backends []*backend
	schedule *schedule
}

// backend is one weighted Service of a route, with its proxy and endpoints.
type backend struct {
	snap      *snapshot.Backend
	failure   *snapshot.Failure
	proxy     *httputil.ReverseProxy
	endpoints []*endpointState
	next      schedule // round-robin over endpoints
	sticky    map[string]*endpointState
}

func (f *forwarder) ServeHTTP(w http.ResponseWriter, r *http.Request) {
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
	f.backends[i].proxy.ServeHTTP(w, r)
}

// pick chooses the endpoint: the sticky one when the client's cookie names an available
// endpoint, else the next available one in round-robin order. When every endpoint is
// ejected it still returns one: failing a request beats refusing it outright.
func (b *backend) pick(r *http.Request) *endpointState {
	now := time.Now().UnixNano()
	if b.sticky != nil {
		if c, err := r.Cookie(b.snap.Sticky.Name); err == nil {
			if es, ok := b.sticky[c.Value]; ok && es.available(now) {
				return es
			}
		}
	}
	n := uint64(len(b.endpoints))
	start := b.next.next.Add(1) - 1
	for k := range n {
		es := b.endpoints[(start+k)%n]
		if es.available(now) {
			return es
		}
	}
	return b.endpoints[start%n]
}

// endpoint finds the state of an endpoint by address (backends have few endpoints).
func (b *backend) endpoint(address string) *endpointState {
	for _, es := range b.endpoints {
		if es.address == address {
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
	ck := &http.Cookie{Name: c.Name, Value: want, Path: c.Path, Secure: c.Secure, HttpOnly: c.HTTPOnly, MaxAge: c.MaxAge}
	switch c.SameSite {
	case "none":
		ck.SameSite = http.SameSiteNoneMode
	case "lax":
		ck.SameSite = http.SameSiteLaxMode
	case "strict":
		ck.SameSite = http.SameSiteStrictMode
	}
	resp.Header.Add("Set-Cookie", ck.String())
}

// setForwarded sets the X-Forwarded-* and X-Real-Ip headers from what the gateway saw.
// ReverseProxy has already dropped any the client sent, so clients cannot spoof them, and
// headers named in the client's Connection header were removed before this runs.
func setForwarded(pr *httputil.ProxyRequest) {
	pr.SetXForwarded()
	h := pr.Out.Header
	if ip, _, err := net.SplitHostPort(pr.In.RemoteAddr); err == nil {
		h["X-Real-Ip"] = []string{ip}
	}
	if cs := connStateFrom(pr.In.Context()); cs != nil {
		h["X-Forwarded-Port"] = cs.port
	}
}
