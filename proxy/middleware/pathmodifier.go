package middleware

import (
	"net/url"
	"strings"

	"github.com/bridgehead/bridgehead/internal/snapshot"
)

// pathModifier is a compiled Gateway API HTTPPathModifier.
type pathModifier struct {
	full bool
	// replacement is ReplaceFullPath, or ReplacePrefixMatch without its trailing '/'.
	replacement string
	// prefix is the matched PathPrefix without its trailing '/' ("" for "/").
	prefix string
}

func compilePathModifier(c *snapshot.PathModifier) *pathModifier {
	if c == nil {
		return nil
	}
	if c.Type == snapshot.PathReplaceFullPath {
		return &pathModifier{full: true, replacement: c.ReplaceFullPath}
	}
	return &pathModifier{
		replacement: strings.TrimSuffix(c.ReplacePrefixMatch, "/"),
		prefix:      strings.TrimSuffix(c.MatchedPrefix, "/"),
	}
}

// apply returns the modified (decoded) path. A path the prefix does not match by whole
// elements (the route matched it, so only a skewed translator could cause this) is
// returned unchanged rather than cut in the middle of an element.
func (m *pathModifier) apply(path string) string {
	if m.full {
		return m.replacement
	}
	rest, ok := strings.CutPrefix(path, m.prefix)
	if !ok || (rest != "" && rest[0] != '/') {
		return path
	}
	if m.prefix == "" && rest == "/" {
		// The prefix "/" matched the path "/": nothing of it is left to keep.
		rest = ""
	}
	if p := m.replacement + rest; p != "" {
		return p
	}
	return "/"
}

// rewritePath sets u's path to the modified one. The client's escaping (RawPath) is kept
// for the part after the prefix when it spells the same bytes; otherwise the path is
// re-escaped from its decoded form.
func (m *pathModifier) rewritePath(u *url.URL) {
	newPath := m.apply(u.Path)
	raw := ""
	if u.RawPath != "" && !m.full {
		if n := rawPrefixLen(u.RawPath, m.prefix); n >= 0 {
			candidate := u.RawPath[n:]
			if m.prefix == "" && candidate == "/" {
				candidate = ""
			}
			candidate = (&url.URL{Path: m.replacement}).EscapedPath() + candidate
			if dec, err := url.PathUnescape(candidate); err == nil && dec == newPath {
				raw = candidate
			}
		}
	}
	u.Path, u.RawPath, u.Opaque = newPath, raw, ""
	if raw != "" && (&url.URL{Path: newPath}).EscapedPath() == raw {
		u.RawPath = "" // the default escaping says the same
	}
}
