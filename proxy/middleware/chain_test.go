package middleware

import (
	"crypto/tls"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/bridgehead/bridgehead/internal/snapshot"
)

func TestChainEmptyReturnsNext(t *testing.T) {
	next := &capture{}
	if h := Chain(nil, next); h != http.Handler(next) {
		t.Fatalf("Chain(nil, next) = %T, want next itself", h)
	}
	if h := Chain([]*snapshot.Middleware{}, next); h != http.Handler(next) {
		t.Fatalf("Chain([], next) = %T, want next itself", h)
	}
	if h := Chain([]*snapshot.Middleware{nil, {}}, next); h != http.Handler(next) {
		t.Fatalf("Chain of empty middlewares = %T, want next itself", h)
	}
}

func TestChainOrder(t *testing.T) {
	strip := &snapshot.Middleware{StripPrefix: &snapshot.StripPrefix{Prefixes: []string{"/a"}}}
	add := &snapshot.Middleware{AddPrefix: &snapshot.AddPrefix{Prefix: "/b"}}
	tests := []struct {
		name string
		mws  []*snapshot.Middleware
		want string
	}{
		{"strip then add", []*snapshot.Middleware{strip, add}, "/b/x"},
		{"add then strip", []*snapshot.Middleware{add, strip}, "/b/a/x"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			next := &capture{}
			Chain(tt.mws, next).ServeHTTP(httptest.NewRecorder(), newReq(http.MethodGet, "/a/x", "example.com"))
			if next.path != tt.want {
				t.Fatalf("path %q, want %q", next.path, tt.want)
			}
		})
	}
}

func TestChainStopsAtRejection(t *testing.T) {
	redirect := &snapshot.Middleware{RedirectScheme: &snapshot.RedirectScheme{Scheme: "https"}}
	deny := &snapshot.Middleware{IPAllowList: &snapshot.IPAllowList{SourceRange: prefixes("10.0.0.0/8")}}
	hdr := &snapshot.Middleware{Headers: &snapshot.Headers{Response: map[string]string{"X-Seen": "yes"}}}

	// The allow-list runs first and rejects: no redirect, and the outer headers
	// middleware still decorates the rejection.
	next := &capture{}
	w := httptest.NewRecorder()
	r := newReq(http.MethodGet, "/", "example.com")
	r.RemoteAddr = "11.0.0.1:1"
	Chain([]*snapshot.Middleware{hdr, deny, redirect}, next).ServeHTTP(w, r)
	if w.Code != http.StatusForbidden || next.called || w.Header().Get("X-Seen") != "yes" {
		t.Fatalf("status %d next=%v X-Seen=%q", w.Code, next.called, w.Header().Get("X-Seen"))
	}

	// Allowed and on TLS: everything passes through to next.
	w = httptest.NewRecorder()
	r = newReq(http.MethodGet, "/", "example.com")
	r.RemoteAddr = "10.0.0.1:1"
	r.TLS = &tls.ConnectionState{}
	Chain([]*snapshot.Middleware{hdr, deny, redirect}, next).ServeHTTP(w, r)
	if w.Code != http.StatusOK || !next.called {
		t.Fatalf("status %d next=%v", w.Code, next.called)
	}
}
