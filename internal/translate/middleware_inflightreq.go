package translate

import (
	"fmt"

	bhv1 "github.com/bridgehead/bridgehead/api/v1alpha1"
	"github.com/bridgehead/bridgehead/internal/snapshot"
)

// inFlightReq compiles Traefik's inFlightReq; its sources default to the request's Host.
func (t *translator) inFlightReq(rep *report, k nsName, r *bhv1.InFlightReq) *snapshot.InFlightReq {
	if r.Amount < 1 {
		rep.invalidf(bhv1.ReasonInvalid, fmt.Sprintf("Middleware %s: spec.inFlightReq.amount %d admits no request at all; set how many requests a source may have in progress at once (at least 1)", k, r.Amount))
	}
	return &snapshot.InFlightReq{Amount: r.Amount, Source: t.source(rep, k, "spec.inFlightReq.sourceCriterion", r.SourceCriterion, true)}
}
