package manifests

import (
	"encoding/json"
	"fmt"
	"reflect"
	"sort"
	"strings"

	schemaobjectmeta "k8s.io/apiextensions-apiserver/pkg/apiserver/schema/objectmeta"
	apivalidation "k8s.io/apimachinery/pkg/api/validation"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation/field"

	bhv1 "github.com/bridgehead/bridgehead/api/v1alpha1"
	"github.com/bridgehead/bridgehead/internal/translate"
)

// Admission of Bridgehead's own kinds and Traefik's: the schema, CEL rules and defaults
// of the embedded CRDs, and what Traefik fields Bridgehead lacks.

// custom admits one of Bridgehead's kinds, or a Traefik manifest read as one (group is
// then its Traefik API group, else empty).
// c is what the document's bytes made (see converted; kind and group follow from them);
// obj is the decoded document, or nil when c was remembered (it is decoded only if its
// admission was not).
func (l *loader) custom(d *doc, c *converted, obj map[string]any, kind, group string) {
	l.admitOnce(d, c, func() *admission { return l.admit(d, decoded(c, obj), kind, group) })
}

// admitOnce adds the document's object to the load, admitting it (admit) only the first
// time its text is read: a later load of the same text, as the same List item, replays the
// admission's problems at the document's place and adds its object. Admission depends on
// the text alone (TestRememberingLoadEqualsFreshLoad); what depends on the place (the
// creation time, duplicates) is done at every load, by accept.
//
// Every family of kinds goes through here: ours and Traefik's (the CRD schemas and CEL
// rules), Gateway API's (the same, with its CRDs) and the core kinds (strict decoding).
// Before the Gateway API and core kinds did, a change to one file of a folder of 10,000
// HTTPRoutes admitted all 10,000 again: 3.3 s (BenchmarkReloadRemembered/HTTPRoute).
func (l *loader) admitOnce(d *doc, c *converted, admit func() *admission) {
	a := c.admission
	if a == nil || c.admittedItem != d.item {
		start := len(l.res.Problems)
		a = admit()
		for _, p := range l.res.Problems[start:] {
			p.File, p.Doc = "", 0
			a.problems = append(a.problems, p)
		}
		c.admission, c.admittedItem = a, d.item
		if c.yaml != "" {
			// Remembered: later loads use the admission. The JSON would serve only a
			// document admitted again as another List item, and jsonOf converts the
			// text again for that (2.5 MB less at 10,000 documents).
			c.json = nil
		}
		if a.admitted {
			l.accept(d, a)
		}
		return
	}
	l.replayAdmission(d, a)
}

// replayAdmission adds the document's object as its remembered admission a decided:
// a's problems at the document's place, and the object if it was admitted.
func (l *loader) replayAdmission(d *doc, a *admission) {
	for _, p := range a.problems {
		p.File, p.Doc = d.file, d.index
		l.res.Problems = append(l.res.Problems, p)
	}
	if a.admitted {
		l.accept(d, a)
	}
}

// admit runs admission (pruning, defaults, the schema and CEL rules) on one document of our
// kinds, reporting what is wrong with it as problems; the admission's data is nil when the
// object is refused.
func (l *loader) admit(d *doc, obj map[string]any, kind, group string) *admission {
	out := &admission{}
	traefik := group != ""
	s, err := ourSchemas.get(bhv1.GroupVersion.Version, kind)
	if err != nil {
		l.problem(d, "", "%v", err)
		return out
	}
	obj["apiVersion"] = bhv1.GroupVersion.String()
	// Status is the controller's to write: creation drops it (status subresource).
	delete(obj, "status")
	var original map[string]any
	if traefik {
		original = runtime.DeepCopyJSON(obj)
	}

	meta, _, unknown, err := schemaobjectmeta.GetObjectMetaWithOptions(obj, schemaobjectmeta.ObjectMetaOptions{ReturnUnknownFieldPaths: true})
	if err != nil {
		l.problem(d, "metadata", "%v", err)
		return out
	}
	if meta == nil {
		meta = &metav1.ObjectMeta{}
	}
	unknown = append(unknown, s.prune(obj)...)
	sort.Strings(unknown)
	failed := false
	var unsupported []translate.UnsupportedField
	for _, p := range unknown {
		switch {
		case !traefik:
			l.problem(d, p, "unknown field %q", p)
			failed = true
		default:
			if u := unsupportedField(kind, p, original); u != nil {
				unsupported = append(unsupported, *u)
			}
		}
	}
	s.applyDefaults(obj)

	errs := l.prepareMeta(meta, apivalidation.NameIsDNSSubdomain)
	if err := schemaobjectmeta.SetObjectMeta(obj, meta); err != nil {
		l.problem(d, "metadata", "%v", err)
		return out
	}
	errs = append(errs, s.validate(l.ctx, obj)...)
	if traefik && (kind == translate.KindMiddleware || kind == translate.KindMiddlewareTCP) {
		var ok bool
		if errs, ok = l.traefikMiddleware(d, obj, unsupported, errs); !ok {
			failed = true
		}
	}
	if traefik && kind == translate.KindTraefikService {
		errs = traefikServiceVariant(obj, unsupported, errs)
	}
	if len(errs) > 0 {
		l.fieldErrors(d, errs)
		failed = true
	}
	if failed {
		// Say what else keeps the object from being served, so one fix is not followed
		// by another refusal.
		for _, u := range unsupported {
			l.problem(d, u.Path, "not implemented by Bridgehead: %s", u.Hint)
		}
		return out
	}

	data, err := json.Marshal(obj)
	if err != nil {
		l.problem(d, "", "%v", err)
		return out
	}
	out.admitted, out.unsupported, out.traefikGroup = true, unsupported, group
	out.key = translate.Key{Kind: kind, Namespace: meta.Namespace, Name: meta.Name}
	out.obj, out.decodeErr = decodeObject(data, kind)
	if v := l.contentVersion(d); v != "" && out.decodeErr == nil {
		out.obj.SetResourceVersion(v)
	}
	return out
}

