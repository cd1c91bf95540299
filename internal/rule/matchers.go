package rule

import (
	"net/http"
	"net/netip"
	"regexp"
	"strconv"
	"strings"
)

// mkind selects the test a leaf performs. Evaluation switches on it rather than calling
// through an interface or closure: the switch inlines the common cases and keeps each
// leaf a single flat struct.
type mkind uint8

const (
	mHost mkind = iota
	mHostWildcard
	mHostRegexp
	mPath
	mPathPrefix
	mPathRegexp
	mHeader
	mHeaderRegexp
	mQuery
	mQueryPresent
	mQueryRegexp
	mMethod
	mClientIP
	mHostSNI
	mHostSNIWildcard
	mHostSNIAny
	mHostSNIRegexp
	mALPN
)

// matcher is one compiled matcher call.
type matcher struct {
	kind   mkind
	name   string   // canonical matcher name
	args   []string // argument values as written, for String
	a, b   string   // normalised operands: host or suffix, path, key and value, method
	re     *regexp.Regexp
	prefix netip.Prefix
}

// hostKey is the name this matcher contributes to Rule.Hosts, or "".
func (m *matcher) hostKey() string {
	switch m.kind {
	case mHost, mHostSNI:
		return m.a
	case mHostWildcard, mHostSNIWildcard:
		return "*." + m.a
	}
	return ""
}

type spec struct {
	name     string
	kind     Kind
	min, max int
	example  string
	build    func(m *matcher, args []arg) *SyntaxError
}

var specList = []*spec{
	{name: "Host", kind: HTTP, min: 1, max: 1, example: "example.com", build: buildHost},
	{name: "HostRegexp", kind: HTTP, min: 1, max: 1, example: `^.+\.example\.com$`, build: buildRegexp(mHostRegexp, true)},
	{name: "Path", kind: HTTP, min: 1, max: 1, example: "/exact", build: buildPath(mPath)},
	{name: "PathPrefix", kind: HTTP, min: 1, max: 1, example: "/prefix", build: buildPath(mPathPrefix)},
	{name: "PathRegexp", kind: HTTP, min: 1, max: 1, example: "^/api/v[0-9]+", build: buildRegexp(mPathRegexp, false)},
	{name: "Header", kind: HTTP, min: 2, max: 2, example: "X-Key", build: buildKeyValue(mHeader, mHeader)},
	{name: "HeaderRegexp", kind: HTTP, min: 2, max: 2, example: "X-Key", build: buildKeyValue(mHeaderRegexp, mHeaderRegexp)},
	{name: "Query", kind: HTTP, min: 1, max: 2, example: "key", build: buildKeyValue(mQueryPresent, mQuery)},
	// Traefik accepts QueryRegexp with the key alone, meaning the same as Query(key).
	{name: "QueryRegexp", kind: HTTP, min: 1, max: 2, example: "key", build: buildKeyValue(mQueryPresent, mQueryRegexp)},
	{name: "Method", kind: HTTP, min: 1, max: 1, example: "GET", build: buildMethod},
	{name: "ClientIP", kind: HTTP, min: 1, max: 1, example: "10.0.0.0/8", build: buildClientIP},
	{name: "HostSNI", kind: TCP, min: 1, max: 1, example: "example.com", build: buildHostSNI},
	{name: "HostSNIRegexp", kind: TCP, min: 1, max: 1, example: `^.+\.example\.com$`, build: buildRegexp(mHostSNIRegexp, true)},
	{name: "ALPN", kind: TCP, min: 1, max: 1, example: "h2", build: buildALPN},
	{name: "ClientIP", kind: TCP, min: 1, max: 1, example: "10.0.0.0/8", build: buildClientIP},
}

var (
	// table maps each accepted spelling to its spec, per kind.
	table = map[Kind]map[string]*spec{HTTP: {}, TCP: {}}
	// names lists canonical names per kind, for "did you mean".
	names = map[Kind][]string{}
	// crossKind names the matcher to use instead of one of the other kind.
	crossKind = map[string]string{
		"Host": "HostSNI", "HostSNI": "Host",
		"HostRegexp": "HostSNIRegexp", "HostSNIRegexp": "HostRegexp",
	}
	// removedV2 maps Traefik v2 matcher names to their v3 replacement.
	removedV2 = map[string]string{
		"HostHeader":    "Host",
		"Headers":       "Header",
		"HeadersRegexp": "HeaderRegexp",
	}
)

