// Package eventrecorder records Kubernetes Events (events.k8s.io/v1), each call its own
// Event object.
//
// client-go's recorder (k8s.io/client-go/tools/events) takes Events about one object with
// the same type, reason and action for repeats of the first one, whatever their notes
// say: within its series window a later one only raises the first one's count, and its
// note never reaches the API server (the note was left out of that key on purpose,
// kubernetes/kubernetes#112365). Bridgehead's status writers record an Event only when
// what they found changed, and several findings about one Ingress often share a reason
// (two ignored annotations are both IneffectiveSetting): each must be an Event of its own.
package eventrecorder

import (
	"context"
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-logr/logr"
	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/tools/record/util"
	"k8s.io/client-go/tools/reference"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// queueSize bounds the Events waiting to be written; beyond it they are dropped, as
// client-go's recorder does, so that a slow API server never blocks a status writer.
const queueSize = 1000

// Recorder is an events.EventRecorder that writes every Event it is given. It writes in
// its own goroutine (Start), in the order the Events were recorded.
type Recorder struct {
	client     client.Client
	scheme     *runtime.Scheme
	controller string
	instance   string
	log        logr.Logger
	queue      chan *eventsv1.Event
	dropped    atomic.Int64

	mu   sync.Mutex
	last int64 // the newest timestamp given to an Event, in Unix nanoseconds
}

// New returns a Recorder that writes through c, as reportingController controller.
func New(c client.Client, scheme *runtime.Scheme, controller string, log logr.Logger) *Recorder {
	host, _ := os.Hostname()
	return &Recorder{client: c, scheme: scheme, controller: controller, instance: controller + "-" + host, log: log,
		queue: make(chan *eventsv1.Event, queueSize)}
}

// Eventf queues an Event regarding an object; it never blocks.
func (r *Recorder) Eventf(regarding, related runtime.Object, eventtype, reason, action, note string, args ...any) {
	ref, err := reference.GetReference(r.scheme, regarding)
	if err != nil {
		r.log.Error(err, "an Event about an object that cannot be referred to is not recorded", "reason", reason)
		return
	}
	var rel *corev1.ObjectReference
	if related != nil {
		if rel, err = reference.GetReference(r.scheme, related); err != nil {
			rel = nil // the Event is still worth recording without it
		}
	}
	ns := ref.Namespace
	if ns == "" {
		ns = metav1.NamespaceDefault
	}
	now := r.now()
	ev := &eventsv1.Event{
		ObjectMeta:          metav1.ObjectMeta{Name: util.GenerateEventName(ref.Name, now.UnixNano()), Namespace: ns},
		EventTime:           metav1.NewMicroTime(now),
		ReportingController: r.controller,
		ReportingInstance:   r.instance,
		Action:              action,
		Reason:              reason,
		Regarding:           *ref,
		Related:             rel,
		Note:                fmt.Sprintf(note, args...),
		Type:                eventtype,
	}
	select {
	case r.queue <- ev:
	default:
		// Said once per hundred: a flood of Events must not become a flood of log lines.
		if n := r.dropped.Add(1); n%100 == 1 {
			r.log.Info("Events dropped: too many are waiting to be written", "dropped", n, "latest", ref.Namespace+"/"+ref.Name, "reason", reason)
		}
	}
}

// now is the time of a new Event, later than every earlier one: the Event's name is made
// from it, and two Events about one object recorded within a clock tick must not collide.
func (r *Recorder) now() time.Time {
	r.mu.Lock()
	defer r.mu.Unlock()
	t := time.Now()
	if t.UnixNano() <= r.last {
		t = time.Unix(0, r.last+1)
	}
	r.last = t.UnixNano()
	return t
}

// NeedLeaderElection is false: the Recorder writes what it is given, on any replica; the
// status writers that record Events run on the leader only.
func (r *Recorder) NeedLeaderElection() bool { return false }

// Start writes the queued Events until ctx ends.
func (r *Recorder) Start(ctx context.Context) error {
	for {
		select {
		case <-ctx.Done():
			return nil
		case ev := <-r.queue:
			r.write(ctx, ev)
		}
	}
}

// write creates ev, retrying a few times while the API server is unreachable or busy.
func (r *Recorder) write(ctx context.Context, ev *eventsv1.Event) {
	backoff := wait.Backoff{Duration: time.Second, Factor: 2, Jitter: 0.25, Steps: 4}
	for {
		err := r.client.Create(ctx, ev)
		if err == nil || ctx.Err() != nil {
			return
		}
		if !retriable(err) || backoff.Steps <= 1 {
			r.log.Error(err, "an Event could not be written", "regarding", ev.Regarding.Namespace+"/"+ev.Regarding.Name, "reason", ev.Reason)
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(backoff.Step()):
		}
		ev.ResourceVersion = ""
	}
}

// retriable reports whether writing again may succeed: not when the API server refused
// the Event itself, or its namespace is gone.
func retriable(err error) bool {
	return !apierrors.IsInvalid(err) && !apierrors.IsAlreadyExists(err) && !apierrors.IsForbidden(err) &&
		!apierrors.IsNotFound(err) && !apierrors.IsBadRequest(err)
}
