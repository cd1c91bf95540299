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
	good map[translate.Key]*kept
	// of holds good's entries by their object. Most objects of a build at scale are the
	// very ones of the build before, and found through their address, which hashes and
	// compares at a fraction of the cost of a Key's strings (the Key look-ups were 4 ms
	// of a rebuild at 10,000 routes).
	of map[metav1.Object]*kept
	// seen counts the entries the latest build saw: when it saw them all, nothing was
	// deleted and the sweep over every entry is skipped.
	seen int
	// builds counts the Translate calls: an entry not seen by the latest is of an object
	// that was deleted.
	builds uint64
	// memo spares translating again the IngressRoutes that did not change (see
	// translate.Memo); the Keeper owns it because it owns the rebuild loop's state.
	memo translate.Memo
}

// kept is an object's last good version. It is updated in place: at 10,000 routes, a map
// of the current objects and a second pass over the last good ones cost a tenth of a
// rebuild.
type kept struct {
	obj  metav1.Object
	seen uint64 // the last build that had the object
}

// Translate is translate.Translate with every refused newer version replaced by the
// object's last good version, and the last good versions updated from the result.
func (k *Keeper) Translate(in *translate.Inputs, opts translate.Options) (*snapshot.Snapshot, translate.Statuses) {
	if k.good == nil {
		k.good, k.of = map[translate.Key]*kept{}, map[metav1.Object]*kept{}
	}
	if opts.Memo == nil {
		opts.Memo = &k.memo
	}
	k.builds++
	k.seen = 0
	b := &build{keeper: k, in: in, replaced: map[translate.Key]metav1.Object{}, refused: map[translate.Key]translate.Refusal{}}

	// Data first: a refused Secret changes what the objects reading it conclude.
	in.Visit(func(key translate.Key, o metav1.Object) metav1.Object {
		if r := checkData(o); r != nil {
			b.refuse(key, o, *r)
		} else if isData(o) {
			k.keep(key, o)
		}
		return nil
	})
	snap, statuses := b.translate(opts)
	var refusedNow []translate.Key
	for key, st := range statuses {
		if st.Refused != nil {
			refusedNow = append(refusedNow, key)
		}
	}
	if len(refusedNow) > 0 && b.refuseAll(refusedNow, statuses) {
		snap, statuses = b.translate(opts)
	}

	in.Visit(func(key translate.Key, o metav1.Object) metav1.Object {
		e := k.of[o]
		if e != nil {
			// Already this object's last good version, whatever this build concluded:
			// most objects of a rebuild at scale, spared the look-up of their status.
			k.saw(e)
			return nil
		}
		e = k.good[key]
		if st := statuses[key]; st != nil && st.Refused == nil && b.replaced[key] == nil {
			if e == nil {
				e = &kept{}
				k.good[key] = e
			}
			k.set(e, o)
		}
		if e != nil {
			k.saw(e)
		}
		return nil
	})
	if k.seen != len(k.good) {
		for key, e := range k.good {
			if e.seen != k.builds {
				delete(k.good, key) // deleted objects stay deleted
				delete(k.of, e.obj)
			}
		}
	}
	return snap, statuses
}

// keep records o as the last good version of key.
func (k *Keeper) keep(key translate.Key, o metav1.Object) {
	e := k.good[key]
	if e == nil {
		e = &kept{}
		k.good[key] = e
	}
	k.set(e, o)
	k.saw(e)
}

// set makes o the last good version held by e.
func (k *Keeper) set(e *kept, o metav1.Object) {
	if e.obj != o {
		if e.obj != nil {
			delete(k.of, e.obj)
		}
		e.obj = o
		k.of[o] = e
	}
}

// saw marks e as seen by this build.
func (k *Keeper) saw(e *kept) {
	if e.seen != k.builds {
		e.seen = k.builds
		k.seen++
	}
}

// build is one Translate call of the Keeper.
type build struct {
	keeper   *Keeper
	in       *translate.Inputs
	replaced map[translate.Key]metav1.Object // last good versions translated instead
	refused  map[translate.Key]translate.Refusal
}

// refuseAll refuses the current versions of the objects whose statuses say Refused; it
// reports whether it replaced any.
func (b *build) refuseAll(keys []translate.Key, statuses translate.Statuses) bool {
	current := make(map[translate.Key]metav1.Object, len(keys))
	for _, key := range keys {
		current[key] = nil
	}
	b.in.Visit(func(key translate.Key, o metav1.Object) metav1.Object {
		if _, ok := current[key]; ok {
			current[key] = o
		}
		return nil
	})
	again := false
	for _, key := range keys {
		if b.refuse(key, current[key], *statuses[key].Refused) {
			again = true
		}
	}
	return again
}

// refuse replaces the object of key by its last good version, if it has one that differs
// from the refused version; it reports whether it did.
func (b *build) refuse(key translate.Key, cur metav1.Object, why translate.Refusal) bool {
	e := b.keeper.good[key]
	if e == nil || cur == nil || sameVersion(e.obj, cur) {
		return false
	}
	prev := e.obj
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
