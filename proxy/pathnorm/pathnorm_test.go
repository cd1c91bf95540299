package pathnorm

import (
	"strings"
	"testing"
)

func TestClean(t *testing.T) {
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
		// Kept as they are: no dot segment.
		"/":                             "/",
		"/a//b/":                        "/a//b/",
		"/.well-known/acme-challenge/x": "/.well-known/acme-challenge/x",
		"/a.b/.c/..d/...":               "/a.b/.c/..d/...",
		"":                              "",
		"*":                             "*",
		"a/../b":                        "a/../b", // not a request path: left alone
	} {
		if got := Clean(in); got != want {
			t.Errorf("Clean(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestCleanDoesNotAllocateWithoutDotSegments(t *testing.T) {
	if n := testing.AllocsPerRun(100, func() { _ = Clean("/api/v1/.well-known/users") }); n != 0 {
		t.Fatalf("%v allocations", n)
	}
}

func FuzzClean(f *testing.F) {
	for _, s := range []string{"/a/b/c/./../../g", "/public/../admin", "/.well-known/x", "/a//b/..", "..", "/../..", "a/./b", "..//0"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, p string) {
		got := Clean(p)
		if strings.HasPrefix(p, "/") && hasDotSegment(got) {
			t.Fatalf("Clean(%q) = %q still has a dot segment", p, got)
		}
		if Clean(got) != got {
			t.Fatalf("Clean is not idempotent on %q: %q then %q", p, got, Clean(got))
		}
		if !strings.HasPrefix(p, "/") && got != p {
			t.Fatalf("Clean(%q) = %q changed what is not an absolute path", p, got)
		}
		if strings.HasPrefix(p, "/") && !strings.HasPrefix(got, "/") {
			t.Fatalf("Clean(%q) = %q is not absolute", p, got)
		}
	})
}
