// Package status writes the conditions translate computed onto the objects, once per
// object per build, from the leader only.
package status

import (
	"context"
	"fmt"
	"reflect"
	"time"

	"github.com/go-logr/logr"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/events"
	"k8s.io/client-go/util/retry"
	"sigs.k8s.io/controller-runtime/pkg/client"

	bhv1 "github.com/bridgehead/bridgehead/api/v1alpha1"
	"github.com/bridgehead/bridgehead/internal/translate"
	"github.com/bridgehead/bridgehead/internal/verdict"
)

// Writer applies statuses to the API server. It runs only on the elected leader: Publish
// is cheap and may be called by every replica; only a started Writer writes.
type Writer struct {
	// Client reads objects (from the informer cache) and writes their statuses.
	Client client.Client
	// Reader reads an object from the API server when the cache keeps only a digest of
	// its status and the digest says the status differs (see CacheTransform). It may be
	// nil when the cache keeps statuses whole.
	Reader   client.Reader
	Recorder events.EventRecorder
	Clock    func() time.Time
	Log      logr.Logger

	// The newest statuses, and BackendTLSReady and friends from real handshakes.
	box     mailbox[translate.Statuses]
	written writtenStatuses // last applied, to skip no-op work; Start's alone
	// announced is what the last Event on each Traefik-group object said (traefik.go).
	announced map[translate.Key]string
}

// Publish hands the latest statuses to the writer; older unwritten ones are replaced.
func (w *Writer) Publish(s translate.Statuses) { w.box.publish(s) }

// SetRuntime hands the writer the latest runtime conditions; they are merged into the
// published statuses. Unchanged verdicts cause no work, so a flood of identical failures
// is one status write.
func (w *Writer) SetRuntime(c verdict.Conditions) { w.box.setRuntime(c) }

// NeedLeaderElection makes the manager start the writer on the leader only.
func (w *Writer) NeedLeaderElection() bool { return true }

// Start writes published statuses until ctx ends (the lease is lost or the process stops).
func (w *Writer) Start(ctx context.Context) error {
	if w.announced == nil {
		w.announced = map[translate.Key]string{}
	}
	w.box.run(ctx, func(pending translate.Statuses, runtime verdict.Conditions) {
		s := verdict.Merge(pending, runtime)
		// Only what differs from what was written is sorted and written: a build at 10,000
		// routes hands most statuses over as the very objects of the build before, which
		// are found by their address (see writtenStatuses).
		var changed []translate.Key
		held := 0 // keys of s that were written already
		for k, st := range s {
			if st == nil {
				continue // nothing to write (and forgotten below, if written before)
			}
			if w.written.same(k, st) {
				held++
				continue
			}
			switch written, ok := w.written.byKey[k]; {
			case ok && reflect.DeepEqual(written, st):
				// Equal, but another object: the build translated the route afresh (writing
				// its status gave it a new resourceVersion). Remember this one, so that the
				// next rounds find it by its address instead of comparing it field by field.
				w.written.set(k, st)
				held++
			case ok:
				held++ // written before, with another status
				changed = append(changed, k)
			default:
				changed = append(changed, k)
			}
		}
		translate.SortKeys(changed)
		for _, k := range changed {
			if ctx.Err() != nil {
				return // the lease was lost or the process stops
			}
			apply := w.apply
			switch kind, _ := translate.KindNamed(k.Kind); {
			case s[k].APIGroup != "":
				apply = w.announce // a Traefik object: no status of ours to write
			case kind != nil && kind.GatewayAPI():
				if s[k].GatewayAPI == nil {
					continue // not ours (another controller's class or parent)
				}
				apply = func(ctx context.Context, k translate.Key, st *translate.ObjectStatus) error {
					return w.applyGatewayAPI(ctx, k, st.GatewayAPI)
				}
			}
			if err := apply(ctx, k, s[k]); err != nil {
				w.Log.Error(err, "writing status", "object", k.String())
				continue
			}
			if _, before := w.written.byKey[k]; !before {
				held++
			}
			w.written.set(k, s[k])
		}
		if held == len(w.written.byKey) {
			return // every key written before is in this build: nothing is gone
		}
		// An object gone from the build is forgotten, so that one created again under the
		// same name gets its status written and its Event, even with the same verdict.
		for k := range w.written.byKey {
			if s[k] == nil {
				w.clearGatewayAPI(ctx, k)
				w.written.forget(k)
				delete(w.announced, k)
			}
		}
	})
	return nil
}

