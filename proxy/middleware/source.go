package middleware

import (
	"net/http"
	"net/netip"

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
		return func(r *http.Request) (string, bool) { return r.Host, true }
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
