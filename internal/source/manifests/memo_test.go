package manifests

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"k8s.io/apimachinery/pkg/api/equality"
)

func memoRoute(name, host string) string {
	return fmt.Sprintf(`apiVersion: gateway.bridgehead.dev/v1alpha1
kind: IngressRoute
metadata:
  name: %s
  namespace: demo
spec:
  entryPoints: [web]
  routes:
  - match: Host(%q)
    services:
    - name: backend
      port: 80
`, name, "`"+host+"`")
}

// TestRememberingLoadEqualsFreshLoad: after every kind of change to a folder, a load that
// reuses what earlier loads admitted gives exactly what a fresh Load of the folder gives:
// the same objects (creation times, which follow the documents' order, included), origins,
// duplicates, problems and Traefik groups.
func TestRememberingLoadEqualsFreshLoad(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	traefik := "apiVersion: traefik.io/v1alpha1\nkind: Middleware\nmetadata:\n  name: strip\n  namespace: demo\nspec:\n  stripPrefix:\n    prefixes: [/api]\n"
	invalid := "apiVersion: gateway.bridgehead.dev/v1alpha1\nkind: IngressRoute\nmetadata:\n  name: bad\n  namespace: demo\nspec:\n  routes:\n  - match: 7\n    bogus: true\n"
	secret := "apiVersion: v1\nkind: Secret\nmetadata:\n  name: tls\n  namespace: demo\ntype: kubernetes.io/tls\nstringData:\n  tls.crt: a\n  tls.key: b\n"
	m := newMemo()
	check := func(step string) {
		t.Helper()
		fresh, err := Load(dir)
		if err != nil {
			t.Fatal(err)
		}
		got, err := loadRemembering(dir, m)
		if err != nil {
			t.Fatal(err)
		}
		if !equality.Semantic.DeepEqual(fresh, got) {
			t.Fatalf("%s: the remembering load differs from a fresh load:\nfresh:  %+v\nmemo:   %+v", step, fresh, got)
		}
		// Twice: the second load is served entirely from the memo.
		again, err := loadRemembering(dir, m)
		if err != nil {
			t.Fatal(err)
		}
		if !equality.Semantic.DeepEqual(fresh, again) {
			t.Fatalf("%s: the second remembering load differs from a fresh load", step)
		}
	}

	write("a.yaml", memoRoute("one", "one.test")+"---\n"+memoRoute("two", "two.test"))
	write("b.yaml", traefik+"---\n"+invalid+"---\n"+secret)
	check("start")
	if n := admissions(m); n != 4 {
		t.Fatalf("the memo holds %d admissions, want 4 (three routes and one middleware)", n)
	}

	write("a.yaml", memoRoute("one", "one.example")+"---\n"+memoRoute("two", "two.test"))
	check("a document edited")

	write("0.yaml", memoRoute("two", "first.test")) // now before a.yaml: its "two" wins, a.yaml's is a duplicate
	check("a duplicate in an earlier file")

	if err := os.Rename(filepath.Join(dir, "0.yaml"), filepath.Join(dir, "z.yaml")); err != nil {
		t.Fatal(err)
	}
	check("renamed behind the original")

	if err := os.Remove(filepath.Join(dir, "z.yaml")); err != nil {
		t.Fatal(err)
	}
	write("b.yaml", invalid+"---\n"+traefik) // reordered: creation times move
	check("deleted and reordered")

	write("b.yaml", "{not yaml")
	check("broken YAML")
	if n := admissions(m); n != 2 {
		t.Fatalf("the memo holds %d admissions after the middleware and the invalid route went, want 2", n)
	}
}

// admissions counts the admissions the memo holds after a load.
func admissions(m *memo) int {
	n := 0
	for _, c := range m.docs.prev {
		if c.admission != nil {
			n++
		}
	}
	return n
}
