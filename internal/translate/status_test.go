package translate

import (
	"fmt"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	bhv1 "github.com/bridgehead/bridgehead/api/v1alpha1"
)

// Routes whose statuses say the same share one slice of conditions (at 10,000 routes a
// slice each was 3.8 MB of the heap), with no room to grow into: appending to one
// status's conditions, as a consumer merging its own might, never shows in another's.
// A route whose status says something else has its own.
func TestStatusesThatSayTheSameShareTheirConditions(t *testing.T) {
	in := &Inputs{Services: []*corev1.Service{{ObjectMeta: metav1.ObjectMeta{Namespace: "web", Name: "backend"},
		Spec: corev1.ServiceSpec{Ports: []corev1.ServicePort{{Name: "http", Port: 80}}}}}}
	route := func(name, service string) *bhv1.IngressRoute {
		return &bhv1.IngressRoute{ObjectMeta: metav1.ObjectMeta{Namespace: "web", Name: name, Generation: 1},
			Spec: bhv1.IngressRouteSpec{EntryPoints: []string{"web"}, Routes: []bhv1.Route{{
				Match: fmt.Sprintf("Host(`%s.example.com`)", name), Services: []bhv1.Service{{Name: service, Port: "http"}}}}}}
	}
	in.IngressRoutes = []*bhv1.IngressRoute{route("a", "backend"), route("b", "backend"), route("c", "backend"), route("odd", "missing")}
	for _, memo := range []*Memo{nil, {}} {
		opts := DefaultOptions()
		opts.Memo = memo
		_, statuses := Translate(in, opts)
		status := func(name string) *ObjectStatus {
			st := statuses[Key{Kind: KindIngressRoute, Namespace: "web", Name: name}]
			if st == nil || len(st.Conditions) != statusConditions {
				t.Fatalf("IngressRoute web/%s: status %+v, want %d conditions", name, st, statusConditions)
			}
			return st
		}
		a, b, c, odd := status("a"), status("b"), status("c"), status("odd")
		if &a.Conditions[0] != &b.Conditions[0] || &a.Conditions[0] != &c.Conditions[0] {
			t.Errorf("memo %v: three routes with the same conditions do not share them", memo != nil)
		}
		if &odd.Conditions[0] == &a.Conditions[0] || odd.Condition(bhv1.ConditionResolvedRefs).Status != metav1.ConditionFalse {
			t.Errorf("memo %v: the route to a missing Service shares the others' conditions: %+v", memo != nil, odd.Conditions)
		}
		merged := append(a.Conditions, metav1.Condition{Type: string(bhv1.ConditionBackendTLSReady), Status: metav1.ConditionFalse})
		if len(b.Conditions) != statusConditions || cap(b.Conditions) != statusConditions || &merged[0] == &a.Conditions[0] {
			t.Errorf("memo %v: appending to one status's conditions reached another's", memo != nil)
		}
	}
}
