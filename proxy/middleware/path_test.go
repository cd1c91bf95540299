package middleware

import (
	"bufio"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/bridgehead/bridgehead/internal/snapshot"
)

func TestStripPrefix(t *testing.T) {
	tests := []struct {
		name       string
		prefixes   []string
		target     string
		wantPath   string
		wantRaw    string
		wantURI    string
		wantPrefix string // "" = header absent
	}{
		{"no match", []string{"/api"}, "/web/x", "/web/x", "", "/web/x", ""},
		{"strip", []string{"/api"}, "/api/users?x=1", "/users", "", "/users?x=1", "/api"},
		{"strip to root", []string{"/api"}, "/api", "/", "", "/", "/api"},
		{"trailing-slash prefix", []string{"/api/"}, "/api/users", "/users", "", "/users", "/api/"},
		{"trailing-slash prefix leaves root", []string{"/api/"}, "/api/", "/", "", "/", "/api/"},
		{"trailing-slash prefix does not match bare", []string{"/api/"}, "/api", "/api", "", "/api", ""},
		{"string prefix as in Traefik", []string{"/api"}, "/apiv2/x", "/v2/x", "", "/v2/x", "/api"},
		{"first listed wins, not longest", []string{"/a", "/a/b"}, "/a/b/c", "/b/c", "", "/b/c", "/a"},
		{"second listed when first misses", []string{"/x", "/a/b"}, "/a/b/c", "/c", "", "/c", "/a/b"},
		{"raw path kept escaped", []string{"/api"}, "/api/a%2Fb", "/a/b", "/a%2Fb", "/a%2Fb", "/api"},
		{"raw path with escaped prefix byte", []string{"/api"}, "/ap%69/a%2Fb", "/a/b", "/a%2Fb", "/a%2Fb", "/api"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			next := &capture{}
			h := Chain([]*snapshot.Middleware{{StripPrefix: &snapshot.StripPrefix{Prefixes: tt.prefixes}}}, next)
			r := newReq(http.MethodGet, tt.target, "example.com")
			r.Header.Set("X-Forwarded-Prefix", "/client-said")
			if tt.wantPrefix == "" {
				r.Header.Del("X-Forwarded-Prefix")
			}
			h.ServeHTTP(httptest.NewRecorder(), r)
			if next.path != tt.wantPath || next.raw != tt.wantRaw || next.requestURI != tt.wantURI {
				t.Fatalf("path %q raw %q uri %q, want %q %q %q", next.path, next.raw, next.requestURI, tt.wantPath, tt.wantRaw, tt.wantURI)
			}
			if got := next.header.Values("X-Forwarded-Prefix"); tt.wantPrefix == "" && len(got) != 0 ||
				tt.wantPrefix != "" && (len(got) != 1 || got[0] != tt.wantPrefix) {
				t.Fatalf("X-Forwarded-Prefix %q, want %q", got, tt.wantPrefix)
			}
		})
	}
}

func TestAddPrefix(t *testing.T) {
	tests := []struct {
		name, prefix, target, wantPath, wantRaw, wantURI string
	}{
		{"add", "/api", "/users?x=1", "/api/users", "", "/api/users?x=1"},
		{"root", "/api", "/", "/api/", "", "/api/"},
		{"raw path kept escaped", "/api", "/a%2Fb", "/api/a/b", "/api/a%2Fb", "/api/a%2Fb"},
		{"prefix needing escape", "/my api", "/a%2Fb", "/my api/a/b", "/my%20api/a%2Fb", "/my%20api/a%2Fb"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			next := &capture{}
			h := Chain([]*snapshot.Middleware{{AddPrefix: &snapshot.AddPrefix{Prefix: tt.prefix}}}, next)
			h.ServeHTTP(httptest.NewRecorder(), newReq(http.MethodGet, tt.target, "example.com"))
			if next.path != tt.wantPath || next.raw != tt.wantRaw || next.requestURI != tt.wantURI {
				t.Fatalf("path %q raw %q uri %q, want %q %q %q", next.path, next.raw, next.requestURI, tt.wantPath, tt.wantRaw, tt.wantURI)
			}
		})
	}
}

func TestRawPrefixLen(t *testing.T) {
	tests := []struct {
		raw, p string
		want   int
	}{
		{"/api/x", "/api", 4},
		{"/%61pi/x", "/api", 6},
		{"/%2", "/a", -1},
		{"/ap", "/api", -1},
		{"/%zzpi", "/api", -1},
		{"/a%2Fb", "/a/", 5},
	}
	for _, tt := range tests {
		if got := rawPrefixLen(tt.raw, tt.p); got != tt.want {
			t.Errorf("rawPrefixLen(%q, %q) = %d, want %d", tt.raw, tt.p, got, tt.want)
		}
	}
}

