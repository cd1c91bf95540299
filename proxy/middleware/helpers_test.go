package middleware

import (
	"net/http"
	"net/http/httptest"
)

// capture is a next handler that records the request it got.
type capture struct {
	called bool
	req    *http.Request
	// header and path as they were when next ran (the request is mutated in place).
	header     http.Header
	path, raw  string
	requestURI string
	host       string
}

func (c *capture) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	c.called = true
	c.req = r
	c.header = r.Header.Clone()
	c.path, c.raw, c.requestURI, c.host = r.URL.Path, r.URL.RawPath, r.RequestURI, r.Host
	w.WriteHeader(http.StatusOK)
}

func newReq(method, target, host string) *http.Request {
	r := httptest.NewRequest(method, target, nil)
	r.Host = host
	return r
}

// discardWriter is an allocation-free ResponseWriter for benchmarks.
type discardWriter struct {
	h    http.Header
	code int
}

func (w *discardWriter) Header() http.Header         { return w.h }
func (w *discardWriter) Write(p []byte) (int, error) { return len(p), nil }
func (w *discardWriter) WriteHeader(code int)        { w.code = code }
