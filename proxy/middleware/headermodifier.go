package middleware

import (
	"net/http"

	"github.com/bridgehead/bridgehead/internal/snapshot"
)

// headerEdits is a compiled Gateway API HeaderModifier: names canonicalised and values
// boxed once, so a request only indexes maps.
type headerEdits struct {
	set    []headerOp // values: the one value, shared read-only (len == cap)
	add    []headerOp
	remove []string
	// host is the value a set or add of "Host" gives the request's Host (Go keeps it
	// outside the header map); "" when none does.
	host string
}

func compileHeaderEdits(c *snapshot.HeaderModifier) *headerEdits {
	e := &headerEdits{}
	for _, hv := range c.Set {
		e.set = append(e.set, headerOp{key: http.CanonicalHeaderKey(hv.Name), values: []string{hv.Value}})
	}
	for _, hv := range c.Add {
		e.add = append(e.add, headerOp{key: http.CanonicalHeaderKey(hv.Name), values: []string{hv.Value}})
	}
	for _, name := range c.Remove {
		e.remove = append(e.remove, http.CanonicalHeaderKey(name))
	}
	for _, list := range [][]headerOp{e.set, e.add} {
		for _, o := range list {
			if o.key == "Host" {
				// A request has one Host: adding a second value can only mean replacing it.
				e.host = o.values[0]
			}
		}
	}
	return e
}

func (e *headerEdits) empty() bool {
	return len(e.set) == 0 && len(e.add) == 0 && len(e.remove) == 0
}

// apply edits h in the order set, add, remove. Set and add share the configured slices
// only where the header had no values: an append to a shared slice never writes into it
// (len == cap), and one to a request's own slice is that request's.
func (e *headerEdits) apply(h http.Header, request bool) {
	for i := range e.set {
		h[e.set[i].key] = e.set[i].values
	}
	for i := range e.add {
		o := &e.add[i]
		if old := h[o.key]; len(old) > 0 {
			h[o.key] = append(old[:len(old):len(old)], o.values[0])
		} else {
			h[o.key] = o.values
		}
	}
	for _, k := range e.remove {
		if request && k == xForwardedFor {
			// Present but nil: httputil.ReverseProxy then adds none either (see headers).
			h[k] = nil
			continue
		}
		delete(h, k)
	}
}

// requestHeaderModifier is the Gateway API RequestHeaderModifier filter.
type requestHeaderModifier struct {
	next  http.Handler
	edits *headerEdits
}

func newRequestHeaderModifier(c *snapshot.HeaderModifier, next http.Handler) http.Handler {
	e := compileHeaderEdits(c)
	if e.empty() {
		return next
	}
	return &requestHeaderModifier{next: next, edits: e}
}

func (m *requestHeaderModifier) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Header == nil {
		r.Header = make(http.Header)
	}
	m.edits.apply(r.Header, true)
	if m.edits.host != "" {
		r.Host = m.edits.host
		delete(r.Header, "Host")
	}
	m.next.ServeHTTP(w, r)
}

// responseHeaderModifier is the Gateway API ResponseHeaderModifier filter. It edits
// every response that passes through it: the backend's, and the gateway's own answers
// from behind it (a 502 or 504 for this route), since the spec speaks of the response
// to the client, whoever wrote it. Answers from in front of it (404 NoRoute, 421, a
// redirect filter listed earlier) are not touched.
type responseHeaderModifier struct {
	next  http.Handler
	edits *headerEdits
}

func newResponseHeaderModifier(c *snapshot.HeaderModifier, next http.Handler) http.Handler {
	e := compileHeaderEdits(c)
	if e.empty() {
		return next
	}
	return &responseHeaderModifier{next: next, edits: e}
}

func (m *responseHeaderModifier) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	hw := &headerWriter{ResponseWriter: w, after: m.after}
	m.next.ServeHTTP(hw, r)
	if !hw.sent {
		hw.apply() // the implicit 200 of a handler that wrote nothing
	}
}

func (m *responseHeaderModifier) after(h http.Header) { m.edits.apply(h, false) }
