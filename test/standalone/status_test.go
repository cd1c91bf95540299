package standalone

import (
	"path/filepath"
	"strings"
	"testing"
)

// TestStatusCommand is `bridgehead status --config-dir DIR`: the table of every object,
// exit 0 when everything is Ready, non-zero when a document is broken or an object is not
// Ready, with the reason on its own line.
func TestStatusCommand(t *testing.T) {
	t.Parallel()
	p := newPKI(t)
	good := map[string]string{
		"secrets.yaml":   p.secretsYAML(),
		"backends.yaml":  serviceYAML(t, "svc-a", "127.0.0.1:9"),
		"transport.yaml": transportYAML,
		"app.yaml":       namedRoute("app", "app", "svc-a"),
	}
	status := func(t *testing.T, dir string) (string, int) {
		t.Helper()
		return runTool(t, dir, binary, "status", "--config-dir", ".", "--gateway-namespace", ns)
	}

	t.Run("all ready", func(t *testing.T) {
		t.Parallel()
		out, code := status(t, writeFolder(t, good))
		if code != 0 {
			t.Fatalf("exit %d, want 0:\n%s", code, out)
		}
		for _, want := range []string{
			"OBJECT", "READY", "REASON", "FROM",
			"IngressRoute/web/app", "ServersTransport/web/backends",
		} {
			if !strings.Contains(out, want) {
				t.Errorf("output lacks %q:\n%s", want, out)
			}
		}
		for _, line := range strings.Split(out, "\n") {
			if strings.HasPrefix(line, "IngressRoute/") || strings.HasPrefix(line, "ServersTransport/") {
				if f := strings.Fields(line); len(f) < 3 || f[1] != "True" || f[2] != "Ready" {
					t.Errorf("row %q: want READY True, REASON Ready", line)
				}
			}
		}
		if strings.Contains(out, "Documents not used") {
			t.Errorf("problems reported for a good folder:\n%s", out)
		}
	})

	t.Run("broken document", func(t *testing.T) {
		t.Parallel()
		files := map[string]string{"broken.yaml": brokenYAML}
		for k, v := range good {
			files[k] = v
		}
		out, code := status(t, writeFolder(t, files))
		if code == 0 {
			t.Fatalf("exit 0 with broken documents:\n%s", out)
		}
		for _, want := range append([]string{"Documents not used:", "IngressRoute/web/app"}, brokenProblems[:3]...) {
			if !strings.Contains(out, want) {
				t.Errorf("output lacks %q:\n%s", want, out)
			}
		}
	})

	t.Run("object not ready", func(t *testing.T) {
		t.Parallel()
		files := map[string]string{}
		for k, v := range good {
			files[k] = v
		}
		files["app.yaml"] = strings.Replace(namedRoute("app", "app", "svc-a"), "svc-a", "svc-missing", 1)
		dir := writeFolder(t, files)
		out, code := status(t, dir)
		if code == 0 {
			t.Fatalf("exit 0 with an IngressRoute whose Service is missing:\n%s", out)
		}
		row := ""
		for _, line := range strings.Split(out, "\n") {
			if strings.HasPrefix(line, "IngressRoute/web/app ") {
				row = line
			}
		}
		if f := strings.Fields(row); len(f) < 3 || f[1] != "False" || !strings.HasSuffix(row, "app.yaml#1") {
			t.Errorf("row %q: want READY False and FROM app.yaml#1\n%s", row, out)
		}
		if !strings.Contains(out, "  IngressRoute/web/app: ") || !strings.Contains(out, "svc-missing") {
			t.Errorf("no line says why IngressRoute/web/app is not ready:\n%s", out)
		}
	})

	t.Run("usage", func(t *testing.T) {
		t.Parallel()
		out, code := runTool(t, t.TempDir(), binary, "status")
		if code != 2 || !strings.Contains(out, "--config-dir is required") {
			t.Errorf("status without --config-dir: exit %d, want 2 and a hint:\n%s", code, out)
		}
		out, code = runTool(t, t.TempDir(), binary, "status", "--config-dir", filepath.Join(t.TempDir(), "missing"))
		if code == 0 {
			t.Errorf("status on a missing folder: exit 0:\n%s", out)
		}
	})
}
