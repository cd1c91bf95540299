package dataplane

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

type httpServer = httptest.Server

// startHTTPBackend starts a plain-HTTP backend that echoes what it saw.
func startHTTPBackend(t *testing.T) *httptest.Server {
	t.Helper()
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Seen-Host", r.Host)
		w.Header().Set("X-Seen-Path", r.URL.Path)
		w.Header().Set("X-Seen-Forwarded-For", r.Header.Get("X-Forwarded-For"))
		w.Header().Set("X-Seen-Forwarded-Proto", r.Header.Get("X-Forwarded-Proto"))
		w.Header().Set("X-Seen-Real-Ip", r.Header.Get("X-Real-Ip"))
		_, _ = w.Write([]byte("plain backend"))
	}))
	t.Cleanup(s.Close)
	return s
}

// startHandler serves h over plain HTTP on 127.0.0.1.
func startHandler(t *testing.T, h http.Handler) *httptest.Server {
	t.Helper()
	s := httptest.NewServer(h)
	t.Cleanup(s.Close)
	return s
}
