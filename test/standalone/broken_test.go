package standalone

import (
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// namedRoute is an IngressRoute named name for host.example.test, to service svc.
func namedRoute(name, host, svc string) string {
	return `apiVersion: gateway.bridgehead.dev/v1alpha1
kind: IngressRoute
metadata:
  name: ` + name + `
  namespace: web
spec:
  entryPoints: [websecure]
  routes:
  - match: Host(` + "`" + host + ".example.test`" + `)
    services:
    - name: ` + svc + `
      port: https
      serversTransport: backends
  tls:
    secretName: edge-tls
`
}

// brokenYAML has a valid document, then an IngressRoute with a misspelt field, then a
// TLSOption with a value out of its enum.
const brokenYAML = `# A valid Service first: document 1.
apiVersion: v1
kind: Service
metadata:
  name: extra
  namespace: web
spec:
  ports:
  - name: https
    port: 443
---
apiVersion: gateway.bridgehead.dev/v1alpha1
kind: IngressRoute
metadata:
  name: typo
  namespace: web
spec:
  routes:
  - match: Host(` + "`typo.example.test`" + `)
    services:
    - name: extra
      portt: https
---
apiVersion: gateway.bridgehead.dev/v1alpha1
kind: TLSOption
metadata:
  name: future
  namespace: web
spec:
  minVersion: VersionTLS99
`

// The problems the broken documents must be reported with: file#document field: message.
var brokenProblems = []string{
	`broken.yaml#2 spec.routes[0].services[0].portt: unknown field "spec.routes[0].services[0].portt"`,
	`broken.yaml#2 spec.routes[0].services[0].port: Required value`,
	`broken.yaml#3 spec.minVersion: Unsupported value: "VersionTLS99"`,
	`nested/bad.yaml#1: invalid YAML: yaml: line 3:`,
}

// TestBrokenDocumentsAreReportedAndTheRestServes adds a file with an invalid field and an
// out-of-enum value, and a file that is not YAML, to a serving folder: each problem is
// reported with file, document index and field path, in the printed status and in the
// admin /status JSON, while the valid routes keep answering.
func TestBrokenDocumentsAreReportedAndTheRestServes(t *testing.T) {
	t.Parallel()
	p := newPKI(t)
	a, b := tlsBackend(t, p, "A", false), tlsBackend(t, p, "B", false)
	dir := writeFolder(t, map[string]string{
		"secrets.yaml":   p.secretsYAML(),
		"backends.yaml":  serviceYAML(t, "svc-a", addrOf(a)) + serviceYAML(t, "svc-b", addrOf(b)),
		"transport.yaml": transportYAML,
		"app.yaml":       namedRoute("app", "app", "svc-a"),
		"beta.yaml":      namedRoute("beta", "beta", "svc-b"),
	})
	gw := serveFolder(t, dir)
	client := gw.httpsClient(p.edgeCA, true)
	expect := func(host, want string) {
		t.Helper()
		status, body, err := get(client, "https://"+host+".example.test/")
		if err != nil || status != http.StatusOK || body != want {
			t.Errorf("GET https://%s.example.test/: status %d body %q err %v, want 200 %q", host, status, body, err, want)
		}
	}
	expect("app", "A")
	expect("beta", "B")
	if len(gw.status().Problems) != 0 {
		t.Fatalf("problems before the broken files: %v", gw.status().Problems)
	}

	writeFile(t, filepath.Join(dir, "broken.yaml"), brokenYAML)
	writeFolderFile(t, dir, "nested/bad.yaml", "apiVersion: v1\nkind: Secret\nmetadata: {name: [unclosed\n")
	var st *adminStatus
	if _, ok := eventually(reloadLimit+time.Second, func() bool {
		st = gw.status()
		return len(st.Problems) >= len(brokenProblems)
	}); !ok {
		t.Fatalf("the broken documents were not reported in /status within %s: %v", reloadLimit+time.Second, st.Problems)
	}
	var lines []string
	for _, want := range brokenProblems {
		lines = append(lines, "\n  "+want)
	}
	printed := gw.waitPrinted(lines...)
	for _, want := range brokenProblems {
		if !anyHasPrefix(st.Problems, want) {
			t.Errorf("/status problems lack %q:\n  %s", want, strings.Join(st.Problems, "\n  "))
		}
		if !strings.Contains(printed, "\n  "+want) {
			t.Errorf("the printed status lacks %q:\n%s", want, printed)
		}
	}
	if !strings.Contains(printed, "Documents not used:") {
		t.Errorf("the printed status does not say which documents were not used:\n%s", printed)
	}
	if strings.Contains(printed, "typo") && !strings.Contains(printed, "broken.yaml#2") {
		t.Errorf("the broken IngressRoute is listed as an object:\n%s", printed)
	}
	// The rest keeps serving.
	expect("app", "A")
	expect("beta", "B")
	for _, obj := range []string{"IngressRoute/web/app", "IngressRoute/web/beta"} {
		if status, reason, msg, ok := st.condition(obj, "Ready"); !ok || status != "True" {
			t.Errorf("%s Ready = %s %s %q, want True", obj, status, reason, msg)
		}
	}
}

// TestEditedToBrokenKeepsTheLastGoodVersion breaks an object that is serving (a misspelt
// field in its file): it is reported with its file, document and field, and its last
// good version keeps serving (as an API server would keep the stored object when an
// apply is refused) instead of disappearing.
func TestEditedToBrokenKeepsTheLastGoodVersion(t *testing.T) {
	t.Parallel()
	p := newPKI(t)
	a, b := tlsBackend(t, p, "A", false), tlsBackend(t, p, "B", false)
	dir := writeFolder(t, map[string]string{
		"secrets.yaml":   p.secretsYAML(),
		"backends.yaml":  serviceYAML(t, "svc-a", addrOf(a)) + serviceYAML(t, "svc-b", addrOf(b)),
		"transport.yaml": transportYAML,
		"app.yaml":       namedRoute("app", "app", "svc-a"),
		"beta.yaml":      namedRoute("beta", "beta", "svc-b"),
	})
	gw := serveFolder(t, dir)
	client := gw.httpsClient(p.edgeCA, false)

	broken := strings.Replace(namedRoute("beta", "beta", "svc-a"), "      port: https", "      portt: https", 1)
	writeFile(t, filepath.Join(dir, "beta.yaml"), broken)
	const want = `beta.yaml#1 spec.routes[0].services[0].portt: unknown field`
	var st *adminStatus
	if _, ok := eventually(reloadLimit+time.Second, func() bool {
		st = gw.status()
		return anyHasPrefix(st.Problems, want)
	}); !ok {
		t.Fatalf("the broken edit was not reported in /status within %s: %v", reloadLimit+time.Second, st.Problems)
	}
	if printed := gw.waitPrinted("\n  " + want); !strings.Contains(printed, "\n  "+want) {
		t.Errorf("the printed status lacks %q:\n%s", want, printed)
	}
	if status, body, err := get(client, "https://app.example.test/"); err != nil || status != http.StatusOK || body != "A" {
		t.Errorf("app, untouched: status %d body %q err %v, want 200 A", status, body, err)
	}
	status, body, err := get(client, "https://beta.example.test/")
	if err != nil || status != http.StatusOK || body != "B" {
		t.Errorf("beta, edited to broken: status %d body %q err %v, want 200 B from its last good version "+
			"(internal/manifests drops a refused document, so the object disappears instead)", status, body, err)
	}
}

func anyHasPrefix(list []string, prefix string) bool {
	for _, s := range list {
		if strings.HasPrefix(s, prefix) {
			return true
		}
	}
	return false
}

// writeFolderFile writes a file, creating its directory, in one rename.
func writeFolderFile(t *testing.T, dir, rel, content string) {
	t.Helper()
	path := filepath.Join(dir, filepath.FromSlash(rel))
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	writeFile(t, path, content)
}
