package proxy_test

import (
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

const module = "github.com/bridgehead/bridgehead/"

// importsOf returns the imports of a package of this module (its non-test files), read
// from the source so the test needs no toolchain.
func importsOf(t *testing.T, pkg string) []string {
	t.Helper()
	dir := filepath.Join("..", filepath.FromSlash(strings.TrimPrefix(pkg, module)))
	files, err := filepath.Glob(filepath.Join(dir, "*.go"))
	if err != nil || len(files) == 0 {
		t.Fatalf("package %s: no Go files in %s (%v)", pkg, dir, err)
	}
	var out []string
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		parsed, err := parser.ParseFile(token.NewFileSet(), f, nil, parser.ImportsOnly)
		if err != nil {
			t.Fatal(err)
		}
		for _, imp := range parsed.Imports {
			path, _ := strconv.Unquote(imp.Path.Value)
			if !slices.Contains(out, path) {
				out = append(out, path)
			}
		}
	}
	return out
}

// proxyPackages lists proxy and every package below it.
func proxyPackages(t *testing.T) []string {
	t.Helper()
	pkgs := []string{module + "proxy"}
	err := filepath.WalkDir(".", func(path string, d os.DirEntry, err error) error {
		if err != nil || !d.IsDir() || path == "." {
			return err
		}
		if d.Name() == "testdata" {
			return filepath.SkipDir
		}
		if matches, _ := filepath.Glob(filepath.Join(path, "*.go")); len(matches) > 0 {
			pkgs = append(pkgs, module+"proxy/"+filepath.ToSlash(path))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return pkgs
}

// The data plane's whole contract is internal/snapshot: no package of proxy/..., nor any
// package of this module they reach, imports Kubernetes. (golangci-lint's depguard checks
// the same for proxy/... itself; this also follows the module's packages they import.)
func TestDataPlaneImportsNoKubernetes(t *testing.T) {
	seen := map[string]string{} // package -> the package that imported it first
	queue := proxyPackages(t)
	for _, p := range queue {
		seen[p] = ""
	}
	for len(queue) > 0 {
		pkg := queue[0]
		queue = queue[1:]
		for _, imp := range importsOf(t, pkg) {
			if isKubernetes(imp) {
				chain := pkg
				for from := seen[pkg]; from != ""; from = seen[from] {
					chain = from + " -> " + chain
				}
				t.Errorf("%s imports %s: the data plane must not depend on Kubernetes (translate such objects in internal/translate)", chain, imp)
			}
			if _, ok := seen[imp]; !ok && strings.HasPrefix(imp, module) {
				seen[imp] = pkg
				queue = append(queue, imp)
			}
		}
	}
}

// The jobs split out of proxy/ stay independent of each other and of the accept loop:
// each may use only the proxy/... packages listed here (its doc.go says why).
func TestProxyJobsImportOnlyTheirOwnTools(t *testing.T) {
	allowed := map[string][]string{
		"proxy/edge":       {"proxy/opensslrsa"},
		"proxy/health":     {"proxy/upstream"},
		"proxy/metrics":    nil,
		"proxy/admin":      nil,
		"proxy/proxyproto": nil,
		"proxy/accesslog":  nil,
	}
	for pkg, ok := range allowed {
		for _, imp := range importsOf(t, module+pkg) {
			rel, inModule := strings.CutPrefix(imp, module)
			if !inModule || rel != "proxy" && !strings.HasPrefix(rel, "proxy/") {
				continue
			}
			if !slices.Contains(ok, rel) {
				may := "no other package"
				if len(ok) > 0 {
					may = "only " + strings.Join(ok, ", ")
				}
				t.Errorf("%s imports %s; of proxy/... it may use %s (see its doc.go)", pkg, rel, may)
			}
		}
	}
}

// kubernetesRoots are the module roots of Kubernetes' Go packages.
var kubernetesRoots = []string{"k8s.io", "sigs.k8s.io"}

func isKubernetes(imp string) bool {
	root, _, _ := strings.Cut(imp, "/")
	for _, r := range kubernetesRoots {
		if root == r {
			return true
		}
	}
	return false
}
