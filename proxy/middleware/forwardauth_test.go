package middleware

import (
	"crypto/tls"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/bridgehead/bridgehead/internal/snapshot"
)

// authServer is a plain-HTTP auth server on loopback: it records the request it got and
// answers with answer.
func authServer(t *testing.T, answer http.HandlerFunc) (*httptest.Server, *http.Request, *string) {
	t.Helper()
	got := &http.Request{}
	body := new(string)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		*got, *body = *r.Clone(r.Context()), string(b)
		answer(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv, got, body
}

func forwardAuthMW(srv *httptest.Server, path string, mutate func(*snapshot.ForwardAuth)) *snapshot.Middleware {
	addr := srv.Listener.Addr().String()
	c := &snapshot.ForwardAuth{
		Address:             "http://" + addr + path,
		Server:              &snapshot.Backend{Scheme: "http", Endpoints: []snapshot.Endpoint{{Address: addr}}},
		MaxBodySize:         -1,
		MaxResponseBodySize: -1,
	}
	if mutate != nil {
		mutate(c)
	}
	return &snapshot.Middleware{Source: snapshot.Ref{Kind: "Middleware", Namespace: "ns", Name: "auth"}, ForwardAuth: c}
}

func serve(mw *snapshot.Middleware, next http.Handler, req *http.Request) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	Chain([]*snapshot.Middleware{mw}, next).ServeHTTP(rec, req)
	return rec
}

func TestForwardAuthHeadersSentToTheAuthServer(t *testing.T) {
	ok := func(w http.ResponseWriter, _ *http.Request) {}
	truth, falsity := true, false
	for _, tc := range []struct {
		name  string
		trust *bool
		want  map[string]string // "" = absent
	}{
		// Unset: Traefik's historical behaviour; the client's X-Forwarded-For is replaced,
		// an X-Forwarded-Prefix passes.
		{"unset", nil, map[string]string{"X-Forwarded-For": "192.0.2.1", "X-Forwarded-Prefix": "/p", "X-Forwarded-Proto": "https",
			"X-Forwarded-Method": "POST", "X-Forwarded-Host": "app.example", "X-Forwarded-Uri": "/a?b=1", "X-Forwarded-Port": ""}},
		{"true", &truth, map[string]string{"X-Forwarded-For": "10.0.0.1, 192.0.2.1", "X-Forwarded-Prefix": "/p", "X-Forwarded-Proto": "http",
			"X-Forwarded-Method": "POST", "X-Forwarded-Host": "app.example", "X-Forwarded-Uri": "/a?b=1", "X-Forwarded-Port": "443"}},
		{"false", &falsity, map[string]string{"X-Forwarded-For": "192.0.2.1", "X-Forwarded-Prefix": "", "X-Forwarded-Proto": "https",
			"X-Forwarded-Method": "POST", "X-Forwarded-Host": "app.example", "X-Forwarded-Uri": "/a?b=1", "X-Forwarded-Port": "443"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv, got, _ := authServer(t, ok)
			mw := forwardAuthMW(srv, "/verify", func(c *snapshot.ForwardAuth) { c.TrustForwardHeader = tc.trust })
			req := newReq(http.MethodPost, "https://app.example/a?b=1", "app.example")
			req.TLS = &tls.ConnectionState{}
			req.RemoteAddr = "192.0.2.1:5555"
			req.Header.Set("X-Forwarded-For", "10.0.0.1")
			req.Header.Set("X-Forwarded-Proto", "http")
			req.Header.Set("X-Forwarded-Prefix", "/p")
			req.Header.Set("Connection", "X-Secret")
			req.Header.Set("X-Secret", "hop")
			next := &capture{}
			if rec := serve(mw, next, req); rec.Code != http.StatusOK || !next.called {
				t.Fatalf("%d, next called %t", rec.Code, next.called)
			}
			if got.Method != http.MethodGet || got.URL.RequestURI() != "/verify" {
				t.Errorf("auth request %s %s; want GET /verify", got.Method, got.URL.RequestURI())
			}
			for k, v := range tc.want {
				if g := strings.Join(got.Header.Values(k), ", "); g != v {
					t.Errorf("%s = %q; want %q", k, g, v)
				}
			}
			if got.Header.Get("X-Secret") != "" {
				t.Error("a header the client's Connection names reached the auth server")
			}
		})
	}
}

