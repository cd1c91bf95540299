package translate

import (
	"errors"
	"fmt"
	"net/http"
	"time"

	bhv1 "github.com/bridgehead/bridgehead/api/v1alpha1"
	"github.com/bridgehead/bridgehead/internal/cbexpr"
	"github.com/bridgehead/bridgehead/internal/snapshot"
)

// Traefik's circuitBreaker defaults.
const (
	defaultCBCheckPeriod = 100 * time.Millisecond
	defaultCBFallback    = 10 * time.Second
	defaultCBRecovery    = 10 * time.Second
)

// circuitBreaker compiles Traefik's circuitBreaker. An expression that does not parse
// makes the Middleware not Ready, naming the position and what was expected there; a
// duration of 0 means Traefik's default, as in Traefik.
func circuitBreaker(rep *report, k nsName, c *bhv1.CircuitBreaker) *snapshot.CircuitBreaker {
	out := &snapshot.CircuitBreaker{
		Expression: c.Expression, CheckPeriod: defaultCBCheckPeriod,
		FallbackDuration: defaultCBFallback, RecoveryDuration: defaultCBRecovery, ResponseCode: http.StatusServiceUnavailable,
	}
	if _, err := cbexpr.Parse(c.Expression); err != nil {
		var pe *cbexpr.Error
		if errors.As(err, &pe) {
			rep.invalidf(bhv1.ReasonInvalid, fmt.Sprintf("Middleware %s: spec.circuitBreaker.expression %q does not parse at position %d: %s", k, c.Expression, pe.Pos, pe.Msg))
		} else {
			rep.invalidf(bhv1.ReasonInvalid, fmt.Sprintf("Middleware %s: spec.circuitBreaker.expression %q: %v", k, c.Expression, err))
		}
	}
	duration := func(field string, d *bhv1.Duration, into *time.Duration) {
		if d == nil {
			return
		}
		v, err := d.Parse()
		switch {
		case err != nil:
			rep.invalidf(bhv1.ReasonInvalid, fmt.Sprintf("Middleware %s: spec.circuitBreaker.%s: %v", k, field, err))
		case v < 0:
			rep.invalidf(bhv1.ReasonInvalid, fmt.Sprintf("Middleware %s: spec.circuitBreaker.%s %q is negative; write a duration such as 10s, or remove it for the default", k, field, string(*d)))
		case v > 0:
			*into = v
		}
	}
	duration("checkPeriod", c.CheckPeriod, &out.CheckPeriod)
	duration("fallbackDuration", c.FallbackDuration, &out.FallbackDuration)
	duration("recoveryDuration", c.RecoveryDuration, &out.RecoveryDuration)
	switch rc := c.ResponseCode; {
	case rc == 0:
	case rc < 100 || rc > 599:
		rep.invalidf(bhv1.ReasonInvalid, fmt.Sprintf("Middleware %s: spec.circuitBreaker.responseCode %d is not an HTTP status; write one from 100 to 599, or remove it for 503", k, rc))
	default:
		out.ResponseCode = rc
	}
	return out
}
