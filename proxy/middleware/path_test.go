package middleware

import (
	"net/http"
	"net/http/httptest"
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
