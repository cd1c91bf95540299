package middleware

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/bridgehead/bridgehead/internal/snapshot"
)

// Backends builds the handler that forwards to a backend a middleware calls on its own
// (the Service of errors pages), with the same upstream code as a route's backends. The
// proxy supplies it; without one (tests of other middlewares) such a backend answers 503.
type Backends func(*snapshot.Backend) http.Handler

// errorPages is Traefik's errors middleware: a response whose status it lists is not
// sent; the page its Service answers (a GET of the query, with {status}, {originalStatus}
// and {url} filled in) is sent instead, with the backend's status or its rewrite. Other
// responses stream through untouched.
type errorPages struct {
	next     http.Handler
	cfg      *snapshot.ErrorPage
	service  http.Handler
	headers  []string // canonical, when not every header is sent
	hasQuery bool
}

func newErrorPages(c *snapshot.ErrorPage, backends Backends, next http.Handler) http.Handler {
	m := &errorPages{next: next, cfg: c, hasQuery: c.Query != ""}
	if backends != nil && c.Service != nil {
		m.service = backends(c.Service)
	} else {
		m.service = http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			writeText(w, http.StatusServiceUnavailable, []byte("Service Unavailable\n"))
		})
	}
	for _, h := range c.Headers {
		m.headers = append(m.headers, http.CanonicalHeaderKey(h))
	}
	return m
}

func (m *errorPages) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	cc := &codeCatcher{w: w, ranges: m.cfg.Status, header: http.Header{}}
	m.next.ServeHTTP(cc, r)
	if !cc.caught {
		cc.finish()
		return
	}
	original := cc.code
	code := original
	for _, rw := range m.cfg.Rewrites {
		if code >= rw.From.Low && code <= rw.From.High {
			code = rw.To
			break
		}
	}
	page, err := m.pageRequest(r, code, original)
	if err != nil {
		writeText(w, code, []byte(http.StatusText(code)+"\n"))
		return
	}
	ce := &codeEnforcer{w: w, code: code, header: http.Header{}}
	m.service.ServeHTTP(ce, page)
	ce.WriteHeader(code) // a page handler that wrote nothing still owes the status
}

// pageRequest is the GET sent to the error Service: to the request's host (the Service
// gets it when passHostHeader is on), with the request's headers (all, or those listed).
// It does not carry a retry Attempt: a failed page fetch is answered, not retried.
func (m *errorPages) pageRequest(r *http.Request, code, original int) (*http.Request, error) {
	target := "/"
	if m.hasQuery {
		target = "/" + strings.TrimPrefix(m.cfg.Query, "/")
		target = strings.ReplaceAll(target, "{status}", strconv.Itoa(code))
		target = strings.ReplaceAll(target, "{originalStatus}", strconv.Itoa(original))
		if strings.Contains(target, "{url}") {
			scheme := "http"
			if r.TLS != nil {
				scheme = "https"
			}
			orig := &url.URL{Scheme: scheme, Host: r.Host, Path: r.URL.Path, RawPath: r.URL.RawPath, RawQuery: r.URL.RawQuery}
			target = strings.ReplaceAll(target, "{url}", url.QueryEscape(orig.String()))
		}
	}
	ctx := context.WithValue(r.Context(), attemptKey{}, (*Attempt)(nil))
	page, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+r.Host+target, nil)
	if err != nil {
		return nil, err
	}
	page.RequestURI = page.URL.RequestURI()
	page.RemoteAddr, page.TLS = r.RemoteAddr, r.TLS
	if m.cfg.AllHeaders {
		for k, v := range r.Header {
			page.Header[k] = v
		}
	} else {
		for _, k := range m.headers {
			if v, ok := r.Header[k]; ok {
				page.Header[k] = v
			}
		}
	}
	return page, nil
}

// codeCatcher passes a response through unless its status is one of ranges; then it
// keeps nothing of it (headers and body are dropped) and says so.
type codeCatcher struct {
	w       http.ResponseWriter
	ranges  []snapshot.StatusRange
	header  http.Header
	code    int
	caught  bool
	decided bool
}

func (c *codeCatcher) Header() http.Header {
	if c.decided && !c.caught {
		return c.w.Header()
	}
	return c.header
}

func (c *codeCatcher) WriteHeader(code int) {
	if c.decided {
		return
	}
	if code >= 100 && code < 200 && code != http.StatusSwitchingProtocols {
		// Informational answers pass through; the final status decides.
		copyHeader(c.w.Header(), c.header)
		c.w.WriteHeader(code)
		return
	}
	c.decided, c.code = true, code
	if snapshot.Contains(c.ranges, code) {
		c.caught = true
		return
	}
	copyHeader(c.w.Header(), c.header)
	c.w.WriteHeader(code)
}

func (c *codeCatcher) Write(p []byte) (int, error) {
	if !c.decided {
		c.WriteHeader(http.StatusOK)
	}
	if c.caught {
		return len(p), nil // the page replaces it
	}
	return c.w.Write(p)
}

func (c *codeCatcher) Flush() {
	if !c.decided {
		c.WriteHeader(http.StatusOK)
	}
	if c.caught {
		return
	}
	if f, ok := c.w.(http.Flusher); ok {
		f.Flush()
	}
}

// finish sends the headers of a handler that wrote nothing (an implicit 200).
func (c *codeCatcher) finish() {
	if !c.decided {
		copyHeader(c.w.Header(), c.header)
	}
}

// Unwrap reaches the writer beneath (hijack for WebSocket, the proxy's recorder).
func (c *codeCatcher) Unwrap() http.ResponseWriter { return c.w }

// codeEnforcer sends the error Service's page with the status the client is owed.
type codeEnforcer struct {
	w      http.ResponseWriter
	code   int
	header http.Header
	sent   bool
}

func (e *codeEnforcer) Header() http.Header {
	if e.sent {
		return e.w.Header()
	}
	return e.header
}

func (e *codeEnforcer) WriteHeader(code int) {
	if e.sent || (code >= 100 && code < 200) {
		return // the page's own informational answers are not the client's business
	}
	e.sent = true
	copyHeader(e.w.Header(), e.header)
	e.w.WriteHeader(e.code)
}

func (e *codeEnforcer) Write(p []byte) (int, error) {
	e.WriteHeader(e.code)
	return e.w.Write(p)
}

func (e *codeEnforcer) Flush() {
	e.WriteHeader(e.code)
	if f, ok := e.w.(http.Flusher); ok {
		f.Flush()
	}
}

// Unwrap lets the proxy's error path find its recorder.
func (e *codeEnforcer) Unwrap() http.ResponseWriter { return e.w }

// copyHeader replaces dst's values with src's, key by key.
func copyHeader(dst, src http.Header) {
	for k, v := range src {
		dst[k] = v
	}
}
