package middleware

import (
	"crypto/tls"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/bridgehead/bridgehead/internal/snapshot"
)

func TestRedirectStatus(t *testing.T) {
	tests := []struct {
		method    string
		permanent bool
		want      int
	}{
		{http.MethodGet, false, http.StatusFound},
		{http.MethodHead, false, http.StatusFound},
		{http.MethodPost, false, http.StatusTemporaryRedirect},
		{http.MethodPut, false, http.StatusTemporaryRedirect},
		{http.MethodDelete, false, http.StatusTemporaryRedirect},
		{http.MethodOptions, false, http.StatusTemporaryRedirect},
		{http.MethodGet, true, http.StatusMovedPermanently},
		{http.MethodHead, true, http.StatusMovedPermanently},
		{http.MethodPost, true, http.StatusPermanentRedirect},
		{http.MethodPatch, true, http.StatusPermanentRedirect},
	}
	for _, tt := range tests {
		w := httptest.NewRecorder()
		Redirect(w, newReq(tt.method, "/x", "example.com"), "https", "", tt.permanent)
		if w.Code != tt.want {
			t.Errorf("%s permanent=%v: status %d, want %d", tt.method, tt.permanent, w.Code, tt.want)
		}
		if got := w.Header().Get("Location"); got != "https://example.com/x" {
			t.Errorf("%s permanent=%v: Location %q", tt.method, tt.permanent, got)
		}
	}
}

func TestRedirectLocation(t *testing.T) {
	tests := []struct {
		name, scheme, port, target, host, want string
	}{
		{"default https port omitted", "https", "", "/", "example.com", "https://example.com/"},
		{"explicit 443 omitted", "https", "443", "/", "example.com", "https://example.com/"},
		{"explicit 80 omitted for http", "http", "80", "/", "example.com", "http://example.com/"},
		{"custom port", "https", "8443", "/a", "example.com", "https://example.com:8443/a"},
		{"request port replaced", "https", "", "/a", "example.com:8080", "https://example.com/a"},
		{"request port replaced by custom", "https", "8443", "/a", "example.com:8080", "https://example.com:8443/a"},
		{"query kept exactly", "https", "", "/p?b=2&a=%20x&c", "example.com", "https://example.com/p?b=2&a=%20x&c"},
		{"empty query kept", "https", "", "/p?", "example.com", "https://example.com/p?"},
		{"escaped path kept", "https", "", "/a%2Fb/c%20d", "example.com", "https://example.com/a%2Fb/c%20d"},
		{"double slash path stays a path", "https", "", "//evil.com/path", "example.com", "https://example.com//evil.com/path"},
		{"backslash path escaped", "https", "", "/%5Cevil.com", "example.com", "https://example.com/%5Cevil.com"},
		{"ipv4 host", "https", "", "/", "10.0.0.1:80", "https://10.0.0.1/"},
		{"ipv6 host", "https", "8443", "/", "[2001:db8::1]:80", "https://[2001:db8::1]:8443/"},
		{"upper-case scheme", "HTTPS", "", "/", "example.com", "https://example.com/"},
		{"underscore and trailing dot", "https", "", "/", "my_svc.internal.", "https://my_svc.internal./"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := httptest.NewRecorder()
			Redirect(w, newReq(http.MethodGet, tt.target, tt.host), tt.scheme, tt.port, true)
			if w.Code != http.StatusMovedPermanently {
				t.Fatalf("status %d, want 301 (body %q)", w.Code, w.Body)
			}
			got := w.Header().Get("Location")
			if got != tt.want {
				t.Fatalf("Location %q, want %q", got, tt.want)
			}
			u, err := url.Parse(got)
			if err != nil {
				t.Fatal(err)
			}
			if wantHost := strings.SplitN(tt.want, "/", 4)[2]; u.Host != wantHost {
				t.Fatalf("Location host %q, want %q", u.Host, wantHost)
			}
		})
	}
}

func TestRedirectHostileHost(t *testing.T) {
	for _, host := range []string{
		"", "evil.com/x", "a@evil.com", "user:pass@evil.com", "a b", "%00", "a%2eb", "evil.com\\x",
		"evil.com?x", "evil.com#x", "exa\x00mple.com", "exa\rmple.com", "exa\nmple.com", "example.com:",
		"example.com:99999", "example.com:80:80", "example.com:x", "::1", "[::1", "[::1]x", "[fe80::1%25eth0]",
		"[1.2.3.4]", "0x7f.1", "127.1", "1.2.3.04", "a..b", ".a", "-.", "-a.com", "a-.com", "a.com-", "é.com", strings.Repeat("a", 64) + ".com",
		strings.Repeat("a.", 130) + "com",
	} {
		r := newReq(http.MethodGet, "/", host)
		w := httptest.NewRecorder()
		Redirect(w, r, "https", "", false)
		if w.Code != http.StatusBadRequest {
			t.Errorf("Host %q: status %d (Location %q), want 400", host, w.Code, w.Header().Get("Location"))
		}
		if loc := w.Header().Get("Location"); loc != "" {
			t.Errorf("Host %q: Location %q set on a 400", host, loc)
		}
	}
}

