package manifests

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"

	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/bridgehead/bridgehead/internal/translate"
)

// Ingress and IngressClass of the API versions Kubernetes 1.22 removed are still in
// countless repositories and blog posts. A folder of manifests is read as the user has it:
// they are converted to networking.k8s.io/v1 as the API server used to convert them, and
// the Ingress says so in a RemovedAPIVersion warning that names the replacement fields
// (the cluster itself refuses the old versions).

// legacyIngressVersions are the group/versions of Ingress that are converted.
var legacyIngressVersions = map[string]bool{"extensions/v1beta1": true, "networking.k8s.io/v1beta1": true}

// legacy converts one removed-version Ingress or IngressClass document, then admits it
// as networking.k8s.io/v1.
func (l *loader) legacy(d *doc, obj map[string]any, gvk schema.GroupVersionKind) {
	apiVersion := gvk.GroupVersion().String()
	converted, renamed, err := ConvertLegacyIngress(obj)
	if err != nil {
		l.problem(d, "", "%s %s: %v; write it as networking.k8s.io/v1", apiVersion, gvk.Kind, err)
		return
	}
	data, err := json.Marshal(converted)
	if err != nil {
		l.problem(d, "", "%v", err)
		return
	}
	v1 := networkingv1.SchemeGroupVersion.WithKind(gvk.Kind)
	in := l.res.Inputs
	before := len(in.Ingresses)
	// Not remembered (admitOnce): removed versions are rare, and converted on every load.
	if a := l.admitCore(d, data, converted, v1); a.admitted {
		l.accept(d, a)
	}
	if gvk.Kind != KindIngress || len(in.Ingresses) == before {
		return
	}
	ing := in.Ingresses[len(in.Ingresses)-1]
	msg := fmt.Sprintf("apiVersion %s was removed in Kubernetes 1.22 (a cluster refuses it); this Ingress is read as networking.k8s.io/v1", apiVersion)
	if len(renamed) > 0 {
		msg += ", with " + strings.Join(renamed, ", ")
	}
	msg += ": write it as networking.k8s.io/v1 with those fields"
	if in.RemovedAPIVersions == nil {
		in.RemovedAPIVersions = map[translate.Key]string{}
	}
	in.RemovedAPIVersions[translate.Key{Kind: translate.KindIngress, Namespace: ing.Namespace, Name: ing.Name}] = msg
}

// KindIngress is the kind of an Ingress document.
const KindIngress = "Ingress"

// ConvertLegacyIngress converts an extensions/v1beta1 or networking.k8s.io/v1beta1
// Ingress, or a networking.k8s.io/v1beta1 IngressClass, given as a decoded JSON object,
// to networking.k8s.io/v1. renamed lists each field it rewrote as "OLD -> NEW". The input
// is not modified. Fields it does not know are left for the v1 decoder to refuse.
func ConvertLegacyIngress(obj map[string]any) (out map[string]any, renamed []string, err error) {
	out = deepCopy(obj).(map[string]any)
	out["apiVersion"] = networkingv1.SchemeGroupVersion.String()
	kind, _ := out["kind"].(string)
	if kind != KindIngress {
		return out, nil, nil // IngressClass: the v1beta1 and v1 schemas are the same
	}
	spec, ok := out["spec"].(map[string]any)
	if !ok {
		if out["spec"] != nil {
			return nil, nil, fmt.Errorf("spec is not an object")
		}
		return out, nil, nil
	}
	if b, ok := spec["backend"]; ok {
		if _, both := spec["defaultBackend"]; both {
			return nil, nil, fmt.Errorf("spec.backend and spec.defaultBackend are both set")
		}
		delete(spec, "backend")
		nb, r, err := convertBackend("spec.backend", "spec.defaultBackend", b)
		if err != nil {
			return nil, nil, err
		}
		spec["defaultBackend"] = nb
		renamed = append(renamed, "spec.backend -> spec.defaultBackend")
		renamed = append(renamed, r...)
	}
	rules, _ := spec["rules"].([]any)
	if spec["rules"] != nil && rules == nil {
		return nil, nil, fmt.Errorf("spec.rules is not a list")
	}
	for i, r := range rules {
		rule, ok := r.(map[string]any)
		if !ok {
			return nil, nil, fmt.Errorf("spec.rules[%d] is not an object", i)
		}
		http, ok := rule["http"].(map[string]any)
		if !ok {
			continue
		}
		paths, _ := http["paths"].([]any)
		for j, p := range paths {
			path, ok := p.(map[string]any)
			if !ok {
				return nil, nil, fmt.Errorf("spec.rules[%d].http.paths[%d] is not an object", i, j)
			}
			field := fmt.Sprintf("spec.rules[%d].http.paths[%d]", i, j)
			if _, set := path["pathType"]; !set {
				// v1beta1 defaulted it; v1 requires it.
				path["pathType"] = string(networkingv1.PathTypeImplementationSpecific)
				renamed = append(renamed, field+".pathType: ImplementationSpecific (the old default, now required)")
			}
			if b, ok := path["backend"]; ok {
				nb, r, err := convertBackend(field+".backend", field+".backend", b)
				if err != nil {
					return nil, nil, err
				}
				path["backend"] = nb
				renamed = append(renamed, r...)
			}
		}
	}
	return out, renamed, nil
}

