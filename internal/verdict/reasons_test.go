package verdict

import (
	"testing"

	"github.com/bridgehead/bridgehead/proxy/upstream"
)

// Every reason the data plane can record against a backend becomes a condition reason
// declared in the API, spelt the same (it is also the Bridgehead-Error header and the
// metric label): a reason added to proxy/upstream without its API constant fails here,
// instead of reaching a route's status as an empty reason.
func TestEveryRuntimeReasonIsDeclaredInTheAPI(t *testing.T) {
	for _, r := range upstream.Reasons {
		if r == upstream.ClientCanceled {
			continue // the client's doing: never recorded against a backend
		}
		c, ok := conditionReason[r]
		if !ok {
			t.Errorf("upstream reason %s has no condition reason in api/v1alpha1", r)
			continue
		}
		if string(c) != string(r) {
			t.Errorf("upstream reason %s becomes condition reason %s: they must be spelt the same", r, c)
		}
	}
	if len(conditionReason) != len(upstream.Reasons)-1 {
		t.Errorf("conditionReason maps %d reasons; upstream.Reasons has %d (one of them ClientCanceled)", len(conditionReason), len(upstream.Reasons))
	}
}
