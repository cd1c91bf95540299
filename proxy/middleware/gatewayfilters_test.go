package middleware

import (
	"context"
	"crypto/tls"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/bridgehead/bridgehead/internal/snapshot"
)

func hv(name, value string) snapshot.HeaderValue {
	return snapshot.HeaderValue{Name: name, Value: value}
}

// joined is how the conformance suite reads a header: every value, comma-joined.
func joined(h http.Header, name string) (string, bool) {
	v, ok := h[http.CanonicalHeaderKey(name)]
	return strings.Join(v, ","), ok
}

// headerCases are the conformance suite's HTTPRouteRequestHeaderModifier and
// HTTPRouteResponseHeaderModifier cases: the same filters and expectations serve both
// directions.
var headerCases = []struct {
	name   string
	filter snapshot.HeaderModifier
	in     map[string]string
	want   map[string]string
	absent []string
}{
	{
		name:   "set adds",
		filter: snapshot.HeaderModifier{Set: []snapshot.HeaderValue{hv("X-Header-Set", "set-overwrites-values")}},
		in:     map[string]string{"Some-Other-Header": "val"},
		want:   map[string]string{"Some-Other-Header": "val", "X-Header-Set": "set-overwrites-values"},
	},
	{
		name:   "set overwrites",
		filter: snapshot.HeaderModifier{Set: []snapshot.HeaderValue{hv("X-Header-Set", "set-overwrites-values")}},
		in:     map[string]string{"Some-Other-Header": "val", "X-Header-Set": "some-other-value"},
		want:   map[string]string{"Some-Other-Header": "val", "X-Header-Set": "set-overwrites-values"},
	},
	{
		name:   "add new",
		filter: snapshot.HeaderModifier{Add: []snapshot.HeaderValue{hv("X-Header-Add", "add-appends-values")}},
		in:     map[string]string{"Some-Other-Header": "val"},
		want:   map[string]string{"Some-Other-Header": "val", "X-Header-Add": "add-appends-values"},
	},
	{
		name:   "add appends",
		filter: snapshot.HeaderModifier{Add: []snapshot.HeaderValue{hv("X-Header-Add", "add-appends-values")}},
		in:     map[string]string{"Some-Other-Header": "val", "X-Header-Add": "some-other-value"},
		want:   map[string]string{"Some-Other-Header": "val", "X-Header-Add": "some-other-value,add-appends-values"},
	},
	{
		name:   "remove",
		filter: snapshot.HeaderModifier{Remove: []string{"X-Header-Remove"}},
		in:     map[string]string{"X-Header-Remove": "val"},
		absent: []string{"X-Header-Remove"},
	},
	{
		name: "multiple",
		filter: snapshot.HeaderModifier{
			Set:    []snapshot.HeaderValue{hv("X-Header-Set-1", "header-set-1"), hv("X-Header-Set-2", "header-set-2")},
			Add:    []snapshot.HeaderValue{hv("X-Header-Add-1", "header-add-1"), hv("X-Header-Add-2", "header-add-2"), hv("X-Header-Add-3", "header-add-3")},
			Remove: []string{"X-Header-Remove-1", "X-Header-Remove-2"},
		},
		in: map[string]string{"X-Header-Set-2": "set-val-2", "X-Header-Add-2": "add-val-2", "X-Header-Remove-2": "remove-val-2", "Another-Header": "another-header-val"},
		want: map[string]string{"X-Header-Set-1": "header-set-1", "X-Header-Set-2": "header-set-2", "X-Header-Add-1": "header-add-1",
			"X-Header-Add-2": "add-val-2,header-add-2", "X-Header-Add-3": "header-add-3", "Another-Header": "another-header-val"},
		absent: []string{"X-Header-Remove-1", "X-Header-Remove-2"},
	},
	{
		name: "case insensitivity",
		filter: snapshot.HeaderModifier{
			Set:    []snapshot.HeaderValue{hv("X-Header-Set", "header-set")},
			Add:    []snapshot.HeaderValue{hv("X-Header-Add", "header-add"), hv("x-lowercase-add", "lowercase-add"), hv("x-Mixedcase-ADD-1", "mixedcase-add-1"), hv("X-UPPERCASE-ADD", "uppercase-add")},
			Remove: []string{"X-Header-Remove"},
		},
		in: map[string]string{"x-header-set": "original-val-set", "x-header-add": "original-val-add", "x-header-remove": "original-val-remove", "Another-Header": "another-header-val"},
		want: map[string]string{"X-Header-Set": "header-set", "X-Header-Add": "original-val-add,header-add", "X-Lowercase-Add": "lowercase-add",
			"X-Mixedcase-Add-1": "mixedcase-add-1", "X-Uppercase-Add": "uppercase-add", "Another-Header": "another-header-val"},
		absent: []string{"x-header-remove", "X-Header-Remove"},
	},
	{
		name: "set then remove removes",
		filter: snapshot.HeaderModifier{
			Set: []snapshot.HeaderValue{hv("X-Both", "set")}, Remove: []string{"x-both"},
		},
		absent: []string{"X-Both"},
	},
}