// accept adds an admitted object to the load's inputs, unless an earlier document defined it.
func (l *loader) accept(d *doc, a *admission) {
	if a.kind == nil {
		// Once per admission: a scan of every kind by name; and the key takes the very
		// strings every other Key of the object holds (the kind's own name, the decoded
		// object's namespace and name), so that two keys of the object compare by address
		// and not byte by byte: at 10,000 objects, every rebuild looks each one up in
		// several maps, the status table's among them.
		a.kind, _ = translate.KindNamed(a.key.Kind)
		a.key.Kind = a.kind.Name()
		if a.obj != nil && a.decodeErr == nil {
			if ns := a.obj.GetNamespace(); ns == a.key.Namespace {
				a.key.Namespace = ns
			}
			if name := a.obj.GetName(); name == a.key.Name {
				a.key.Name = name
			}
		}
	}
	if !l.claim(d, a.key) {
		return
	}
	if a.decodeErr != nil {
		// The schema admitted something the Go type cannot hold: a bug in the CRD.
		l.res.Origin.Delete(a.key)
		l.claims--
		l.problem(d, "", "cannot decode the admitted object: %v", a.decodeErr)
		return
	}
	in := l.res.Inputs
	// A copy per load, for the creation time: it is the document's place in the folder,
	// which the memoized admission does not know. The copy is shallow because translate
	// never writes to its inputs (TestGolden checks that in every case), so loads share
	// the rest of the object; a deep copy of every object was a tenth of a change's CPU
	// at 10,000 routes.
	// The last load's copy serves again when the document is where it was: the objects
	// of an unchanged folder are then the same from one load to the next. Once placed,
	// the copy is what the next copy is made from, and the decoded object is let go: the
	// two differed only in the creation time, and at 10,000 routes the second was 4 MB.
	created := l.creationTime()
	obj := a.placed
	if obj == nil || !obj.GetCreationTimestamp().Time.Equal(created.Time) {
		template := a.obj
		if obj != nil {
			template = obj
		}
		obj = shallowCopy(template)
		obj.SetCreationTimestamp(created)
		a.placed, a.obj = obj, nil
	}
	a.kind.Append(in, obj)
	if group := a.traefikGroup; group != "" {
		in.APIGroups[a.key] = group
		if len(a.unsupported) > 0 {
			in.Unsupported[a.key] = a.unsupported
		}
	}
}

// decodeObject decodes one object of an input kind.
func decodeObject(data []byte, kind string) (translate.Object, error) {
	k, ok := translate.KindNamed(kind)
	if !ok {
		return nil, fmt.Errorf("no input kind %s", kind)
	}
	obj := k.NewObject()
	if err := json.Unmarshal(data, obj); err != nil {
		return nil, err
	}
	return obj, nil
}

// traefikMiddleware handles the middleware types Bridgehead lacks (of a Middleware or a
// MiddlewareTCP). Traefik refuses a middleware object with more than one type, so a valid
// one has exactly one: when that one is not implemented, the object is kept with an empty
// spec, and translate refuses it (UnsupportedField, naming the type) so that the routes
// using it fail closed.
func (l *loader) traefikMiddleware(d *doc, obj map[string]any, unsupported []translate.UnsupportedField, errs field.ErrorList) (field.ErrorList, bool) {
	var lacking []string
	for _, u := range unsupported {
		if isSpecChild(u.Path) {
			lacking = append(lacking, strings.TrimPrefix(u.Path, "spec."))
		}
	}
	if len(lacking) == 0 {
		return errs, true
	}
	spec, _ := obj["spec"].(map[string]any)
	var known []string
	for k := range spec {
		known = append(known, k)
	}
	sort.Strings(known)
	if len(known)+len(lacking) > 1 {
		l.problem(d, "spec", "sets %d middleware types (%s); Traefik refuses a middleware with more than one type too: declare one per type",
			len(known)+len(lacking), strings.Join(append(known, lacking...), ", "))
		return errs, false
	}
	var kept field.ErrorList
	for _, e := range errs {
		if e.Field == "spec" && strings.Contains(e.Detail, "set exactly one") {
			continue
		}
		kept = append(kept, e)
	}
	return kept, true
}

// traefikServiceVariant keeps a Traefik TraefikService whose only variant is one
// Bridgehead lacks (one added by a later Traefik): its spec is left empty, and
// translate refuses it (UnsupportedField, naming the variant), so the routes that use it
// fail closed naming it rather than "TraefikService not found".
func traefikServiceVariant(obj map[string]any, unsupported []translate.UnsupportedField, errs field.ErrorList) field.ErrorList {
	spec, _ := obj["spec"].(map[string]any)
	for _, variant := range []string{"weighted", "mirroring", "failover", "highestRandomWeight"} {
		if _, ok := spec[variant]; ok {
			return errs
		}
	}
	lacking := false
	for _, u := range unsupported {
		lacking = lacking || isSpecChild(u.Path)
	}
	if !lacking {
		return errs
	}
	var kept field.ErrorList
	for _, e := range errs {
		if e.Field == "spec" && strings.Contains(e.Detail, "set exactly one") {
			continue
		}
		kept = append(kept, e)
	}
	return kept
}

// shallowCopy copies the object's struct, sharing what its fields point to.
func shallowCopy(o translate.Object) translate.Object {
	v := reflect.ValueOf(o).Elem()
	cp := reflect.New(v.Type())
	cp.Elem().Set(v)
	return cp.Interface().(translate.Object)
}
