// Package lastgood keeps, per object, the last version that could be served, and
// translates it in place of a newer version that cannot: bad input never takes down what
// was working.
//
// Two kinds of newer version are refused:
//   - a Secret or ConfigMap whose certificate, key or CA data no longer parses (garbage
//     PEM, a key that does not match its certificate): the certificate that was being
//     served stays, instead of the self-signed default;
//   - an object whose own spec no longer translates (a match rule that does not parse, a
//     value translate refuses; Accepted=False for a reason of its own, not a conflict with
//     another object): its routes keep serving as they were, instead of vanishing and
//     letting their traffic fall through to another route.
//
// translate stays pure: the Keeper only chooses which version of each object it is given,
// and tells it which ones it replaced (Inputs.Refused), so that the statuses say which
// generation serves and why the newest one does not. An object that is deleted is gone;
// one that was never good is translated as it is (and fails closed, as before). What the
// Keeper remembers lives as long as the process: after a restart, an object that is still
// broken has no last good version.
package lastgood

import (
	"reflect"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/bridgehead/bridgehead/internal/snapshot"
	"github.com/bridgehead/bridgehead/internal/translate"
)

// Keeper remembers the last good version of every object across builds. It is not safe
// for concurrent use: one rebuild loop owns it.
type Keeper struct {
	good map[translate.Key]metav1.Object
	// memo spares translating again the IngressRoutes that did not change (see
	// translate.Memo); the Keeper owns it because it owns the rebuild loop's state.
	memo translate.Memo
}

// Translate is translate.Translate with every refused newer version replaced by the
// object's last good version, and the last good versions updated from the result.
func (k *Keeper) Translate(in *translate.Inputs, opts translate.Options) (*snapshot.Snapshot, translate.Statuses) {
	if k.good == nil {
		k.good = map[translate.Key]metav1.Object{}
	}
	if opts.Memo == nil {
		opts.Memo = &k.memo
	}
	current := make(map[translate.Key]metav1.Object, in.Count())
	in.Visit(func(key translate.Key, o metav1.Object) metav1.Object {
		current[key] = o
		return nil
	})
	b := &build{keeper: k, in: in, current: current, replaced: map[translate.Key]metav1.Object{}, refused: map[translate.Key]translate.Refusal{}}

	// Data first: a refused Secret changes what the objects reading it conclude.
	for key, o := range current {
		if r := checkData(o); r != nil {
			b.refuse(key, o, *r)
		} else if isData(o) {
			k.good[key] = o
		}
	}
	snap, statuses := b.translate(opts)
	again := false
	for key, st := range statuses {
		if st.Refused != nil && b.refuse(key, current[key], *st.Refused) {
			again = true
		}
	}
	if again {
		snap, statuses = b.translate(opts)
	}

	for key, st := range statuses {
		if _, replaced := b.replaced[key]; !replaced && st.Refused == nil && current[key] != nil {
			k.good[key] = current[key]
		}
	}
	for key := range k.good {
		if current[key] == nil {
			delete(k.good, key) // deleted objects stay deleted
		}
	}
	return snap, statuses
}

// build is one Translate call of the Keeper.
type build struct {
	keeper   *Keeper
	in       *translate.Inputs
	current  map[translate.Key]metav1.Object
	replaced map[translate.Key]metav1.Object // last good versions translated instead
	refused  map[translate.Key]translate.Refusal
}

// refuse replaces the object of key by its last good version, if it has one that differs
// from the refused version; it reports whether it did.
func (b *build) refuse(key translate.Key, cur metav1.Object, why translate.Refusal) bool {
	prev, ok := b.keeper.good[key]
	if !ok || cur == nil || sameVersion(prev, cur) {
		return false
	}
	if _, done := b.replaced[key]; done {
		return false
	}
	why.Generation, why.ServingGeneration = cur.GetGeneration(), prev.GetGeneration()
	b.replaced[key], b.refused[key] = prev, why
	return true
}

func (b *build) translate(opts translate.Options) (*snapshot.Snapshot, translate.Statuses) {
	if len(b.replaced) == 0 {
		return translate.Translate(b.in, opts)
	}
	work := b.in.ShallowCopy()
	work.Visit(func(key translate.Key, _ metav1.Object) metav1.Object { return b.replaced[key] })
	work.Replaced = b.refused
	return translate.Translate(work, opts)
}

// checkData is translate's data check for the objects that hold certificates and CAs.
func checkData(o metav1.Object) *translate.Refusal {
	switch v := o.(type) {
	case *corev1.Secret:
		return translate.CheckSecret(v)
	case *corev1.ConfigMap:
		return translate.CheckConfigMap(v)
	}
	return nil
}

func isData(o metav1.Object) bool {
	switch o.(type) {
	case *corev1.Secret, *corev1.ConfigMap:
		return true
	}
	return false
}

// sameVersion reports whether two objects are one version: the same resourceVersion from
// the API server, or equal content where there is none (a folder of manifests).
func sameVersion(a, b metav1.Object) bool {
	if a == b {
		return true
	}
	if rv := a.GetResourceVersion(); rv != "" {
		return rv == b.GetResourceVersion()
	}
	return reflect.DeepEqual(a, b)
}
