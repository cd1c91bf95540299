package manifests

import (
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/bridgehead/bridgehead/internal/translate"
)

// KeepLastGood carries over, from the previous result, each object that is missing now
// because its document was refused: in a cluster, `kubectl apply` of a broken edit is
// rejected and the object keeps its last good spec, and a folder behaves the same. An
// object whose document is simply gone (file deleted, document removed) stays gone.
// It returns the keys carried over.
func (r *Result) KeepLastGood(prev *Result) []translate.Key {
	if prev == nil {
		return nil
	}
	brokenFiles := map[string]bool{}
	for _, p := range r.Problems {
		brokenFiles[p.File] = true
	}
	if len(brokenFiles) == 0 {
		// Only a refused document's object is carried over: without one, the walk over
		// every object (5 ms at 10,000 routes) would find nothing.
		return nil
	}
	var kept []translate.Key
	derived := false
	keep := func(kind string, o metav1.Object) bool {
		k := translate.Key{Kind: kind, Namespace: o.GetNamespace(), Name: o.GetName()}
		if _, present := r.Origin.Get(k); present {
			return false
		}
		origin := prev.Origin.Of(k)
		file, _, _ := strings.Cut(origin, "#")
		if !brokenFiles[file] {
			return false
		}
		if !derived {
			// The load's own Origin is where the next load starts from (loadRemembering):
			// what is carried over is this result's alone.
			r.Origin, derived = r.Origin.derive(), true
		}
		r.Origin.Set(k, origin+" (last good version: the edit was refused)")
		r.OriginChanged = append(r.OriginChanged, k) // a string of its own at every load
		kept = append(kept, k)
		return true
	}
	p, c := prev.Inputs, r.Inputs
	for _, kind := range translate.Kinds {
		for _, o := range kind.Objects(p) {
			if keep(kind.Name(), o) {
				kind.Append(c, o)
			}
		}
	}
	for _, k := range kept {
		if u, ok := p.Unsupported[k]; ok {
			if c.Unsupported == nil {
				c.Unsupported = map[translate.Key][]translate.UnsupportedField{}
			}
			c.Unsupported[k] = u
		}
		if g, ok := p.APIGroups[k]; ok {
			if c.APIGroups == nil {
				c.APIGroups = map[translate.Key]string{}
			}
			c.APIGroups[k] = g
		}
	}
	return kept
}
