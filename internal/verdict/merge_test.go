package verdict

import (
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	bhv1 "github.com/bridgehead/bridgehead/api/v1alpha1"
	"github.com/bridgehead/bridgehead/internal/translate"
)

// TestMergeMakesAFailingRouteNotReady: a runtime failure turns the route's Ready False in
// the merged statuses, while the build's own statuses (shared with the writers and the
// last build) stay as translate made them.
func TestMergeMakesAFailingRouteNotReady(t *testing.T) {
	ready := func() *translate.ObjectStatus {
		return &translate.ObjectStatus{Generation: 2, Conditions: []metav1.Condition{
			{Type: string(bhv1.ConditionReady), Status: metav1.ConditionTrue, Reason: "Serving"},
		}}
	}
	failing := translate.Key{Kind: translate.KindIngressRoute, Namespace: "shop", Name: "checkout"}
	fine := translate.Key{Kind: translate.KindIngressRoute, Namespace: "shop", Name: "catalog"}
	st := translate.Statuses{failing: ready(), fine: ready()}

	if got := Merge(st, nil); got[failing] != st[failing] || got[fine] != st[fine] || len(got) != 2 {
		t.Errorf("without runtime conditions the statuses must pass through unchanged: %v", got)
	}
	got := Merge(st, Conditions{
		failing: {{Type: string(bhv1.ConditionBackendTLSReady), Status: metav1.ConditionFalse, Reason: "UnknownAuthority", Message: "the backend's certificate is signed by an unknown authority"}},
		// A verdict on an object the build no longer has is dropped.
		{Kind: translate.KindIngressRoute, Namespace: "shop", Name: "gone"}: {{Type: string(bhv1.ConditionBackendTLSReady), Status: metav1.ConditionFalse}},
	})
	if len(got) != 2 {
		t.Fatalf("merged %d statuses, want 2: %v", len(got), got)
	}
	r := got[failing].Condition(bhv1.ConditionReady)
	if r == nil || r.Status != metav1.ConditionFalse || r.Reason != "UnknownAuthority" {
		t.Errorf("Ready of the failing route = %+v, want False for UnknownAuthority", r)
	}
	if b := got[failing].Condition(bhv1.ConditionBackendTLSReady); b == nil || b.ObservedGeneration != 2 {
		t.Errorf("BackendTLSReady = %+v, want it observed at generation 2", b)
	}
	if got[fine] != st[fine] {
		t.Error("the status of a route without runtime conditions was copied")
	}
	if c := st[failing].Condition(bhv1.ConditionReady); c.Status != metav1.ConditionTrue || len(st[failing].Conditions) != 1 {
		t.Errorf("Merge modified the build's own status: %+v", st[failing].Conditions)
	}
}
