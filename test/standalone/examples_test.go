package standalone

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bridgehead/bridgehead/test/readme"
)

// The examples' EndpointSlices name fixed loopback ports; the tests rewrite them to free
// ones (and tell the quickstart) so that they never collide with a `make run`.
const (
	demoBackendPort = "port: 9443" // the demo backend, in every example
	acmeSolverPort  = "port: 8089" // the stand-in ACME solver, in examples/redirect-acme
)

// exampleRun is one folder of examples/ served by `bridgehead quickstart`.
type exampleRun struct {
	root string // plays the repository root: the README's relative paths resolve here
	dir  string // root/examples/NAME, a copy without generated/
	gw   *gatewayProc
}

// startExample copies examples/NAME (without its generated/ folder) and runs
// `bridgehead quickstart --dir examples/NAME` on it, as its README says, on free ports.
func startExample(t *testing.T, name string) *exampleRun {
	t.Helper()
	r := &exampleRun{root: t.TempDir()}
	r.dir = filepath.Join(r.root, "examples", name)
	copyDir(t, filepath.Join(repoRoot, "examples", name), r.dir, "generated")

	backend := freePort(t)
	args := []string{"quickstart"}
	if name != "quickstart" { // `make run` is `bin/bridgehead quickstart`: examples/quickstart by default
		args = append(args, "--dir", filepath.Join("examples", name))
	}
	args = append(args, "--backend-address", "127.0.0.1:"+backend)
	rewritten := map[string]bool{}
	solver := ""
	files, err := filepath.Glob(filepath.Join(r.dir, "*.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		s := string(data)
		if strings.Contains(s, demoBackendPort) {
			s = strings.ReplaceAll(s, demoBackendPort, "port: "+backend)
			rewritten[demoBackendPort] = true
		}
		if strings.Contains(s, acmeSolverPort) {
			if solver == "" {
				solver = freePort(t)
			}
			s = strings.ReplaceAll(s, acmeSolverPort, "port: "+solver)
			rewritten[acmeSolverPort] = true
		}
		if err := os.WriteFile(f, []byte(s), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if !rewritten[demoBackendPort] {
		t.Fatalf("examples/%s: no EndpointSlice names the demo backend (%q)", name, demoBackendPort)
	}
	if solver != "" {
		args = append(args, "--acme-solver-address", "127.0.0.1:"+solver)
	}
	args = append(append(args, "--"), servePorts...)
	r.gw = startBridgehead(t, r.root, args...)
	r.gw.waitLoaded()
	return r
}

// waitLoaded waits until the first read of the folder is being served.
func (p *gatewayProc) waitLoaded() {
	p.t.Helper()
	if _, ok := eventually(startTimeout, func() bool {
		st := p.status()
		return len(st.Objects) > 0 || len(st.Problems) > 0
	}); !ok {
		p.t.Fatalf("the folder was not loaded within %s", startTimeout)
	}
}

// assertAllReady runs `bridgehead status` on the example (once the quickstart has
// generated its Secrets): every object must be Ready without warnings, so a typo in an
// example fails here with the field it is in.
func (r *exampleRun) assertAllReady() {
	t := r.gw.t
	t.Helper()
	rel, err := filepath.Rel(r.root, r.dir)
	if err != nil {
		t.Fatal(err)
	}
	out, code := runTool(t, r.root, binary, "status", "--config-dir", rel, "--gateway-namespace", "demo")
	if code != 0 || strings.Contains(out, ": warning: ") {
		t.Fatalf("bridgehead status --config-dir %s: exit %d, want 0 and no warnings:\n%s", rel, code, out)
	}
}

// TestMakeRunQuickstart is `make run` end to end: the quickstart on free ports, the
// top-level README's curl with real curl and exactly the answer the README documents,
// then Ctrl-C and a clean exit.
func TestMakeRunQuickstart(t *testing.T) {
	t.Parallel()
	r := startExample(t, "quickstart")
	const row = "IngressRoute/demo/app               True   Ready             route.yaml#1"
	if printed := r.gw.waitPrinted(row); !strings.Contains(printed, row) {
		t.Errorf("the printed status does not show the quickstart route Ready:\n%s", printed)
	}
	r.assertAllReady()
	steps := readme.Steps(t, filepath.Join(repoRoot, "README.md"), func(argv []string) bool { return argv[0] == "curl" })
	runSteps(t, "README.md", r.root, r.gw, steps)

	start := time.Now()
	if code := r.gw.interrupt(); code != 0 {
		t.Fatalf("Ctrl-C: exit code %d, want 0", code)
	}
	t.Logf("stopped %s after SIGINT", time.Since(start).Round(time.Millisecond))
	if strings.Contains(r.gw.stderr.String(), `"level":"ERROR"`) {
		t.Errorf("errors logged:\n%s", r.gw.stderr)
	}
}

// TestExamples runs every folder of examples/ whose README starts it with
// `bin/bridgehead quickstart --dir examples/NAME`, the way the README says, and checks
// that every documented command prints exactly the documented output.
func TestExamples(t *testing.T) {
	t.Parallel()
	entries, err := os.ReadDir(filepath.Join(repoRoot, "examples"))
	if err != nil {
		t.Fatal(err)
	}
	seen := 0
	for _, e := range entries {
		name := e.Name()
		if !e.IsDir() || name == "quickstart" { // the quickstart is TestMakeRunQuickstart's
			continue
		}
		text, err := os.ReadFile(filepath.Join(repoRoot, "examples", name, "README.md"))
		if err != nil {
			t.Errorf("examples/%s has no README.md: %v", name, err)
			continue
		}
		if !strings.Contains(string(text), "bin/bridgehead quickstart --dir examples/"+name+"\n") {
			// Not a standalone example (one for a cluster, say): not this test's to run.
			t.Logf("examples/%s: its README does not run it with `bin/bridgehead quickstart --dir examples/%s`; skipped", name, name)
			continue
		}
		seen++
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			if why := examplePending(t, name); why != "" {
				// Visible in -v output and counted as skipped: never a silent pass.
				t.Skip(why)
			}
			steps := readme.Steps(t, filepath.Join(repoRoot, "examples", name, "README.md"), exampleCommands)
			r := startExample(t, name)
			r.assertAllReady()
			runSteps(t, filepath.Join("examples", name, "README.md"), r.root, r.gw, steps)
			if code := r.gw.interrupt(); code != 0 {
				t.Errorf("Ctrl-C: exit code %d, want 0", code)
			}
		})
	}
	if seen < 4 {
		t.Fatalf("found %d examples besides the quickstart, want at least 4", seen)
	}
}
