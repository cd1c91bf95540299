package manifests

import (
	"bufio"
	"bytes"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	bhv1 "github.com/bridgehead/bridgehead/api/v1alpha1"
	"github.com/bridgehead/bridgehead/internal/translate"
)

// traefikFieldLine is one line of testdata/traefik-*.txt (made by hack/traefikfields).
type traefikFieldLine struct {
	kind, path, typ string
}

// traefikLists are the field lists and the groups each is checked in: Traefik v3's in
// both groups (a v2 manifest moved to traefik.containo.us may use v3 fields too), and
// v2's in traefik.containo.us.
var traefikLists = []struct {
	file   string
	groups []string
}{
	{"testdata/traefik-v3.7.9.txt", []string{traefikGroup, traefikLegacyGroup}},
	{"testdata/traefik-v2.11.9-containo.txt", []string{traefikLegacyGroup}},
}

func readTraefikFields(t *testing.T, file string) []traefikFieldLine {
	t.Helper()
	data, err := os.ReadFile(filepath.FromSlash(file))
	if err != nil {
		t.Fatal(err)
	}
	var out []traefikFieldLine
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		f := strings.Fields(line)
		if len(f) != 3 {
			t.Fatalf("%s: bad line %q", file, line)
		}
		out = append(out, traefikFieldLine{f[0], f[1], f[2]})
	}
	if len(out) == 0 {
		t.Fatalf("%s holds no fields", file)
	}
	return out
}

// sampleOf is a value of a Traefik field's type.
func sampleOf(typ string) any {
	switch typ {
	case "string":
		return "x"
	case "boolean":
		return true
	case "integer", "number", "int-or-string":
		return int64(1)
	case "object":
		return map[string]any{}
	case "array":
		return []any{map[string]any{}}
	}
	if strings.HasPrefix(typ, "[]") {
		if typ == "[]string" {
			return []any{"x"}
		}
		return []any{int64(1)}
	}
	return "x"
}

// TestEveryTraefikFieldIsServedOrRefused: every field of Traefik's CRDs, of the kinds
// Bridgehead reads, is either in Bridgehead's own schema (which the walk of our schema
// covers) or listed in traefikFields with a hint, and when a Traefik manifest (either
// group) sets it the object is not Ready (UnsupportedField) with the field named — unless
// the value is one traefikFields accepts, which is served. The kinds Bridgehead does not
// read are refused with a message naming the kind.
func TestEveryTraefikFieldIsServedOrRefused(t *testing.T) {
	ours := map[string]bool{}
	fields, err := ourFields()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range fields {
		ours[f.Kind+" "+f.Path] = true
	}
	used := map[*traefikField]bool{}
	for _, list := range traefikLists {
		lines := readTraefikFields(t, list.file)
		for _, group := range list.groups {
			t.Run(filepath.Base(list.file)+"/"+group, func(t *testing.T) {
				checked, refusedKinds := 0, map[string]bool{}
				for _, l := range lines {
					if !isOurKind(l.kind) {
						if !refusedKinds[l.kind] {
							refusedKinds[l.kind] = true
							checkUnreadKind(t, group, l.kind)
						}
						continue
					}
					if ours[l.kind+" "+l.path] {
						continue
					}
					entry := lookupTraefikField(l.kind, l.path)
					if entry == nil {
						t.Errorf("%s %s is in Traefik's schema but neither in ours nor in traefikFields: implement it, or add it to traefikFields with a hint", l.kind, l.path)
						continue
					}
					used[entry] = true
					if sample := sampleOf(l.typ); !acceptsEveryValue(entry, l.path, l.typ) {
						if entry.path == l.path && slices.ContainsFunc(entry.accept, func(a any) bool { return reflect.DeepEqual(a, sample) }) {
							sample = false // a bool whose true is accepted
						}
						checkRefused(t, group, l, sample)
					}
					if entry.path == l.path {
						for _, v := range entry.accept {
							checkAccepted(t, group, l, v)
						}
					}
					checked++
				}
				if checked < 40 { // a sanity floor: fewer means the field list was not read; it shrinks as Bridgehead serves more
					t.Errorf("only %d Traefik-only fields checked: is the list complete?", checked)
				}
			})
		}
	}
	for i := range traefikFields {
		if f := &traefikFields[i]; !used[f] {
			t.Errorf("traefikFields lists %s %s, which no Traefik version in testdata has: remove it", f.kind, f.path)
		}
	}
}

