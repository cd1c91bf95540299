package proxy

import (
	"context"
	"net/http"
	"net/http/httputil"
	"testing"
)

// browserHeader is what a browser sends on a typical navigation (HTTP/2 or 1.1).
func browserHeader() http.Header {
	return http.Header{
		"Accept":                    {"text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"},
		"Accept-Encoding":           {"gzip, deflate, br, zstd"},
		"Accept-Language":           {"en-US,en;q=0.5"},
		"Cookie":                    {"session=0123456789abcdef; theme=dark"},
		"Sec-Fetch-Dest":            {"document"},
		"Sec-Fetch-Mode":            {"navigate"},
		"Sec-Fetch-Site":            {"none"},
		"Upgrade-Insecure-Requests": {"1"},
		"User-Agent":                {"Mozilla/5.0 (X11; Linux x86_64; rv:140.0) Gecko/20100101 Firefox/140.0"},
	}
}

// BenchmarkSetForwarded is the Rewrite step that sets X-Forwarded-* and X-Real-Ip on
// every proxied request.
func BenchmarkSetForwarded(b *testing.B) {
	in := (&http.Request{Header: browserHeader(), Host: "app.example.com", RemoteAddr: "203.0.113.9:50000"}).
		WithContext(context.WithValue(context.Background(), connPolicyKey{}, &connState{port: []string{"8443"}}))
	out := &http.Request{Header: browserHeader()}
	pr := &httputil.ProxyRequest{In: in, Out: out}
	b.ReportAllocs()
	for b.Loop() {
		setForwarded(pr)
		for _, k := range []string{"X-Forwarded-For", "X-Forwarded-Host", "X-Forwarded-Proto", "X-Forwarded-Port", "X-Real-Ip"} {
			delete(out.Header, k)
		}
	}
}

// BenchmarkScrubHeader is the entry point's pass over every request's header: client
// certificate headers always, forwarded ones from untrusted clients, and the field count.
func BenchmarkScrubHeader(b *testing.B) {
	for _, tt := range []struct {
		name    string
		spoofed bool
	}{{"browser", false}, {"spoofed", true}} {
		b.Run(tt.name, func(b *testing.B) {
			h := browserHeader()
			b.ReportAllocs()
			for b.Loop() {
				if tt.spoofed {
					h["X-Forwarded-For"], h["X-Forwarded-Prefix"] = spoof, spoof
				}
				if n := scrubHeader(h, false); n < 9 {
					b.Fatal(n)
				}
			}
		})
	}
}

var spoof = []string{"6.6.6.6"}
