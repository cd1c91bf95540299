package middleware

import (
	"crypto/tls"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/bridgehead/bridgehead/internal/snapshot"
)

func TestReplacePathRegex(t *testing.T) {
	tests := []struct {
		name              string
		regex, repl       string
		target            string
		wantCode          int
		wantPath, wantURI string
		wantReplaced      string // "" = header absent
	}{
		{"no match passes untouched", `^/api/(.*)`, `/v2/$1`, "/web/x", 200, "/web/x", "/web/x", ""},
		{"capture and query kept", `^/api/(.*)`, `/v2/$1`, "/api/users?x=1", 200, "/v2/users", "/v2/users?x=1", "/api/users"},
		{"named group", `^/u/(?P<id>[0-9]+)$`, `/users/${id}/profile`, "/u/42", 200, "/users/42/profile", "/users/42/profile", "/u/42"},
		{"every match replaced", `a`, `b`, "/aa/a", 200, "/bb/b", "/bb/b", "/aa/a"},
		{"escaped form matched and kept", `^/files/(.*)`, `/store/$1`, "/files/a%2Fb", 200, "/store/a/b", "/store/a%2Fb", "/files/a%2Fb"},
		{"leading slash added", `^/api/(.*)`, `$1`, "/api/x", 200, "/x", "/x", "/api/x"},
		{"dot segments refused", `^/api/(.*)`, `/a/../$1`, "/api/x", 400, "", "", ""},
		{"double slash refused", `^/api/(.*)`, `/a//$1`, "/api/x", 400, "", "", ""},
		{"broken escape is 500", `^/api/(.*)`, `/%zz/$1`, "/api/x", 500, "", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			next := &capture{}
			h := Chain([]*snapshot.Middleware{{ReplacePathRegex: &snapshot.ReplacePathRegex{Regex: tt.regex, Replacement: tt.repl}}}, next)
			r := newReq(http.MethodGet, tt.target, "example.com")
			r.Header.Set(xReplacedPath, "/client-sent")
			w := httptest.NewRecorder()
			h.ServeHTTP(w, r)
			if w.Code != tt.wantCode {
				t.Fatalf("status %d, want %d", w.Code, tt.wantCode)
			}
			if tt.wantCode != 200 {
				if next.called {
					t.Errorf("the backend was reached")
				}
				return
			}
			if next.path != tt.wantPath || next.requestURI != tt.wantURI {
				t.Errorf("path %q uri %q; want %q %q", next.path, next.requestURI, tt.wantPath, tt.wantURI)
			}
			want := tt.wantReplaced
			if want == "" {
				want = "/client-sent"
			}
			if got := next.header.Get(xReplacedPath); got != want {
				t.Errorf("X-Replaced-Path %q, want %q", got, want)
			}
		})
	}
}

func TestStripPrefixRegex(t *testing.T) {
	tests := []struct {
		name              string
		regex             []string
		target            string
		wantCode          int
		wantPath, wantURI string
		wantPrefix        string
	}{
		{"no match", []string{`/api/v[0-9]+`}, "/web/x", 200, "/web/x", "/web/x", ""},
		{"strip", []string{`/api/v[0-9]+`}, "/api/v12/users?x=1", 200, "/users", "/users?x=1", "/api/v12"},
		{"strip to root", []string{`/tenant/[a-z]+`}, "/tenant/acme", 200, "/", "/", "/tenant/acme"},
		{"leftmost match not at start is skipped", []string{`/v[0-9]+`}, "/x/v1/y", 200, "/x/v1/y", "/x/v1/y", ""},
		{"first matching regex wins", []string{`/nope`, `/a`, `/a/b`}, "/a/b/c", 200, "/b/c", "/b/c", "/a"},
		{"empty match skipped", []string{`x*`}, "/a", 200, "/a", "/a", ""},
		{"raw path kept escaped", []string{`/api`}, "/api/a%2Fb", 200, "/a/b", "/a%2Fb", "/api"},
		{"what is left must be normal", []string{`/api`}, "/api/./x", 400, "", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			next := &capture{}
			h := Chain([]*snapshot.Middleware{{StripPrefixRegex: &snapshot.StripPrefixRegex{Regex: tt.regex}}}, next)
			r := newReq(http.MethodGet, "/", "example.com")
			r.URL, _ = url.ParseRequestURI(tt.target)
			r.RequestURI = tt.target
			w := httptest.NewRecorder()
			h.ServeHTTP(w, r)
			if w.Code != tt.wantCode {
				t.Fatalf("status %d, want %d", w.Code, tt.wantCode)
			}
			if tt.wantCode != 200 {
				if next.called {
					t.Errorf("the backend was reached")
				}
				return
			}
			if next.path != tt.wantPath || next.requestURI != tt.wantURI {
				t.Errorf("path %q uri %q; want %q %q", next.path, next.requestURI, tt.wantPath, tt.wantURI)
			}
			if got := next.header.Get(xForwardedPrefix); got != tt.wantPrefix {
				t.Errorf("X-Forwarded-Prefix %q, want %q", got, tt.wantPrefix)
			}
		})
	}
}

// A stripped path that is not in normal form is refused, not forwarded.
func TestStripPrefixRegexRefusesDotSegments(t *testing.T) {
	next := &capture{}
	h := Chain([]*snapshot.Middleware{{StripPrefixRegex: &snapshot.StripPrefixRegex{Regex: []string{`/api`}}}}, next)
	r := newReq(http.MethodGet, "/", "example.com")
	r.URL = &url.URL{Path: "/api/../admin"}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	if w.Code != http.StatusBadRequest || next.called {
		t.Errorf("status %d, backend reached %v; want 400 and not reached", w.Code, next.called)
	}
}

