package standalone

import (
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
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

func dataPlaneFolder(t *testing.T) (*testPKI, string) {
	p := newPKI(t)
	backend := tlsBackend(t, p, "A", false)
	return p, writeFolder(t, map[string]string{
		"secrets.yaml":   p.secretsYAML(),
		"backends.yaml":  serviceYAML(t, "svc-a", addrOf(backend)),
		"transport.yaml": transportYAML,
		"app.yaml":       namedRoute("app", "app", "svc-a"),
	})
}

// TestTrafficGoesThroughTheDataPlaneProcess: serve runs the proxy as the
// bridgehead-dataplane process beside it, which answers the traffic; when that process
// dies, serve exits with an error that says so (so the kubelet restarts the pod) rather
// than staying up with nothing serving.
func TestTrafficGoesThroughTheDataPlaneProcess(t *testing.T) {
	t.Parallel()
	p, dir := dataPlaneFolder(t)
	gw := serveFolder(t, dir)
	kids := childrenOf(t, gw.cmd.Process.Pid)
	if len(kids) != 1 {
		t.Fatalf("serve has %d child processes, want 1 (the data plane)", len(kids))
	}
	exe, err := os.Readlink("/proc/" + strconv.Itoa(kids[0]) + "/exe")
	if err != nil || filepath.Base(exe) != "bridgehead-dataplane" {
		t.Fatalf("serve's child runs %q (%v), want bridgehead-dataplane", exe, err)
	}
	if code, body, err := get(gw.httpsClient(p.edgeCA, false), "https://app.example.test/"); err != nil || code != http.StatusOK || body != "A" {
		t.Fatalf("through the data plane: %d %q %v", code, body, err)
	}

	if err := syscall.Kill(kids[0], syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	select {
	case <-gw.done:
	case <-time.After(stopTimeout):
		t.Fatalf("serve did not exit within %s of its data plane's death", stopTimeout)
	}
	if gw.waitErr == nil || !strings.Contains(gw.stderr.String(), "the data plane exited") {
		t.Fatalf("serve exited with %v; its log does not name the data plane's exit:\n%s", gw.waitErr, gw.stderr)
	}
}

// TestInProcessDataPlane: --dataplane=in-process serves from serve's own process (as
// `go run ./cmd/bridgehead` does, having no data-plane binary beside it).
func TestInProcessDataPlane(t *testing.T) {
	t.Parallel()
	p, dir := dataPlaneFolder(t)
	gw := startBridgehead(t, dir, append([]string{"serve", "--dataplane=in-process", "--config-dir", ".", "--gateway-namespace", ns}, servePorts...)...)
	gw.waitLoaded()
	if code, body, err := get(gw.httpsClient(p.edgeCA, true), "https://app.example.test/"); err != nil || code != http.StatusOK || body != "A" {
		t.Fatalf("in process: %d %q %v", code, body, err)
	}
	if kids := childrenOf(t, gw.cmd.Process.Pid); len(kids) != 0 {
		t.Fatalf("serve --dataplane=in-process started %d processes", len(kids))
	}
	if code := gw.interrupt(); code != 0 {
		t.Fatalf("exit code %d after SIGINT", code)
	}
}
