package middleware

import (
	"net"
	"net/http"
	"strconv"

	"github.com/bridgehead/bridgehead/internal/snapshot"
)

// requestRedirect is the Gateway API RequestRedirect filter. Unlike redirectScheme it
// always redirects (the route chose it by matching), and its port follows the spec's
// rules rather than the entry point's.
type requestRedirect struct {
	scheme   string // "" keeps the request's
	hostname string // "" keeps the request's
	// port is the configured port, or for a configured scheme its well-known port, as
	// text; "" when the listener's port applies.
	port         string
	listenerPort string // "" means the local port of the connection
	path         *pathModifier
	code         int
}

func newRequestRedirect(c *snapshot.RequestRedirect) http.Handler {
	m := &requestRedirect{scheme: c.Scheme, hostname: c.Hostname, path: compilePathModifier(c.Path), code: c.StatusCode}
	switch {
	case c.Port != 0:
		m.port = strconv.Itoa(c.Port)
	case c.Scheme == schemeHTTPS:
		m.port = "443"
	case c.Scheme == schemeHTTP:
		m.port = "80"
	}
	if c.ListenerPort != 0 {
		m.listenerPort = strconv.Itoa(c.ListenerPort)
	}
	if m.code == 0 {
		m.code = http.StatusFound // the spec's default
	}
	return m
}

func (m *requestRedirect) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	host := m.hostname
	if host == "" {
		h, ok := splitHost(r.Host)
		if !ok {
			writeText(w, http.StatusBadRequest, badHostBody)
			return
		}
		host = h
	}
	scheme := m.scheme
	if scheme == "" {
		scheme = requestScheme(r)
	}
	port := m.port
	if port == "" {
		port = m.listenerPort
		if port == "" {
			port = localPort(r)
		}
	}
	u := r.URL
	if m.path != nil {
		c := *u
		m.path.rewritePath(&c)
		u = &c
	}
	h := w.Header()
	h["Location"] = []string{location(scheme, host, explicitPort(scheme, port), u)}
	h["Content-Type"] = textPlain
	w.WriteHeader(m.code)
	_, _ = w.Write(statusBody(m.code))
}

// localPort is the port of our side of the request's connection: the entry point's, as
// seen by the client when nothing maps ports in between.
func localPort(r *http.Request) string {
	if a, ok := r.Context().Value(http.LocalAddrContextKey).(net.Addr); ok {
		if _, p, err := net.SplitHostPort(a.String()); err == nil {
			return p
		}
	}
	return ""
}
