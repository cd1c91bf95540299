package snapshot

import (
	"net/netip"
	"time"
)

// RateLimit is Traefik's rateLimit: a token bucket per source, filled at Average per
// Period, holding at most Burst tokens. Average 0 means no limit.
type RateLimit struct {
	Average int64         `json:"average"`
	Period  time.Duration `json:"period"`
	Burst   int64         `json:"burst"`
	Source  Source        `json:"source"`
}

// Source says which requests share a bucket (or an in-flight count): exactly one of
// IPStrategy, Header and Host is set.
type Source struct {
	// IPStrategy groups by client address: the connection's, or one read from
	// X-Forwarded-For as ipAllowList's ipStrategy does.
	IPStrategy *SourceIP `json:"ipStrategy,omitempty"`
	// Header groups by the value of this request header (canonical form).
	Header string `json:"header,omitempty"`
	// Host groups by the request's Host.
	Host bool `json:"host,omitempty"`
}

// SourceIP is an ipStrategy: Depth entries from the right of X-Forwarded-For, or the first
// from the right not in ExcludedIPs, or (with neither) the connection's address.
type SourceIP struct {
	Depth       int            `json:"depth,omitempty"`
	ExcludedIPs []netip.Prefix `json:"excludedIPs,omitempty"`
}
