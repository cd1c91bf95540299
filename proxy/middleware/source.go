package middleware

import (
	"net/http"
	"net/netip"
	"strings"

	"github.com/bridgehead/bridgehead/internal/snapshot"
)

// sourceOf says which source a request comes from, for rateLimit and inFlightReq
// (Traefik's sourceCriterion). ok is false when the request names none: a
// requestHeaderName criterion and a request without that header, which Traefik answers
// with 500 rather than counting it nowhere or everywhere.
type sourceOf func(r *http.Request) (key string, ok bool)

func newSourceOf(s snapshot.Source) sourceOf {
	switch {
	case s.Header != "":
		name := http.CanonicalHeaderKey(s.Header)
		return func(r *http.Request) (string, bool) {
			// The first value, as Traefik reads it.
			v := r.Header[name]
			if len(v) == 0 || v[0] == "" {
				return "", false
			}
			return v[0], true
		}
	case s.Host:
		// The host without its port, lowercased: Traefik takes Host as sent, so
		// a.example, A.example and a.example:443 would each get their own allowance.
		return func(r *http.Request) (string, bool) { return hostKey(r.Host), true }
	}
	var depth int
	var excluded []netip.Prefix
	if s.IPStrategy != nil {
		depth, excluded = s.IPStrategy.Depth, NormalizePrefixes(s.IPStrategy.ExcludedIPs)
	}
	// The same reading of X-Forwarded-For as ipAllowList's ipStrategy, so one ipStrategy
	// means one thing whichever middleware it configures.
	strategy := &ipAllowList{depth: depth, excluded: excluded}
	return func(r *http.Request) (string, bool) {
		a, ok := strategy.clientAddr(r)
		if !ok {
			// Too few X-Forwarded-For entries, or all excluded: Traefik counts these
			// requests together, under the empty address; so do we.
			return "", true
		}
		return a.String(), true
	}
}

// hostKey is host without a port, lowercased; it allocates only when it must lowercase.
func hostKey(host string) string {
	if i := strings.LastIndexByte(host, ':'); i >= 0 && !strings.HasSuffix(host, "]") {
		host = host[:i]
	}
	host = strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
	for i := 0; i < len(host); i++ {
		if 'A' <= host[i] && host[i] <= 'Z' {
			return strings.ToLower(host)
		}
	}
	return host
}