func checkHeader(t *testing.T, h http.Header, want map[string]string, absent []string) {
	t.Helper()
	for k, v := range want {
		if got, ok := joined(h, k); !ok || got != v {
			t.Errorf("%s = %q (present %v), want %q", k, got, ok, v)
		}
	}
	for _, k := range absent {
		if got, ok := joined(h, k); ok {
			t.Errorf("%s = %q, want absent", k, got)
		}
	}
}

func TestRequestHeaderModifierConformance(t *testing.T) {
	for _, tc := range headerCases {
		t.Run(tc.name, func(t *testing.T) {
			next := &capture{}
			h := Chain([]*snapshot.Middleware{{RequestHeaderModifier: &tc.filter}}, next)
			r := newReq(http.MethodGet, "/", "example.com")
			for k, v := range tc.in {
				r.Header.Set(k, v) // canonicalised, as net/http reads a request
			}
			h.ServeHTTP(httptest.NewRecorder(), r)
			checkHeader(t, next.header, tc.want, tc.absent)
		})
	}
}

func TestResponseHeaderModifierConformance(t *testing.T) {
	for _, tc := range headerCases {
		t.Run(tc.name, func(t *testing.T) {
			backend := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
				for k, v := range tc.in {
					w.Header().Set(k, v)
				}
				w.WriteHeader(http.StatusOK)
			})
			h := Chain([]*snapshot.Middleware{{ResponseHeaderModifier: &tc.filter}}, backend)
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, newReq(http.MethodGet, "/", "example.com"))
			checkHeader(t, rec.Result().Header, tc.want, tc.absent)
		})
	}
}

// The configured value slices are shared by every request: appending to a header that
// got its value from "set" on one request must not change what the next one gets.
func TestHeaderModifierSharesNoBackingArray(t *testing.T) {
	mods := []*snapshot.Middleware{
		{RequestHeaderModifier: &snapshot.HeaderModifier{Set: []snapshot.HeaderValue{hv("X-A", "one")}}},
		{RequestHeaderModifier: &snapshot.HeaderModifier{Add: []snapshot.HeaderValue{hv("X-A", "two")}}},
	}
	next := &capture{}
	h := Chain(mods, next)
	for range 3 {
		h.ServeHTTP(httptest.NewRecorder(), newReq(http.MethodGet, "/", "example.com"))
		if got, _ := joined(next.header, "X-A"); got != "one,two" {
			t.Fatalf("X-A = %q, want one,two", got)
		}
	}
}

