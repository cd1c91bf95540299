package verdict

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	bhv1 "github.com/bridgehead/bridgehead/api/v1alpha1"
	"github.com/bridgehead/bridgehead/internal/translate"
)

// mergeGatewayAPI puts the runtime BackendTLSReady condition on a Gateway API object's
// own status: each parent of a route, each ancestor of a BackendTLSPolicy. The status
// writer writes only that shape for these kinds, so without this the handshake's cause
// would not reach the object. The input is not modified (statuses are shared).
func mergeGatewayAPI(g *translate.GatewayAPIStatus, rc []metav1.Condition, gen int64) *translate.GatewayAPIStatus {
	if g == nil || (len(g.Parents) == 0 && len(g.Ancestors) == 0) {
		return g
	}
	var tlsReady *metav1.Condition
	for i := range rc {
		if rc[i].Type == string(bhv1.ConditionBackendTLSReady) {
			c := rc[i]
			c.ObservedGeneration = gen
			tlsReady = &c
		}
	}
	if tlsReady == nil {
		return g
	}
	out := *g
	out.Parents = make([]gwv1.RouteParentStatus, len(g.Parents))
	for i, p := range g.Parents {
		p.Conditions = mergeCondition(append([]metav1.Condition(nil), p.Conditions...), *tlsReady)
		out.Parents[i] = p
	}
	out.Ancestors = make([]gwv1.PolicyAncestorStatus, len(g.Ancestors))
	for i, a := range g.Ancestors {
		a.Conditions = mergeCondition(append([]metav1.Condition(nil), a.Conditions...), *tlsReady)
		out.Ancestors[i] = a
	}
	if g.Parents == nil {
		out.Parents = nil
	}
	if g.Ancestors == nil {
		out.Ancestors = nil
	}
	return &out
}
