package middleware

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/bridgehead/bridgehead/internal/snapshot"
)

const xForwardedPrefix = "X-Forwarded-Prefix"

type stripPrefix struct {
	next     http.Handler
	prefixes []string
	// values[i] is the X-Forwarded-Prefix value for prefixes[i], built once and shared
	// (read-only, len == cap) instead of allocated per request.
	values [][]string
}

func newStripPrefix(c *snapshot.StripPrefix, next http.Handler) http.Handler {
	m := &stripPrefix{next: next}
	for _, p := range c.Prefixes {
		if p == "" {
			continue // would match everything and strip nothing
		}
		m.prefixes = append(m.prefixes, p)
		m.values = append(m.values, []string{p})
	}
	if len(m.prefixes) == 0 {
		return next
	}
	return m
}

// ServeHTTP strips the first listed prefix that the path starts with, as Traefik does: a
// plain string prefix on the decoded path, so /api also strips /apiv2 to /v2.
func (m *stripPrefix) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	u := r.URL
	for i, p := range m.prefixes {
		if !strings.HasPrefix(u.Path, p) {
			continue
		}
		if u.RawPath != "" {
			// RawPath keeps the client's escaping (say %2F); cut the bytes that spell the
			// prefix there too, or drop RawPath so the path is re-escaped from Path.
			if n := rawPrefixLen(u.RawPath, p); n >= 0 {
				u.RawPath = ensureSlash(u.RawPath[n:])
			} else {
				u.RawPath = ""
			}
		}
		u.Path = ensureSlash(u.Path[len(p):])
		if r.Header == nil {
			r.Header = make(http.Header)
		}
		// Set, not add: a client-sent X-Forwarded-Prefix would otherwise reach backends
		// that build their links from it.
		r.Header[xForwardedPrefix] = m.values[i]
		// Later handlers (logs, the proxy) must see the path they will forward.
		r.RequestURI = u.RequestURI()
		break
	}
	m.next.ServeHTTP(w, r)
}

// rawPrefixLen returns how many bytes at the start of the escaped path raw spell the
// decoded prefix p, or -1 when raw does not start with p.
func rawPrefixLen(raw, p string) int {
	i := 0
	for j := 0; j < len(p); j++ {
		if i >= len(raw) {
			return -1
		}
		c := raw[i]
		if c == '%' {
			if i+2 >= len(raw) {
				return -1
			}
			hi, ok1 := unhex(raw[i+1])
			lo, ok2 := unhex(raw[i+2])
			if !ok1 || !ok2 || hi<<4|lo != p[j] {
				return -1
			}
			i += 3
			continue
		}
		if c != p[j] {
			return -1
		}
		i++
	}
	return i
}

func unhex(c byte) (byte, bool) {
	switch {
	case '0' <= c && c <= '9':
		return c - '0', true
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10, true
	case 'A' <= c && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

// ensureSlash keeps the forwarded path absolute: stripping /api from /api leaves "" and
// from /apiv2 leaves "v2", and neither is a valid origin-form path.
func ensureSlash(p string) string {
	if p == "" {
		return "/"
	}
	if p[0] != '/' {
		return "/" + p
	}
	return p
}

type addPrefix struct {
	next   http.Handler
	prefix string
	// rawPrefix is prefix escaped for RawPath, computed once.
	rawPrefix string
}

func newAddPrefix(c *snapshot.AddPrefix, next http.Handler) http.Handler {
	if c.Prefix == "" {
		return next
	}
	return &addPrefix{next: next, prefix: c.Prefix, rawPrefix: (&url.URL{Path: c.Prefix}).EscapedPath()}
}

func (m *addPrefix) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	u := r.URL
	if u.RawPath != "" {
		u.RawPath = ensureSlash(m.rawPrefix + u.RawPath)
	}
	u.Path = ensureSlash(m.prefix + u.Path)
	r.RequestURI = u.RequestURI()
	m.next.ServeHTTP(w, r)
}

const xReplacedPath = "X-Replaced-Path"

type replacePath struct {
	next http.Handler
	// path and rawPath are the configured path decoded and as written: like Traefik, we
	// read the configured path in its escaped form, so /a%20b reaches the backend as
	// /a%20b and not /a%2520b.
	path, rawPath string
	requestURI    string
}

func newReplacePath(c *snapshot.ReplacePath, next http.Handler) http.Handler {
	if c.Path == "" {
		return next
	}
	m := &replacePath{next: next, path: c.Path}
	// translate refuses a path with a broken escape; if one slips through it is sent as
	// literal text rather than guessed at.
	if p, err := url.PathUnescape(c.Path); err == nil {
		m.path = p
		if (&url.URL{Path: p}).EscapedPath() != c.Path {
			m.rawPath = c.Path // RawPath only when the default escaping would differ
		}
	}
	m.requestURI = (&url.URL{Path: m.path, RawPath: m.rawPath}).EscapedPath()
	return m
}

// ServeHTTP replaces the path and keeps the query; the backend can read the path the
// client asked for in X-Replaced-Path (set, not added: a client cannot supply it).
func (m *replacePath) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Header == nil {
		r.Header = make(http.Header)
	}
	u := r.URL
	r.Header[xReplacedPath] = []string{u.EscapedPath()}
	// Opaque (the target "http:x", which the router refuses before we run) would win
	// over Path when the URL is written out: the replacement replaces it too.
	u.Path, u.RawPath, u.Opaque = m.path, m.rawPath, ""
	// Later handlers (logs, the proxy) must see the path they will forward.
	if u.RawQuery != "" || u.ForceQuery {
		r.RequestURI = m.requestURI + "?" + u.RawQuery
	} else {
		r.RequestURI = m.requestURI
	}
	m.next.ServeHTTP(w, r)
}