// Host is not in Go's header map: setting it sets the request's Host; removing
// X-Forwarded-For leaves it present and nil, so ReverseProxy adds none.
func TestRequestHeaderModifierHostAndForwardedFor(t *testing.T) {
	next := &capture{}
	h := Chain([]*snapshot.Middleware{{RequestHeaderModifier: &snapshot.HeaderModifier{
		Set: []snapshot.HeaderValue{hv("host", "backend.internal")}, Remove: []string{"x-forwarded-for"},
	}}}, next)
	r := newReq(http.MethodGet, "/", "example.com")
	r.Header.Set("X-Forwarded-For", "6.6.6.6")
	h.ServeHTTP(httptest.NewRecorder(), r)
	if next.host != "backend.internal" {
		t.Errorf("Host %q, want backend.internal", next.host)
	}
	if _, ok := next.header["Host"]; ok {
		t.Error("Host left in the header map")
	}
	if v, ok := next.req.Header["X-Forwarded-For"]; !ok || v != nil {
		t.Errorf("X-Forwarded-For = %q (present %v), want present and nil", v, ok)
	}
}

// The spec's ReplacePrefixMatch table (HTTPPathModifier) and the conformance suite's
// HTTPRouteRewritePath cases.
func TestPathModifierPrefixTable(t *testing.T) {
	for _, tc := range []struct{ path, prefix, replace, want string }{
		// httproute_types.go, HTTPPathModifier.ReplacePrefixMatch
		{"/foo/bar", "/foo", "/xyz", "/xyz/bar"},
		{"/foo/bar", "/foo", "/xyz/", "/xyz/bar"},
		{"/foo/bar", "/foo/", "/xyz", "/xyz/bar"},
		{"/foo/bar", "/foo/", "/xyz/", "/xyz/bar"},
		{"/foo", "/foo", "/xyz", "/xyz"},
		{"/foo/", "/foo", "/xyz", "/xyz/"},
		{"/foo/bar", "/foo", "", "/bar"},
		{"/foo/", "/foo", "", "/"},
		{"/foo", "/foo", "", "/"},
		{"/foo/", "/foo", "/", "/"},
		{"/foo", "/foo", "/", "/"},
		// conformance tests/httproute-rewrite-path.go
		{"/prefix/one/two", "/prefix/one", "/one", "/one/two"},
		{"/strip-prefix/three", "/strip-prefix", "/", "/three"},
		{"/strip-prefix", "/strip-prefix", "/", "/"},
		{"/prefix/rewrite-path-and-modify-headers/one", "/prefix/rewrite-path-and-modify-headers", "/prefix", "/prefix/one"},
		// conformance tests/httproute-redirect-path.go
		{"/original-prefix/lemon", "/original-prefix", "/replacement-prefix", "/replacement-prefix/lemon"},
		// The prefix "/" matches every path.
		{"/a/b", "/", "/xyz", "/xyz/a/b"},
		{"/", "/", "/xyz", "/xyz"},
		// Not a whole-element match: left alone rather than cut mid-element.
		{"/foobar", "/foo", "/xyz", "/foobar"},
	} {
		m := compilePathModifier(&snapshot.PathModifier{Type: snapshot.PathReplacePrefixMatch, ReplacePrefixMatch: tc.replace, MatchedPrefix: tc.prefix})
		if got := m.apply(tc.path); got != tc.want {
			t.Errorf("%s with prefix %q replaced by %q = %q, want %q", tc.path, tc.prefix, tc.replace, got, tc.want)
		}
	}
}

