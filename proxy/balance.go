package proxy

import (
	"net/http"
	"time"

	"github.com/bridgehead/bridgehead/internal/snapshot"
)

// A route whose snapshot carries a Balance tree (a mirroring TraefikService, or a
// weighted one with sticky) is served by a tree of handlers of the same shape, built once
// per snapshot: leaves forward to a backend, weighted levels pick a child on their own
// schedule (and cookie), mirroring levels copy requests to their mirrors (mirror.go).

// balanceNode is a compiled node: its handler and whether it can serve at all.
type balanceNode struct {
	http.Handler
	serves bool
	// available reports whether, at now (unix nanos), some endpoint below may take
	// traffic: healthy by its health check and not set aside after failed connections.
	available func(now int64) bool
	// reason and status are what a request gets when the node cannot serve.
	reason string
	status int
}

// compileBalance builds the handler tree of a route; f.backends are already built, in
// the order of the snapshot's Backends.
func (s *Server) compileBalance(f *forwarder, n *snapshot.Balance) *balanceNode {
	switch {
	case n.Failover != nil:
		return s.compileFailover(f, n.Failover)
	case n.Mirroring != nil:
		return s.compileMirroring(f, n.Mirroring)
	case n.Weighted != nil:
		return s.compileWeighted(f, n.Weighted)
	}
	b := f.backends[*n.Backend]
	out := &balanceNode{Handler: leafHandler{f: f, b: b}, serves: b.failure == nil && len(b.endpoints) > 0,
		reason: "NoEndpoints", status: http.StatusServiceUnavailable}
	if b.failure != nil {
		out.reason, out.status = b.failure.Header(), b.failure.Status
	}
	out.available = func(now int64) bool {
		if !out.serves {
			return false
		}
		for _, es := range b.endpoints {
			if es.Available(now) {
				return true
			}
		}
		return false
	}
	return out
}

// leafHandler forwards to one backend.
type leafHandler struct {
	f *forwarder
	b *backend
}

func (h leafHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b := h.b
	switch {
	case b.failure != nil:
		h.f.srv.fail(w, b.failure.Status, b.failure.Header())
	case len(b.endpoints) == 0:
		h.f.srv.fail(w, http.StatusServiceUnavailable, "NoEndpoints")
	default:
		h.f.send(b, w, r)
	}
}

// weightedHandler is a weighted round robin over subtrees, optionally sticky: a client
// whose cookie names a child that can serve goes to it; anyone else is balanced and gets
// the cookie of the child chosen (as Traefik does, on every such answer).
type weightedHandler struct {
	srv      *Server
	children []*balanceNode
	schedule *schedule
	sticky   *snapshot.StickyCookie
	keys     []string
	byKey    map[string]int
	// byClient: highest random weight (byclient.go) over the children of weights > 0.
	byClient bool
	weights  []int
	reason   string
	status   int
}

func (s *Server) compileWeighted(f *forwarder, w *snapshot.WeightedBalance) *balanceNode {
	h := &weightedHandler{srv: s, sticky: w.Sticky, keys: w.Keys, byClient: w.ByClient}
	out := &balanceNode{Handler: h, reason: "NoEndpoints", status: http.StatusServiceUnavailable}
	weights := make([]int, len(w.Children))
	failed := false
	for i, c := range w.Children {
		child := s.compileBalance(f, c)
		h.children = append(h.children, child)
		if child.serves && w.Weights[i] > 0 {
			weights[i] = w.Weights[i]
			out.serves = true
		} else if !failed && child.reason != "NoEndpoints" {
			// The first child that fails for a cause of its own names it, as a flat
			// route answers the first failing backend's cause.
			out.reason, out.status, failed = child.reason, child.status, true
		}
	}
	h.schedule = newSchedule(weights)
	h.weights = weights
	if w.Sticky != nil {
		h.byKey = make(map[string]int, len(w.Keys))
		for i, k := range w.Keys {
			if weights[i] > 0 {
				h.byKey[k] = i
			}
		}
	}
	h.reason, h.status = out.reason, out.status
	out.available = func(now int64) bool {
		for i, c := range h.children {
			if weights[i] > 0 && c.available(now) {
				return true
			}
		}
		return false
	}
	return out
}

func (h *weightedHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if h.sticky != nil {
		if c, err := r.Cookie(h.sticky.Name); err == nil {
			if i, ok := h.byKey[c.Value]; ok {
				h.children[i].ServeHTTP(w, r)
				return
			}
		}
	}
	var i int
	if h.byClient {
		i = h.pickByClient(r)
	} else {
		i = h.schedule.pick()
	}
	if i < 0 {
		h.srv.fail(w, h.status, h.reason)
		return
	}
	if h.sticky != nil {
		w.Header().Add("Set-Cookie", stickyCookieFor(h.sticky, h.keys[i]).String())
	}
	h.children[i].ServeHTTP(w, r)
}

// stickyCookieFor is the cookie that pins a client to value.
func stickyCookieFor(c *snapshot.StickyCookie, value string) *http.Cookie {
	ck := &http.Cookie{Name: c.Name, Value: value, Path: c.Path, Secure: c.Secure, HttpOnly: c.HTTPOnly, MaxAge: c.MaxAge}
	switch c.SameSite {
	case "none":
		ck.SameSite = http.SameSiteNoneMode
	case "lax":
		ck.SameSite = http.SameSiteLaxMode
	case "strict":
		ck.SameSite = http.SameSiteStrictMode
	}
	return ck
}

// failoverHandler sends requests to main while it has an available endpoint, else to
// the fallback; when neither has, it answers 503 (as Traefik does).
type failoverHandler struct {
	srv            *Server
	main, fallback *balanceNode
}

func (s *Server) compileFailover(f *forwarder, fo *snapshot.FailoverBalance) *balanceNode {
	h := &failoverHandler{srv: s, main: s.compileBalance(f, fo.Main), fallback: s.compileBalance(f, fo.Fallback)}
	out := &balanceNode{Handler: h, serves: h.main.serves || h.fallback.serves, reason: h.main.reason, status: h.main.status}
	out.available = func(now int64) bool { return h.main.available(now) || h.fallback.available(now) }
	return out
}

func (h *failoverHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	now := time.Now().UnixNano()
	switch {
	case h.main.available(now):
		h.main.ServeHTTP(w, r)
	case h.fallback.available(now):
		h.fallback.ServeHTTP(w, r)
	case !h.main.serves && !h.fallback.serves:
		h.srv.fail(w, h.main.status, h.main.reason)
	default:
		h.srv.fail(w, http.StatusServiceUnavailable, reasonNoAvailableEndpoint)
	}
}

// reasonNoAvailableEndpoint: a failover's service and fallback both have endpoints, but
// none may take traffic now (unhealthy, or set aside after failed connections).
const reasonNoAvailableEndpoint = "NoAvailableEndpoint"
