package manifests

import (
	"strings"
	"testing"
	"testing/fstest"

	bhv1 "github.com/bridgehead/bridgehead/api/v1alpha1"
	"github.com/bridgehead/bridgehead/config/crd"
)

// Every served version of every embedded CRD compiles. Compiling is lazy, so without this
// a broken schema would show only on a user's first document of that kind.
func TestEmbeddedSchemasCompile(t *testing.T) {
	for _, set := range []*schemaSet{ourSchemas, gatewaySchemas} {
		if err := set.load(); err != nil {
			t.Fatalf("%s: %v", set.group, err)
		}
		for key := range set.index {
			version, kind, _ := strings.Cut(key, "/")
			s, err := set.get(version, kind)
			if err != nil || s == nil {
				t.Errorf("%s %s: schema %v, error %v", set.group, key, s, err)
				continue
			}
			if s.kind != kind {
				t.Errorf("%s %s: compiled as kind %q", set.group, key, s.kind)
			}
		}
	}
}

// A kind's schema is compiled when a document of that kind is first admitted, and only
// that kind's: a folder of IngressRoutes keeps no other kind's CEL programs in memory.
func TestSchemasCompileOnFirstUse(t *testing.T) {
	set := &schemaSet{fsys: crd.Bases, glob: "bases/*.yaml", group: bhv1.GroupName, strict: true, kinds: ourKinds, required: "v1alpha1"}
	if err := set.load(); err != nil {
		t.Fatal(err)
	}
	if s, err := set.get("v1alpha1", "IngressRoute"); err != nil || s == nil {
		t.Fatalf("IngressRoute: schema %v, error %v", s, err)
	}
	for key, e := range set.index {
		if compiled := e.schema != nil; compiled != (key == "v1alpha1/IngressRoute") {
			t.Errorf("%s: compiled %v after admitting only an IngressRoute", key, compiled)
		}
	}
	if s, err := set.get("v1", "IngressRoute"); s != nil || err != nil {
		t.Errorf("an unserved version: schema %v, error %v; want neither", s, err)
	}
}

// A kind the set must read but no file defines is an error of the index, and a schema that
// does not compile is an error naming its file, returned to every document of that kind.
func TestSchemaSetErrors(t *testing.T) {
	crdFile := func(kind, schema string) *fstest.MapFile { // schema "": the version has none
		return &fstest.MapFile{Data: []byte(`apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: things.example.com
spec:
  group: example.com
  names: {kind: ` + kind + `, plural: things, singular: thing, listKind: ThingList}
  scope: Namespaced
  versions:
  - name: v1
    served: true
    storage: true
` + schema)}
	}
	missing := &schemaSet{fsys: fstest.MapFS{"crds/thing.yaml": crdFile("Thing", "    schema: {openAPIV3Schema: {type: object}}\n")}, glob: "crds/*.yaml", group: "example.com", kinds: []string{"Thing", "Other"}, required: "v1"}
	if err := missing.load(); err == nil || !strings.Contains(err.Error(), "no embedded CRD for example.com/v1 Other") {
		t.Errorf("a missing kind: error %v", err)
	}

	broken := &schemaSet{fsys: fstest.MapFS{"crds/thing.yaml": crdFile("Thing", "")}, glob: "crds/*.yaml", group: "example.com", kinds: []string{"Thing"}, required: "v1"}
	if err := broken.load(); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if _, err := broken.get("v1", "Thing"); err == nil || !strings.Contains(err.Error(), "embedded CRD thing.yaml: v1: version has no schema") {
			t.Errorf("a schema that does not compile: error %v", err)
		}
	}
}
