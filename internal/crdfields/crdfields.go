// Package crdfields lists the field paths of a CustomResourceDefinition's spec, for the
// tests that check every field of every kind Bridgehead accepts is either implemented or
// refused (and for hack/traefikfields, which records Traefik's).
package crdfields

import (
	"bytes"
	"fmt"
	"sort"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"sigs.k8s.io/yaml"
)

// Field is one field of a kind's spec.
type Field struct {
	Kind string
	// Path has list items as []: spec.routes[].services[].port.
	Path string
	// Type is the schema type: string, boolean, integer, number, int-or-string, object
	// (with properties, or a map), array (of objects), or []T for a list of scalars.
	Type string
	// Enum lists the allowed values of a scalar, when the schema restricts them.
	Enum []string
	// Leaf is true for a field without sub-fields (scalars, maps, lists of scalars).
	Leaf bool
}

// Parse reads a multi-document YAML of CRDs and returns the spec fields of version of
// each CRD of group, sorted by kind then path.
func Parse(data []byte, group, version string) ([]Field, error) {
	var out []Field
	for _, doc := range bytes.Split(data, []byte("\n---")) {
		var crd apiextensionsv1.CustomResourceDefinition
		if err := yaml.Unmarshal(doc, &crd); err != nil {
			return nil, err
		}
		if crd.Kind != "CustomResourceDefinition" || crd.Spec.Group != group {
			continue
		}
		for _, v := range crd.Spec.Versions {
			if v.Name != version || v.Schema == nil || v.Schema.OpenAPIV3Schema == nil {
				continue
			}
			spec, ok := v.Schema.OpenAPIV3Schema.Properties["spec"]
			if !ok {
				return nil, fmt.Errorf("%s: no spec in the schema", crd.Name)
			}
			walk(crd.Spec.Names.Kind, "spec", &spec, &out)
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Kind != out[j].Kind {
			return out[i].Kind < out[j].Kind
		}
		return out[i].Path < out[j].Path
	})
	return out, nil
}

func walk(kind, path string, s *apiextensionsv1.JSONSchemaProps, out *[]Field) {
	add := func(typ string, leaf bool, enum []apiextensionsv1.JSON) {
		if path == "spec" {
			return
		}
		f := Field{Kind: kind, Path: path, Type: typ, Leaf: leaf}
		for _, e := range enum {
			f.Enum = append(f.Enum, string(bytes.Trim(e.Raw, `"`)))
		}
		*out = append(*out, f)
	}
	switch {
	case s.XIntOrString:
		add("int-or-string", true, s.Enum)
	case s.Type == "object" && len(s.Properties) > 0:
		add("object", false, nil)
		names := make([]string, 0, len(s.Properties))
		for k := range s.Properties {
			names = append(names, k)
		}
		sort.Strings(names)
		for _, k := range names {
			p := s.Properties[k]
			walk(kind, path+"."+k, &p, out)
		}
	case s.Type == "array" && s.Items != nil && s.Items.Schema != nil:
		item := s.Items.Schema
		if item.Type == "object" && len(item.Properties) > 0 {
			add("array", false, nil)
			walk(kind, path+"[]", item, out)
			return
		}
		add("[]"+item.Type, true, item.Enum)
	default:
		add(s.Type, true, s.Enum)
	}
}
