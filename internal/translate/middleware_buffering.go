package translate

import (
	"fmt"

	bhv1 "github.com/bridgehead/bridgehead/api/v1alpha1"
	"github.com/bridgehead/bridgehead/internal/snapshot"
)

// defaultMemBodyBytes is Traefik's memRequestBodyBytes and memResponseBodyBytes default.
const defaultMemBodyBytes = 1 << 20

// buffering compiles Traefik's buffering. retryExpression is refused: retries of a
// buffered request are not implemented, and serving without them would ignore it.
func buffering(rep *report, k nsName, b *bhv1.Buffering) *snapshot.Buffering {
	out := &snapshot.Buffering{MemRequestBodyBytes: defaultMemBodyBytes, MemResponseBodyBytes: defaultMemBodyBytes}
	set := func(field string, v *int64, into *int64) {
		if v == nil {
			return
		}
		if *v < 0 {
			rep.invalidf(bhv1.ReasonInvalid, fmt.Sprintf("Middleware %s: spec.buffering.%s %d is negative; set a number of bytes, or 0 (max) for no limit", k, field, *v))
			return
		}
		*into = *v
	}
	set("maxRequestBodyBytes", b.MaxRequestBodyBytes, &out.MaxRequestBodyBytes)
	set("memRequestBodyBytes", b.MemRequestBodyBytes, &out.MemRequestBodyBytes)
	set("maxResponseBodyBytes", b.MaxResponseBodyBytes, &out.MaxResponseBodyBytes)
	set("memResponseBodyBytes", b.MemResponseBodyBytes, &out.MemResponseBodyBytes)
	if b.RetryExpression != "" {
		rep.invalidf(bhv1.ReasonUnsupportedField, fmt.Sprintf("Middleware %s: spec.buffering.retryExpression is not implemented (Bridgehead does not retry buffered requests), so serving without it would not retry as asked; remove the field, or retry in the client", k))
	}
	return out
}