// acceptsEveryValue reports a field that has no effect in Traefik either, so that every
// value of its type is served as written (a boolean with both values accepted).
func acceptsEveryValue(f *traefikField, path, typ string) bool {
	return f.path == path && typ == "boolean" && slices.Contains(f.accept, true) && slices.Contains(f.accept, false)
}

// setTraefik returns the walk scenario in group with the field at path set to v.
func setTraefik(t *testing.T, group string, l traefikFieldLine, v any) ([]map[string]any, translate.Key) {
	t.Helper()
	objs := scenario(t, group)
	key := walkObject[l.kind]
	parent, name := prepare(t, l.kind, objectOf(t, objs, key), l.path)
	parent[name] = v
	return objs, key
}

func checkRefused(t *testing.T, group string, l traefikFieldLine, v any) {
	t.Helper()
	objs, key := setTraefik(t, group, l, v)
	out := run(t, objs)
	status, reason, msg := out.ready(key)
	// The field is named, or the nearest of its parents that Bridgehead lacks.
	named := false
	for p := concrete(l.path); p != ""; p = parentPath(p) {
		if strings.Contains(msg, p+": ") {
			named = true
			break
		}
	}
	if status != "False" || reason != string(bhv1.ReasonUnsupportedField) || !named {
		t.Errorf("%s %s %s set to %v: Ready = %s %s %q, want False UnsupportedField naming the field (problems: %q)",
			group, l.kind, l.path, v, status, reason, msg, out.problems)
	}
}

func checkAccepted(t *testing.T, group string, l traefikFieldLine, v any) {
	t.Helper()
	objs, key := setTraefik(t, group, l, v)
	out := run(t, objs)
	if status, reason, msg := out.ready(key); status != "True" || len(out.problems) > 0 {
		t.Errorf("%s %s %s set to %v asks for what Bridgehead does: want it served, got Ready = %s %s %q, problems %q",
			group, l.kind, l.path, v, status, reason, msg, out.problems)
	}
}

func checkUnreadKind(t *testing.T, group, kind string) {
	t.Helper()
	res, err := LoadObjects(map[string][]byte{"doc": []byte("apiVersion: " + group + "/v1alpha1\nkind: " + kind + "\nmetadata: {name: x}\nspec: {}\n")})
	if err != nil {
		t.Fatal(err)
	}
	if res.Origin.Len() != 0 || len(res.Problems) != 1 || res.Problems[0].Field != "kind" ||
		!strings.Contains(res.Problems[0].Message, group+"/v1alpha1 "+kind+" is not served") {
		t.Errorf("%s %s: problems %q, want it refused with a message naming the kind", group, kind, problemStrings(res))
	}
}

// parentPath drops the last segment: a.b[0].c -> a.b[0] -> a.b -> a -> "".
func parentPath(p string) string {
	if strings.HasSuffix(p, "]") {
		return p[:strings.LastIndex(p, "[")]
	}
	if i := strings.LastIndex(p, "."); i >= 0 {
		return p[:i]
	}
	return ""
}

// TestTraefikFieldsTableIsWellFormed: each entry has a hint, is unique, and its accepted
// values are plain scalars.
func TestTraefikFieldsTableIsWellFormed(t *testing.T) {
	seen := map[string]bool{}
	for _, f := range traefikFields {
		id := f.kind + " " + f.path
		if seen[id] {
			t.Errorf("%s is listed twice", id)
		}
		seen[id] = true
		if f.hint == "" || !isOurKind(f.kind) {
			t.Errorf("%s: a hint and a kind Bridgehead reads are required", id)
		}
		for _, v := range f.accept {
			switch v.(type) {
			case string, bool:
			default:
				t.Errorf("%s: accepted value %v (%T) must be a string or a bool", id, v, v)
			}
		}
	}
}
