package controllers

import (
	"bytes"
	"runtime/pprof"
	"testing"
	"time"

	"github.com/go-logr/logr"
	. "github.com/onsi/gomega"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/util/workqueue"
	"sigs.k8s.io/controller-runtime/pkg/controller/priorityqueue"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
)

// metricLoops counts the goroutines that wake every 500 ms to update a work queue's
// metrics, once every goroutine a queue started has begun (before that, the dump names
// only the queue's constructor).
func metricLoops(t *testing.T) int {
	t.Helper()
	var dump []byte
	NewWithT(t).Eventually(func() []byte {
		var b bytes.Buffer
		if err := pprof.Lookup("goroutine").WriteTo(&b, 2); err != nil {
			t.Fatal(err)
		}
		dump = b.Bytes()
		return dump
	}, 10*time.Second, time.Millisecond).ShouldNot(ContainSubstring("priorityqueue.New[...].gowrap"))
	return bytes.Count(dump, []byte("updateUnfinishedWorkLoop("))
}

// An idle gateway should not wake up: the controller's queue hands out work like the
// default one but runs no periodic metrics update (the default queue does, the control).
func TestControllerQueueRunsNoPeriodicLoop(t *testing.T) {
	limiter := workqueue.NewTypedItemExponentialFailureRateLimiter[reconcile.Request](5*time.Millisecond, time.Second)
	before := metricLoops(t)

	def := priorityqueue.New("control", func(o *priorityqueue.Opts[reconcile.Request]) { o.RateLimiter = limiter })
	if got := metricLoops(t); got != before+1 {
		def.ShutDown()
		t.Fatalf("the default queue should start one metrics loop (%d before, %d after): the check cannot see it", before, got)
	}
	def.ShutDown()

	q := quietQueue(logr.Discard())("bridgehead-gateway", limiter)
	defer q.ShutDown()
	if got := metricLoops(t); got > before {
		t.Errorf("the controller's queue started a metrics loop that wakes the process every 500 ms (%d before, %d after)", before, got)
	}

	want := reconcile.Request{NamespacedName: types.NamespacedName{Namespace: "web", Name: "app"}}
	q.Add(want)
	q.AddRateLimited(want) // already queued: still one item
	got, shutdown := q.Get()
	if shutdown || got != want {
		t.Fatalf("Get = %v, shut down %v; want %v", got, shutdown, want)
	}
	q.Done(got)
	if n := q.Len(); n != 0 {
		t.Errorf("after the one item was handed out, %d remain", n)
	}
}
