// Package standalone tests the bridgehead binary as a user runs it: built once per
// package, started as a subprocess on ephemeral 127.0.0.1 ports with a folder of manifests
// (`bridgehead quickstart`, `bridgehead serve --config-dir`, `bridgehead status`), and
// driven with real clients (curl) and real TLS backends.
//
// Every process a test starts is stopped by its PID when the test ends; every wait is
// bounded and polls a condition rather than sleeping.
package standalone

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// binary is bin/bridgehead as built for this package run by TestMain.
var binary string

func TestMain(m *testing.M) {
	os.Exit(buildAndRun(m))
}

// BRIDGEHEAD_TEST_BINARY, when set, names a binary to test instead of building one (a
// release build, say).
func buildAndRun(m *testing.M) int {
	if prebuilt := os.Getenv("BRIDGEHEAD_TEST_BINARY"); prebuilt != "" {
		abs, err := filepath.Abs(prebuilt)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		binary = abs
		return m.Run()
	}
	dir, err := os.MkdirTemp("", "bridgehead-standalone-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer func() { _ = os.RemoveAll(dir) }()
	binary = filepath.Join(dir, "bridgehead")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	// The one binary: serve runs the proxy in its own process.
	build := exec.CommandContext(ctx, "go", "build", "-o", dir+"/", "./cmd/bridgehead")
	build.Dir = repoRoot
	if out, err := build.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "go build ./cmd/bridgehead: %v\n%s", err, out)
		return 1
	}
	return m.Run()
}

// repoRoot is the module root, from this package's directory.
const repoRoot = "../.."

// Bounded waits.
const (
	startTimeout = 20 * time.Second // until "bridgehead serving"
	stopTimeout  = 5 * time.Second  // from SIGINT to exit
	// reloadLimit is how soon an edit of the folder must take effect (the watcher's promise).
	reloadLimit = time.Second
)

// --- the process ---

// syncBuffer collects a process's output while it runs.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// gatewayProc is a running `bridgehead` subprocess.
type gatewayProc struct {
	t              *testing.T
	cmd            *exec.Cmd
	stdout, stderr *syncBuffer
	done           chan struct{} // closed when the process has exited
	waitErr        error         // set before done is closed
	// Addresses of the entry points, from the "bridgehead serving" log line.
	web, websecure, admin string
	// addrs are every entry point's address by name (--entrypoint ones too).
	addrs map[string]string
}

// startBridgehead runs the binary with args in dir and waits for its "bridgehead serving"
// log line. The process is killed (by its PID) when the test ends, if still running.
func startBridgehead(t *testing.T, dir string, args ...string) *gatewayProc {
	t.Helper()
	p := &gatewayProc{t: t, stdout: &syncBuffer{}, stderr: &syncBuffer{}, done: make(chan struct{})}
	p.cmd = exec.Command(binary, args...)
	p.cmd.Dir = dir
	p.cmd.Stdout = p.stdout
	stderr, err := p.cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	serving := make(chan map[string]string, 1)
	copied := make(chan struct{})
	go func() {
		defer close(copied)
		sc := bufio.NewScanner(stderr)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			line := sc.Bytes()
			_, _ = p.stderr.Write(append(append([]byte(nil), line...), '\n'))
			var entry struct {
				Msg       string            `json:"msg"`
				Addresses map[string]string `json:"addresses"`
			}
			if json.Unmarshal(line, &entry) == nil && entry.Msg == "bridgehead serving" {
				select {
				case serving <- entry.Addresses:
				default:
				}
			}
		}
		_, _ = io.Copy(p.stderr, stderr)
	}()
	go func() {
		<-copied // Wait closes the pipe: read it to the end first
		p.waitErr = p.cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(func() {
		select {
		case <-p.done:
		default:
			_ = p.cmd.Process.Kill()
			<-p.done
		}
		if t.Failed() {
			t.Logf("bridgehead %s\n--- stdout ---\n%s\n--- stderr ---\n%s", strings.Join(args, " "), p.stdout, p.stderr)
		}
	})
	select {
	case addrs := <-serving:
		p.web, p.websecure, p.admin, p.addrs = addrs["web"], addrs["websecure"], addrs["admin"], addrs
	case <-p.done:
		t.Fatalf("bridgehead %s exited before serving: %v\n--- stdout ---\n%s\n--- stderr ---\n%s", strings.Join(args, " "), p.waitErr, p.stdout, p.stderr)
	case <-time.After(startTimeout):
		t.Fatalf("bridgehead %s did not log \"bridgehead serving\" within %s\n--- stderr ---\n%s", strings.Join(args, " "), startTimeout, p.stderr)
	}
	return p
}

// interrupt sends SIGINT (Ctrl-C) and returns the exit code, failing the test if the
// process does not exit within stopTimeout.
func (p *gatewayProc) interrupt() int {
	p.t.Helper()
	if err := p.cmd.Process.Signal(os.Interrupt); err != nil {
		p.t.Fatalf("SIGINT: %v", err)
	}
	select {
	case <-p.done:
	case <-time.After(stopTimeout):
		p.t.Fatalf("bridgehead did not exit within %s of SIGINT", stopTimeout)
	}
	var exit *exec.ExitError
	if errors.As(p.waitErr, &exit) {
		if ws, ok := exit.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			return 128 + int(ws.Signal())
		}
		return exit.ExitCode()
	}
	if p.waitErr != nil {
		p.t.Fatalf("wait: %v", p.waitErr)
	}
	return 0
}

