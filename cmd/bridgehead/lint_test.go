package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestLintFiles: -f with several files lints them as one set, names findings by the file
// given, and exits 0 when clean and 1 on findings.
func TestLintFiles(t *testing.T) {
	dir := t.TempDir()
	files := folderFiles("8443", cliBackendCA)
	writeFiles(t, dir, files)
	route, secrets, service := filepath.Join(dir, "route.yaml"), filepath.Join(dir, "secrets.yaml"), filepath.Join(dir, "service.yaml")

	if code, out, errOut := runCLI("lint", "-f", route, "-f", secrets, "-f", service); code != 0 || !strings.Contains(out, "no findings in 6 objects") {
		t.Errorf("the whole set: exit %d, want 0\n%s%s", code, out, errOut)
	}
	if code, out, errOut := runCLI("lint", "-f", route, "-f", secrets); code != 0 || !strings.Contains(out, "note: not in the manifests, assumed to exist") {
		t.Errorf("without the Service: exit %d, want 0 with a note\n%s%s", code, out, errOut)
	}
	code, out, errOut := runCLI("lint", "-f", route)
	if code != 1 {
		t.Errorf("without the Secrets: exit %d, want 1\n%s%s", code, out, errOut)
	}
	for _, want := range []string{
		route + `#1 IngressRoute web/app: NotFound: spec.tls.secretName: Secret "app-tls" not found in namespace web`,
		route + `#2 ServersTransport web/backend: CASecretNotFound:`,
		"2 findings in 2 objects",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("the output does not say %q:\n%s", want, out)
		}
	}
}

// TestLintConfigDir: --config-dir lints a folder; a file that is not YAML by name is
// still read with -f.
func TestLintConfigDir(t *testing.T) {
	dir := t.TempDir()
	files := folderFiles("8443", cliBackendCA)
	files["route.yaml"] = strings.Replace(files["route.yaml"], "port: https", "port: 8443", 1)
	writeFiles(t, dir, files)
	code, out, _ := runCLI("lint", "--config-dir", dir)
	if code != 1 || !strings.Contains(out, "route.yaml#1 IngressRoute web/app: PortNotFound") {
		t.Errorf("exit %d, want 1 with the missing port:\n%s", code, out)
	}
	txt := filepath.Join(t.TempDir(), "route.txt")
	if err := os.WriteFile(txt, []byte(files["route.yaml"]), 0o600); err != nil {
		t.Fatal(err)
	}
	if code, out, _ := runCLI("lint", "-f", txt, "-o", "json"); code != 1 || !strings.Contains(out, `"origin": "`+txt+`#1"`) {
		t.Errorf("-f route.txt -o json: exit %d, want 1 naming the file:\n%s", code, out)
	}
}

func TestLintUsage(t *testing.T) {
	dir := t.TempDir()
	for _, args := range [][]string{
		{"lint"},
		{"lint", "--config-dir", dir, "-f", "x.yaml"},
		{"lint", "--config-dir", dir, "extra"},
		{"lint", "--config-dir", dir, "-o", "yaml"},
		{"lint", "-f", filepath.Join(dir, "missing.yaml")},
	} {
		if code, out, errOut := runCLI(args...); code != 2 {
			t.Errorf("%v: exit %d, want 2\n%s%s", args, code, out, errOut)
		}
	}
}

// TestStageStdin: -f - reads the manifests from standard input.
func TestStageStdin(t *testing.T) {
	dir := t.TempDir()
	names, err := stageFiles(dir, []string{"-"}, strings.NewReader("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n"))
	if err != nil {
		t.Fatal(err)
	}
	if names["000-stdin.yaml"] != "-" {
		t.Fatalf("staged names: %v", names)
	}
	if data, err := os.ReadFile(filepath.Join(dir, "000-stdin.yaml")); err != nil || !strings.Contains(string(data), "kind: ConfigMap") {
		t.Fatalf("staged file: %q, %v", data, err)
	}
}

// TestLintCountsIngresses: a folder of Ingresses only is linted as such, not reported as
// "no findings in 0 objects".
func TestLintCountsIngresses(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{"ingress.yaml": `apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: shop, namespace: web}
spec:
  ingressClassName: bridgehead
  rules:
  - host: shop.example.test
    http: {paths: [{path: /, pathType: Prefix, backend: {service: {name: shop, port: {number: 80}}}}]}
`})
	code, out, _ := runCLI("lint", "--config-dir", dir)
	if code != 1 || !strings.Contains(out, "ingress.yaml#1 Ingress web/shop: IneffectiveSetting") || !strings.Contains(out, "in 1 object\n") {
		t.Errorf("exit %d, want 1 with the Ingress linted and counted:\n%s", code, out)
	}
}