func TestReplacePath(t *testing.T) {
	next := &capture{}
	h := Chain([]*snapshot.Middleware{{ReplacePath: &snapshot.ReplacePath{Path: "/"}}}, next)
	r := newReq(http.MethodGet, "/something/a%2Fb?q=1", "example.com")
	r.Header.Set("X-Replaced-Path", "/forged")
	h.ServeHTTP(httptest.NewRecorder(), r)
	if !next.called || next.path != "/" || next.raw != "" || next.req.URL.RawQuery != "q=1" {
		t.Fatalf("path %q raw %q query %q", next.path, next.raw, next.req.URL.RawQuery)
	}
	if got := next.header.Values("X-Replaced-Path"); len(got) != 1 || got[0] != "/something/a%2Fb" {
		t.Errorf("X-Replaced-Path %q", got)
	}
	if next.req.RequestURI != "/?q=1" {
		t.Errorf("RequestURI %q, want the replaced path so logs show what is forwarded", next.req.RequestURI)
	}
}

// TestReplacePathReadsTheConfiguredPathEscaped: as in Traefik, the configured path is in
// its escaped form, so the backend receives exactly what was written.
func TestReplacePathReadsTheConfiguredPathEscaped(t *testing.T) {
	for _, tt := range []struct{ configured, decoded, onWire string }{
		{"/maintenance.html", "/maintenance.html", "/maintenance.html"},
		{"/a%20b", "/a b", "/a%20b"},
		{"/files/a%2Fb", "/files/a/b", "/files/a%2Fb"},
		{"/100%", "/100%", "/100%25"}, // a broken escape is literal text
	} {
		next := &capture{}
		h := Chain([]*snapshot.Middleware{{ReplacePath: &snapshot.ReplacePath{Path: tt.configured}}}, next)
		h.ServeHTTP(httptest.NewRecorder(), newReq(http.MethodGet, "/x", "example.com"))
		if next.path != tt.decoded || next.req.URL.EscapedPath() != tt.onWire || next.req.RequestURI != tt.onWire {
			t.Errorf("%s: path %q, escaped %q, RequestURI %q; want %q and %q", tt.configured, next.path, next.req.URL.EscapedPath(), next.req.RequestURI, tt.decoded, tt.onWire)
		}
	}
}

// FuzzReplacePath checks, for any configured path translate accepts (absolute, escapes
// well formed) and any request, that the backend is sent one unambiguous path: the
// request line (RequestURI) parses back to the path we set, spelled as configured, the
// query is the client's, and X-Replaced-Path is the client's path, once.
func FuzzReplacePath(f *testing.F) {
	for _, s := range [][2]string{
		{"/maintenance.html", "/shop/cart?id=7"}, {"/", "/"}, {"/a%20b", "/x%2Fy?q=%00"},
		{"/files/a%2Fb", "/"}, {"/%E2%82%AC", "/?"}, {"/a?b", "/c"}, {"/a#b", "/c"}, {"//evil.com/p", "/x"},
		{"/a b", "/c?d=e f"}, {"/%zz", "/x"}, {"/é", "/ü"},
	} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, configured, target string) {
		if !strings.HasPrefix(configured, "/") {
			return // translate refuses it
		}
		decoded, err := url.PathUnescape(configured)
		if err != nil {
			return // translate refuses it
		}
		r, err := http.ReadRequest(bufio.NewReader(strings.NewReader("GET " + target + " HTTP/1.1\r\nHost: example.com\r\n\r\n")))
		if err != nil {
			return // not a request net/http would hand us
		}
		original, query := r.URL.EscapedPath(), r.URL.RawQuery
		next := &capture{}
		Chain([]*snapshot.Middleware{{ReplacePath: &snapshot.ReplacePath{Path: configured}}}, next).ServeHTTP(httptest.NewRecorder(), r)
		got := next.req
		if got.URL.Path != decoded || got.URL.RawQuery != query {
			t.Fatalf("path %q query %q; want %q and the client's %q", got.URL.Path, got.URL.RawQuery, decoded, query)
		}
		if got.RequestURI != got.URL.RequestURI() {
			t.Fatalf("RequestURI %q but the URL says %q", got.RequestURI, got.URL.RequestURI())
		}
		back, err := url.ParseRequestURI(got.RequestURI)
		if err != nil || back.Path != decoded || back.RawQuery != query {
			t.Fatalf("request line %q reads back as %v (%v); want path %q query %q", got.RequestURI, back, err, decoded, query)
		}
		if h := got.Header.Values("X-Replaced-Path"); len(h) != 1 || h[0] != original {
			t.Fatalf("X-Replaced-Path %q; want [%q]", h, original)
		}
	})
}