// servePorts are the serve flags for ephemeral loopback ports.
var servePorts = []string{"--web-address", "127.0.0.1:0", "--websecure-address", "127.0.0.1:0", "--admin-address", "127.0.0.1:0"}

// port is the port of a host:port.
func port(t *testing.T, addr string) string {
	t.Helper()
	_, p, err := net.SplitHostPort(addr)
	if err != nil {
		t.Fatalf("address %q: %v", addr, err)
	}
	return p
}

// freePort returns a loopback port that was free a moment ago, for a process that must
// be told its port before it starts (the demo backend, whose EndpointSlice names it).
func freePort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = ln.Close() }()
	return port(t, ln.Addr().String())
}

// --- the admin port ---

// adminStatus is GET /status of the admin port in standalone mode.
type adminStatus struct {
	Objects []struct {
		Object     string `json:"object"`
		Origin     string `json:"origin"`
		Conditions []struct {
			Type    string `json:"type"`
			Status  string `json:"status"`
			Reason  string `json:"reason"`
			Message string `json:"message"`
		} `json:"conditions"`
	} `json:"objects"`
	Problems []string `json:"problems"`
}

func (p *gatewayProc) status() *adminStatus {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+p.admin+"/status", nil)
	if err != nil {
		p.t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		p.t.Fatalf("GET /status: %v", err)
	}
	defer func() { _ = resp.Body.Close() }()
	if resp.StatusCode != http.StatusOK {
		p.t.Fatalf("GET /status: %s", resp.Status)
	}
	var st adminStatus
	if err := json.NewDecoder(resp.Body).Decode(&st); err != nil {
		p.t.Fatalf("GET /status: %v", err)
	}
	return &st
}

// lastStatusPrint is the last complete status table the gateway printed on stdout (each
// ends with a line of dashes; the admin /status may be updated a moment before it is
// printed).
func (p *gatewayProc) lastStatusPrint() string {
	sep := "\n" + strings.Repeat("-", 40) + "\n"
	out := p.stdout.String()
	end := strings.LastIndex(out, sep)
	if end < 0 {
		return ""
	}
	out = out[:end]
	if start := strings.LastIndex(out, sep); start >= 0 {
		out = out[start+len(sep):]
	}
	return out
}

// waitPrinted waits (bounded) until the last printed status contains every one of want,
// and returns it.
func (p *gatewayProc) waitPrinted(want ...string) string {
	p.t.Helper()
	var printed string
	eventually(reloadLimit+time.Second, func() bool {
		printed = p.lastStatusPrint()
		for _, w := range want {
			if !strings.Contains(printed, w) {
				return false
			}
		}
		return true
	})
	return printed
}

// condition returns the condition of an object ("IngressRoute/demo/app") in /status.
func (s *adminStatus) condition(object, typ string) (status, reason, message string, ok bool) {
	for _, o := range s.Objects {
		if o.Object != object {
			continue
		}
		for _, c := range o.Conditions {
			if c.Type == typ {
				return c.Status, c.Reason, c.Message, true
			}
		}
	}
	return "", "", "", false
}

// eventually polls cond every 50ms until it holds or limit passes; it returns how long it
// took, and false on timeout.
func eventually(limit time.Duration, cond func() bool) (time.Duration, bool) {
	start := time.Now()
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		if cond() {
			return time.Since(start), true
		}
		if time.Since(start) > limit {
			return time.Since(start), false
		}
		<-tick.C
	}
}

// --- folders ---

// copyDir copies a folder of manifests, leaving out skip (a top-level entry name).
func copyDir(t *testing.T, src, dst, skip string) {
	t.Helper()
	err := filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, p)
		if err != nil {
			return err
		}
		if rel == skip {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		target := filepath.Join(dst, rel)
		if d.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(target, data, 0o600)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// writeFile replaces a file the way editors and kubectl-style tools do: write a temporary
// file beside it, then rename it over the original, so a reader never sees half of it.
func writeFile(t *testing.T, path, content string) {
	t.Helper()
	tmp := filepath.Join(filepath.Dir(path), "."+filepath.Base(path)+".tmp")
	if err := os.WriteFile(tmp, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
}

// --- real clients ---

// tool finds a real client; `make test` installs the Debian packages when missing.
func tool(t *testing.T, name string) string {
	t.Helper()
	path, err := exec.LookPath(name)
	if err != nil {
		t.Fatalf("%s is not installed: run `make test-deps` (make test does it)", name)
	}
	return path
}

// runTool runs a client in dir with a bounded time and returns its combined output and
// exit code.
func runTool(t *testing.T, dir, name string, args ...string) (string, int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, tool(t, name), args...)
	cmd.Dir = dir
	cmd.WaitDelay = time.Second
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	var exit *exec.ExitError
	switch {
	case err == nil:
		return out.String(), 0
	case errors.As(err, &exit):
		return out.String(), exit.ExitCode()
	default:
		t.Fatalf("%s %s: %v", name, strings.Join(args, " "), err)
		return "", -1
	}
}
