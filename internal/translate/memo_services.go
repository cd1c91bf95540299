package translate

import (
	"slices"

	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"
)

// Changes to Services, their EndpointSlices and BackendTLSPolicies, followed Service by
// Service. They are a cluster's most frequent changes (every pod that starts, stops or
// turns ready moves an EndpointSlice), and a new application brings its Service, and
// for end-to-end TLS on the Gateway API its BackendTLSPolicy, with its route. With the
// memo's basis all or nothing, each of them translated every route again: at 10,000
// routes the memo replayed nothing while pods rolled.
//
// When only those kinds changed since the last call, the memo's basis holds "but for
// these Services" (memoUse.changed): the Services changed, those whose EndpointSlices
// changed, and those a changed, added or removed BackendTLSPolicy targets (in its old or
// new version). A record names the Services its translation resolved
// (routeMemo.services, noteService), and replays unless one of them changed.
//
// Only what a record's own translation resolved is named in it. Something built outside
// any record and used by routes (a forwardAuth Middleware's Service) may read a changed
// Service too: noteService then ends the partial basis for the rest of the call, and
// the routes after it are translated again.

// serviceKinds are the kinds whose changes the memo follows by Service.
var serviceKinds = map[string]bool{KindService: true, KindEndpointSlice: true, KindBackendTLSPolicy: true}

// changedServices fills changed with the Services whose objects, EndpointSlices or
// BackendTLSPolicies differ between the last call's inputs (the basis) and in.
func (m *Memo) changedServices(in *Inputs, changed map[nsName]bool) {
	diffObjects(m.basis.Services, in.Services, sameVersion, func(o metav1.Object) {
		changed[nsName{o.GetNamespace(), o.GetName()}] = true
	})
	diffObjects(m.basis.EndpointSlices, in.EndpointSlices, sameVersion, func(o metav1.Object) {
		if svc := o.GetLabels()[discoveryv1.LabelServiceName]; svc != "" {
			changed[nsName{o.GetNamespace(), svc}] = true
		}
	})
	diffObjects(m.basis.BackendTLSPolicies, in.BackendTLSPolicies, sameGeneration, func(o metav1.Object) {
		for _, ref := range o.(*gwv1.BackendTLSPolicy).Spec.TargetRefs {
			changed[nsName{o.GetNamespace(), string(ref.Name)}] = true
		}
	})
}

// diffObjects calls fn with each object of before or now that the other list does not
// hold in the same version (same): both versions of a changed object, an added one, a
// removed one.
func diffObjects[PT metav1.Object](before, now []PT, same func(a, b metav1.Object) bool, fn func(metav1.Object)) {
	// The usual case: the lists are in the same order, and all objects but a few the
	// same. What lies between the same beginning and the same end is compared by name.
	i := 0
	for i < len(before) && i < len(now) && same(before[i], now[i]) {
		i++
	}
	if i == len(before) && i == len(now) {
		return
	}
	b, n := len(before), len(now)
	for b > i && n > i && same(before[b-1], now[n-1]) {
		b, n = b-1, n-1
	}
	rest := make(map[nsName]PT, b-i)
	for _, o := range before[i:b] {
		rest[nsName{o.GetNamespace(), o.GetName()}] = o
	}
	for _, o := range now[i:n] {
		k := nsName{o.GetNamespace(), o.GetName()}
		was, ok := rest[k]
		delete(rest, k)
		switch {
		case !ok:
			fn(o)
		case !same(was, o):
			fn(was)
			fn(o)
		}
	}
	for _, o := range rest {
		fn(o)
	}
}

// noteService is told of every Service a translation resolves (resolveService).
func (t *translator) noteService(k nsName) {
	switch {
	case t.rec != nil:
		if !slices.Contains(t.rec.services, k) {
			t.rec.services = append(t.rec.services, k)
		}
	case t.memo != nil && t.memo.partial && t.memo.changed[k]:
		t.memo.partial = false
	}
}

// replayable reports whether a record may replay in this call: the basis holds, or holds
// but for Services its translation did not resolve.
func (u *memoUse) replayable(m *routeMemo) bool {
	if u.usable {
		return true
	}
	if !u.partial {
		return false
	}
	for _, k := range m.services {
		if u.changed[k] {
			return false
		}
	}
	return true
}
