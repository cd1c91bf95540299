package middleware

import (
	"net/http"
	"net/url"
	"path"
	"regexp"
	"strings"

	"github.com/bridgehead/bridgehead/internal/snapshot"
)

var (
	badPathBody     = []byte("Bad Request: the rewritten path is not in normal form\n")
	badRewriteBody  = []byte("Internal Server Error: the rewritten path has a broken escape\n")
	badRedirectBody = []byte("Internal Server Error: the redirect target is not a URL\n")
)

// compileAll compiles what translate has compiled already; one that fails here (a
// version skew) makes the middleware answer 500 rather than pass requests unrewritten.
func compileAll(patterns ...string) ([]*regexp.Regexp, bool) {
	out := make([]*regexp.Regexp, 0, len(patterns))
	for _, p := range patterns {
		re, err := regexp.Compile(p)
		if err != nil {
			return nil, false
		}
		out = append(out, re)
	}
	return out, true
}

type broken struct{}

var brokenBody = []byte("Internal Server Error: a middleware of this route cannot run\n")

func (broken) ServeHTTP(w http.ResponseWriter, _ *http.Request) {
	writeText(w, http.StatusInternalServerError, brokenBody)
}

type replacePathRegex struct {
	next        http.Handler
	re          *regexp.Regexp
	replacement string
}

func newReplacePathRegex(c *snapshot.ReplacePathRegex, next http.Handler) http.Handler {
	res, ok := compileAll(c.Regex)
	if !ok {
		return broken{}
	}
	return &replacePathRegex{next: next, re: res[0], replacement: c.Replacement}
}

// ServeHTTP matches the path in its escaped form, as the client sent it (as Traefik
// does), and replaces every match. The path asked for goes to the backend in
// X-Replaced-Path (set, not added: a client cannot supply it).
func (m *replacePathRegex) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	u := r.URL
	current := u.EscapedPath()
	if !m.re.MatchString(current) {
		m.next.ServeHTTP(w, r)
		return
	}
	rewritten, status := rewritePath(m.re, current, m.replacement)
	switch status {
	case http.StatusInternalServerError:
		writeText(w, status, badRewriteBody)
		return
	case http.StatusBadRequest:
		writeText(w, status, badPathBody)
		return
	}
	if r.Header == nil {
		r.Header = make(http.Header)
	}
	r.Header[xReplacedPath] = []string{current}
	setEscapedPath(u, rewritten)
	r.RequestURI = u.RequestURI()
	m.next.ServeHTTP(w, r)
}

// rewritePath replaces every match of re in the escaped path p and returns the new
// escaped path with 200, or 500 when the replacement leaves a broken escape (as
// Traefik answers), or 400 when the new path is not in normal form: a replacement that
// brings in //, /./ or /../ would reach a backend that reads it as another path than
// the one the routes were matched on (Traefik refuses the same). A path without a
// leading slash gets one, so that what is forwarded is always an origin-form path.
func rewritePath(re *regexp.Regexp, p, replacement string) (string, int) {
	out := ensureSlash(re.ReplaceAllString(p, replacement))
	decoded, err := url.PathUnescape(out)
	if err != nil {
		return "", http.StatusInternalServerError
	}
	if !normalPath(decoded) {
		return "", http.StatusBadRequest
	}
	return out, http.StatusOK
}

// setEscapedPath sets u's path from its escaped form (already checked to unescape).
func setEscapedPath(u *url.URL, escaped string) {
	decoded, _ := url.PathUnescape(escaped)
	u.Path, u.RawPath, u.Opaque = decoded, "", ""
	if u.EscapedPath() != escaped {
		u.RawPath = escaped // keep the replacement's own escaping, say %2F
	}
}

// normalPath reports whether p (decoded, starting with /) is what cleaning it gives:
// no empty, . or .. segment, except that a trailing slash is kept.
func normalPath(p string) bool {
	c := path.Clean(p)
	if strings.HasSuffix(p, "/") && c != "/" {
		c += "/"
	}
	return c == p
}

type stripPrefixRegex struct {
	next http.Handler
	res  []*regexp.Regexp
}

func newStripPrefixRegex(c *snapshot.StripPrefixRegex, next http.Handler) http.Handler {
	res, ok := compileAll(c.Regex...)
	if !ok {
		return broken{}
	}
	if len(res) == 0 {
		return next
	}
	return &stripPrefixRegex{next: next, res: res}
}

// ServeHTTP strips, as Traefik does, the text of the first regex's leftmost match on
// the decoded path when the path starts with that text; the stripped prefix goes to the
// backend in X-Forwarded-Prefix (set, not added).
func (m *stripPrefixRegex) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	u := r.URL
	for _, re := range m.res {
		prefix, ok := strippable(re, u.Path)
		if !ok {
			continue
		}
		rest := ensureSlash(u.Path[len(prefix):])
		if !normalPath(rest) {
			writeText(w, http.StatusBadRequest, badPathBody)
			return
		}
		if u.RawPath != "" {
			if n := rawPrefixLen(u.RawPath, prefix); n >= 0 {
				u.RawPath = ensureSlash(u.RawPath[n:])
			} else {
				u.RawPath = ""
			}
		}
		u.Path = rest
		if r.Header == nil {
			r.Header = make(http.Header)
		}
		r.Header[xForwardedPrefix] = []string{prefix}
		r.RequestURI = u.RequestURI()
		break
	}
	m.next.ServeHTTP(w, r)
}

// strippable returns the text of re's leftmost match in p when it is non-empty and p
// starts with it.
func strippable(re *regexp.Regexp, p string) (string, bool) {
	loc := re.FindStringIndex(p)
	if loc == nil || loc[1] == loc[0] {
		return "", false
	}
	prefix := p[loc[0]:loc[1]]
	return prefix, strings.HasPrefix(p, prefix)
}
