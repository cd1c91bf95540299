package status

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/go-logr/logr"
	. "github.com/onsi/gomega"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/events"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"

	bhv1 "github.com/bridgehead/bridgehead/api/v1alpha1"
	"github.com/bridgehead/bridgehead/internal/source/kube"
	"github.com/bridgehead/bridgehead/internal/translate"
)

// An IngressRoute deleted and created again under its name between two builds gets the same
// status computed (same generation, same verdict): it must still be written to the new
// object, which has none (kubectl delete -f; kubectl apply -f within one debounce).
func TestWriterWritesTheStatusOfAnObjectCreatedAgain(t *testing.T) {
	scheme, err := kube.NewScheme()
	if err != nil {
		t.Fatal(err)
	}
	route := func(uid types.UID) *bhv1.IngressRoute {
		return &bhv1.IngressRoute{ObjectMeta: metav1.ObjectMeta{Namespace: "web", Name: "r", UID: uid, Generation: 1}}
	}
	c := fake.NewClientBuilder().WithScheme(scheme).WithStatusSubresource(&bhv1.IngressRoute{}).WithObjects(route("first")).Build()
	w := &Writer{Client: c, Recorder: &events.FakeRecorder{}, Clock: time.Now, Log: logr.Discard()}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() { _ = w.Start(ctx) }()

	key := translate.Key{Kind: translate.KindIngressRoute, Namespace: "web", Name: "r"}
	statusFor := func(uid types.UID) translate.Statuses {
		return translate.Statuses{key: {UID: uid, Generation: 1, Conditions: []metav1.Condition{{
			Type: string(bhv1.ConditionReady), Status: metav1.ConditionTrue, Reason: "Ready", ObservedGeneration: 1}}}}
	}
	parents := func() int { // the conditions written to the object
		ir := &bhv1.IngressRoute{}
		if err := c.Get(ctx, client.ObjectKey{Namespace: "web", Name: "r"}, ir); err != nil {
			return -1
		}
		return len(ir.Status.Conditions)
	}
	g := NewWithT(t)
	waitParents := func(what string) {
		t.Helper()
		g.Eventually(parents, 5*time.Second, 10*time.Millisecond).Should(Equal(1), what+": the route has no parent status of ours")
	}

	w.Publish(statusFor("first"))
	waitParents("the first object")

	if err := c.Delete(ctx, route("first")); err != nil {
		t.Fatal(err)
	}
	if err := c.Create(ctx, route("second")); err != nil {
		t.Fatal(err)
	}
	w.Publish(statusFor("second"))
	waitParents("the object created again")
}

// Builds hand unchanged statuses over as the same objects: the writer must not read or
// write those objects again, must forget an object gone from a build, and must write the
// status of one that comes back, even when the build hands over the very status object
// it wrote before (translate's memo keeps it).
func TestWriterSkipsUnchangedStatusesAndForgetsObjectsGone(t *testing.T) {
	scheme, err := kube.NewScheme()
	if err != nil {
		t.Fatal(err)
	}
	route := func(name string) *bhv1.IngressRoute {
		return &bhv1.IngressRoute{ObjectMeta: metav1.ObjectMeta{Namespace: "web", Name: name, UID: types.UID(name), Generation: 1}}
	}
	var mu sync.Mutex
	reads := map[string]int{}
	c := fake.NewClientBuilder().WithScheme(scheme).WithStatusSubresource(&bhv1.IngressRoute{}).
		WithObjects(route("a"), route("b"), route("c"), route("d")).
		WithInterceptorFuncs(interceptor.Funcs{Get: func(ctx context.Context, c client.WithWatch, key client.ObjectKey, obj client.Object, opts ...client.GetOption) error {
			mu.Lock()
			reads[key.Name]++
			mu.Unlock()
			return c.Get(ctx, key, obj, opts...)
		}}).Build()
	w := &Writer{Client: c, Recorder: &events.FakeRecorder{}, Clock: time.Now, Log: logr.Discard()}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() { _ = w.Start(ctx) }()

	status := map[string]*translate.ObjectStatus{}
	for _, n := range []string{"a", "b", "c", "d"} {
		status[n] = &translate.ObjectStatus{UID: types.UID(n), Generation: 1, Conditions: []metav1.Condition{{
			Type: string(bhv1.ConditionReady), Status: metav1.ConditionTrue, Reason: "Ready", ObservedGeneration: 1}}}
	}
	build := func(names ...string) translate.Statuses {
		s := translate.Statuses{}
		for _, n := range names {
			s[translate.Key{Kind: translate.KindIngressRoute, Namespace: "web", Name: n}] = status[n]
		}
		return s
	}
	conditions := func(name string) func() int {
		return func() int {
			ir := &bhv1.IngressRoute{}
			if err := c.Get(ctx, client.ObjectKey{Namespace: "web", Name: name}, ir); err != nil {
				return -1
			}
			return len(ir.Status.Conditions)
		}
	}
	readsOf := func(name string) int {
		mu.Lock()
		defer mu.Unlock()
		return reads[name]
	}
	g := NewWithT(t)

	w.Publish(build("a", "b"))
	g.Eventually(conditions("a"), 5*time.Second, 10*time.Millisecond).Should(Equal(1))
	g.Eventually(conditions("b"), 5*time.Second, 10*time.Millisecond).Should(Equal(1))
	readA, readB := readsOf("a"), readsOf("b")

	// a and b handed over unchanged; c is new (and tells when the round is done).
	w.Publish(build("a", "b", "c"))
	g.Eventually(conditions("c"), 5*time.Second, 10*time.Millisecond).Should(Equal(1))
	g.Expect(readsOf("a")).To(Equal(readA), "a's status was handed over unchanged, yet a was read again")
	g.Expect(readsOf("b")).To(Equal(readB), "b's status was handed over unchanged, yet b was read again")

	// b leaves the build (d tells when the round is done), then is created again.
	w.Publish(build("a", "c", "d"))
	g.Eventually(conditions("d"), 5*time.Second, 10*time.Millisecond).Should(Equal(1))
	if err := c.Delete(ctx, route("b")); err != nil {
		t.Fatal(err)
	}
	if err := c.Create(ctx, route("b")); err != nil {
		t.Fatal(err)
	}
	w.Publish(build("a", "b", "c", "d"))
	g.Eventually(conditions("b"), 5*time.Second, 10*time.Millisecond).Should(Equal(1),
		"b came back with the status object written before it left: it must be written to the new b")
}
