package controllers

import (
	"fmt"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/predicate"

	bhv1 "github.com/bridgehead/bridgehead/api/v1alpha1"
)

// A status written changes an object's version but not its spec: no rebuild for it alone,
// but one after behindLimit of them, so that the last build lets the old versions go. A
// spec changed always rebuilds; a resync (the same version handed over again) never
// counts; a rebuild starts the count again.
func TestOrBehindRebuildsAfterManyStatusWrites(t *testing.T) {
	g := &Rebuilder{}
	p := g.orBehind(predicate.GenerationChangedPredicate{})
	route := func(rv string, generation int64) *bhv1.IngressRoute {
		return &bhv1.IngressRoute{ObjectMeta: metav1.ObjectMeta{Namespace: "web", Name: "r", ResourceVersion: rv, Generation: generation}}
	}
	statusWritten := func(i int) bool {
		return p.Update(event.UpdateEvent{ObjectOld: route(fmt.Sprint(2*i), 1), ObjectNew: route(fmt.Sprint(2*i+1), 1)})
	}
	if !p.Update(event.UpdateEvent{ObjectOld: route("1", 1), ObjectNew: route("2", 2)}) {
		t.Fatal("a spec change did not rebuild")
	}
	for round := range 2 {
		for i := range behindLimit - 1 {
			if statusWritten(i) {
				t.Fatalf("round %d: status write %d rebuilt; only the %dth should", round, i+1, behindLimit)
			}
			if p.Update(event.UpdateEvent{ObjectOld: route("7", 1), ObjectNew: route("7", 1)}) {
				t.Fatalf("round %d: a resync rebuilt", round)
			}
		}
		if !statusWritten(behindLimit) {
			t.Fatalf("round %d: %d status writes without a rebuild", round, behindLimit)
		}
		g.behind.Store(0) // as Reconcile does
	}
	if !p.Create(event.CreateEvent{Object: route("1", 1)}) || !p.Delete(event.DeleteEvent{Object: route("1", 1)}) {
		t.Fatal("a created or deleted object did not rebuild")
	}
}
