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

// ourSchemas are Bridgehead's own CRDs (gateway.bridgehead.dev), which a Traefik-group
// document is admitted against too.
var ourSchemas = &schemaSet{
	fsys: crd.Bases, glob: "bases/*.yaml", group: bhv1.GroupName, strict: true,
	kinds: ourKinds, required: bhv1.GroupVersion.Version,
}

// schemaSet is one folder of embedded CRDs whose schemas are compiled on demand. A kind's
// compiled schema (its OpenAPI validator and CEL programs: hundreds of KiB of heap for the
// larger kinds, over half of an idle gateway's heap when every kind was compiled at
// start-up) is built the first time a document of that kind is admitted, so a folder of
// IngressRoutes does not hold the rules of the kinds it never uses. The files are read
// once for an index of their kinds and versions; a version's schema is read from its file
// again when it is compiled, so the index keeps no schema tree.
type schemaSet struct {
	fsys     fs.FS
	glob     string
	group    string
	strict   bool     // refuse unknown fields in the CRD files themselves
	kinds    []string // the kinds read; every one must be in the files
	required string   // the version every kind must serve

	indexOnce sync.Once
	index     map[string]*lazySchema // by "version/Kind", every served version
	indexErr  error
}

// lazySchema is one served version of a CRD, compiled on first use.
type lazySchema struct {
	file    string
	version string
	once    sync.Once
	schema  *crdSchema
	err     error
}

// crdHead is the part of a CRD file the index reads.
type crdHead struct {
	Spec struct {
		Group string `json:"group"`
		Names struct {
			Kind string `json:"kind"`
		} `json:"names"`
		Versions []struct {
			Name   string `json:"name"`
			Served bool   `json:"served"`
		} `json:"versions"`
	} `json:"spec"`
}

// load indexes the set's files once per process; the error is an embedded file's.
func (s *schemaSet) load() error {
	s.indexOnce.Do(func() { s.index, s.indexErr = s.readIndex() })
	return s.indexErr
}

func (s *schemaSet) readIndex() (map[string]*lazySchema, error) {
	files, err := fs.Glob(s.fsys, s.glob)
	if err != nil {
		return nil, err
	}
	sort.Strings(files)
	read := map[string]bool{}
	for _, k := range s.kinds {
		read[k] = true
	}
	out := map[string]*lazySchema{}
	for _, f := range files {
		data, err := fs.ReadFile(s.fsys, f)
		if err != nil {
			return nil, err
		}
		var head crdHead
		if err := yaml.Unmarshal(data, &head); err != nil {
			return nil, fmt.Errorf("%s: %w", path.Base(f), err)
		}
		if head.Spec.Group != s.group || !read[head.Spec.Names.Kind] {
			continue
		}
		for _, v := range head.Spec.Versions {
			if v.Served {
				out[v.Name+"/"+head.Spec.Names.Kind] = &lazySchema{file: f, version: v.Name}
			}
		}
	}
	for _, k := range s.kinds {
		if out[s.required+"/"+k] == nil {
			return nil, fmt.Errorf("no embedded CRD for %s/%s %s", s.group, s.required, k)
		}
	}
	return out, nil
}

// get returns the compiled schema of a kind's version; nil and no error when the set does
// not serve that version of that kind.
func (s *schemaSet) get(version, kind string) (*crdSchema, error) {
	if err := s.load(); err != nil {
		return nil, fmt.Errorf("embedded CRDs of %s: %w", s.group, err)
	}
	e := s.index[version+"/"+kind]
	if e == nil {
		return nil, nil
	}
	e.once.Do(func() {
		e.schema, e.err = s.compile(e)
		if e.err != nil {
			e.err = fmt.Errorf("embedded CRD %s: %w", path.Base(e.file), e.err)
		}
	})
	return e.schema, e.err
}

func (s *schemaSet) compile(e *lazySchema) (*crdSchema, error) {
	data, err := fs.ReadFile(s.fsys, e.file)
	if err != nil {
		return nil, err
	}
	var def apiextensionsv1.CustomResourceDefinition
	if s.strict {
		err = yaml.UnmarshalStrict(data, &def)
	} else {
		err = yaml.Unmarshal(data, &def)
	}
	if err != nil {
		return nil, err
	}
	for i := range def.Spec.Versions {
		if v := &def.Spec.Versions[i]; v.Name == e.version {
			c, err := compileVersion(v.Schema)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", v.Name, err)
			}
			c.kind = def.Spec.Names.Kind
			return c, nil
		}
	}
	return nil, fmt.Errorf("no version %s", e.version)
}

// served lists the versions the set serves of a kind, for messages ("v1, v1beta1"); get
// first.
func (s *schemaSet) served(kind string) string {
	var vs []string
	for k := range s.index {
		if v, name, _ := strings.Cut(k, "/"); name == kind {
			vs = append(vs, v)
		}
	}
	sort.Strings(vs)
	return strings.Join(vs, ", ")
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
