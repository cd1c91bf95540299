package standalone

import (
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// childrenOf lists the PIDs whose parent is pid (from /proc).
func childrenOf(t *testing.T, pid int) []int {
	t.Helper()
	entries, err := os.ReadDir("/proc")
	if err != nil {
		t.Fatal(err)
	}
	var kids []int
	for _, e := range entries {
		child, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		stat, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue // gone meanwhile
		}
		// The fields after the command name (which may hold spaces) are: state ppid ...
		fields := strings.Fields(string(stat[strings.LastIndexByte(string(stat), ')')+1:]))
		if len(fields) > 1 && fields[1] == strconv.Itoa(pid) {
			kids = append(kids, child)
		}
	}
	return kids
}

// TestServeIsOneProcess: the proxy runs in serve's own process (the separate data-plane
// process was removed on the measurements in docs/measurements/dataplane-split.md), and
// the old flag either does nothing (in-process, auto) or says why it is gone.
func TestServeIsOneProcess(t *testing.T) {
	t.Parallel()
	p := newPKI(t)
	files := backendFiles(t, p, false)
	files["app.yaml"] = namedRoute("app", "app", "svc-a")
	dir := writeFolder(t, files)
	gw := startBridgehead(t, dir, append([]string{"serve", "--dataplane=in-process", "--config-dir", ".", "--gateway-namespace", ns}, servePorts...)...)
	gw.waitLoaded()
	if code, body, err := get(gw.httpsClient(p.edgeCA, true), "https://app.example.test/"); err != nil || code != http.StatusOK || body != "A" {
		t.Fatalf("through the gateway: %d %q %v", code, body, err)
	}
	if kids := childrenOf(t, gw.cmd.Process.Pid); len(kids) != 0 {
		t.Fatalf("serve started %d processes, want none", len(kids))
	}
	if code := gw.interrupt(); code != 0 {
		t.Fatalf("exit code %d after SIGINT", code)
	}

	out, code := runTool(t, dir, binary, "serve", "--dataplane=process", "--config-dir", ".")
	if code != 2 || !strings.Contains(out, "--dataplane=process: the separate data-plane process was removed") {
		t.Errorf("--dataplane=process: exit %d, want 2 with the reason:\n%s", code, out)
	}
}