func TestURLRewriteConformance(t *testing.T) {
	full := func(p string) *snapshot.PathModifier {
		return &snapshot.PathModifier{Type: snapshot.PathReplaceFullPath, ReplaceFullPath: p}
	}
	prefix := func(matched, p string) *snapshot.PathModifier {
		return &snapshot.PathModifier{Type: snapshot.PathReplacePrefixMatch, MatchedPrefix: matched, ReplacePrefixMatch: p}
	}
	for _, tc := range []struct {
		name              string
		rewrite           snapshot.URLRewrite
		target, host      string
		wantURI, wantHost string
	}{
		{"prefix", snapshot.URLRewrite{Path: prefix("/prefix/one", "/one")}, "/prefix/one/two", "example.org", "/one/two", "example.org"},
		{"strip prefix", snapshot.URLRewrite{Path: prefix("/strip-prefix", "/")}, "/strip-prefix/three", "example.org", "/three", "example.org"},
		{"strip whole path", snapshot.URLRewrite{Path: prefix("/strip-prefix", "/")}, "/strip-prefix", "example.org", "/", "example.org"},
		{"full path", snapshot.URLRewrite{Path: full("/one")}, "/full/one/two", "example.org", "/one", "example.org"},
		{"query kept", snapshot.URLRewrite{Path: full("/one")}, "/full/one/two?a=b&c", "example.org", "/one?a=b&c", "example.org"},
		{"host", snapshot.URLRewrite{Hostname: "one.example.org"}, "/one", "rewrite.example", "/one", "one.example.org"},
		{"host and path", snapshot.URLRewrite{Hostname: "test.example.org", Path: full("/test")}, "/x?q=1", "rewrite.example:8080", "/test?q=1", "test.example.org"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			next := &capture{}
			h := Chain([]*snapshot.Middleware{{URLRewrite: &tc.rewrite}}, next)
			h.ServeHTTP(httptest.NewRecorder(), newReq(http.MethodGet, tc.target, tc.host))
			if got := next.req.URL.RequestURI(); got != tc.wantURI || next.requestURI != tc.wantURI {
				t.Errorf("forwarded %q (RequestURI %q), want %q", got, next.requestURI, tc.wantURI)
			}
			if next.host != tc.wantHost {
				t.Errorf("Host %q, want %q", next.host, tc.wantHost)
			}
		})
	}
}

// withLocalPort makes r look as if it arrived on a listener at port.
func withLocalPort(r *http.Request, port int) *http.Request {
	addr := &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: port}
	return r.WithContext(context.WithValue(r.Context(), http.LocalAddrContextKey, addr))
}

