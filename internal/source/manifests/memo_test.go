package manifests

import (
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/conversion"

	"github.com/bridgehead/bridgehead/internal/translate"
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
// reuses what earlier loads admitted gives what a fresh Load of the folder gives: the same
// objects, origins, duplicates, problems and Traefik groups, and creation times in the
// same order (the documents' order). The times themselves may differ: a remembering load
// keeps those of the documents it read before (see created.go).
func TestRememberingLoadEqualsFreshLoad(t *testing.T) {
	dir := t.TempDir()
	write := writer(t, dir)
	traefik := "apiVersion: traefik.io/v1alpha1\nkind: Middleware\nmetadata:\n  name: strip\n  namespace: demo\nspec:\n  stripPrefix:\n    prefixes: [/api]\n"
	invalid := "apiVersion: gateway.bridgehead.dev/v1alpha1\nkind: IngressRoute\nmetadata:\n  name: bad\n  namespace: demo\nspec:\n  routes:\n  - match: 7\n    bogus: true\n"
	secret := "apiVersion: v1\nkind: Secret\nmetadata:\n  name: tls\n  namespace: demo\ntype: kubernetes.io/tls\nstringData:\n  tls.crt: a\n  tls.key: b\n"
	list := func(items ...string) string {
		return "apiVersion: v1\nkind: List\nitems:\n" + strings.Join(items, "")
	}
	m := newMemo()
	var stamps fingerprint
	var last *Result
	check := func(step string) {
		t.Helper()
		fresh, err := Load(dir)
		if err != nil {
			t.Fatal(err)
		}
		// As Watch does: the scan that saw the change gives the files' stamps.
		if stamps, err = scan(dir, stamps); err != nil {
			t.Fatal(err)
		}
		got, err := loadRemembering(dir, m, stamps)
		if err != nil {
			t.Fatal(err)
		}
		if !sameLoad(fresh, got) {
			t.Fatalf("%s: the remembering load differs from a fresh load:\nfresh:  %+v\nmemo:   %+v", step, fresh, got)
		}
		// Twice: the second load is served entirely from the memo.
		again, err := loadRemembering(dir, m, stamps)
		if err != nil {
			t.Fatal(err)
		}
		if !sameLoad(fresh, again) {
			t.Fatalf("%s: the second remembering load differs from a fresh load", step)
		}
		checkOriginChanges(t, step, last, got)
		checkOriginChanges(t, step+", loaded again", got, again)
		last = again
	}

	// The other two families: Gateway API kinds (their CRDs' schemas) and the core kinds
	// (strict decoding), each admitted and refused.
	httpRoute := func(host, extra string) string {
		return "apiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata:\n  name: web\n  namespace: demo\nspec:\n  parentRefs: [{name: gw}]\n" +
			"  hostnames: [" + host + "]\n  rules:\n  - backendRefs: [{name: backend, port: 80}]\n" + extra
	}
	ingress := func(name, extra string) string {
		return "apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata:\n  name: " + name + "\n  namespace: demo\nspec:\n" + extra +
			"  defaultBackend:\n    service: {name: backend, port: {number: 80}}\n"
	}
	others := func(host string) string {
		return httpRoute(host, "") + "---\n" + strings.Replace(httpRoute("bad.test", "    bogus: 1\n"), "name: web", "name: bad", 1) +
			"---\n" + ingress("site", "") + "---\n" + ingress("broken", "  bogus: 1\n")
	}

	write("a.yaml", memoRoute("one", "one.test")+"---\n"+memoRoute("two", "two.test"))
	write("b.yaml", traefik+"---\n"+invalid+"---\n"+secret)
	write("c.yaml", others("web.test"))
	check("start")
	if n := admissions(m); n != 9 {
		t.Fatalf("the memo holds %d admissions, want 9 (three routes, one middleware, one Secret, two HTTPRoutes, two Ingresses)", n)
	}

	write("c.yaml", others("www.test"))
	check("an HTTPRoute edited")
	write("c.yaml", list(strings.ReplaceAll("- "+strings.TrimSuffix(ingress("site", ""), "\n"), "\n", "\n  ")+"\n")+"---\n"+others("www.test"))
	check("an Ingress's duplicate in a List before it")

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

	// The same item bytes at another place in a List: admitted again for its new path,
	// from the text (the memo dropped its JSON once it was admitted).
	item := func(name string) string {
		return "- apiVersion: gateway.bridgehead.dev/v1alpha1\n  kind: IngressRoute\n  metadata: {name: " + name + ", namespace: demo}\n  spec:\n    routes:\n    - match: Host(`" + name + ".test`)\n      bogus: 1\n      services: [{name: backend, port: 80}]\n"
	}
	write("l.yaml", list(item("listed")))
	check("a List")
	write("l.yaml", list(item("first"), item("listed")))
	check("a List item moved")
	if err := os.Remove(filepath.Join(dir, "l.yaml")); err != nil {
		t.Fatal(err)
	}

	write("b.yaml", "{not yaml")
	check("broken YAML")
	if n := admissions(m); n != 7 {
		t.Fatalf("the memo holds %d admissions after the middleware, the invalid route and the Secret went, want 7 (a.yaml's and c.yaml's)", n)
	}
}

// anyTime compares as equality.Semantic does, but takes every two times as equal.
var anyTime = conversion.EqualitiesOrDie(func(a, b metav1.Time) bool { return true })

// sameLoad: a and b hold the same, and their objects' creation times are in the same order.
func sameLoad(a, b *Result) bool {
	// What a load says about the one before it is checked by checkOriginChanges.
	ca, cb := *a, *b
	ca.Load, ca.OriginChanged, cb.Load, cb.OriginChanged = 0, nil, 0, nil
	ca.Origin, cb.Origin = nil, nil // compared as maps: how they are held may differ
	return anyTime.DeepEqual(&ca, &cb) && maps.Equal(a.Origin.Map(), b.Origin.Map()) && slices.Equal(creationOrder(a), creationOrder(b))
}

// creationOrder lists the objects of a load from the oldest to the youngest; it fails
// (nil) when two objects have the same creation time.
func creationOrder(r *Result) []translate.Key {
	times := map[translate.Key]time.Time{}
	r.Inputs.Visit(func(k translate.Key, o metav1.Object) metav1.Object {
		times[k] = o.GetCreationTimestamp().Time
		return nil
	})
	keys := slices.Collect(maps.Keys(times))
	slices.SortFunc(keys, func(a, b translate.Key) int { return times[a].Compare(times[b]) })
	for i := 1; i < len(keys); i++ {
		if times[keys[i]].Equal(times[keys[i-1]]) {
			return nil
		}
	}
	return keys
}

// A file added before the others leaves their objects as they were, the same objects
// with the same creation times, and the new objects are older than the ones after them,
// as their place says. Added again and again at the same place, where the room between
// two documents runs out, every document is placed afresh: the order holds throughout.
func TestAnAddedFileLeavesTheOthersCreationTimes(t *testing.T) {
	dir := t.TempDir()
	write := writer(t, dir)
	write("m.yaml", memoRoute("m1", "m1.test")+"---\n"+memoRoute("m2", "m2.test"))
	write("n.yaml", memoRoute("n1", "n1.test"))
	watched := watchLoads(t, dir)
	load := func() *Result {
		t.Helper()
		res := watched()
		fresh, err := Load(dir)
		if err != nil {
			t.Fatal(err)
		}
		if got, want := creationOrder(res), creationOrder(fresh); want == nil || !slices.Equal(got, want) {
			t.Fatalf("creation order %v, want the folder's %v", got, want)
		}
		return res
	}
	objects := func(r *Result) map[translate.Key]metav1.Object {
		out := map[translate.Key]metav1.Object{}
		r.Inputs.Visit(func(k translate.Key, o metav1.Object) metav1.Object { out[k] = o; return nil })
		return out
	}
	before := objects(load())

	write("a.yaml", memoRoute("a1", "a1.test")) // sorts before m.yaml
	after := objects(load())
	for k, o := range before {
		if after[k] != o {
			t.Errorf("%s is another object after a file was added before it", k)
		}
	}

	// Files between a.yaml and m.yaml, each added before the last (m-40, m-39, ...): each
	// takes half the room left, until there is none and every document is placed again.
	respaced := false
	for i := 40; i > 0; i-- {
		prev := objects(load())
		write(fmt.Sprintf("m-%02d.yaml", i), memoRoute(fmt.Sprintf("x%02d", i), fmt.Sprintf("x%02d.test", i)))
		now := objects(load())
		if now[translate.Key{Kind: translate.KindIngressRoute, Namespace: "demo", Name: "n1"}] != prev[translate.Key{Kind: translate.KindIngressRoute, Namespace: "demo", Name: "n1"}] {
			respaced = true
		}
	}
	if !respaced {
		t.Errorf("40 files added at one place never ran out of room (%s between documents, %s at least)", docSpacing, minGap)
	}
}

// watchLoads returns a function that loads dir as Watch does after each change: with the
// stamps of a scan of the folder, and one memo for all its loads.
func watchLoads(t *testing.T, dir string) func() *Result {
	m := newMemo()
	var stamps fingerprint
	return func() *Result {
		t.Helper()
		var err error
		if stamps, err = scan(dir, stamps); err != nil {
			t.Fatal(err)
		}
		res, err := loadRemembering(dir, m, stamps)
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
}

// writer returns a function that writes a file of dir.
func writer(t *testing.T, dir string) func(name, content string) {
	return func(name, content string) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// admissions counts the admissions the memo holds after a load.
func admissions(m *memo) int {
	n := 0
	for _, c := range m.docs {
		if c.admission != nil {
			n++
		}
	}
	return n
}

// A file whose stamp is unchanged since the last load read it is not read again; its stamp
// tells a change apart as Watch's scan does: size, modification time, inode, and for a file
// modified within the last seconds its content.
func TestRememberingLoadReadsOnlyChangedFiles(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "a.yaml")
	old := time.Now().Add(-time.Hour)
	write := func(host string, mod time.Time) {
		t.Helper()
		// In place: the same inode, as an editor that does not rename would leave it.
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.WriteString(memoRoute("one", host)); err != nil {
			t.Fatal(err)
		}
		if err := f.Close(); err != nil {
			t.Fatal(err)
		}
		if err := os.Chtimes(path, mod, mod); err != nil {
			t.Fatal(err)
		}
	}
	m := newMemo()
	var stamps fingerprint
	served := func() string {
		t.Helper()
		var err error
		if stamps, err = scan(dir, stamps); err != nil {
			t.Fatal(err)
		}
		res, err := loadRemembering(dir, m, stamps)
		if err != nil || len(res.Inputs.IngressRoutes) != 1 {
			t.Fatalf("load: %v, %+v", err, res)
		}
		return res.Inputs.IngressRoutes[0].Spec.Routes[0].Match
	}
	now := time.Now()
	for _, step := range []struct {
		write, want string
		mod         time.Time
		why         string
	}{
		{"aaa.test", "aaa.test", old, "the first load"},
		// stat cannot tell these apart, so neither the scan nor the load looks inside.
		{"bbb.test", "aaa.test", old, "the same size and an hour-old modification time: not read again"},
		{"bbb.test", "bbb.test", old.Add(time.Second), "a new modification time: read"},
		// A recent file's stamp holds its content's hash.
		{"ccc.test", "ccc.test", now, "a recently modified file"},
		{"ddd.test", "ddd.test", now, "a recent file rewritten with the same size and time: read"},
	} {
		write(step.write, step.mod)
		if got := served(); !strings.Contains(got, step.want) {
			t.Errorf("%s: serves %s, want %s", step.why, got, step.want)
		}
	}
}

// TestFolderObjectsAreVersionedByContent: an object read from a folder has its document's
// content hash as its resourceVersion, whatever the file says: the same when the document
// only moved, new when it was edited. (translate's memo replays a route's translation
// while its version stays the same.)
func TestFolderObjectsAreVersionedByContent(t *testing.T) {
	dir := t.TempDir()
	write := writer(t, dir)
	service := "apiVersion: v1\nkind: Service\nmetadata:\n  name: backend\n  namespace: demo\n  resourceVersion: \"123\"\nspec:\n  ports:\n  - {name: http, port: 80}\n"
	versions := func() (route, svc string) {
		t.Helper()
		res, err := Load(dir)
		if err != nil || len(res.Problems) > 0 || len(res.Inputs.IngressRoutes) != 1 || len(res.Inputs.Services) != 1 {
			t.Fatalf("load: %v, problems %v", err, res.Problems)
		}
		return res.Inputs.IngressRoutes[0].ResourceVersion, res.Inputs.Services[0].ResourceVersion
	}
	write("b.yaml", memoRoute("web", "web.test")+"---\n"+service)
	route, svc := versions()
	if !strings.HasPrefix(route, "sha256:") || !strings.HasPrefix(svc, "sha256:") || route == svc {
		t.Fatalf("want distinct content hashes as versions, got %q and %q (the file said 123)", route, svc)
	}

	write("a.yaml", "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: demo\n") // the documents move one place down
	if r, s := versions(); r != route || s != svc {
		t.Errorf("the documents only moved, but their versions changed: %q -> %q, %q -> %q", route, r, svc, s)
	}

	write("b.yaml", memoRoute("web", "web.example")+"---\n"+service)
	if r, s := versions(); r == route || s != svc {
		t.Errorf("only the route was edited: its version should change (%q -> %q) and the Service's not (%q -> %q)", route, r, svc, s)
	}
}

// checkOriginChanges checks that got, the load after prev, lists in OriginChanged every
// object whose origin is not the one prev gave it: serve's table looks up no other.
func checkOriginChanges(t *testing.T, step string, prev, got *Result) {
	t.Helper()
	if prev == nil {
		return
	}
	if got.Load != prev.Load+1 {
		t.Fatalf("%s: load %d follows load %d", step, got.Load, prev.Load)
	}
	listed := map[translate.Key]bool{}
	for _, k := range got.OriginChanged {
		listed[k] = true
	}
	for k, o := range got.Origin.All() {
		if was, ok := prev.Origin.Get(k); (!ok || was != o) && !listed[k] {
			t.Errorf("%s: %s came from %q and now from %q, but the load does not list it as changed", step, k, was, o)
		}
	}
}

// A reload of an unchanged folder changes no origin, and a document moved to another
// file changes its object's origin alone.
func TestRememberingLoadListsTheOriginsItChanged(t *testing.T) {
	dir := t.TempDir()
	write := writer(t, dir)
	write("a.yaml", memoRoute("one", "one.test")+"---\n"+memoRoute("two", "two.test"))
	write("b.yaml", memoRoute("three", "three.test"))
	load := watchLoads(t, dir)
	first := load()
	again := load()
	if again.Load != first.Load+1 || len(again.OriginChanged) != 0 {
		t.Fatalf("an unchanged folder's reload (load %d after %d) lists %v as changed", again.Load, first.Load, again.OriginChanged)
	}
	write("a.yaml", memoRoute("one", "one.test"))
	write("c.yaml", memoRoute("two", "two.test"))
	moved := load()
	two := translate.Key{Kind: translate.KindIngressRoute, Namespace: "demo", Name: "two"}
	if moved.Origin.Of(two) != "c.yaml#1" || !slices.Contains(moved.OriginChanged, two) {
		t.Fatalf("the moved route comes from %q; changed: %v", moved.Origin.Of(two), moved.OriginChanged)
	}
	three := translate.Key{Kind: translate.KindIngressRoute, Namespace: "demo", Name: "three"}
	if slices.Contains(moved.OriginChanged, three) {
		t.Errorf("a route in a file that did not change is listed as changed: %v", moved.OriginChanged)
	}
	checkOriginChanges(t, "moved", again, moved)
}