func TestRedirectSchemeMiddleware(t *testing.T) {
	tests := []struct {
		name     string
		cfg      snapshot.RedirectScheme
		tls      bool
		header   map[string]string
		wantCode int
		wantLoc  string
		wantNext bool
	}{
		{name: "http to https", cfg: snapshot.RedirectScheme{Scheme: "https", Permanent: true}, wantCode: 301, wantLoc: "https://example.com/p?q=1"},
		{name: "already https", cfg: snapshot.RedirectScheme{Scheme: "https"}, tls: true, wantCode: 200, wantNext: true},
		{name: "already https on another port", cfg: snapshot.RedirectScheme{Scheme: "https", Port: "8443"}, tls: true, wantCode: 200, wantNext: true},
		{name: "X-Forwarded-Proto is not trusted", cfg: snapshot.RedirectScheme{Scheme: "https"}, header: map[string]string{"X-Forwarded-Proto": "https"}, wantCode: 302, wantLoc: "https://example.com/p?q=1"},
		{name: "https to http", cfg: snapshot.RedirectScheme{Scheme: "http", Port: "8080"}, tls: true, wantCode: 302, wantLoc: "http://example.com:8080/p?q=1"},
		{name: "fixed code 308 (ingress-nginx)", cfg: snapshot.RedirectScheme{Scheme: "https", StatusCode: 308}, wantCode: 308, wantLoc: "https://example.com/p?q=1"},
		{name: "fixed code 303 (HAProxy ssl-redirect-code)", cfg: snapshot.RedirectScheme{Scheme: "https", Permanent: true, StatusCode: 303}, wantCode: 303, wantLoc: "https://example.com/p?q=1"},
		{name: "already http", cfg: snapshot.RedirectScheme{Scheme: "http"}, header: map[string]string{"X-Forwarded-Proto": "https"}, wantCode: 200, wantNext: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			next := &capture{}
			h := Chain([]*snapshot.Middleware{{RedirectScheme: &tt.cfg}}, next)
			r := newReq(http.MethodGet, "/p?q=1", "example.com:8000")
			if tt.tls {
				r.TLS = &tls.ConnectionState{}
			}
			for k, v := range tt.header {
				r.Header.Set(k, v)
			}
			w := httptest.NewRecorder()
			h.ServeHTTP(w, r)
			if w.Code != tt.wantCode || next.called != tt.wantNext {
				t.Fatalf("status %d next=%v, want %d next=%v", w.Code, next.called, tt.wantCode, tt.wantNext)
			}
			if got := w.Header().Get("Location"); got != tt.wantLoc {
				t.Fatalf("Location %q, want %q", got, tt.wantLoc)
			}
		})
	}
}

// FuzzSplitHost checks that whatever Host we accept, a URL parser reading our Location
// finds exactly the host (and port and path) we meant.
func FuzzSplitHost(f *testing.F) {
	for _, s := range []string{
		"example.com", "example.com:8080", "EXAMPLE.com.", "10.0.0.1", "10.0.0.1:443", "[::1]", "[::1]:8443",
		"[::ffff:10.0.0.1]", "my_svc", "evil.com/x", "a@evil.com", "a b", "%00", "", "[fe80::1%eth0]",
		"0x7f.1", "127.1", "a.b.c.1", "evil.com\\@good.com", "good.com#@evil.com", "good.com?@evil.com",
		"[::1]@evil.com", "xn--nxasmq6b.com", "1.2.3.4.", "0.0.0.0", "a:b:c",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, hostport string) {
		host, ok := splitHost(hostport)
		if !ok {
			return
		}
		for _, bad := range []string{"@", "/", "\\", "?", "#", "%", " "} {
			if strings.Contains(host, bad) {
				t.Fatalf("splitHost(%q) = %q, which contains %q", hostport, host, bad)
			}
		}
		for _, port := range []string{"", "8443"} {
			loc := location("https", host, port, &url.URL{Path: "//evil.com/p", RawQuery: "a=@evil.com"})
			u, err := url.Parse(loc)
			if err != nil {
				t.Fatalf("Host %q: Location %q does not parse: %v", hostport, loc, err)
			}
			wantHost := host
			if port != "" {
				wantHost += ":" + port
			}
			if u.Host != wantHost || u.User != nil || u.Scheme != "https" || u.Path != "//evil.com/p" {
				t.Fatalf("Host %q: Location %q parses to host %q user %v path %q, want host %q",
					hostport, loc, u.Host, u.User, u.Path, wantHost)
			}
		}
	})
}