// The conformance suite's HTTPRouteRedirect* cases: the Location each filter gives.
func TestRequestRedirectConformance(t *testing.T) {
	prefix := &snapshot.PathModifier{Type: snapshot.PathReplacePrefixMatch, MatchedPrefix: "/original-prefix", ReplacePrefixMatch: "/replacement-prefix"}
	full := &snapshot.PathModifier{Type: snapshot.PathReplaceFullPath, ReplaceFullPath: "/full-path-replacement"}
	for _, tc := range []struct {
		name     string
		redirect snapshot.RequestRedirect
		target   string
		tls      bool
		// listener is the port the request arrives on (and, unless the redirect sets
		// ListenerPort, the port the client used).
		listener int
		code     int
		location string
	}{
		// httproute-redirect-host-and-status
		{"hostname", snapshot.RequestRedirect{Hostname: "example.org"}, "/hostname-redirect", false, 80, 302, "http://example.org/hostname-redirect"},
		{"host and status", snapshot.RequestRedirect{Hostname: "example.org", StatusCode: 301}, "/host-and-status", false, 80, 301, "http://example.org/host-and-status"},
		// httproute-redirect-path
		{"prefix", snapshot.RequestRedirect{Path: prefix}, "/original-prefix/lemon", false, 80, 302, "http://gw.example/replacement-prefix/lemon"},
		{"full path", snapshot.RequestRedirect{Path: full}, "/full/path/original", false, 80, 302, "http://gw.example/full-path-replacement"},
		{"full path keeps query", snapshot.RequestRedirect{Path: full}, "/full/path/original?a=1", false, 80, 302, "http://gw.example/full-path-replacement?a=1"},
		// httproute-redirect-port
		{"port", snapshot.RequestRedirect{Port: 8083}, "/port", false, 80, 302, "http://gw.example:8083/port"},
		{"port and host and status", snapshot.RequestRedirect{Port: 8083, Hostname: "example.org", StatusCode: 301}, "/p", false, 80, 301, "http://example.org:8083/p"},
		// httproute-redirect-scheme
		{"scheme", snapshot.RequestRedirect{Scheme: "https"}, "/scheme", false, 80, 302, "https://gw.example/scheme"},
		{"scheme and host and status", snapshot.RequestRedirect{Scheme: "https", Hostname: "example.org", StatusCode: 301}, "/s", false, 80, 301, "https://example.org/s"},
		// httproute-redirect-port-and-scheme: listener on 80
		{"80: scheme nil port nil", snapshot.RequestRedirect{Hostname: "example.org"}, "/a", false, 80, 302, "http://example.org/a"},
		{"80: scheme nil port 80", snapshot.RequestRedirect{Hostname: "example.org", Port: 80}, "/a", false, 80, 302, "http://example.org/a"},
		{"80: scheme nil port 8080", snapshot.RequestRedirect{Hostname: "example.org", Port: 8080}, "/a", false, 80, 302, "http://example.org:8080/a"},
		{"80: https port nil", snapshot.RequestRedirect{Hostname: "example.org", Scheme: "https"}, "/a", false, 80, 302, "https://example.org/a"},
		{"80: https port 443", snapshot.RequestRedirect{Hostname: "example.org", Scheme: "https", Port: 443}, "/a", false, 80, 302, "https://example.org/a"},
		{"80: https port 8443", snapshot.RequestRedirect{Hostname: "example.org", Scheme: "https", Port: 8443}, "/a", false, 80, 302, "https://example.org:8443/a"},
		// listener on 8080
		{"8080: scheme nil port nil", snapshot.RequestRedirect{Hostname: "example.org"}, "/a", false, 8080, 302, "http://example.org:8080/a"},
		{"8080: scheme nil port 80", snapshot.RequestRedirect{Hostname: "example.org", Port: 80}, "/a", false, 8080, 302, "http://example.org/a"},
		{"8080: https port nil", snapshot.RequestRedirect{Hostname: "example.org", Scheme: "https"}, "/a", false, 8080, 302, "https://example.org/a"},
		// listener on 443 (HTTPS)
		{"443: scheme nil port nil", snapshot.RequestRedirect{Hostname: "example.org"}, "/a", true, 443, 302, "https://example.org/a"},
		{"443: scheme nil port 443", snapshot.RequestRedirect{Hostname: "example.org", Port: 443}, "/a", true, 443, 302, "https://example.org/a"},
		{"443: scheme nil port 8443", snapshot.RequestRedirect{Hostname: "example.org", Port: 8443}, "/a", true, 443, 302, "https://example.org:8443/a"},
		{"443: http port nil", snapshot.RequestRedirect{Hostname: "example.org", Scheme: "http"}, "/a", true, 443, 302, "http://example.org/a"},
		{"443: http port 80", snapshot.RequestRedirect{Hostname: "example.org", Scheme: "http", Port: 80}, "/a", true, 443, 302, "http://example.org/a"},
		{"443: http port 8080", snapshot.RequestRedirect{Hostname: "example.org", Scheme: "http", Port: 8080}, "/a", true, 443, 302, "http://example.org:8080/a"},
		// The listener port from the translator wins over the pod's local port (a Service
		// maps 80 to 8000).
		{"listenerPort", snapshot.RequestRedirect{Hostname: "example.org", ListenerPort: 80}, "/a", false, 8000, 302, "http://example.org/a"},
		{"listenerPort 8080", snapshot.RequestRedirect{ListenerPort: 8080}, "/a", false, 8000, 302, "http://gw.example:8080/a"},
		{"303", snapshot.RequestRedirect{StatusCode: 303}, "/a", false, 80, 303, "http://gw.example/a"},
		{"307", snapshot.RequestRedirect{StatusCode: 307}, "/a", false, 80, 307, "http://gw.example/a"},
		{"308", snapshot.RequestRedirect{StatusCode: 308}, "/a", false, 80, 308, "http://gw.example/a"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			next := &capture{}
			h := Chain([]*snapshot.Middleware{{RequestRedirect: &tc.redirect}}, next)
			r := withLocalPort(newReq(http.MethodGet, tc.target, "gw.example:1234"), tc.listener)
			r.TLS = nil
			if tc.tls {
				r.TLS = &tls.ConnectionState{}
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, r)
			if next.called {
				t.Error("the redirect forwarded the request")
			}
			if rec.Code != tc.code || rec.Header().Get("Location") != tc.location {
				t.Errorf("%d %q, want %d %q", rec.Code, rec.Header().Get("Location"), tc.code, tc.location)
			}
		})
	}
}

