package pathnorm

import (
	"net/url"
	"strings"
	"testing"
)

func TestNormalize(t *testing.T) {
	for in, want := range map[string]string{
		// RFC 3986 5.4 resolutions of their dot segments, on absolute paths.
		"/a/b/c/./../../g":    "/a/g",
		"/mid/content=5/../6": "/mid/6",
		"/b/c/.":              "/b/c/",
		"/b/c/./":             "/b/c/",
		"/b/c/..":             "/b/",
		"/b/c/../":            "/b/",
		"/b/c/../g":           "/b/g",
		"/b/c/../../g":        "/g",
		"/b/c/../../../g":     "/g", // never above the root
		"/public/../admin":    "/admin",
		"/..":                 "/",
		"/.":                  "/",
		// Encoded dots are dots (unreserved), in any case.
		"/public/%2e%2e/admin": "/admin",
		"/public/%2E%2e/%2E/a": "/a",
		"/public/.%2e/admin/":  "/admin/",
		"/a/%2e%2e%2e":         "/a/...",
		// Repeated slashes are one.
		"//admin/x":       "/admin/x",
		"/admin//x///y//": "/admin/x/y/",
		"//":              "/",
		"///..//.//a":     "/a",
		// Escapes: unreserved ones decoded, the others upper-cased, raw bytes a path may
		// not hold escaped.
		"/%61dmin":             "/admin",
		"/%7euser/%2D%5f":      "/~user/-_",
		"/a%3fb%23c%25d%20e":   "/a%3Fb%23c%25d%20e",
		"/a%c3%A9":             "/a%C3%A9",
		"/caf\xc3\xa9":         "/caf%C3%A9",
		"/a\"b<c>{d}|^`[e]#f ": "/a%22b%3Cc%3E%7Bd%7D%7C%5E%60%5Be%5D%23f%20",
		"/a!$&'()*+,=:@b":      "/a!$&'()*+,=:@b",
		// Kept as they are.
		"/":                             "/",
		"/a/b/":                         "/a/b/",
		"/.well-known/acme-challenge/x": "/.well-known/acme-challenge/x",
		"/a.b/.c/..d/...":               "/a.b/.c/..d/...",
		"/a%20b%C3%A9":                  "/a%20b%C3%A9",
		"":                              "",
		"*":                             "*",
		"a/../b":                        "a/../b", // not a request path: left alone
	} {
		got, reason := Normalize(in, Options{})
		if reason != "" || got != want {
			t.Errorf("Normalize(%q) = %q, %q; want %q", in, got, reason, want)
		}
	}
}

func TestNormalizeRefuses(t *testing.T) {
	for in, want := range map[string]Reason{
		"/public%2F..%2Fadmin": EncodedSlash,
		"/a%2fb":               EncodedSlash,
		"/public\\..\\admin":   Backslash,
		"/a%5cb":               Backslash,
		"/a%5Cb":               Backslash,
		"/public/..;/admin":    Parameters,
		"/admin;x/secret":      Parameters,
		"/app;jsessionid=1":    Parameters,
		"/a%3bb":               Parameters,
		"/a%00":                Null,
		"/a\x00":               Null,
		"/a%zz":                InvalidEscape,
		"/a%2":                 InvalidEscape,
		"/a%":                  InvalidEscape,
	} {
		if got, reason := Normalize(in, Options{}); reason != want {
			t.Errorf("Normalize(%q) = %q, %q; want refused with %q", in, got, reason, want)
		}
	}
}

func TestNormalizeOptions(t *testing.T) {
	all := Options{AllowEncodedSlash: true, AllowBackslash: true, AllowParameters: true}
	for in, want := range map[string]struct {
		out    string
		reason Reason
	}{
		// Allowed, they are data: never a separator, one spelling.
		"/public/..%2fadmin":   {out: "/public/..%2Fadmin"},
		"/a%2F..%2F/../b":      {out: "/b"},
		"/public\\..\\admin":   {out: "/public%5C..%5Cadmin"},
		"/a%5c":                {out: "/a%5C"},
		"/app;jsessionid=1/x":  {out: "/app;jsessionid=1/x"},
		"/admin;x/secret":      {out: "/admin;x/secret"},
		"/a%3bb":               {out: "/a%3Bb"},
		"/a;b/../c":            {out: "/c"},
		"//a;b//c":             {out: "/a;b/c"},
		"/a%3B/..":             {out: "/"},
		"/..%3B/a":             {out: "/..%3B/a"}, // encoded: not a parameter to anyone
		"/a/%2e%2e%3bx/b":      {out: "/a/..%3Bx/b"},
		"/public/..;/admin":    {reason: AmbiguousParameters},
		"/public/%2e%2e;/adm":  {reason: AmbiguousParameters},
		"/public/.;x/admin":    {reason: AmbiguousParameters},
		"/;x/admin":            {reason: AmbiguousParameters},
		"/a/;":                 {reason: AmbiguousParameters},
		"/a%00":                {reason: Null},
		"/x;y/%2e%2e;z/../../": {reason: AmbiguousParameters},
	} {
		got, reason := Normalize(in, all)
		if got != want.out || reason != want.reason {
			t.Errorf("Normalize(%q) with everything allowed = %q, %q; want %q, %q", in, got, reason, want.out, want.reason)
		}
	}
}

