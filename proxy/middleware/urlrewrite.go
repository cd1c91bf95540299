package middleware

import (
	"net/http"

	"github.com/bridgehead/bridgehead/internal/snapshot"
)

// urlRewrite is the Gateway API URLRewrite filter: the request goes on with another Host
// and/or path. Unlike replacePath it adds no X-Replaced-Path: the spec forwards the
// rewritten request and nothing else.
type urlRewrite struct {
	next     http.Handler
	hostname string
	path     *pathModifier
}

func newURLRewrite(c *snapshot.URLRewrite, next http.Handler) http.Handler {
	if c.Hostname == "" && c.Path == nil {
		return next
	}
	return &urlRewrite{next: next, hostname: c.Hostname, path: compilePathModifier(c.Path)}
}

func (m *urlRewrite) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if m.hostname != "" {
		// The backend gets it as Host (its Backend passes the Host on), and the
		// handlers after this one (logs, later filters) see the rewritten request.
		r.Host = m.hostname
	}
	if m.path != nil {
		m.path.rewritePath(r.URL)
		// Later handlers (logs, the proxy) must see the path they will forward.
		r.RequestURI = r.URL.RequestURI()
	}
	m.next.ServeHTTP(w, r)
}
