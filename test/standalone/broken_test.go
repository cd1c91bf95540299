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
	`broken.yaml#2 spec.routes[0].services[0]: Invalid value: port is required when kind is Service (the default)`,
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
			"(internal/source/manifests drops a refused document, so the object disappears instead)", status, body, err)
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

// TestTranslationFailuresKeepTheLastGoodVersion breaks two serving things in ways the
// schema cannot see: the edge certificate Secret gets garbage PEM, and an IngressRoute a
// match that does not parse. Each keeps its last good version serving (the certificate,
// not the self-signed default; the route, not a fall-through), and the status the gateway
// prints and serves says what was refused and why.
func TestTranslationFailuresKeepTheLastGoodVersion(t *testing.T) {
	t.Parallel()
	p := newPKI(t)
	a := tlsBackend(t, p, "A", false)
	dir := writeFolder(t, map[string]string{
		"secrets.yaml":   p.secretsYAML(),
		"backends.yaml":  serviceYAML(t, "svc-a", addrOf(a)),
		"transport.yaml": transportYAML,
		"app.yaml":       namedRoute("app", "app", "svc-a"),
	})
	gw := serveFolder(t, dir)
	expectA := func(when string) {
		t.Helper()
		// A new client each time: a new TLS handshake sees the certificate served now.
		status, body, err := get(gw.httpsClient(p.edgeCA, false), "https://app.example.test/")
		if err != nil || status != http.StatusOK || body != "A" {
			t.Errorf("%s: status %d body %q err %v, want 200 A", when, status, body, err)
		}
	}
	expectA("before")

	garbage := strings.Replace(p.secretsYAML(), strings.Split(strings.TrimSpace(string(p.edge.CertPEM)), "\n")[1], "Z2FyYmFnZQ==", 1)
	writeFile(t, filepath.Join(dir, "secrets.yaml"), garbage)
	const refusedData = "Secret web/edge-tls: its new data is refused"
	var st *adminStatus
	if _, ok := eventually(reloadLimit+time.Second, func() bool {
		st = gw.status()
		_, reason, msg, _ := st.condition("IngressRoute/web/app", "Warnings")
		return reason == "DataRefused" && strings.Contains(msg, refusedData)
	}); !ok {
		t.Fatalf("the IngressRoute does not say the Secret's new data was refused: %+v", st.Objects)
	}
	expectA("after garbage PEM in the edge certificate")

	writeFile(t, filepath.Join(dir, "app.yaml"), strings.Replace(namedRoute("app", "app", "svc-a"), "Host(`app.example.test`)", "Host(`app.example.test`", 1))
	if _, ok := eventually(reloadLimit+time.Second, func() bool {
		_, reason, _, _ := gw.status().condition("IngressRoute/web/app", "Ready")
		return reason == "ServingLastGood"
	}); !ok {
		t.Fatalf("the broken match is not reported as ServingLastGood: %+v", gw.status().Objects)
	}
	_, _, msg, _ := gw.status().condition("IngressRoute/web/app", "Accepted")
	if !strings.Contains(msg, "the newest version is refused: spec.routes[0].match") || !strings.Contains(msg, "the last version that was accepted keeps serving") {
		t.Errorf("Accepted message = %q, want it to say the newest version is refused and why, and that the last accepted one serves", msg)
	}
	gw.waitPrinted("ServingLastGood")
	expectA("after a match that does not parse")
}
