package manifests

import (
	"encoding/json"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strings"
	"sync"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	schemaobjectmeta "k8s.io/apiextensions-apiserver/pkg/apiserver/schema/objectmeta"
	apivalidation "k8s.io/apimachinery/pkg/api/validation"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"sigs.k8s.io/yaml"

	"github.com/bridgehead/bridgehead/config/crd"
	"github.com/bridgehead/bridgehead/internal/translate"
)

// Admission of the Gateway API's kinds (gateway.networking.k8s.io): a folder's Gateway,
// HTTPRoute, ... documents are checked against the Gateway API's own CRDs (the Standard
// channel of the version Bridgehead implements, embedded from config/crd/gateway-api): the
// OpenAPI schema, the CEL rules and the defaults, in every version those CRDs serve. The
// versions a CRD serves besides v1 (v1beta1 for Gateway, GatewayClass, HTTPRoute and
// ReferenceGrant) have the same shape as v1, so the admitted object is read as its v1 type,
// as the API server converts it.

// GatewayAPIGroup is the Gateway API's API group.
const GatewayAPIGroup = "gateway.networking.k8s.io"

var (
	gwSchemasOnce sync.Once
	gwSchemas     map[string]*crdSchema // by "version/Kind"
	gwSchemasErr  error
)

// loadGatewaySchemas compiles the embedded Gateway API CRDs once per process (on the first
// Gateway API document: a folder without one does not pay for them).
func loadGatewaySchemas() (map[string]*crdSchema, error) {
	gwSchemasOnce.Do(func() { gwSchemas, gwSchemasErr = compileGatewaySchemas(crd.GatewayAPI) })
	return gwSchemas, gwSchemasErr
}

// gatewayKinds are the registered Gateway API kinds (translate.Kinds), the ones read.
func gatewayKinds() []string {
	var out []string
	for _, k := range translate.Kinds {
		if k.GatewayAPI() {
			out = append(out, k.Name())
		}
	}
	return out
}

func compileGatewaySchemas(fsys fs.FS) (map[string]*crdSchema, error) {
	files, err := fs.Glob(fsys, "gateway-api/*.yaml")
	if err != nil {
		return nil, err
	}
	sort.Strings(files)
	read := map[string]bool{}
	for _, k := range gatewayKinds() {
		read[k] = true
	}
	out := map[string]*crdSchema{}
	for _, f := range files {
		data, err := fs.ReadFile(fsys, f)
		if err != nil {
			return nil, err
		}
		var def apiextensionsv1.CustomResourceDefinition
		if err := yaml.Unmarshal(data, &def); err != nil {
			return nil, fmt.Errorf("%s: %w", path.Base(f), err)
		}
		if def.Spec.Group != GatewayAPIGroup || !read[def.Spec.Names.Kind] {
			continue
		}
		for i := range def.Spec.Versions {
			v := &def.Spec.Versions[i]
			if !v.Served {
				continue
			}
			s, err := compileVersion(v.Schema)
			if err != nil {
				return nil, fmt.Errorf("%s %s: %w", path.Base(f), v.Name, err)
			}
			s.kind = def.Spec.Names.Kind
			out[v.Name+"/"+s.kind] = s
		}
	}
	for k := range read {
		if out["v1/"+k] == nil {
			return nil, fmt.Errorf("no embedded CRD for %s/v1 %s", GatewayAPIGroup, k)
		}
	}
	return out, nil
}

// gatewayVersions lists the served versions of a kind, for messages ("v1, v1beta1").
func gatewayVersions(schemas map[string]*crdSchema, kind string) string {
	var vs []string
	for k := range schemas {
		if v, name, _ := strings.Cut(k, "/"); name == kind {
			vs = append(vs, v)
		}
	}
	sort.Strings(vs)
	return strings.Join(vs, ", ")
}

// gatewayAPI admits one Gateway API document.
func (l *loader) gatewayAPI(d *doc, obj map[string]any, gvk schema.GroupVersionKind) {
	schemas, err := loadGatewaySchemas()
	if err != nil {
		l.problem(d, "", "embedded Gateway API CRDs: %v", err)
		return
	}
	s := schemas[gvk.Version+"/"+gvk.Kind]
	if s == nil {
		if served := gatewayVersions(schemas, gvk.Kind); served != "" {
			l.problem(d, "apiVersion", "no matches for kind %q in version %q: the Gateway API CRDs Bridgehead implements (Standard channel v1.6) serve %s in %s; write apiVersion: %s/v1",
				gvk.Kind, gvk.GroupVersion().String(), gvk.Kind, served, GatewayAPIGroup)
		} else {
			l.problem(d, "kind", "%s %s is not served: Bridgehead reads the Gateway API kinds %s (Standard channel v1.6)",
				gvk.GroupVersion().String(), gvk.Kind, strings.Join(gatewayKinds(), ", "))
		}
		return
	}
	k, _ := translate.KindNamed(gvk.Kind)
	// Status is the controller's to write: creation drops it (status subresource).
	delete(obj, "status")
	meta, _, unknown, err := schemaobjectmeta.GetObjectMetaWithOptions(obj, schemaobjectmeta.ObjectMetaOptions{ReturnUnknownFieldPaths: true})
	if err != nil {
		l.problem(d, "metadata", "%v", err)
		return
	}
	if meta == nil {
		meta = &metav1.ObjectMeta{}
	}
	unknown = append(unknown, s.prune(obj)...)
	sort.Strings(unknown)
	failed := false
	for _, p := range unknown {
		// kubectl's strict field validation: a field the CRD does not know (a typo, or a
		// field of the Experimental channel) is refused rather than dropped.
		l.problem(d, p, "unknown field %q (the Gateway API Standard channel v1.6 has no such field)", p)
		failed = true
	}
	s.applyDefaults(obj)
	var errs field.ErrorList
	if k.Namespaced() {
		errs = l.prepareMeta(meta, apivalidation.NameIsDNSSubdomain)
	} else {
		errs = l.prepareClusterMeta(meta, apivalidation.NameIsDNSSubdomain)
	}
	if err := schemaobjectmeta.SetObjectMeta(obj, meta); err != nil {
		l.problem(d, "metadata", "%v", err)
		return
	}
	errs = append(errs, s.validate(l.ctx, obj)...)
	if len(errs) > 0 {
		l.fieldErrors(d, errs)
		failed = true
	}
	if failed {
		return
	}
	// The served versions have v1's shape: the object is read as v1.
	obj["apiVersion"] = GatewayAPIGroup + "/v1"
	data, err := json.Marshal(obj)
	if err != nil {
		l.problem(d, "", "%v", err)
		return
	}
	key := translate.Key{Kind: gvk.Kind, Namespace: meta.Namespace, Name: meta.Name}
	if !l.claim(d, key) {
		return
	}
	if err := decodeInto(data, gvk.Kind, l.res.Inputs, l.creationTime()); err != nil {
		delete(l.res.Origin, key)
		l.problem(d, "", "cannot decode the admitted object: %v", err)
	}
}
