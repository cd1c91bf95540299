package middleware

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/bridgehead/bridgehead/internal/snapshot"
)

// okHandler stands in for the proxy: it sets a backend header and answers.
type okHandler struct{}

func (okHandler) ServeHTTP(w http.ResponseWriter, _ *http.Request) {
	w.Header()["Server"] = serverValue
	w.WriteHeader(http.StatusOK)
}

var serverValue = []string{"backend"}

func BenchmarkChainHeaders(b *testing.B) {
	h := Chain([]*snapshot.Middleware{{Headers: &snapshot.Headers{
		Request:  map[string]string{"X-Env": "prod", "X-Team": "edge", "X-Debug": ""},
		Response: map[string]string{"X-Frame-Options": "DENY", "Strict-Transport-Security": "max-age=31536000", "Server": ""},
	}}}, okHandler{})
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	w := &discardWriter{h: make(http.Header)}
	b.ReportAllocs()
	for b.Loop() {
		h.ServeHTTP(w, r)
	}
}

func BenchmarkIPAllowList(b *testing.B) {
	ranges := prefixes("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "2001:db8::/32")
	cases := []struct {
		name  string
		cfg   snapshot.IPAllowList
		setup func(*http.Request)
	}{
		{"remoteAddr", snapshot.IPAllowList{SourceRange: ranges}, func(r *http.Request) { r.RemoteAddr = "192.168.3.4:51234" }},
		{"depth", snapshot.IPAllowList{SourceRange: ranges, Depth: 2}, func(r *http.Request) {
			r.Header.Set("X-Forwarded-For", "203.0.113.9, 192.168.3.4, 10.0.0.1")
		}},
		{"rejected", snapshot.IPAllowList{SourceRange: ranges}, func(r *http.Request) { r.RemoteAddr = "203.0.113.9:51234" }},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			h := Chain([]*snapshot.Middleware{{IPAllowList: &c.cfg}}, okHandler{})
			r := httptest.NewRequest(http.MethodGet, "/", nil)
			c.setup(r)
			w := &discardWriter{h: make(http.Header)}
			b.ReportAllocs()
			for b.Loop() {
				h.ServeHTTP(w, r)
			}
		})
	}
}

func BenchmarkRedirect(b *testing.B) {
	h := Chain([]*snapshot.Middleware{{RedirectScheme: &snapshot.RedirectScheme{Scheme: "https", Permanent: true}}}, okHandler{})
	r := httptest.NewRequest(http.MethodGet, "http://example.com/some/path?q=1", nil)
	w := &discardWriter{h: make(http.Header)}
	b.ReportAllocs()
	for b.Loop() {
		h.ServeHTTP(w, r)
	}
}
