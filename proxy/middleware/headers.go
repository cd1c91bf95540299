package middleware

import (
	"bufio"
	"net"
	"net/http"
	"sort"

	"github.com/bridgehead/bridgehead/internal/snapshot"
)

const xForwardedFor = "X-Forwarded-For"

// headerOp sets or deletes one header.
type headerOp struct {
	key string // canonical, so the map can be indexed without canonicalising per request
	// values is shared by every request (read-only, len == cap); nil deletes the header.
	values []string
}

type headers struct {
	next    http.Handler
	req     []headerOp
	setHost bool
	host    string
	// resp is applied to answers over plain HTTP, respTLS to answers over HTTPS (they
	// differ only by the security headers sent on HTTPS alone).
	resp    []headerOp
	respTLS []headerOp
	secure  *secure
	cors    *cors
}

func newHeaders(c *snapshot.Headers, next http.Handler) http.Handler {
	m := &headers{next: next}
	for _, k := range sortedKeys(c.Request) {
		v := c.Request[k]
		key := http.CanonicalHeaderKey(k)
		if key == "Host" {
			// Go keeps the request's Host in r.Host, not in the header map; Traefik
			// rewrites it the same way. An empty value cannot delete a Host: skip it.
			if v != "" {
				m.setHost, m.host = true, v
			}
			continue
		}
		m.req = append(m.req, op(key, v))
	}
	var custom []headerOp
	for _, k := range sortedKeys(c.Response) {
		custom = append(custom, op(http.CanonicalHeaderKey(k), c.Response[k]))
	}
	// The security headers are set first, so that customResponseHeaders override them,
	// as in Traefik (its secure handler sits behind the custom-headers one).
	if c.Secure != nil {
		m.secure = newSecure(c.Secure)
		m.resp, m.respTLS = m.secure.responseOps(false), m.secure.responseOps(true)
	}
	m.resp = append(m.resp, custom...)
	m.respTLS = append(m.respTLS, custom...)
	m.cors = newCORS(c.CORS)
	if len(m.req) == 0 && !m.setHost && len(m.resp) == 0 && len(m.respTLS) == 0 && m.secure == nil && m.cors == nil {
		return next
	}
	return m
}

func op(key, value string) headerOp {
	if value == "" {
		return headerOp{key: key}
	}
	return headerOp{key: key, values: []string{value}}
}

// sortedKeys fixes the order: keys that differ only in case ("x-a", "X-A") name the
// same header, and the last one applied must not depend on map iteration.
func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func (m *headers) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if m.cors != nil && m.cors.preflight(w, r) {
		return
	}
	if len(m.req) > 0 && r.Header == nil {
		r.Header = make(http.Header)
	}
	for i := range m.req {
		o := &m.req[i]
		switch {
		case o.values != nil:
			r.Header[o.key] = o.values
		case o.key == xForwardedFor:
			// A present-but-nil X-Forwarded-For tells httputil.ReverseProxy not to add
			// one; deleting it would only make the proxy write the client's address.
			r.Header[o.key] = nil
		default:
			delete(r.Header, o.key)
		}
	}
	if m.setHost {
		r.Host = m.host
	}
	ops := m.resp
	if m.secure != nil {
		if !m.secure.hostAllowed(r) {
			http.Error(w, "Bad Host", http.StatusInternalServerError)
			return
		}
		if m.secure.isHTTPS(r) {
			ops = m.respTLS
		}
	}
	var after func(http.Header)
	if m.cors != nil {
		after = m.cors.responseHeaders(r)
	}
	if len(ops) == 0 && after == nil {
		m.next.ServeHTTP(w, r)
		return
	}
	hw := &headerWriter{ResponseWriter: w, ops: ops, after: after}
	m.next.ServeHTTP(hw, r)
	if !hw.sent {
		// A handler that returns without writing gets an implicit 200 from net/http,
		// which never goes through the wrapper.
		hw.apply()
	}
}

// headerWriter applies response header changes just before the header is sent, so they
// override whatever the backend (or a later handler) set.
type headerWriter struct {
	http.ResponseWriter
	ops []headerOp
	// after, when set, makes the changes that depend on the request (CORS).
	after func(http.Header)
	sent  bool
}

func (w *headerWriter) apply() {
	h := w.Header()
	for i := range w.ops {
		o := &w.ops[i]
		if o.values == nil {
			delete(h, o.key)
		} else {
			h[o.key] = o.values
		}
	}
	if w.after != nil {
		w.after(h)
	}
}

// WriteHeader applies the changes to every interim (1xx) header too, since net/http sends
// the current header map with each; the final status (or 101) closes the header.
func (w *headerWriter) WriteHeader(code int) {
	if !w.sent {
		w.apply()
		w.sent = code >= 200 || code == http.StatusSwitchingProtocols
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *headerWriter) Write(p []byte) (int, error) {
	if !w.sent {
		// An implicit 200: the header goes out with this first write.
		w.apply()
		w.sent = true
	}
	return w.ResponseWriter.Write(p)
}

// Flush keeps streaming (SSE, gRPC-web) working through the wrapper.
func (w *headerWriter) Flush() {
	_ = w.FlushError()
}

// FlushError is what http.ResponseController calls, so a failed flush is reported.
func (w *headerWriter) FlushError() error {
	if !w.sent {
		w.apply() // a flush sends the header
		w.sent = true
	}
	return http.NewResponseController(w.ResponseWriter).Flush()
}

// Hijack keeps WebSocket upgrades working. The hijacker writes its own response, so the
// header changes do not reach it.
func (w *headerWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	return http.NewResponseController(w.ResponseWriter).Hijack()
}

// Unwrap lets http.ResponseController reach deadlines and full duplex underneath.
func (w *headerWriter) Unwrap() http.ResponseWriter {
	return w.ResponseWriter
}