// A Host that could move the Location elsewhere is refused, as redirectScheme does.
func TestRequestRedirectRefusesBadHost(t *testing.T) {
	h := Chain([]*snapshot.Middleware{{RequestRedirect: &snapshot.RequestRedirect{Scheme: "https"}}}, &capture{})
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, newReq(http.MethodGet, "/", "evil.example@good.example"))
	if rec.Code != http.StatusBadRequest || rec.Header().Get("Location") != "" {
		t.Errorf("%d Location %q, want 400 without Location", rec.Code, rec.Header().Get("Location"))
	}
}

// The path modifiers never panic, always give an absolute path, and keep RawPath
// consistent with Path (or drop it).
func FuzzPathModifier(f *testing.F) {
	f.Add("/foo/bar", "/foo", "/xyz", false)
	f.Add("/foo", "/foo/", "", false)
	f.Add("/a%2Fb/c", "/a", "/", false)
	f.Add("/", "/", "/x/", false)
	f.Add("/x", "", "/full", true)
	f.Fuzz(func(t *testing.T, target, prefix, replace string, full bool) {
		if !strings.HasPrefix(prefix, "/") || (replace != "" && !strings.HasPrefix(replace, "/")) {
			return // what Validate refuses
		}
		c := &snapshot.PathModifier{Type: snapshot.PathReplacePrefixMatch, MatchedPrefix: prefix, ReplacePrefixMatch: replace}
		if full {
			if replace == "" {
				return
			}
			c = &snapshot.PathModifier{Type: snapshot.PathReplaceFullPath, ReplaceFullPath: replace}
		}
		u, err := url.ParseRequestURI(target)
		if err != nil || !strings.HasPrefix(u.Path, "/") {
			return
		}
		compilePathModifier(c).rewritePath(u)
		if !strings.HasPrefix(u.Path, "/") {
			t.Fatalf("%q: path %q is not absolute", target, u.Path)
		}
		if u.RawPath != "" {
			if dec, err := url.PathUnescape(u.RawPath); err != nil || dec != u.Path {
				t.Fatalf("%q: RawPath %q does not spell Path %q", target, u.RawPath, u.Path)
			}
		}
	})
}

// BenchmarkGatewayFilters is the per-request cost of each filter on a browser-like request.
func BenchmarkGatewayFilters(b *testing.B) {
	for _, bc := range []struct {
		name string
		mw   *snapshot.Middleware
	}{
		{"requestHeaderModifier", &snapshot.Middleware{RequestHeaderModifier: &snapshot.HeaderModifier{
			Set: []snapshot.HeaderValue{hv("X-Set", "v")}, Add: []snapshot.HeaderValue{hv("X-Add", "v")}, Remove: []string{"X-Remove"}}}},
		{"responseHeaderModifier", &snapshot.Middleware{ResponseHeaderModifier: &snapshot.HeaderModifier{
			Set: []snapshot.HeaderValue{hv("X-Set", "v")}, Add: []snapshot.HeaderValue{hv("X-Add", "v")}, Remove: []string{"Server"}}}},
		{"urlRewrite", &snapshot.Middleware{URLRewrite: &snapshot.URLRewrite{Hostname: "backend.example",
			Path: &snapshot.PathModifier{Type: snapshot.PathReplacePrefixMatch, MatchedPrefix: "/api", ReplacePrefixMatch: "/v2"}}}},
		{"requestRedirect", &snapshot.Middleware{RequestRedirect: &snapshot.RequestRedirect{Scheme: "https", Hostname: "example.org"}}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			h := Chain([]*snapshot.Middleware{bc.mw}, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(200) }))
			w := &discardWriter{h: http.Header{}}
			r := newReq(http.MethodGet, "/api/items?page=2", "app.example")
			u := *r.URL
			b.ReportAllocs()
			for b.Loop() {
				*r.URL = u
				r.Header = http.Header{"X-Remove": {"x"}}
				clear(w.h)
				h.ServeHTTP(w, r)
			}
		})
	}
}
