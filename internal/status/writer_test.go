package status

import (
	"context"
	"testing"
	"time"

	"github.com/go-logr/logr"
	. "github.com/onsi/gomega"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/events"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

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