func init() {
	for _, sp := range specList {
		low := strings.ToLower(sp.name)
		for _, n := range []string{sp.name, low, strings.ToUpper(sp.name), strings.ToUpper(low[:1]) + low[1:]} {
			table[sp.kind][n] = sp
		}
		names[sp.kind] = append(names[sp.kind], sp.name)
	}
}

// otherKind finds a matcher of the kind the rule is not, to explain the mistake.
func otherKind(k Kind, name string) *spec {
	if k == HTTP {
		return table[TCP][name]
	}
	return table[HTTP][name]
}

func arity(sp *spec) string {
	plural := func(n int) string {
		if n == 1 {
			return "1 argument"
		}
		return strconv.Itoa(n) + " arguments"
	}
	if sp.min == sp.max {
		return plural(sp.min)
	}
	return strconv.Itoa(sp.min) + " or " + plural(sp.max)
}

// build checks the argument count and values of a call and compiles it.
func build(sp *spec, args []arg, closePos int) (*matcher, error) {
	if len(args) < sp.min || len(args) > sp.max {
		e := &SyntaxError{Pos: closePos + 1, Expected: arity(sp), Found: "no arguments"}
		switch len(args) {
		case 0:
		case 1:
			e.Found = "1 argument"
		default:
			e.Found = strconv.Itoa(len(args)) + " arguments"
		}
		if len(args) > sp.max {
			e.Pos = args[sp.max].pos + 1
			if sp.max == 1 {
				e.Msg = "Traefik v3 takes one value per " + sp.name + "(); combine several with ||"
			}
		}
		return nil, e
	}
	vals := make([]string, len(args))
	for i, a := range args {
		if a.val == "" {
			return nil, &SyntaxError{Pos: a.pos + 1, Expected: expectNonEmpty, Found: "empty string"}
		}
		vals[i] = a.val
	}
	m := &matcher{name: sp.name, args: vals}
	if err := sp.build(m, args); err != nil {
		return nil, err
	}
	return m, nil
}

func argErr(a arg, expected, msg string) *SyntaxError {
	return &SyntaxError{Pos: a.pos + 1, Expected: expected, Found: describeString(a.val), Msg: msg}
}

const expectHost = "a host name such as example.com or *.example.com"

func buildHost(m *matcher, args []arg) *SyntaxError {
	h, msg := ruleHost(args[0].val, true)
	if msg != "" {
		return argErr(args[0], expectHost, msg)
	}
	m.kind, m.a = mHost, h
	if rest, ok := strings.CutPrefix(h, "*."); ok {
		m.kind, m.a = mHostWildcard, rest
	}
	return nil
}

func buildHostSNI(m *matcher, args []arg) *SyntaxError {
	if args[0].val == "*" {
		m.kind = mHostSNIAny
		return nil
	}
	h, msg := ruleHost(args[0].val, false)
	if msg != "" {
		return argErr(args[0], "a host name such as example.com or *.example.com, or *", msg)
	}
	m.kind, m.a = mHostSNI, h
	if rest, ok := strings.CutPrefix(h, "*."); ok {
		m.kind, m.a = mHostSNIWildcard, rest
	}
	return nil
}

// ruleHost normalises and validates a Host or HostSNI value, returning a reason when it
// is unusable. Values that could never equal a request's host (a port, a path, a `*`
// inside a label) are rejected instead of silently never matching.
func ruleHost(v string, underscore bool) (host, problem string) {
	if !isASCII(v) {
		return "", "non-ASCII names must be written in their punycode (xn--) form"
	}
	h := lowerASCII(v)
	if len(h) > 2 && h[0] == '[' && h[len(h)-1] == ']' {
		h = h[1 : len(h)-1]
	}
	h = trimDot(h)
	name := strings.TrimPrefix(h, "*.")
	if name == "" {
		return "", "the host name is empty"
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		switch {
		case c >= 'a' && c <= 'z', c >= '0' && c <= '9', c == '-', c == '.', c == ':':
		case c == '_' && underscore:
		case c == '*':
			return "", "`*` is only allowed as the whole first label, as in *.example.com"
		case c == '/':
			return "", "a host name has no path; add a PathPrefix matcher with &&"
		default:
			return "", "host names contain only letters, digits, `-` and `.`"
		}
	}
	if strings.Count(name, ":") == 1 {
		return "", "the host is compared without its port; remove the :port"
	}
	return h, ""
}

