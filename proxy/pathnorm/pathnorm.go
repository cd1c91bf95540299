// Package pathnorm removes dot segments ("." and "..") from request paths before they
// are routed, as RFC 3986 section 5.2.4 resolves them.
//
// Without it, GET /public/../admin matches PathPrefix(`/public`) and reaches that route's
// backend, which may resolve the path to /admin and serve what another route guards with
// mTLS or an IP allow list (CVE-2025-32431 was this in Traefik). Go's HTTP server leaves
// dot segments in place, and decodes %2e to '.', so /public/%2e%2e/admin is the same
// request. The path routed is the path forwarded: a backend never sees a dot segment.
package pathnorm

import "strings"

// Clean returns the absolute path p without dot segments; p itself (no allocation) when
// it has none or is not absolute (a request path always is, but "*" and CONNECT's
// authority are not paths). Unlike path.Clean it keeps repeated and trailing slashes:
// only dot segments go.
func Clean(p string) string {
	if !strings.HasPrefix(p, "/") || !strings.Contains(p, "/.") {
		return p
	}
	if !hasDotSegment(p) {
		return p // "/.well-known/", "/a.b/.c": dots, but no dot segment
	}
	return removeDotSegments(p)
}

func hasDotSegment(p string) bool {
	for seg := range strings.SplitSeq(p, "/") {
		if seg == "." || seg == ".." {
			return true
		}
	}
	return false
}

// removeDotSegments is RFC 3986 5.2.4 on an absolute path: the output is built segment by
// segment, "." dropped, ".." removing the last output segment (never above the root).
func removeDotSegments(p string) string {
	segs := strings.Split(p[1:], "/")
	out := make([]string, 0, len(segs))
	for i, seg := range segs {
		last := i == len(segs)-1
		switch seg {
		case ".":
			if last {
				out = append(out, "") // "/a/." is "/a/"
			}
		case "..":
			if len(out) > 0 {
				out = out[:len(out)-1]
			}
			if last {
				out = append(out, "") // "/a/b/.." is "/a/"
			}
		default:
			out = append(out, seg)
		}
	}
	return "/" + strings.Join(out, "/")
}