// Apply leaves the URL so that what Go sends upstream (EscapedPath) is the normal form,
// and what rules match (Path) is its decoding.
func TestApply(t *testing.T) {
	for target, want := range map[string]struct {
		path, escaped string
		reason        Reason
	}{
		"/api/v1?x=%2F..//":      {path: "/api/v1", escaped: "/api/v1"},
		"//admin/x?q=//a/../b":   {path: "/admin/x", escaped: "/admin/x"},
		"/public/%2e%2e/admin":   {path: "/admin", escaped: "/admin"},
		"/a%20b/%c3%a9/%7e":      {path: "/a b/é/~", escaped: "/a%20b/%C3%A9/~"},
		"/a\"b":                  {path: "/a\"b", escaped: "/a%22b"},
		"/a%25%2e%2e/../b%3F":    {path: "/b?", escaped: "/b%3F"},
		"http://h//admin/./x?y=": {path: "/admin/x", escaped: "/admin/x"},
		"*":                      {path: "*", escaped: "*"},
		"/a%2Fb":                 {reason: EncodedSlash},
		"/a\\b":                  {reason: Backslash},
		"/a;b":                   {reason: Parameters},
		"http:admin":             {reason: NotAPath},
	} {
		u, err := url.ParseRequestURI(target)
		if err != nil {
			t.Fatalf("%q: %v", target, err)
		}
		query := u.RawQuery
		if reason := (Options{}).Apply(u); reason != want.reason {
			t.Errorf("Apply(%q) refused with %q, want %q", target, reason, want.reason)
			continue
		}
		if want.reason != "" {
			continue
		}
		if u.Path != want.path || u.EscapedPath() != want.escaped || u.RawQuery != query {
			t.Errorf("Apply(%q): Path %q, sent as %q, query %q; want %q, %q, %q", target, u.Path, u.EscapedPath(), u.RawQuery, want.path, want.escaped, query)
		}
	}
}

func TestApplyDoesNotAllocateWhenThereIsNothingToDo(t *testing.T) {
	for _, target := range []string{"/api/v1/.well-known/users", "/", "/static/app.9f3c.js?v=1", "/a%20b/c", "/users/%C3%A9t%C3%A9"} {
		u, err := url.ParseRequestURI(target)
		if err != nil {
			t.Fatal(err)
		}
		if n := testing.AllocsPerRun(100, func() { _ = (Options{}).Apply(u) }); n != 0 {
			t.Errorf("Apply(%q): %v allocations", target, n)
		}
	}
	u, _ := url.ParseRequestURI("/a;b/c")
	if n := testing.AllocsPerRun(100, func() { _ = (Options{AllowParameters: true}).Apply(u) }); n != 0 {
		t.Errorf("Apply(/a;b/c) with parameters allowed: %v allocations", n)
	}
}

// BenchmarkApply is what ServeHTTP pays per request. Before this package normalized more
// than dot segments, pathnorm.Clean cost 10-12 ns and 0 allocations for the first two,
// 400-500 ns and 4 allocations (144 B) for the third.
func BenchmarkApply(b *testing.B) {
	for _, target := range []string{"/api/v1/users/42", "/static/app.9f3c.js", "/public/../admin/x", "//admin/x"} {
		b.Run(target, func(b *testing.B) {
			u, err := url.ParseRequestURI(target)
			if err != nil {
				b.Fatal(err)
			}
			path, raw := u.Path, u.RawPath
			b.ReportAllocs()
			for b.Loop() {
				u.Path, u.RawPath = path, raw
				_ = (Options{}).Apply(u)
			}
		})
	}
}

