package middleware

import (
	"net/http"
	"net/netip"
	"strings"

	"github.com/bridgehead/bridgehead/internal/snapshot"
)

type ipAllowList struct {
	next     http.Handler
	allowed  []netip.Prefix
	depth    int
	excluded []netip.Prefix
	code     int
	body     []byte
}

func newIPAllowList(c *snapshot.IPAllowList, next http.Handler) http.Handler {
	code := c.RejectStatusCode
	if code < 400 || code > 599 {
		code = http.StatusForbidden
	}
	return &ipAllowList{
		next:     next,
		allowed:  NormalizePrefixes(c.SourceRange),
		depth:    c.Depth,
		excluded: NormalizePrefixes(c.ExcludedIPs),
		code:     code,
		// The status text, not always "Forbidden": whoever picks 404 wants the
		// allow-list to stay hidden.
		body: []byte(http.StatusText(code) + "\n"),
	}
}

// NormalizePrefixes turns IPv4-mapped IPv6 ranges (::ffff:10.0.0.0/104) into IPv4 ones,
// because client addresses are unmapped before matching. The TCP allow list uses it too.
func NormalizePrefixes(in []netip.Prefix) []netip.Prefix {
	out := make([]netip.Prefix, 0, len(in))
	for _, p := range in {
		if !p.IsValid() {
			continue
		}
		if a := p.Addr(); a.Is4In6() && p.Bits() >= 96 {
			p = netip.PrefixFrom(a.Unmap(), p.Bits()-96)
		}
		out = append(out, p.Masked())
	}
	return out
}

func (m *ipAllowList) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if a, ok := m.clientAddr(r); ok && contains(m.allowed, a) {
		m.next.ServeHTTP(w, r)
		return
	}
	writeText(w, m.code, m.body)
}

// clientAddr picks the client's address as Traefik's ipStrategy does: depth wins over
// excludedIPs, and with neither the connection's address is used.
func (m *ipAllowList) clientAddr(r *http.Request) (netip.Addr, bool) {
	switch {
	case m.depth > 0:
		xff := xffWalker{lines: r.Header[xForwardedFor]}
		var entry string
		for range m.depth {
			e, ok := xff.next()
			if !ok {
				return netip.Addr{}, false // fewer hops than configured
			}
			entry = e
		}
		return parseClientAddr(entry)
	case len(m.excluded) > 0:
		// The first entry from the right that is not one of our own proxies.
		xff := xffWalker{lines: r.Header[xForwardedFor]}
		for {
			e, ok := xff.next()
			if !ok {
				return netip.Addr{}, false
			}
			if e == "" {
				continue
			}
			a, ok := parseClientAddr(e)
			if !ok || !contains(m.excluded, a) {
				return a, ok
			}
		}
	}
	if ap, err := netip.ParseAddrPort(r.RemoteAddr); err == nil {
		return normalizeAddr(ap.Addr()), true
	}
	return parseClientAddr(r.RemoteAddr)
}

// parseClientAddr accepts an IP, or an IP with a port as some load balancers write.
func parseClientAddr(s string) (netip.Addr, bool) {
	if a, err := netip.ParseAddr(s); err == nil {
		return normalizeAddr(a), true
	}
	if ap, err := netip.ParseAddrPort(s); err == nil {
		return normalizeAddr(ap.Addr()), true
	}
	return netip.Addr{}, false
}

// normalizeAddr unmaps ::ffff:a.b.c.d (what a dual-stack listener reports for IPv4
// clients) so IPv4 ranges match, and drops the zone, which would make every
// netip.Prefix.Contains false.
func normalizeAddr(a netip.Addr) netip.Addr {
	return a.Unmap().WithZone("")
}

func contains(ps []netip.Prefix, a netip.Addr) bool {
	for _, p := range ps {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// xffWalker yields X-Forwarded-For entries from the right without allocating. Repeated
// header lines form one list (RFC 9110 section 5.3); Traefik reads only the first line,
// which would let a client's own line be taken for the one our trusted proxy added.
type xffWalker struct {
	lines []string
	cur   string
	have  bool
}

func (x *xffWalker) next() (string, bool) {
	if !x.have {
		if len(x.lines) == 0 {
			return "", false
		}
		x.cur, x.lines = x.lines[len(x.lines)-1], x.lines[:len(x.lines)-1]
		x.have = true
	}
	i := strings.LastIndexByte(x.cur, ',')
	entry := x.cur[i+1:]
	if i < 0 {
		x.have = false
	} else {
		x.cur = x.cur[:i]
	}
	return strings.TrimSpace(entry), true
}
