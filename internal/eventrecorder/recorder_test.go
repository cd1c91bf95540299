package eventrecorder

import (
	"context"
	"testing"
	"time"

	"github.com/go-logr/logr"
	. "github.com/onsi/gomega"
	eventsv1 "k8s.io/api/events/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
)

// A real API server sees these Events in controllers/ingress_test.go; here, what the
// Recorder makes of its calls.

func TestEventsWithTheSameReasonAreEachWritten(t *testing.T) {
	g := NewWithT(t)
	c := fake.NewClientBuilder().WithScheme(clientgoscheme.Scheme).Build()
	r := New(c, clientgoscheme.Scheme, "bridgehead", logr.Discard())
	ing := &networkingv1.Ingress{ObjectMeta: metav1.ObjectMeta{Namespace: "web", Name: "shop", UID: "u-1"}}

	// Recorded before Start: queued, not lost.
	r.Eventf(ing, nil, "Warning", "IneffectiveSetting", "Translate", "metadata.annotations[%s]: ignored", "haproxy.org/timeout-server")
	r.Eventf(ing, nil, "Warning", "IneffectiveSetting", "Translate", "metadata.annotations[%s]: ignored", "nginx.ingress.kubernetes.io/proxy-body-size")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() { _ = r.Start(ctx) }()

	var evs eventsv1.EventList
	g.Eventually(func() ([]eventsv1.Event, error) {
		err := c.List(ctx, &evs, client.InNamespace("web"))
		return evs.Items, err
	}).WithTimeout(10 * time.Second).Should(HaveLen(2))
	notes := map[string]bool{}
	for _, e := range evs.Items {
		notes[e.Note] = true
		g.Expect(e.Regarding.Kind).To(Equal("Ingress"))
		g.Expect(e.Regarding.Name).To(Equal("shop"))
		g.Expect(e.Regarding.UID).To(BeEquivalentTo("u-1"))
		g.Expect(e.Reason).To(Equal("IneffectiveSetting"))
		g.Expect(e.ReportingController).To(Equal("bridgehead"))
		g.Expect(e.ReportingInstance).To(HavePrefix("bridgehead-"))
		g.Expect(e.EventTime.IsZero()).To(BeFalse())
		g.Expect(e.Series).To(BeNil())
	}
	g.Expect(notes).To(HaveKey("metadata.annotations[haproxy.org/timeout-server]: ignored"))
	g.Expect(notes).To(HaveKey("metadata.annotations[nginx.ingress.kubernetes.io/proxy-body-size]: ignored"))
}

func TestRecordingNeverBlocks(t *testing.T) {
	g := NewWithT(t)
	c := fake.NewClientBuilder().WithScheme(clientgoscheme.Scheme).Build()
	r := New(c, clientgoscheme.Scheme, "bridgehead", logr.Discard())
	const size = 20
	r.queue = make(chan *eventsv1.Event, size)
	ing := &networkingv1.Ingress{ObjectMeta: metav1.ObjectMeta{Namespace: "web", Name: "shop"}}
	// Nothing writes yet: the queue fills, and the rest are dropped rather than waited for.
	for i := range size + 10 {
		r.Eventf(ing, nil, "Warning", "IneffectiveSetting", "Translate", "finding %d", i)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() { _ = r.Start(ctx) }()
	var evs eventsv1.EventList
	g.Eventually(func() (int, error) {
		err := c.List(ctx, &evs, client.InNamespace("web"))
		return len(evs.Items), err
	}).WithTimeout(10 * time.Second).Should(Equal(size))
	g.Consistently(func() (int, error) {
		err := c.List(ctx, &evs, client.InNamespace("web"))
		return len(evs.Items), err
	}).WithTimeout(200*time.Millisecond).Should(Equal(size), "the Events beyond the queue were dropped")
	names := map[string]bool{}
	for _, e := range evs.Items {
		names[e.Name] = true
	}
	g.Expect(names).To(HaveLen(size), "every Event has a name of its own")
}