// apply merges the computed conditions into the object's status and writes it if
// anything changed, retrying on conflict with a fresh read.
func (w *Writer) apply(ctx context.Context, k translate.Key, st *translate.ObjectStatus) error {
	obj, err := newObject(k.Kind)
	if err != nil {
		return err
	}
	var readyBefore, readyAfter *metav1.Condition
	name := types.NamespacedName{Namespace: k.Namespace, Name: k.Name}
	err = retry.RetryOnConflict(retry.DefaultRetry, func() error {
		if err := w.Client.Get(ctx, name, obj); err != nil {
			return err
		}
		if cur := statusOf(obj); isDigest(cur.status) {
			// The cache keeps a digest of the status (CacheTransform): enough to tell that
			// there is nothing to write, not to merge into. (A digest that matches is of a
			// status computed for this very generation; the checks below, on the status read
			// from the server, see to the rest.)
			if obj.GetGeneration() != st.Generation || !writes(cur.status.Conditions[0].Message, st, k.Kind == translate.KindIngressRoute) {
				return nil
			}
			if w.Reader == nil {
				return fmt.Errorf("the cache keeps only a digest of %s's status, and the status writer has no Reader to read the status from the API server", k)
			}
			fresh, err := newObject(k.Kind)
			if err != nil {
				return err
			}
			if err := w.Reader.Get(ctx, name, fresh); err != nil {
				return err
			}
			obj = fresh
		}
		cur := statusOf(obj)
		// Never overwrite what was computed for a newer generation of the object.
		if cur.status.ObservedGeneration > st.Generation || obj.GetGeneration() != st.Generation {
			return nil
		}
		next := cur.status.DeepCopy()
		next.ObservedGeneration = st.Generation
		now := metav1.NewTime(w.Clock())
		for _, c := range st.Conditions {
			c.LastTransitionTime = now
			meta.SetStatusCondition(&next.Conditions, c)
		}
		hostsChanged := cur.hosts != nil && !sameStrings(*cur.hosts, st.Hosts)
		certsChanged := cur.certs != nil && !sameCerts(*cur.certs, st.Certificates)
		if reflect.DeepEqual(next, &cur.status) && !hostsChanged && !certsChanged {
			return nil
		}
		readyBefore = meta.FindStatusCondition(cur.status.Conditions, string(bhv1.ConditionReady))
		readyAfter = meta.FindStatusCondition(next.Conditions, string(bhv1.ConditionReady))
		cur.set(*next, st.Hosts, st.Certificates)
		return w.Client.Status().Update(ctx, obj)
	})
	if apierrors.IsNotFound(err) {
		return nil // deleted since the build: nothing to report on
	}
	if err != nil {
		return err
	}
	w.event(obj, readyBefore, readyAfter)
	return nil
}

// event records a Kubernetes Event when the Ready condition changes status.
func (w *Writer) event(obj client.Object, before, after *metav1.Condition) {
	if w.Recorder == nil || after == nil || (before != nil && before.Status == after.Status && before.Reason == after.Reason) {
		return
	}
	typ := corev1.EventTypeNormal
	if after.Status != metav1.ConditionTrue {
		typ = corev1.EventTypeWarning
	}
	w.Recorder.Eventf(obj, nil, typ, after.Reason, "Translate", "%s", truncate(fmt.Sprintf("Ready=%s: %s", after.Status, after.Message), 1000))
}

func sameStrings(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func sameCerts(a, b []bhv1.CertificateInfo) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].SHA256 != b[i].SHA256 || a[i].Use != b[i].Use || a[i].Source != b[i].Source || !a[i].NotAfter.Equal(&b[i].NotAfter) {
			return false
		}
	}
	return true
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n-3] + "..."
}

// writtenStatuses is what the writer applied last, by key, and the same statuses by
// address. A build at 10,000 routes hands nearly every status over as the object of the
// build before: found by its address, it costs a pointer's hash; found by its key, the
// hash and comparison of three strings scattered over the heap, which was 6 ms of every
// round (two look-ups per object, the second to find the objects gone).
type writtenStatuses struct {
	byKey     map[translate.Key]*translate.ObjectStatus
	byAddress map[*translate.ObjectStatus]translate.Key
}

// same reports whether st is the very status last written for k.
func (w *writtenStatuses) same(k translate.Key, st *translate.ObjectStatus) bool {
	wk, ok := w.byAddress[st]
	return ok && wk == k
}

func (w *writtenStatuses) set(k translate.Key, st *translate.ObjectStatus) {
	if w.byKey == nil {
		w.byKey = map[translate.Key]*translate.ObjectStatus{}
		w.byAddress = map[*translate.ObjectStatus]translate.Key{}
	}
	if old, ok := w.byKey[k]; ok && w.byAddress[old] == k {
		delete(w.byAddress, old)
	}
	w.byKey[k] = st
	w.byAddress[st] = k
}

func (w *writtenStatuses) forget(k translate.Key) {
	if old, ok := w.byKey[k]; ok && w.byAddress[old] == k {
		delete(w.byAddress, old)
	}
	delete(w.byKey, k)
}