// FuzzNormalize checks the properties every output must have, under every combination of
// options (the second argument's low three bits). Seeds for the attacks the package
// documentation lists are in testdata/fuzz/FuzzNormalize.
func FuzzNormalize(f *testing.F) {
	for _, s := range []string{"/a/b/c/./../../g", "/public/../admin", "/.well-known/x", "/a//b/..", "/../..", "a/./b", "..//0"} {
		f.Add(s, uint8(0))
	}
	f.Fuzz(func(t *testing.T, p string, flags uint8) {
		o := Options{AllowEncodedSlash: flags&1 != 0, AllowBackslash: flags&2 != 0, AllowParameters: flags&4 != 0}
		got, reason := Normalize(p, o)
		if !strings.HasPrefix(p, "/") {
			if got != p || reason != "" {
				t.Fatalf("Normalize(%q) = %q, %q changed what is not an absolute path", p, got, reason)
			}
			return
		}
		if u, err := url.ParseRequestURI(p); err == nil && u.RawPath == "" && strings.HasPrefix(u.Path, "/") && goEscapingIsNormal(u.Path, o) {
			if e := u.EscapedPath(); !sameAsNormal(e, o) {
				t.Fatalf("%q: the fast path on Path %q keeps %q, which is not in normal form", p, u.Path, e)
			}
		}
		if fast := normalized(p, o); fast {
			if slow, r := normalize(p, o); slow != p || r != "" {
				t.Fatalf("the fast path keeps %q, normalize gives %q, %q", p, slow, r)
			}
		}
		if reason != "" {
			checkRefusal(t, p, reason, o)
			return
		}
		checkNormalForm(t, p, got, o)
		if again, r := Normalize(got, o); again != got || r != "" {
			t.Fatalf("not idempotent: %q -> %q -> %q, %q", p, got, again, r)
		}
		in, ok := resource(p)
		if !ok {
			t.Fatalf("Normalize(%q) accepted an invalid escape", p)
		}
		if out, _ := resource(got); out != in {
			t.Fatalf("Normalize(%q) = %q names another resource: %q, not %q", p, got, out, in)
		}
		// Through a URL as the server parses it, the backend receives exactly got.
		if u, err := url.ParseRequestURI(p); err == nil && u.Opaque == "" && !strings.Contains(p, "?") {
			if r := o.Apply(u); r != "" || u.EscapedPath() != got {
				t.Fatalf("Apply(%q): %q sent as %q, want %q", p, r, u.EscapedPath(), got)
			}
		}
	})
}

func sameAsNormal(p string, o Options) bool {
	got, reason := Normalize(p, o)
	return got == p && reason == ""
}

// checkNormalForm: absolute, no empty or dot segment except a trailing slash, escapes
// only of what must be escaped and in upper case, no byte that needs escaping.
func checkNormalForm(t *testing.T, in, p string, o Options) {
	t.Helper()
	if !strings.HasPrefix(p, "/") || strings.Contains(p, "//") {
		t.Fatalf("Normalize(%q) = %q: not absolute, or a repeated slash", in, p)
	}
	for seg := range strings.SplitSeq(p[1:], "/") {
		if isDots(seg) {
			t.Fatalf("Normalize(%q) = %q still has a dot segment", in, p)
		}
	}
	for i := 0; i < len(p); i++ {
		c := p[i]
		switch {
		case c == '%':
			v, ok := upperHexByte(p[i+1], p[i+2])
			if !ok || class[v]&unreserved != 0 || refused(v, o) != "" {
				t.Fatalf("Normalize(%q) = %q has the escape %s", in, p, p[i:i+3])
			}
			i += 2
		case c == '/', class[c]&literal != 0, c == ';' && o.AllowParameters:
		default:
			t.Fatalf("Normalize(%q) = %q has the byte %q unescaped", in, p, c)
		}
	}
}

// checkRefusal: a path is refused only for what it holds.
func checkRefusal(t *testing.T, p string, reason Reason, o Options) {
	t.Helper()
	lower := strings.ToLower(p)
	var holds bool
	switch reason {
	case EncodedSlash:
		holds = !o.AllowEncodedSlash && strings.Contains(lower, "%2f")
	case Backslash:
		holds = !o.AllowBackslash && (strings.Contains(lower, "%5c") || strings.Contains(p, "\\"))
	case Parameters:
		holds = !o.AllowParameters && (strings.Contains(lower, "%3b") || strings.Contains(p, ";"))
	case AmbiguousParameters:
		holds = o.AllowParameters && strings.Contains(p, ";")
	case Null:
		holds = strings.Contains(p, "%00") || strings.Contains(p, "\x00")
	case InvalidEscape:
		_, valid := resource(p)
		holds = !valid
	}
	if !holds {
		t.Fatalf("Normalize(%q) refused with %q, which it does not hold", p, reason)
	}
}

// resource is the RFC 3986 reading of an absolute path, written independently of the
// code under test: segments split at '/' and percent-decoded, then "", "." and ".."
// resolved (5.2.4, plus the merging of repeated slashes), a trailing slash kept. Decoded
// segments are quoted so that an encoded '/' stays inside its segment.
func resource(p string) (string, bool) {
	var segs []string
	raw := strings.Split(p[1:], "/")
	for i, s := range raw {
		d, err := url.PathUnescape(s)
		if err != nil {
			return "", false
		}
		last := i == len(raw)-1
		switch d {
		case "", ".":
		case "..":
			if len(segs) > 0 {
				segs = segs[:len(segs)-1]
			}
		default:
			segs = append(segs, d)
			continue
		}
		if last {
			segs = append(segs, "") // the trailing slash
		}
	}
	var b strings.Builder
	for _, s := range segs {
		b.WriteString("/" + url.PathEscape(s))
	}
	if len(segs) == 0 {
		return "/", true
	}
	return b.String(), true
}
