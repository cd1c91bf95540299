// Package rule implements the Traefik v3 router `match` language: matcher calls such as
// Host(`example.com`) combined with &&, ||, ! and parentheses.
//
// A rule is parsed and validated once (regexps compiled, CIDRs parsed, hosts normalised)
// and then evaluated on the hot path without allocating. Everything a Rule holds is
// immutable after Parse, so one Rule may be shared by any number of goroutines.
package rule

import (
	"fmt"
	"net/http"
	"net/netip"
	"slices"
)

// Kind selects the matcher vocabulary a rule is parsed with.
type Kind int

const (
	// HTTP rules belong to IngressRoute routers and match requests.
	HTTP Kind = iota
	// TCP rules belong to IngressRouteTCP routers and match connections.
	TCP
)

// String returns "HTTP" or "TCP".
func (k Kind) String() string {
	switch k {
	case HTTP:
		return "HTTP"
	case TCP:
		return "TCP"
	default:
		return fmt.Sprintf("Kind(%d)", int(k))
	}
}

// Rule is a parsed, validated and compiled rule.
type Rule struct {
	kind     Kind
	root     *node
	text     string
	length   int
	hosts    []string
	anyHost  bool
	needHost bool
	needIP   bool
}

// ConnInfo is what a TCP rule can see of a connection before it is routed.
type ConnInfo struct {
	// SNI is the server name the client sent in its TLS ClientHello; empty without TLS.
	SNI string
	// ALPN lists the protocols the client offered.
	ALPN []string
	// ClientIP is the peer address of the connection.
	ClientIP netip.Addr
}

// maxDepth bounds nesting so that a hostile rule cannot drive the recursive parser and
// evaluator arbitrarily deep; real rules stay far below it.
const maxDepth = 100

// Parse parses and validates a rule; the result is immutable and safe for concurrent use.
// Every failure is reported as a *SyntaxError.
//
// Rules that parse are remembered (see parsed): every build parses every route's rule
// twice (translate, then the proxy), and at 10,000 routes that was a tenth of a change's
// CPU for rules that had not changed.
func Parse(expr string, kind Kind) (*Rule, error) {
	if r := parsed.lookup(expr, kind); r != nil {
		return r, nil
	}
	r, err := parse(expr, kind)
	if err == nil {
		parsed.store(expr, kind, r)
	}
	return r, err
}

func parse(expr string, kind Kind) (*Rule, error) {
	if kind != HTTP && kind != TCP {
		return nil, &SyntaxError{Pos: 1, Expected: "rule kind HTTP or TCP", Found: kind.String()}
	}
	p := &parser{src: expr, kind: kind}
	root, err := p.parse()
	if err != nil {
		return nil, err
	}
	r := &Rule{kind: kind, root: root, text: root.String(), length: len(expr)}
	hs := analyzeHosts(root, false)
	r.hosts, r.anyHost = hs.names, hs.any
	r.needHost = root.uses(mHost, mHostWildcard, mHostRegexp, mHostSNI, mHostSNIWildcard, mHostSNIRegexp)
	r.needIP = root.uses(mClientIP)
	return r, nil
}

// String returns the canonical text of the rule: canonical matcher names, one space around
// operators, only the parentheses the precedence requires, and backticks unless a value
// cannot be written inside them. Parsing it again yields the same rule.
func (r *Rule) String() string { return r.text }

// Kind reports the vocabulary the rule was parsed with.
func (r *Rule) Kind() Kind { return r.kind }

// Len returns the length in bytes of the expression given to Parse, which Traefik uses as
// a router's default priority.
func (r *Rule) Len() int { return r.length }

// Hosts reports the host names a request must carry for the rule to match: from Host()
// for HTTP rules and from HostSNI() for TCP rules, lower-cased, trailing dot trimmed,
// wildcards kept as "*.example.com".
//
// any is true when some way of satisfying the rule does not constrain the host (an ||
// branch without Host, HostRegexp alone, a Host only under !, HostSNI(`*`)); hosts then
// still lists the names of the constraining branches, which is useful for display.
// A rule whose host constraints contradict each other reports no hosts and any false: it
// can never match. The slice is sorted, de-duplicated and owned by the caller.
func (r *Rule) Hosts() (hosts []string, any bool) {
	return slices.Clone(r.hosts), r.anyHost
}

// SharedHosts is Hosts without the copy: the slice is the rule's own, and a parsed rule
// is shared by every build that parses the same expression, so it must not be modified.
// The proxy's router index reads it for every route of every build.
func (r *Rule) SharedHosts() (hosts []string, any bool) {
	return r.hosts, r.anyHost
}

// MatchHTTP reports whether req satisfies an HTTP rule. The host is taken from req.Host,
// or req.URL.Host when that is empty; clientIP is the peer address as the caller trusts
// it (forwarding headers are not consulted). A TCP rule never matches a request.
func (r *Rule) MatchHTTP(req *http.Request, clientIP netip.Addr) bool {
	if r.kind != HTTP {
		return false
	}
	c := httpCtx{req: req}
	if r.needIP {
		c.ip = clientIP.WithZone("").Unmap()
	}
	if r.needHost {
		h := req.Host
		if h == "" && req.URL != nil {
			h = req.URL.Host
		}
		c.host = canonHost(h)
	}
	if req.URL != nil {
		c.path = req.URL.Path
		c.rawQuery = req.URL.RawQuery
	}
	return r.root.evalHTTP(&c)
}

// MatchConn reports whether a connection satisfies a TCP rule. An HTTP rule never
// matches a connection.
func (r *Rule) MatchConn(c ConnInfo) bool {
	if r.kind != TCP {
		return false
	}
	t := tcpCtx{alpn: c.ALPN}
	if r.needIP {
		t.ip = c.ClientIP.WithZone("").Unmap()
	}
	if r.needHost {
		t.sni = lowerASCII(trimDot(c.SNI))
	}
	return r.root.evalTCP(&t)
}
