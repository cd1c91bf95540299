package traefikcrds

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bridgehead/bridgehead/internal/testenv"
)

// Folder mode: each case, in each API group, is a folder of the harness's objects and the
// case's manifests, served by `bridgehead serve --config-dir` as a user runs it, on
// ephemeral loopback ports. The object states are read from the admin /status (what
// `bridgehead status` asks the running gateway).

// Bounded waits of folder mode.
const (
	serveStartTimeout = 20 * time.Second // until "bridgehead serving" and the folder loaded
	stateTimeout      = 5 * time.Second  // until an object reaches its state
	stopTimeout       = 5 * time.Second  // from SIGINT to exit
)

var (
	buildOnce sync.Once
	builtBin  string
	buildErr  error
)

// bridgeheadBinary builds cmd/bridgehead once per test binary run (or takes
// BRIDGEHEAD_TEST_BINARY, a release build, say).
func bridgeheadBinary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		if prebuilt := os.Getenv("BRIDGEHEAD_TEST_BINARY"); prebuilt != "" {
			builtBin, buildErr = filepath.Abs(prebuilt)
			return
		}
		dir, err := os.MkdirTemp("", "bridgehead-corpus-")
		if err != nil {
			buildErr = err
			return
		}
		builtBin = filepath.Join(dir, "bridgehead")
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()
		build := exec.CommandContext(ctx, "go", "build", "-o", builtBin, "./cmd/bridgehead")
		build.Dir = testenv.RepoRoot()
		if out, err := build.CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("go build ./cmd/bridgehead: %w\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return builtBin
}

// removeBinary removes the binary built for this run.
func removeBinary() {
	if builtBin != "" && os.Getenv("BRIDGEHEAD_TEST_BINARY") == "" {
		_ = os.RemoveAll(filepath.Dir(builtBin))
	}
}

var (
	serveFlagsOnce sync.Once
	serveFlags     []string
)

// serveArgs are the flags of `bridgehead serve` for a case folder: every entry point on an
// ephemeral loopback port; the UDP entry point too when this build has them.
func serveArgs(t *testing.T, bin string) []string {
	serveFlagsOnce.Do(func() {
		serveFlags = []string{"serve", "--config-dir", ".", "--gateway-namespace", corpusNS,
			"--web-address", "127.0.0.1:0", "--websecure-address", "127.0.0.1:0", "--admin-address", "127.0.0.1:0"}
		// The udp entry point, when this build has UDP entry points (with IngressRouteUDP).
		out, _ := exec.Command(bin, "serve", "--help").CombinedOutput()
		if strings.Contains(string(out), "-entrypoint") {
			serveFlags = append(serveFlags, "--entrypoint", "udp=127.0.0.1:0/udp")
		}
	})
	return serveFlags
}

// serveProc is one running `bridgehead serve`.
type serveProc struct {
	cmd            *exec.Cmd
	stdout, stderr *lockedBuffer
	done           chan struct{}
	addrs          map[string]string
}

type lockedBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func (p *serveProc) entryPoint(name string) (string, bool) {
	if name == "admin" {
		return "", false
	}
	a, ok := p.addrs[name]
	return a, ok
}

func (p *serveProc) entryPointNames() []string {
	var out []string
	for k := range p.addrs {
		if k != "admin" {
			out = append(out, k)
		}
	}
	sort.Strings(out)
	return out
}

