package translate

import (
	"fmt"
	"net/http"
	"time"

	bhv1 "github.com/bridgehead/bridgehead/api/v1alpha1"
	"github.com/bridgehead/bridgehead/internal/snapshot"
)

// rateLimit compiles Traefik's rateLimit with its defaults: period 1s, burst 1, the
// client's address as the source; average 0 limits nothing (as in Traefik), which is
// served but warned about, since it is rarely what was meant.
func (t *translator) rateLimit(rep *report, k nsName, r *bhv1.RateLimit) *snapshot.RateLimit {
	out := &snapshot.RateLimit{Period: time.Second, Burst: 1}
	if r.Average != nil {
		out.Average = *r.Average
	}
	if out.Average < 0 {
		rep.invalidf(bhv1.ReasonInvalid, fmt.Sprintf("Middleware %s: spec.rateLimit.average %d is negative; set the number of requests a source may make per period, such as 100", k, out.Average))
	}
	if r.Burst != nil {
		switch b := *r.Burst; {
		case b < 0:
			rep.invalidf(bhv1.ReasonInvalid, fmt.Sprintf("Middleware %s: spec.rateLimit.burst %d is negative; set how many requests may arrive at once (at least 1; 0 means 1)", k, b))
		case b > 0:
			out.Burst = b
		}
	}
	if r.Period != nil {
		p, err := r.Period.Parse()
		switch {
		case err != nil:
			rep.invalidf(bhv1.ReasonInvalid, fmt.Sprintf("Middleware %s: spec.rateLimit.period: %v", k, err))
		case p < 0:
			rep.invalidf(bhv1.ReasonInvalid, fmt.Sprintf("Middleware %s: spec.rateLimit.period %q is negative; write the span average is counted over, such as 1s or 1m", k, string(*r.Period)))
		case p > 0:
			out.Period = p
		}
	}
	if out.Average == 0 {
		rep.warn(bhv1.ReasonIneffectiveSetting, fmt.Sprintf("Middleware %s: spec.rateLimit.average is 0, which (as in Traefik) limits nothing; set the number of requests a source may make per period, such as average: 100", k))
	}
	out.Source = t.source(rep, k, "spec.rateLimit.sourceCriterion", r.SourceCriterion, false)
	return out
}

// source compiles a sourceCriterion. With none set, rateLimit groups by the client's
// address and inFlightReq by Host (byHost), as in Traefik; two set at once are refused,
// as Traefik refuses them.
func (t *translator) source(rep *report, k nsName, field string, c *bhv1.SourceCriterion, byHost bool) snapshot.Source {
	if c == nil || (c.IPStrategy == nil && c.RequestHeaderName == "" && !c.RequestHost) {
		if byHost {
			return snapshot.Source{Host: true}
		}
		return snapshot.Source{IPStrategy: &snapshot.SourceIP{}}
	}
	n := 0
	for _, set := range []bool{c.IPStrategy != nil, c.RequestHeaderName != "", c.RequestHost} {
		if set {
			n++
		}
	}
	if n > 1 {
		rep.invalidf(bhv1.ReasonInvalid, fmt.Sprintf("Middleware %s: %s sets more than one of ipStrategy, requestHeaderName and requestHost; keep the one that says what a source is", k, field))
	}
	switch {
	case c.IPStrategy != nil:
		s := &snapshot.SourceIP{Depth: c.IPStrategy.Depth}
		if s.Depth < 0 {
			rep.invalidf(bhv1.ReasonInvalid, fmt.Sprintf("Middleware %s: %s.ipStrategy.depth %d is negative; use 0 for the connection's address or N for the Nth X-Forwarded-For entry from the right", k, field, s.Depth))
		}
		for i, e := range c.IPStrategy.ExcludedIPs {
			p, err := parsePrefix(e)
			if err != nil {
				rep.invalidf(bhv1.ReasonInvalid, fmt.Sprintf("Middleware %s: %s.ipStrategy.excludedIPs[%d] %q is neither an IP address nor a CIDR", k, field, i, e))
				continue
			}
			s.ExcludedIPs = append(s.ExcludedIPs, p)
		}
		return snapshot.Source{IPStrategy: s}
	case c.RequestHeaderName != "":
		return snapshot.Source{Header: http.CanonicalHeaderKey(c.RequestHeaderName)}
	}
	return snapshot.Source{Host: true}
}
