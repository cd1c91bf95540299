package main

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// gateway is one `bridgehead serve --config-dir` this program started.
type gateway struct {
	cmd     *exec.Cmd
	started time.Time
	log     *lockedBuffer // stderr, for the messages around a kill
	done    chan struct{} // closed when serve has exited (and been reaped)
	exited  time.Time
	waitErr error
	// Entry points, from the "bridgehead serving" log line.
	websecure, admin string
	edgeCA           *x509.CertPool
	// known is every PID of the gateway seen while it served: a data plane orphaned by a
	// killed serve is no longer serve's child, and is still stopped by its PID.
	known []int
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

// startGateway runs serve on ephemeral loopback ports in mode ("process" or "in-process")
// and waits for its "bridgehead serving" line (bounded by 2 minutes).
func startGateway(binDir, dir, mode string, edgeCA *x509.CertPool, pprof bool) (*gateway, error) {
	args := []string{"serve", "--dataplane=" + mode, "--config-dir", ".", "--gateway-namespace", ns,
		"--web-address", "127.0.0.1:0", "--websecure-address", "127.0.0.1:0", "--admin-address", "127.0.0.1:0"}
	if pprof {
		args = append(args, "--pprof")
	}
	g := &gateway{log: &lockedBuffer{}, done: make(chan struct{}), edgeCA: edgeCA}
	g.cmd = exec.Command(filepath.Join(binDir, "bridgehead"), args...)
	g.cmd.Dir = dir
	// The status table printed on every reload goes nowhere; printing it is part of the
	// cost in both modes alike.
	devnull, err := os.Open(os.DevNull)
	if err != nil {
		return nil, err
	}
	defer func() { _ = devnull.Close() }()
	g.cmd.Stdout = devnull
	stderr, err := g.cmd.StderrPipe()
	if err != nil {
		return nil, err
	}
	g.started = time.Now()
	if err := g.cmd.Start(); err != nil {
		return nil, err
	}
	serving := make(chan map[string]string, 1)
	copied := make(chan struct{})
	go func() {
		defer close(copied)
		sc := bufio.NewScanner(stderr)
		sc.Buffer(make([]byte, 64<<10), 4<<20)
		for sc.Scan() {
			line := sc.Bytes()
			_, _ = g.log.Write(append(append([]byte(nil), line...), '\n'))
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
		_, _ = io.Copy(g.log, stderr)
	}()
	go func() {
		<-copied
		g.waitErr = g.cmd.Wait()
		g.exited = time.Now()
		close(g.done)
	}()
	select {
	case a := <-serving:
		g.websecure, g.admin = a["websecure"], a["admin"]
		g.remember()
		return g, nil
	case <-g.done:
		return nil, fmt.Errorf("serve exited before serving: %w\n%s", g.waitErr, g.log)
	case <-time.After(2 * time.Minute):
		g.stop()
		return nil, fmt.Errorf("serve did not log \"bridgehead serving\" within 2m\n%s", g.log)
	}
}

// stop ends serve by SIGINT (SIGKILL after 10 s) and kills, by PID, any data plane that
// outlived it.
func (g *gateway) stop() {
	g.remember()
	select {
	case <-g.done:
	default:
		_ = g.cmd.Process.Signal(os.Interrupt)
		select {
		case <-g.done:
		case <-time.After(10 * time.Second):
			_ = g.cmd.Process.Kill()
			<-g.done
		}
	}
	for _, pid := range g.known[1:] {
		if alive(pid) && exeName(pid) == "bridgehead-dataplane" {
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
	}
}

// remember adds the gateway's current PIDs to known.
func (g *gateway) remember() {
	select {
	case <-g.done:
		return // serve is gone; its PID may already belong to someone else
	default:
	}
	for _, pid := range g.pids() {
		if !slices.Contains(g.known, pid) {
			g.known = append(g.known, pid)
		}
	}
}

// pids is serve's PID followed by its descendants' (the data plane in the default mode).
func (g *gateway) pids() []int {
	root := g.cmd.Process.Pid
	out := []int{root}
	for i := 0; i < len(out); i++ {
		out = append(out, childrenOf(out[i])...)
	}
	return out
}

// childrenOf lists the PIDs whose parent is pid (from /proc).
func childrenOf(pid int) []int {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	var kids []int
	for _, e := range entries {
		child, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if f := statFields(child); len(f) > 1 && f[1] == strconv.Itoa(pid) {
			kids = append(kids, child)
		}
	}
	return kids
}

// statFields are the fields of /proc/PID/stat after the command name: state, ppid, ...
func statFields(pid int) []string {
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return nil
	}
	s := string(stat)
	return strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
}

// alive reports a process that exists and is not a zombie.
func alive(pid int) bool {
	f := statFields(pid)
	return len(f) > 0 && f[0] != "Z"
}

// exeName is the base name of the binary a process runs.
func exeName(pid int) string {
	exe, err := os.Readlink(fmt.Sprintf("/proc/%d/exe", pid))
	if err != nil {
		return "?"
	}
	return filepath.Base(exe)
}

// client sends every request to the websecure entry point, trusting the edge CA, with SNI
// and Host from the URL. keepAlive false makes each request a new connection and handshake,
// as a new client would see the gateway.
func (g *gateway) client(keepAlive bool, timeout time.Duration) *http.Client {
	tr := &http.Transport{
		TLSClientConfig:     &tls.Config{RootCAs: g.edgeCA},
		DisableKeepAlives:   !keepAlive,
		MaxIdleConnsPerHost: 64,
		DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, network, g.websecure)
		},
	}
	return &http.Client{Timeout: timeout, Transport: tr}
}

