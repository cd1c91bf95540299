package middleware

import (
	"crypto/tls"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/bridgehead/bridgehead/internal/snapshot"
)

func securityChain(next http.Handler) http.Handler {
	return Chain([]*snapshot.Middleware{{Headers: &snapshot.Headers{
		Response: map[string]string{"Referrer-Policy": "same-origin"},
		Secure: &snapshot.SecureHeaders{
			AllowedHosts:      []string{"app.example.com"},
			HostsProxyHeaders: []string{"x-forwarded-host"},
			SSLProxyHeaders:   map[string]string{"X-Forwarded-Proto": "https"},
			STS:               "max-age=60; includeSubDomains",
			PublicKey:         `pin-sha256="x"`,
			Always:            map[string]string{"X-Frame-Options": "DENY", "Referrer-Policy": "no-referrer"},
		},
	}}}, next)
}

// TestSecureHeaders: Strict-Transport-Security and Public-Key-Pins only over HTTPS (or what
// sslProxyHeaders mark as such), the others always, customResponseHeaders winning, and a
// host outside allowedHosts refused with 500 "Bad Host" before the backend is reached.
func TestSecureHeaders(t *testing.T) {
	cases := []struct {
		name      string
		tls       bool
		host      string
		header    map[string]string
		wantCode  int
		wantSTS   string
		wantReach bool
	}{
		{name: "https", tls: true, host: "app.example.com", wantCode: 200, wantSTS: "max-age=60; includeSubDomains", wantReach: true},
		{name: "plain http", host: "app.example.com", wantCode: 200, wantReach: true},
		{name: "plain behind a TLS load balancer", host: "app.example.com", header: map[string]string{"X-Forwarded-Proto": "https"}, wantCode: 200, wantSTS: "max-age=60; includeSubDomains", wantReach: true},
		{name: "host in case", tls: true, host: "APP.example.com", wantCode: 200, wantSTS: "max-age=60; includeSubDomains", wantReach: true},
		{name: "other host", tls: true, host: "evil.example.com", wantCode: 500},
		{name: "proxy header names the host", tls: true, host: "internal", header: map[string]string{"X-Forwarded-Host": "app.example.com"}, wantCode: 200, wantSTS: "max-age=60; includeSubDomains", wantReach: true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			next := &capture{}
			r := newReq(http.MethodGet, "/", c.host)
			if c.tls {
				r.TLS = &tls.ConnectionState{}
			}
			for k, v := range c.header {
				r.Header.Set(k, v)
			}
			w := httptest.NewRecorder()
			securityChain(next).ServeHTTP(w, r)
			if w.Code != c.wantCode || next.called != c.wantReach {
				t.Fatalf("status %d, backend reached %v; want %d, %v (body %q)", w.Code, next.called, c.wantCode, c.wantReach, w.Body)
			}
			if !c.wantReach {
				if w.Body.String() != "Bad Host\n" {
					t.Errorf("body %q, want Bad Host", w.Body)
				}
				return
			}
			h := w.Result().Header
			if got := h.Get("Strict-Transport-Security"); got != c.wantSTS {
				t.Errorf("Strict-Transport-Security %q, want %q", got, c.wantSTS)
			}
			if got, want := h.Get("Public-Key-Pins") != "", c.wantSTS != ""; got != want {
				t.Errorf("Public-Key-Pins sent %v, want %v", got, want)
			}
			if h.Get("X-Frame-Options") != "DENY" || h.Get("Referrer-Policy") != "same-origin" {
				t.Errorf("X-Frame-Options %q, Referrer-Policy %q; want DENY and the custom same-origin", h.Get("X-Frame-Options"), h.Get("Referrer-Policy"))
			}
		})
	}
}

func corsChain(c *snapshot.CORS, next http.Handler) http.Handler {
	return Chain([]*snapshot.Middleware{{Headers: &snapshot.Headers{CORS: c}}}, next)
}

// TestCORSPreflight: the gateway answers a preflight itself (the backend never sees it),
// echoing what the browser asked for when "*" meets credentials.
func TestCORSPreflight(t *testing.T) {
	maxAge := int64(600)
	c := &snapshot.CORS{
		AllowCredentials: true, AllowHeaders: []string{"*"}, AllowMethods: []string{"GET", "PUT"},
		AllowOrigins: []string{"https://a.example"}, AllowOriginPatterns: []string{`^https://[a-z]+\.b\.example$`},
		ExposeHeaders: []string{"X-Total"}, MaxAge: &maxAge,
	}
	for _, tc := range []struct{ origin, want string }{
		{"https://a.example", "https://a.example"},
		{"https://x.b.example", "https://x.b.example"},
		{"https://evil.example", ""},
	} {
		next := &capture{}
		r := newReq(http.MethodOptions, "/api", "app.example.com")
		r.Header.Set("Origin", tc.origin)
		r.Header.Set("Access-Control-Request-Method", "PUT")
		r.Header.Set("Access-Control-Request-Headers", "X-Custom, Content-Type")
		w := httptest.NewRecorder()
		corsChain(c, next).ServeHTTP(w, r)
		h := w.Result().Header
		if next.called || w.Code != 200 || h.Get("Content-Length") != "0" {
			t.Fatalf("%s: backend reached %v, status %d, Content-Length %q; want the gateway's empty 200", tc.origin, next.called, w.Code, h.Get("Content-Length"))
		}
		want := map[string]string{
			"Access-Control-Allow-Origin":      tc.want,
			"Access-Control-Allow-Credentials": "true",
			"Access-Control-Allow-Headers":     "X-Custom, Content-Type",
			"Access-Control-Allow-Methods":     "GET,PUT",
			"Access-Control-Max-Age":           "600",
			"Access-Control-Expose-Headers":    "X-Total",
		}
		for k, v := range want {
			if got := h.Get(k); got != v {
				t.Errorf("%s: %s %q, want %q", tc.origin, k, got, v)
			}
		}
	}
}

// TestCORSResponse: a request that is not a preflight reaches the backend; its answer gets
// the allow-origin of a listed origin, "*" without credentials, and Origin in Vary.
func TestCORSResponse(t *testing.T) {
	backend := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Vary", "Accept-Encoding")
		w.WriteHeader(http.StatusOK)
	})
	h := corsChain(&snapshot.CORS{AllowOrigins: []string{"*"}, AddVaryOrigin: true, ExposeHeaders: []string{"*"}}, backend)
	r := newReq(http.MethodGet, "/", "app.example.com")
	r.Header.Set("Origin", "https://a.example")
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	got := w.Result().Header
	if got.Get("Access-Control-Allow-Origin") != "*" || got.Get("Vary") != "Accept-Encoding,Origin" || got.Get("Access-Control-Expose-Headers") != "*" {
		t.Errorf("headers %v", got)
	}
	// An OPTIONS request without Access-Control-Request-Method is not a preflight.
	next := &capture{}
	r = newReq(http.MethodOptions, "/", "app.example.com")
	r.Header.Set("Origin", "https://a.example")
	corsChain(&snapshot.CORS{AllowOrigins: []string{"*"}}, next).ServeHTTP(httptest.NewRecorder(), r)
	if !next.called {
		t.Error("a plain OPTIONS request was answered by the gateway; it is the backend's")
	}
}
