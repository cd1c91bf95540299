package manifests

import (
	"context"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strings"
	"sync"

	apiextensionsinternal "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	structuralschema "k8s.io/apiextensions-apiserver/pkg/apiserver/schema"
	"k8s.io/apiextensions-apiserver/pkg/apiserver/schema/cel"
	structuraldefaulting "k8s.io/apiextensions-apiserver/pkg/apiserver/schema/defaulting"
	structurallisttype "k8s.io/apiextensions-apiserver/pkg/apiserver/schema/listtype"
	schemaobjectmeta "k8s.io/apiextensions-apiserver/pkg/apiserver/schema/objectmeta"
	structuralpruning "k8s.io/apiextensions-apiserver/pkg/apiserver/schema/pruning"
	apiservervalidation "k8s.io/apiextensions-apiserver/pkg/apiserver/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
	celconfig "k8s.io/apiserver/pkg/apis/cel"
	"sigs.k8s.io/yaml"

	bhv1 "github.com/bridgehead/bridgehead/api/v1alpha1"
	"github.com/bridgehead/bridgehead/config/crd"
)

// crdSchema is what the API server builds from one CRD version to admit its objects:
// the structural schema (pruning, defaulting, list types), the OpenAPI validator and the
// compiled CEL rules (x-kubernetes-validations).
type crdSchema struct {
	kind       string
	structural *structuralschema.Structural
	openAPI    apiservervalidation.SchemaValidator
	cel        *cel.Validator // nil when the schema has no CEL rules
}

var (
	schemasOnce sync.Once
	schemas     map[string]*crdSchema // by kind
	schemasErr  error
)

// loadSchemas compiles the embedded CRDs once per process.
func loadSchemas() (map[string]*crdSchema, error) {
	schemasOnce.Do(func() { schemas, schemasErr = compileSchemas(crd.Bases) })
	return schemas, schemasErr
}

func compileSchemas(fsys fs.FS) (map[string]*crdSchema, error) {
	files, err := fs.Glob(fsys, "bases/*.yaml")
	if err != nil {
		return nil, err
	}
	sort.Strings(files)
	out := map[string]*crdSchema{}
	for _, f := range files {
		data, err := fs.ReadFile(fsys, f)
		if err != nil {
			return nil, err
		}
		var def apiextensionsv1.CustomResourceDefinition
		if err := yaml.UnmarshalStrict(data, &def); err != nil {
			return nil, fmt.Errorf("%s: %w", path.Base(f), err)
		}
		if def.Spec.Group != bhv1.GroupName {
			continue
		}
		for i := range def.Spec.Versions {
			v := &def.Spec.Versions[i]
			if v.Name != bhv1.GroupVersion.Version {
				continue
			}
			s, err := compileVersion(v.Schema)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", path.Base(f), err)
			}
			s.kind = def.Spec.Names.Kind
			out[s.kind] = s
		}
	}
	for _, k := range ourKinds {
		if out[k] == nil {
			return nil, fmt.Errorf("no embedded CRD for %s/%s", bhv1.GroupVersion, k)
		}
	}
	return out, nil
}

// compileVersion mirrors the API server's crdHandler.getOrCreateServingInfoFor.
func compileVersion(val *apiextensionsv1.CustomResourceValidation) (*crdSchema, error) {
	if val == nil || val.OpenAPIV3Schema == nil {
		return nil, fmt.Errorf("version has no schema")
	}
	internal := &apiextensionsinternal.CustomResourceValidation{}
	if err := apiextensionsv1.Convert_v1_CustomResourceValidation_To_apiextensions_CustomResourceValidation(val, internal, nil); err != nil {
		return nil, fmt.Errorf("converting the schema: %w", err)
	}
	s, err := structuralschema.NewStructural(internal.OpenAPIV3Schema)
	if err != nil {
		return nil, fmt.Errorf("schema is not structural: %w", err)
	}
	s = s.DeepCopy()
	if err := structuraldefaulting.PruneDefaults(s); err != nil {
		return nil, fmt.Errorf("pruning defaults: %w", err)
	}
	openAPI, _, err := apiservervalidation.NewSchemaValidator(internal.OpenAPIV3Schema)
	if err != nil {
		return nil, fmt.Errorf("building the OpenAPI validator: %w", err)
	}
	return &crdSchema{
		structural: s,
		openAPI:    openAPI,
		cel:        cel.NewValidator(s, true, celconfig.PerCallLimit),
	}, nil
}

// prune removes the fields the schema does not know, as the API server's decoder does,
// and returns their paths (for example "spec.routes[0].services[0].nativeLB").
func (s *crdSchema) prune(obj map[string]any) []string {
	unknown := structuralpruning.PruneWithOptions(obj, s.structural, true, structuralschema.UnknownFieldPathOptions{TrackUnknownFieldPaths: true})
	structuraldefaulting.PruneNonNullableNullsWithoutDefaults(obj, s.structural)
	if err, paths := schemaobjectmeta.CoerceWithOptions(nil, obj, s.structural, false, schemaobjectmeta.CoerceOptions{ReturnUnknownFieldPaths: true}); err == nil {
		unknown = append(unknown, paths...)
	}
	sort.Strings(unknown)
	return unknown
}

// applyDefaults sets the schema's defaults, as the API server does after decoding.
func (s *crdSchema) applyDefaults(obj map[string]any) {
	structuraldefaulting.Default(obj, s.structural)
}

// validate runs the API server's create validation of a custom resource (minus object
// metadata, which the caller checks): OpenAPI, embedded resources, list types, then the
// CEL rules unless an earlier error makes them meaningless.
func (s *crdSchema) validate(ctx context.Context, obj map[string]any) field.ErrorList {
	var errs field.ErrorList
	errs = append(errs, apiservervalidation.ValidateCustomResource(nil, obj, s.openAPI)...)
	errs = append(errs, schemaobjectmeta.Validate(ctx, nil, obj, s.structural, false)...)
	errs = append(errs, structurallisttype.ValidateListSetsAndMaps(nil, s.structural, obj)...)
	if s.cel != nil {
		if blocking := hasBlockingErr(errs); blocking != nil {
			errs = append(errs, blocking)
		} else {
			celErrs, _ := s.cel.Validate(ctx, nil, s.structural, obj, nil, celconfig.RuntimeCELCostBudget)
			errs = append(errs, celErrs...)
		}
	}
	return errs
}

// hasBlockingErr is the API server's rule (registry/customresource.hasBlockingErr): CEL
// rules are not run on an object whose shape is already known to be wrong.
func hasBlockingErr(errs field.ErrorList) *field.Error {
	for _, err := range errs {
		switch err.Type {
		case field.ErrorTypeNotSupported, field.ErrorTypeRequired, field.ErrorTypeTooLong, field.ErrorTypeTooMany, field.ErrorTypeTypeInvalid:
			return field.Invalid(nil, nil, "some validation rules were not checked because the object was invalid; correct the existing errors to complete validation")
		}
	}
	return nil
}

// isSpecChild reports whether an unknown-field path names a direct child of spec
// ("spec.basicAuth"), which for a Middleware is a whole middleware type.
func isSpecChild(p string) bool {
	rest, ok := strings.CutPrefix(p, "spec.")
	return ok && rest != "" && !strings.ContainsAny(rest, ".[")
}