// ok does one GET of https://h/ and reports a 200 from the backend.
func ok(c *http.Client, h string) bool {
	resp, err := c.Get("https://" + h + "/")
	if err != nil {
		return false
	}
	body, _ := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	return resp.StatusCode == http.StatusOK && string(body) == backendAnswer
}

// waitServing polls h through the gateway every 10 ms until it answers, bounded by limit,
// and returns how long after start that was.
func waitServing(c *http.Client, h string, start time.Time, limit time.Duration) (time.Duration, error) {
	deadline := start.Add(limit)
	for time.Now().Before(deadline) {
		if ok(c, h) {
			return time.Since(start), nil
		}
		time.Sleep(10 * time.Millisecond)
	}
	return 0, fmt.Errorf("%s did not answer within %s", h, limit)
}

// snapshotHash is GET /snapshot/hash of the admin port ("" when it cannot be read).
func (g *gateway) snapshotHash() string {
	c := &http.Client{Timeout: 2 * time.Second}
	resp, err := c.Get("http://" + g.admin + "/snapshot/hash")
	if err != nil {
		return ""
	}
	defer func() { _ = resp.Body.Close() }()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		return ""
	}
	return strings.TrimSpace(string(b))
}

// profile saves a 20 s CPU profile from the admin port's /debug/pprof/profile into path.
func (g *gateway) profile(path string) error {
	c := &http.Client{Timeout: time.Minute}
	resp, err := c.Get("http://" + g.admin + "/debug/pprof/profile?seconds=20")
	if err != nil {
		return err
	}
	defer func() { _ = resp.Body.Close() }()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET /debug/pprof/profile: %s", resp.Status)
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, resp.Body); err != nil {
		_ = f.Close()
		return err
	}
	return f.Close()
}

// exitDescription says how serve ended.
func (g *gateway) exitDescription() string {
	var exit *exec.ExitError
	if errors.As(g.waitErr, &exit) {
		if ws, ok := exit.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			if ws.Signal() == syscall.SIGKILL {
				return "killed by SIGKILL"
			}
			return "killed by " + ws.Signal().String()
		}
		return fmt.Sprintf("exit code %d", exit.ExitCode())
	}
	if g.waitErr != nil {
		return g.waitErr.Error()
	}
	return "exit code 0"
}

// lastLogLines returns the last n lines of serve's stderr, messages only.
func (g *gateway) lastLogLines(n int) []string {
	lines := strings.Split(strings.TrimSpace(g.log.String()), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return lines
}
