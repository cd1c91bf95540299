package rule

import (
	"net/http"
	"net/netip"
	"net/url"
	"slices"
	"strings"
)

type op uint8

const (
	opLeaf op = iota
	opAnd
	opOr
	opNot
)

// node is the compiled tree. And and Or are n-ary (chains are flattened at parse time),
// which keeps the tree shallow and the canonical text stable.
type node struct {
	op   op
	kids []*node
	m    *matcher
}

// httpCtx is computed once per request so that several host matchers in one rule share
// the normalisation work.
type httpCtx struct {
	req      *http.Request
	host     string
	path     string
	rawQuery string
	ip       netip.Addr
}

type tcpCtx struct {
	sni  string
	alpn []string
	ip   netip.Addr
}

func (n *node) evalHTTP(c *httpCtx) bool {
	switch n.op {
	case opAnd:
		for _, k := range n.kids {
			if !k.evalHTTP(c) {
				return false
			}
		}
		return true
	case opOr:
		for _, k := range n.kids {
			if k.evalHTTP(c) {
				return true
			}
		}
		return false
	case opNot:
		return !n.kids[0].evalHTTP(c)
	}
	m := n.m
	switch m.kind {
	case mHost:
		return c.host == m.a
	case mHostWildcard:
		return wildcardMatch(c.host, m.a)
	case mHostRegexp:
		return m.re.MatchString(c.host)
	case mPath:
		return c.path == m.a
	case mPathPrefix:
		return strings.HasPrefix(c.path, m.a)
	case mPathRegexp:
		return m.re.MatchString(c.path)
	case mHeader:
		for _, v := range c.req.Header[m.a] {
			if v == m.b {
				return true
			}
		}
		return false
	case mHeaderRegexp:
		for _, v := range c.req.Header[m.a] {
			if m.re.MatchString(v) {
				return true
			}
		}
		return false
	case mQuery, mQueryPresent, mQueryRegexp:
		return m.matchQuery(c.rawQuery)
	case mMethod:
		return strings.EqualFold(c.req.Method, m.a)
	case mClientIP:
		return m.prefix.Contains(c.ip)
	}
	return false
}

func (n *node) evalTCP(c *tcpCtx) bool {
	switch n.op {
	case opAnd:
		for _, k := range n.kids {
			if !k.evalTCP(c) {
				return false
			}
		}
		return true
	case opOr:
		for _, k := range n.kids {
			if k.evalTCP(c) {
				return true
			}
		}
		return false
	case opNot:
		return !n.kids[0].evalTCP(c)
	}
	m := n.m
	switch m.kind {
	case mHostSNIAny:
		return true
	case mHostSNI:
		return c.sni == m.a
	case mHostSNIWildcard:
		return wildcardMatch(c.sni, m.a)
	case mHostSNIRegexp:
		return m.re.MatchString(c.sni)
	case mALPN:
		for _, p := range c.alpn {
			if p == m.a {
				return true
			}
		}
		return false
	case mClientIP:
		return m.prefix.Contains(c.ip)
	}
	return false
}

// uses reports whether any leaf is one of kinds, so that evaluation can skip
// normalising inputs no matcher reads.
func (n *node) uses(kinds ...mkind) bool {
	if n.op == opLeaf {
		return slices.Contains(kinds, n.m.kind)
	}
	for _, k := range n.kids {
		if k.uses(kinds...) {
			return true
		}
	}
	return false
}

// wildcardMatch reports whether host is exactly one non-empty label followed by
// "." + suffix, the TLS certificate meaning of "*.suffix".
func wildcardMatch(host, suffix string) bool {
	n := len(host) - len(suffix) - 1
	if n <= 0 || host[n] != '.' || host[n+1:] != suffix {
		return false
	}
	return strings.IndexByte(host[:n], '.') < 0
}

// canonHost strips the port (and IPv6 brackets), one trailing dot, and lower-cases.
// Every step slices the input, so only a host that has upper-case letters allocates.
func canonHost(h string) string {
	if len(h) > 0 && h[0] == '[' {
		if i := strings.IndexByte(h, ']'); i > 0 {
			h = h[1:i]
		}
	} else if i := strings.LastIndexByte(h, ':'); i >= 0 && strings.IndexByte(h[:i], ':') < 0 {
		// More than one colon without brackets is a bare IPv6 address, not host:port.
		h = h[:i]
	}
	return lowerASCII(trimDot(h))
}

func trimDot(h string) string {
	if n := len(h); n > 0 && h[n-1] == '.' {
		return h[:n-1]
	}
	return h
}

// lowerASCII lower-cases ASCII letters only: host names are compared in their ASCII
// (punycode) form, and strings.ToLower's Unicode folding could make two different raw
// hosts compare equal.
func lowerASCII(s string) string {
	for i := 0; i < len(s); i++ {
		if s[i]-'A' < 26 {
			b := []byte(s)
			for ; i < len(b); i++ {
				if b[i]-'A' < 26 {
					b[i] += 'a' - 'A'
				}
			}
			return string(b)
		}
	}
	return s
}

// matchQuery walks the raw query string instead of calling URL.Query, which would
// allocate a map per request. It follows url.ParseQuery: pairs split on &, pairs holding
// a ; or a malformed escape are ignored, + decodes to a space.
func (m *matcher) matchQuery(raw string) bool {
	for raw != "" {
		var pair string
		pair, raw, _ = strings.Cut(raw, "&")
		if pair == "" || strings.IndexByte(pair, ';') >= 0 {
			continue
		}
		k, v, _ := strings.Cut(pair, "=")
		if !unescapedEqual(k, m.a) || !validEscapes(v) {
			continue
		}
		switch m.kind {
		case mQueryPresent:
			return true
		case mQuery:
			if unescapedEqual(v, m.b) {
				return true
			}
		case mQueryRegexp:
			if needsUnescape(v) {
				// validEscapes has already vetted v, so the error cannot occur.
				v, _ = url.QueryUnescape(v)
			}
			if m.re.MatchString(v) {
				return true
			}
		}
	}
	return false
}

// unescapedEqual reports whether the query component esc is well formed and decodes to
// want, decoding on the fly without allocating.
func unescapedEqual(esc, want string) bool {
	j := 0
	for i := 0; i < len(esc); i++ {
		c := esc[i]
		switch c {
		case '%':
			if i+2 >= len(esc) || !isHex(esc[i+1]) || !isHex(esc[i+2]) {
				return false
			}
			c = unhex(esc[i+1])<<4 | unhex(esc[i+2])
			i += 2
		case '+':
			c = ' '
		}
		if j >= len(want) || want[j] != c {
			return false
		}
		j++
	}
	return j == len(want)
}

func validEscapes(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] == '%' {
			if i+2 >= len(s) || !isHex(s[i+1]) || !isHex(s[i+2]) {
				return false
			}
			i += 2
		}
	}
	return true
}

func needsUnescape(s string) bool { return strings.ContainsAny(s, "%+") }

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

func unhex(c byte) byte {
	switch {
	case c >= '0' && c <= '9':
		return c - '0'
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10
	default:
		return c - 'A' + 10
	}
}