func TestRedirectRegex(t *testing.T) {
	tests := []struct {
		name         string
		regex, repl  string
		permanent    bool
		method, host string
		target       string
		tls          bool
		wantCode     int
		wantLocation string
	}{
		{"host move, GET", `^https?://old\.example\.com/(.*)`, `https://new.example.com/${1}`, false, "GET", "old.example.com", "/a/b?x=1", false, 302, "https://new.example.com/a/b?x=1"},
		{"permanent GET", `^http://old\.example\.com/(.*)`, `https://new.example.com/${1}`, true, "GET", "old.example.com", "/a", false, 301, "https://new.example.com/a"},
		{"permanent POST", `^http://old\.example\.com/(.*)`, `https://new.example.com/${1}`, true, "POST", "old.example.com", "/a", false, 308, "https://new.example.com/a"},
		{"POST", `^http://old\.example\.com/(.*)`, `https://new.example.com/${1}`, false, "POST", "old.example.com", "/a", false, 307, "https://new.example.com/a"},
		{"HEAD is not GET, as in Traefik", `^http://old\.example\.com/(.*)`, `https://new.example.com/${1}`, false, "HEAD", "old.example.com", "/a", false, 307, "https://new.example.com/a"},
		{"scheme of the connection", `^https://a\.example/(.*)`, `https://b.example/$1`, false, "GET", "a.example", "/x", true, 302, "https://b.example/x"},
		{"no match", `^https://a\.example/(.*)`, `https://b.example/$1`, false, "GET", "a.example", "/x", false, 200, ""},
		{"same URL passes", `^(http://a\.example/.*)`, `$1`, false, "GET", "a.example", "/x", false, 200, ""},
		{"port kept in the match", `^http://a\.example:8000/(.*)`, `http://a.example/$1`, false, "GET", "a.example:8000", "/x", false, 302, "http://a.example/x"},
		{"hostile Host", `.*`, `https://b.example/`, false, "GET", "a.example/@evil", "/x", false, 400, ""},
		{"target that is not a URL", `^http://a\.example/(.*)`, `http://[::1/$1`, false, "GET", "a.example", "/x", false, 500, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			next := &capture{}
			h := Chain([]*snapshot.Middleware{{RedirectRegex: &snapshot.RedirectRegex{Regex: tt.regex, Replacement: tt.repl, Permanent: tt.permanent}}}, next)
			r := newReq(tt.method, tt.target, tt.host)
			if !tt.tls {
				r.TLS = nil
			} else if r.TLS == nil {
				r.TLS = &tls.ConnectionState{}
			}
			w := httptest.NewRecorder()
			h.ServeHTTP(w, r)
			if w.Code != tt.wantCode {
				t.Fatalf("status %d, want %d (Location %q)", w.Code, tt.wantCode, w.Header().Get("Location"))
			}
			if got := w.Header().Get("Location"); got != tt.wantLocation {
				t.Errorf("Location %q, want %q", got, tt.wantLocation)
			}
			if next.called != (tt.wantCode == 200) {
				t.Errorf("backend reached: %v", next.called)
			}
		})
	}
}

// FuzzRewritePath: whatever the regex, replacement and path, a rewrite either is refused
// (400/500) or yields an escaped, origin-form path in normal form that unescapes, and
// setting it keeps URL.Path and the escaped form in step.
func FuzzRewritePath(f *testing.F) {
	for _, s := range [][3]string{
		{`^/api/(.*)`, `/v2/$1`, "/api/users"},
		{`^/u/(?P<id>[0-9]+)$`, `/users/${id}`, "/u/42"},
		{`a`, `$$`, "/aaa"},
		{`(.*)`, `$1x`, "/x"},
		{`^/files/(.*)`, `/s/$1`, "/files/a%2Fb"},
		{`/`, `/../`, "/a/b"},
		{`(.)`, `%`, "/a"},
		{`^/(.*)$`, `${1}/`, "/a%20b"},
	} {
		f.Add(s[0], s[1], s[2])
	}
	f.Fuzz(func(t *testing.T, pattern, replacement, p string) {
		re, err := regexp.Compile(pattern)
		if err != nil || !strings.HasPrefix(p, "/") {
			return
		}
		escaped := (&url.URL{Path: p}).EscapedPath()
		out, code := rewritePath(re, escaped, replacement)
		switch code {
		case http.StatusBadRequest, http.StatusInternalServerError:
			return
		case http.StatusOK:
		default:
			t.Fatalf("code %d", code)
		}
		if !strings.HasPrefix(out, "/") {
			t.Fatalf("rewritten %q does not start with /", out)
		}
		decoded, err := url.PathUnescape(out)
		if err != nil || !normalPath(decoded) {
			t.Fatalf("rewritten %q: unescape %v, normal %v", out, err, normalPath(decoded))
		}
		u := &url.URL{}
		setEscapedPath(u, out)
		if u.Path != decoded {
			t.Fatalf("Path %q, want %q", u.Path, decoded)
		}
		if again, _ := url.PathUnescape(u.EscapedPath()); again != decoded {
			t.Fatalf("escaped form %q of %q does not read back", u.EscapedPath(), out)
		}
	})
}
