package translate

import (
	"fmt"
	"time"

	bhv1 "github.com/bridgehead/bridgehead/api/v1alpha1"
	"github.com/bridgehead/bridgehead/internal/snapshot"
)

// retry compiles Traefik's retry. Retries on network errors are served; retries on a
// status (status, and disableRetryOnNetworkError, which leaves only those) are refused,
// never served without. maxRequestBodyBytes and retryNonIdempotentMethod only shape
// retries on a status, so without status they change nothing, in Traefik too: served,
// with a Warning saying so when set.
func retry(rep *report, k nsName, r *bhv1.Retry) *snapshot.Retry {
	out := &snapshot.Retry{Attempts: r.Attempts}
	if r.Attempts < 1 {
		rep.invalidf(bhv1.ReasonInvalid, fmt.Sprintf("Middleware %s: spec.retry.attempts is %d; set how many times a request is tried in all, at least 1 (Traefik refuses 0 too), such as attempts: 3", k, r.Attempts))
	}
	duration := func(field string, d *bhv1.Duration) time.Duration {
		if d == nil {
			return 0
		}
		v, err := d.Parse()
		switch {
		case err != nil:
			rep.invalidf(bhv1.ReasonInvalid, fmt.Sprintf("Middleware %s: spec.retry.%s: %v", k, field, err))
		case v < 0:
			rep.invalidf(bhv1.ReasonInvalid, fmt.Sprintf("Middleware %s: spec.retry.%s %q is negative; write a duration such as 100ms, or remove it", k, field, string(*d)))
		default:
			return v
		}
		return 0
	}
	out.InitialInterval = duration("initialInterval", r.InitialInterval)
	out.Timeout = duration("timeout", r.Timeout)
	if len(r.Status) > 0 {
		rep.invalidf(bhv1.ReasonUnsupportedField, fmt.Sprintf("Middleware %s: spec.retry.status is not implemented (Bridgehead retries only when the backend could not be reached, never on an answer's status), so serving without it would not retry as asked; remove the field, or let the client retry", k))
	}
	if r.DisableRetryOnNetworkError {
		rep.invalidf(bhv1.ReasonUnsupportedField, fmt.Sprintf("Middleware %s: spec.retry.disableRetryOnNetworkError leaves only retries on a status, which are not implemented; remove the field (or the Middleware, if it should not retry on network errors)", k))
	}
	if len(r.Status) == 0 {
		if r.MaxRequestBodyBytes != nil {
			rep.warn(bhv1.ReasonIneffectiveSetting, fmt.Sprintf("Middleware %s: spec.retry.maxRequestBodyBytes bounds the bodies kept for retries on a status, and status is not set, so it has no effect (as in Traefik); remove it", k))
		}
		if r.RetryNonIdempotentMethod {
			rep.warn(bhv1.ReasonIneffectiveSetting, fmt.Sprintf("Middleware %s: spec.retry.retryNonIdempotentMethod extends retries on a status to POST, PATCH and LOCK, and status is not set, so it has no effect (as in Traefik, retries on network errors apply to every method); remove it", k))
		}
	}
	return out
}