// convertBackend turns {serviceName, servicePort} into {service: {name, port}}; a
// resource backend is the same in both versions.
func convertBackend(oldField, newField string, b any) (map[string]any, []string, error) {
	backend, ok := b.(map[string]any)
	if !ok {
		return nil, nil, fmt.Errorf("%s is not an object", oldField)
	}
	name, hasName := backend["serviceName"]
	port, hasPort := backend["servicePort"]
	if !hasName && !hasPort {
		return backend, nil, nil
	}
	delete(backend, "serviceName")
	delete(backend, "servicePort")
	svc := map[string]any{}
	if hasName {
		s, ok := name.(string)
		if !ok {
			return nil, nil, fmt.Errorf("%s.serviceName is not a string", oldField)
		}
		svc["name"] = s
	}
	var renamed []string
	renamed = append(renamed, fmt.Sprintf("%s.serviceName -> %s.service.name", oldField, newField))
	if hasPort {
		switch p := port.(type) {
		case int64:
			port = float64(p)
		case int:
			port = float64(p)
		case json.Number:
			if f, err := p.Float64(); err == nil {
				port = f
			}
		}
		switch p := port.(type) {
		case float64:
			if p != math.Trunc(p) || p < 0 || p > math.MaxInt32 {
				return nil, nil, fmt.Errorf("%s.servicePort %v is not a port number", oldField, p)
			}
			svc["port"] = map[string]any{"number": int64(p)}
			renamed = append(renamed, fmt.Sprintf("%s.servicePort -> %s.service.port.number", oldField, newField))
		case string:
			if n, err := strconv.ParseInt(p, 10, 32); err == nil {
				svc["port"] = map[string]any{"number": n}
				renamed = append(renamed, fmt.Sprintf("%s.servicePort -> %s.service.port.number", oldField, newField))
			} else {
				svc["port"] = map[string]any{"name": p}
				renamed = append(renamed, fmt.Sprintf("%s.servicePort -> %s.service.port.name", oldField, newField))
			}
		default:
			return nil, nil, fmt.Errorf("%s.servicePort is neither a number nor a name", oldField)
		}
	}
	backend["service"] = svc
	return backend, renamed, nil
}

func deepCopy(v any) any {
	switch t := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(t))
		for k, e := range t {
			out[k] = deepCopy(e)
		}
		return out
	case []any:
		out := make([]any, len(t))
		for i, e := range t {
			out[i] = deepCopy(e)
		}
		return out
	}
	return v
}