func TestForwardAuthAnswers(t *testing.T) {
	t.Run("a refusal is returned as the auth server gave it", func(t *testing.T) {
		srv, _, _ := authServer(t, func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("WWW-Authenticate", "Bearer")
			w.Header().Set("Location", "/login")
			w.WriteHeader(http.StatusForbidden)
			_, _ = io.WriteString(w, "no")
		})
		next := &capture{}
		rec := serve(forwardAuthMW(srv, "/auth/check", nil), next, newReq(http.MethodGet, "/x", "app.example"))
		if rec.Code != http.StatusForbidden || rec.Body.String() != "no" || next.called ||
			rec.Header().Get("WWW-Authenticate") != "Bearer" || rec.Header().Get("Location") != "http://"+srv.Listener.Addr().String()+"/login" {
			t.Errorf("%d %q %v next=%t", rec.Code, rec.Body.String(), rec.Header(), next.called)
		}
	})
	t.Run("preserveLocationHeader keeps a relative Location", func(t *testing.T) {
		srv, _, _ := authServer(t, func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Location", "/login")
			w.WriteHeader(http.StatusFound)
		})
		rec := serve(forwardAuthMW(srv, "/", func(c *snapshot.ForwardAuth) { c.PreserveLocationHeader = true }), &capture{}, newReq(http.MethodGet, "/", "a"))
		if rec.Code != http.StatusFound || rec.Header().Get("Location") != "/login" {
			t.Errorf("%d %q", rec.Code, rec.Header().Get("Location"))
		}
	})
	t.Run("an auth answer over maxResponseBodySize is 401", func(t *testing.T) {
		srv, _, _ := authServer(t, func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "0123456789") })
		next := &capture{}
		rec := serve(forwardAuthMW(srv, "/", func(c *snapshot.ForwardAuth) { c.MaxResponseBodySize = 9 }), next, newReq(http.MethodGet, "/", "a"))
		if rec.Code != http.StatusUnauthorized || next.called {
			t.Errorf("%d next=%t", rec.Code, next.called)
		}
	})
	t.Run("forwardBody sends the body to both, and maxBodySize bounds it", func(t *testing.T) {
		srv, got, body := authServer(t, func(http.ResponseWriter, *http.Request) {})
		mw := forwardAuthMW(srv, "/", func(c *snapshot.ForwardAuth) { c.ForwardBody, c.MaxBodySize, c.PreserveRequestMethod = true, 5, true })
		var backendBody string
		next := http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) { b, _ := io.ReadAll(r.Body); backendBody = string(b) })
		req := httptest.NewRequest(http.MethodPut, "/", strings.NewReader("hello"))
		if rec := serve(mw, next, req); rec.Code != http.StatusOK || *body != "hello" || backendBody != "hello" || got.Method != http.MethodPut {
			t.Errorf("%d auth got %s %q, backend %q", rec.Code, got.Method, *body, backendBody)
		}
		req = httptest.NewRequest(http.MethodPut, "/", strings.NewReader("hello!"))
		if rec := serve(mw, next, req); rec.Code != http.StatusUnauthorized {
			t.Errorf("a body over maxBodySize: %d; want 401", rec.Code)
		}
	})
	t.Run("admitted: response headers onto the request, auth cookies onto the response", func(t *testing.T) {
		srv, _, _ := authServer(t, func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("X-Auth-User", "alice")
			w.Header().Set("X-Claim-Role", "admin")
			http.SetCookie(w, &http.Cookie{Name: "session", Value: "auth"})
			http.SetCookie(w, &http.Cookie{Name: "other", Value: "auth"})
		})
		mw := forwardAuthMW(srv, "/", func(c *snapshot.ForwardAuth) {
			c.AuthResponseHeaders, c.AuthResponseHeadersRegex, c.AddAuthCookiesToResponse = []string{"X-Auth-User"}, "^X-Claim-", []string{"session"}
		})
		var seen http.Header
		next := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			seen = r.Header.Clone()
			http.SetCookie(w, &http.Cookie{Name: "session", Value: "backend"})
			http.SetCookie(w, &http.Cookie{Name: "theme", Value: "dark"})
		})
		req := newReq(http.MethodGet, "/", "a")
		req.Header.Set("X-Auth-User", "mallory")
		req.Header.Set("X-Claim-Forged", "yes")
		rec := serve(mw, next, req)
		if seen.Get("X-Auth-User") != "alice" || seen.Get("X-Claim-Role") != "admin" || seen.Get("X-Claim-Forged") != "" {
			t.Errorf("the backend saw %v", seen)
		}
		if got := strings.Join(rec.Header().Values("Set-Cookie"), "; "); got != "theme=dark; session=auth" {
			t.Errorf("Set-Cookie %q; want the backend's theme and the auth server's session", got)
		}
	})
	t.Run("an unreachable auth server is 500 with the cause", func(t *testing.T) {
		srv, _, _ := authServer(t, func(http.ResponseWriter, *http.Request) {})
		mw := forwardAuthMW(srv, "/", nil)
		srv.Close()
		next := &capture{}
		rec := serve(mw, next, newReq(http.MethodGet, "/", "a"))
		if rec.Code != http.StatusInternalServerError || rec.Header().Get("Bridgehead-Error") != "ConnectionRefused" || next.called {
			t.Errorf("%d %q next=%t", rec.Code, rec.Header().Get("Bridgehead-Error"), next.called)
		}
	})
	t.Run("no endpoints is 503", func(t *testing.T) {
		mw := &snapshot.Middleware{ForwardAuth: &snapshot.ForwardAuth{Address: "http://auth.ns.svc/", Server: &snapshot.Backend{Scheme: "http",
			Failure: &snapshot.Failure{Reason: "NoEndpoints", Status: http.StatusServiceUnavailable, Detail: "ns/auth"}}}}
		rec := serve(mw, &capture{}, newReq(http.MethodGet, "/", "a"))
		if rec.Code != http.StatusServiceUnavailable || rec.Header().Get("Bridgehead-Error") != "NoEndpoints ns/auth" {
			t.Errorf("%d %q", rec.Code, rec.Header().Get("Bridgehead-Error"))
		}
	})
}

// BenchmarkForwardAuthAdmitted is the cost of one admitted request: an auth round trip
// over a kept-alive loopback connection, and the headers copied onto the request.
func BenchmarkForwardAuthAdmitted(b *testing.B) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("X-Auth-User", "alice")
	}))
	b.Cleanup(srv.Close)
	addr := srv.Listener.Addr().String()
	mw := &snapshot.Middleware{ForwardAuth: &snapshot.ForwardAuth{Address: "http://" + addr + "/verify",
		Server:              &snapshot.Backend{Scheme: "http", Endpoints: []snapshot.Endpoint{{Address: addr}}},
		AuthResponseHeaders: []string{"X-Auth-User"}, MaxBodySize: -1, MaxResponseBodySize: -1}}
	h := Chain([]*snapshot.Middleware{mw}, http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	req := newReq(http.MethodGet, "/cart", "app.example")
	req.RemoteAddr = "192.0.2.1:5555"
	w := &discardWriter{h: http.Header{}}
	b.ReportAllocs()
	for b.Loop() {
		h.ServeHTTP(w, req)
		if w.code != 0 && w.code != http.StatusOK {
			b.Fatalf("status %d", w.code)
		}
	}
}
