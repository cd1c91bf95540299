package manifests

import (
	"encoding/json"
	"sort"
	"strings"

	schemaobjectmeta "k8s.io/apiextensions-apiserver/pkg/apiserver/schema/objectmeta"
	apivalidation "k8s.io/apimachinery/pkg/api/validation"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/validation/field"

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

// gatewaySchemas are the Gateway API's CRDs; their index is read on the first Gateway API
// document, so a folder without one does not pay for it.
var gatewaySchemas = &schemaSet{
	fsys: crd.GatewayAPI, glob: "gateway-api/*.yaml", group: GatewayAPIGroup,
	kinds: gatewayKinds(), required: "v1",
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

// gatewayAPI admits one Gateway API document.
func (l *loader) gatewayAPI(d *doc, obj map[string]any, gvk schema.GroupVersionKind) *admission {
	out := &admission{}
	s, err := gatewaySchemas.get(gvk.Version, gvk.Kind)
	if err != nil {
		l.problem(d, "", "%v", err)
		return out
	}
	if s == nil {
		if served := gatewaySchemas.served(gvk.Kind); served != "" {
			l.problem(d, "apiVersion", "no matches for kind %q in version %q: the Gateway API CRDs Bridgehead implements (Standard channel v1.6) serve %s in %s; write apiVersion: %s/v1",
				gvk.Kind, gvk.GroupVersion().String(), gvk.Kind, served, GatewayAPIGroup)
		} else {
			l.problem(d, "kind", "%s %s is not served: Bridgehead reads the Gateway API kinds %s (Standard channel v1.6)",
				gvk.GroupVersion().String(), gvk.Kind, strings.Join(gatewayKinds(), ", "))
		}
		return out
	}
	k, _ := translate.KindNamed(gvk.Kind)
	// Status is the controller's to write: creation drops it (status subresource).
	delete(obj, "status")
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
		return out
	}
	errs = append(errs, s.validate(l.ctx, obj)...)
	if len(errs) > 0 {
		l.fieldErrors(d, errs)
		failed = true
	}
	if failed {
		return out
	}
	// The served versions have v1's shape: the object is read as v1.
	obj["apiVersion"] = GatewayAPIGroup + "/v1"
	data, err := json.Marshal(obj)
	if err != nil {
		l.problem(d, "", "%v", err)
		return out
	}
	out.admitted = true
	out.key = translate.Key{Kind: gvk.Kind, Namespace: meta.Namespace, Name: meta.Name}
	out.obj, out.decodeErr = decodeObject(data, gvk.Kind)
	if v := l.contentVersion(d); v != "" && out.decodeErr == nil {
		out.obj.SetResourceVersion(v)
	}
	return out
}