func buildRegexp(k mkind, asciiOnly bool) func(*matcher, []arg) *SyntaxError {
	return func(m *matcher, args []arg) *SyntaxError {
		a := args[0]
		if asciiOnly && !isASCII(a.val) {
			return argErr(a, "a regular expression", "host names are matched in their punycode (xn--) form, so the regexp must be ASCII")
		}
		re, err := regexp.Compile(a.val)
		if err != nil {
			return argErr(a, "a valid regular expression", err.Error())
		}
		m.kind, m.re = k, re
		return nil
	}
}

func buildPath(k mkind) func(*matcher, []arg) *SyntaxError {
	return func(m *matcher, args []arg) *SyntaxError {
		if !strings.HasPrefix(args[0].val, "/") {
			return argErr(args[0], "a path starting with /", "")
		}
		m.kind, m.a = k, args[0].val
		return nil
	}
}

// buildKeyValue covers Header, Query and their Regexp variants: one is the kind with the
// key alone, two the kind with key and value.
func buildKeyValue(one, two mkind) func(*matcher, []arg) *SyntaxError {
	return func(m *matcher, args []arg) *SyntaxError {
		m.a = args[0].val
		if two == mHeader || two == mHeaderRegexp {
			// Requests carry canonical keys (net/http canonicalises on read), so a
			// rule written as x-key must look up X-Key.
			m.a = http.CanonicalHeaderKey(m.a)
		}
		if len(args) == 1 {
			m.kind = one
			return nil
		}
		m.kind, m.b = two, args[1].val
		if two == mHeaderRegexp || two == mQueryRegexp {
			re, err := regexp.Compile(m.b)
			if err != nil {
				return argErr(args[1], "a valid regular expression", err.Error())
			}
			m.re = re
		}
		return nil
	}
}

func buildMethod(m *matcher, args []arg) *SyntaxError {
	for i := 0; i < len(args[0].val); i++ {
		if c := args[0].val[i]; !isIdentPart(c) && c != '-' {
			return argErr(args[0], "an HTTP method such as GET", "")
		}
	}
	m.kind, m.a = mMethod, args[0].val
	return nil
}

func buildClientIP(m *matcher, args []arg) *SyntaxError {
	const expected = "an IP address or CIDR such as 10.0.0.0/8"
	v := args[0].val
	var p netip.Prefix
	if strings.Contains(v, "/") {
		pp, err := netip.ParsePrefix(v)
		if err != nil {
			return argErr(args[0], expected, err.Error())
		}
		p = pp.Masked()
	} else {
		addr, err := netip.ParseAddr(v)
		if err != nil {
			return argErr(args[0], expected, err.Error())
		}
		if addr.Zone() != "" {
			return argErr(args[0], expected, "IPv6 zones are not supported")
		}
		p = netip.PrefixFrom(addr, addr.BitLen())
	}
	// Client addresses are unmapped before matching, so an IPv4-mapped rule must be too
	// or it could never match.
	if p.Addr().Is4In6() && p.Bits() >= 96 {
		p = netip.PrefixFrom(p.Addr().Unmap(), p.Bits()-96)
	}
	m.kind, m.prefix = mClientIP, p
	return nil
}

func buildALPN(m *matcher, args []arg) *SyntaxError {
	// The TLS-ALPN-01 challenge protocol is answered by the ACME machinery; routing it
	// to a backend would let that backend hijack certificate issuance.
	if args[0].val == "acme-tls/1" {
		return argErr(args[0], "an ALPN protocol such as h2", "acme-tls/1 is reserved for ACME challenges")
	}
	m.kind, m.a = mALPN, args[0].val
	return nil
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}