// startServe runs `bridgehead serve` in dir until its "bridgehead serving" line; the
// process is stopped by its PID when the test ends.
func startServe(t *testing.T, dir string) *serveProc {
	t.Helper()
	bin := bridgeheadBinary(t)
	p := &serveProc{stdout: &lockedBuffer{}, stderr: &lockedBuffer{}, done: make(chan struct{})}
	p.cmd = exec.Command(bin, serveArgs(t, bin)...)
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
			line := sc.Text()
			_, _ = p.stderr.Write([]byte(line + "\n"))
			var entry struct {
				Msg       string            `json:"msg"`
				Addresses map[string]string `json:"addresses"`
			}
			if json.Unmarshal([]byte(line), &entry) == nil && entry.Msg == "bridgehead serving" {
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
		_ = p.cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(func() {
		_ = p.cmd.Process.Signal(os.Interrupt)
		select {
		case <-p.done:
		case <-time.After(stopTimeout):
			_ = p.cmd.Process.Kill()
			<-p.done
		}
		if t.Failed() {
			t.Logf("bridgehead serve output\n--- stdout ---\n%s\n--- stderr ---\n%s", p.stdout, p.stderr)
		}
	})
	select {
	case p.addrs = <-serving:
	case <-p.done:
		t.Fatalf("bridgehead serve exited before serving\n--- stderr ---\n%s", p.stderr)
	case <-time.After(serveStartTimeout):
		t.Fatalf("bridgehead serve did not log \"bridgehead serving\" within %s\n--- stderr ---\n%s", serveStartTimeout, p.stderr)
	}
	return p
}

// folderStatus is the admin /status of standalone mode.
type folderStatus struct {
	Objects []struct {
		Object     string `json:"object"`
		Conditions []struct {
			Type    string `json:"type"`
			Status  string `json:"status"`
			Reason  string `json:"reason"`
			Message string `json:"message"`
		} `json:"conditions"`
	} `json:"objects"`
	Problems []string `json:"problems"`
}

func (p *serveProc) status() (*folderStatus, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+p.addrs["admin"]+"/status", nil)
	if err != nil {
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer func() { _ = resp.Body.Close() }()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET /status: %s", resp.Status)
	}
	var st folderStatus
	return &st, json.NewDecoder(resp.Body).Decode(&st)
}

// objectState says whether the object is in the state o now; the error says what it is in.
func (p *serveProc) objectState(o objectState) error {
	st, err := p.status()
	if err != nil {
		return err
	}
	id := o.Kind + "/" + corpusNS + "/" + o.Name
	for _, obj := range st.Objects {
		if obj.Object != id {
			continue
		}
		for _, c := range obj.Conditions {
			if c.Type == "Ready" {
				return readyMatches(o, c.Status, c.Reason, c.Message)
			}
		}
		return fmt.Errorf("%s has no Ready condition in /status", id)
	}
	var ids []string
	for _, obj := range st.Objects {
		ids = append(ids, obj.Object)
	}
	return fmt.Errorf("%s is not in /status (objects %v; documents not used %q)", id, ids, st.Problems)
}

// readyMatches compares a Ready condition with the state a case wants.
func readyMatches(o objectState, status, reason, message string) error {
	want := "False"
	if *o.Ready {
		want = "True"
	}
	if status != want || (o.Reason != "" && reason != o.Reason) || !strings.Contains(message, o.MessageContains) {
		return fmt.Errorf("Ready=%s reason %s: %s", status, reason, message)
	}
	return nil
}

// runFolderCase runs one case in one API group through `bridgehead serve`.
func runFolderCase(t *testing.T, h *harness, c *corpusCase, group string) {
	manifests, err := streamYAML(c.manifests(group))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	for name, data := range map[string][]byte{"harness.yaml": h.objects, "case.yaml": manifests} {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	gw := startServe(t, dir)
	// Loaded: /status lists the objects (the folder is read once before serving starts).
	if err := waitFor(context.Background(), serveStartTimeout, func() error {
		st, err := gw.status()
		if err == nil && len(st.Objects) == 0 {
			err = fmt.Errorf("no objects in /status yet")
		}
		return err
	}); err != nil {
		t.Fatalf("the folder was not loaded: %v", err)
	}
	checkCase(t, h, c, gw, gw.objectState)
}

// checkCase waits for every object's state, then sends the requests in order.
func checkCase(t *testing.T, h *harness, c *corpusCase, gw gatewayUnderTest, state func(objectState) error) {
	t.Helper()
	for _, o := range c.spec.Objects {
		if err := waitFor(context.Background(), stateTimeout, func() error { return state(o) }); err != nil {
			t.Errorf("object %s: want %s; after %s it is %v", o.Kind+"/"+o.Name, o, stateTimeout, err)
		}
	}
	if t.Failed() {
		t.FailNow() // the requests' answers would only repeat why
	}
	cl := newClients(h, gw)
	defer cl.close()
	for i, r := range c.spec.Requests {
		if err := cl.send(i, r); err != nil {
			t.Errorf("requests[%d]: %v", i, err)
		}
	}
}
