package dataplane

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/bridgehead/bridgehead/internal/snapshot"
	"github.com/bridgehead/bridgehead/proxy/upstream"
)

// BinaryName is the data-plane executable, looked for beside the control binary.
const BinaryName = "bridgehead-dataplane"

// Find returns the data-plane binary beside the running executable, or "" when there is
// none (e.g. `go run ./cmd/bridgehead`).
func Find() string {
	self, err := os.Executable()
	if err != nil {
		return ""
	}
	p := filepath.Join(filepath.Dir(self), BinaryName)
	if st, err := os.Stat(p); err == nil && !st.IsDir() && st.Mode()&0o111 != 0 {
		return p
	}
	return ""
}

// applyTimeout bounds how long a Swap waits for the data plane to serve a snapshot.
const applyTimeout = 30 * time.Second

// Process is the control side of a data-plane process: it offers what the control code
// needs of a proxy.Server (admin handlers, Listen, Addrs, Serve, observations), backed by
// a child process.
type Process struct {
	Binary         string
	Flags          *Flags
	AdvertisedPort string
	// Ready is the control side's own readiness (nil: always ready); the data plane's
	// /readyz asks it.
	Ready          func() error
	Log            *slog.Logger
	Stdout, Stderr io.Writer

	mux      *http.ServeMux
	patterns []string
	dir      string
	ctl      *http.Server
	cmd      *exec.Cmd
	out      *frameWriter
	exited   chan struct{}
	exitErr  error
	addrs    map[string]string

	mu           sync.Mutex
	observations []upstream.Observation
	changedOnce  sync.Once
	changed      chan struct{} // buffered 1: a new set of observations arrived
	applied      chan string   // refusals (or "") of sent snapshots, in order
	pending      *snapshot.Snapshot
	started      bool
}

// HandleAdmin serves h on the data plane's admin port, answered by this process. Call it
// before Listen.
func (p *Process) HandleAdmin(pattern string, h http.Handler) {
	if p.mux == nil {
		p.mux = http.NewServeMux()
	}
	p.mux.Handle(pattern, h)
	p.patterns = append(p.patterns, pattern)
}

// Attach sends every snapshot store accepts to the data plane. Swap returns once the data
// plane serves it, so whatever reads the store (the snapshot hash) never runs ahead of
// the traffic.
func (p *Process) Attach(store *snapshot.Store) {
	store.OnSwap(func(s *snapshot.Snapshot) {
		p.mu.Lock()
		if !p.started {
			p.pending = s // sent when the process has started
			p.mu.Unlock()
			return
		}
		p.mu.Unlock()
		p.send(s)
	})
}

func (p *Process) send(s *snapshot.Snapshot) {
	data, err := s.MarshalWire()
	if err != nil {
		p.Log.Error("a snapshot cannot be sent to the data plane; it keeps the previous one", "error", err.Error())
		return
	}
	select {
	case <-p.applied: // a late answer to a send that timed out: not this one's
	default:
	}
	if err := p.out.write(frameSnapshot, data); err != nil {
		p.Log.Error("sending a snapshot to the data plane", "error", err.Error())
		return
	}
	select {
	case refusal := <-p.applied:
		if refusal != "" {
			p.Log.Error("the data plane refused a snapshot; it keeps the previous one", "error", refusal)
		}
	case <-p.exited:
	case <-time.After(applyTimeout):
		p.Log.Error("the data plane did not apply a snapshot in time", "timeout", applyTimeout.String())
	}
}

// Listen starts the data plane and returns once its listeners are open, or why they
// could not be.
func (p *Process) Listen() error {
	socket, err := p.controlSocket()
	if err != nil {
		return err
	}
	ln, err := net.Listen("unix", socket)
	if err != nil {
		p.cleanup()
		return fmt.Errorf("control socket: %w", err)
	}
	mux := p.mux
	if mux == nil {
		mux = http.NewServeMux()
	}
	mux.HandleFunc("GET "+readyPath, func(w http.ResponseWriter, _ *http.Request) {
		if p.Ready != nil {
			if err := p.Ready(); err != nil {
				http.Error(w, err.Error(), http.StatusServiceUnavailable)
				return
			}
		}
		_, _ = io.WriteString(w, "ok\n")
	})
	p.ctl = &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = p.ctl.Serve(ln) }()

	pair, err := socketPair()
	if err != nil {
		p.cleanup()
		return fmt.Errorf("socket pair: %w", err)
	}
	ours, theirs := os.NewFile(uintptr(pair[0]), "control"), os.NewFile(uintptr(pair[1]), "dataplane")
	conn, err := net.FileConn(ours)
	_ = ours.Close()
	if err != nil {
		_ = theirs.Close()
		p.cleanup()
		return err
	}
	args := append(p.Flags.Args(), "--control-socket="+socket, "--forward-admin="+strings.Join(p.patterns, ","), "--advertised-https-port="+p.AdvertisedPort)
	p.cmd = exec.Command(p.Binary, args...)
	p.cmd.Stdout, p.cmd.Stderr = p.Stdout, p.Stderr
	p.cmd.ExtraFiles = []*os.File{theirs}
	if err := p.cmd.Start(); err != nil {
		_ = theirs.Close()
		_ = conn.Close()
		p.cleanup()
		return fmt.Errorf("starting the data plane %s: %w", p.Binary, err)
	}
	_ = theirs.Close()
	p.out = &frameWriter{w: conn}
	p.applied = make(chan string, 1)
	p.exited = make(chan struct{})
	go func() {
		p.exitErr = p.cmd.Wait()
		_ = conn.Close()
		close(p.exited)
	}()

	listening := make(chan error, 1)
	go p.read(conn, listening)
	select {
	case err = <-listening:
	case <-p.exited:
		err = fmt.Errorf("the data plane exited before listening: %w", p.exitStatus())
	}
	if err != nil {
		_ = p.cmd.Process.Kill()
		<-p.exited
		p.cleanup()
		return err
	}
	p.mu.Lock()
	p.started = true
	pending := p.pending
	p.pending = nil
	p.mu.Unlock()
	if pending != nil {
		p.send(pending)
	}
	return nil
}

// read dispatches the data plane's frames until it goes away.
func (p *Process) read(conn net.Conn, listening chan<- error) {
	in := newFrameReader(conn)
	for {
		kind, payload, err := in.read()
		if err != nil {
			return
		}
		switch kind {
		case frameListening:
			var addrs map[string]string
			_ = json.Unmarshal(payload, &addrs)
			p.addrs = addrs
			listening <- nil
		case frameFailed:
			listening <- errors.New(string(payload))
		case frameApplied:
			select {
			case p.applied <- string(payload):
			default: // an answer nobody waits for (its send timed out) must not stop the reader
			}
		case frameObservations:
			var obs []upstream.Observation
			if json.Unmarshal(payload, &obs) == nil {
				p.mu.Lock()
				p.observations = obs
				p.mu.Unlock()
				select {
				case p.changedChan() <- struct{}{}:
				default:
				}
			}
		}
	}
}

// Addrs are the data plane's listening addresses, by entry point.
func (p *Process) Addrs() map[string]string { return p.addrs }

// Changed signals (coalesced) each time the data plane pushes changed observations.
func (p *Process) Changed() <-chan struct{} { return p.changedChan() }

func (p *Process) changedChan() chan struct{} {
	p.changedOnce.Do(func() { p.changed = make(chan struct{}, 1) })
	return p.changed
}

// Latest are the data plane's latest upstream observations.
func (p *Process) Latest() []upstream.Observation {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.observations
}

// Serve waits until ctx ends, then stops the data plane gracefully (SIGTERM: readiness
// fails, listeners close, requests drain) and waits for it. A data plane that exits on
// its own is an error: the control process ends too, and its supervisor restarts both.
func (p *Process) Serve(ctx context.Context) error {
	if p.cmd == nil {
		if err := p.Listen(); err != nil {
			return err
		}
	}
	defer p.cleanup()
	select {
	case <-p.exited:
		return fmt.Errorf("the data plane exited: %w", p.exitStatus())
	case <-ctx.Done():
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	<-p.exited
	var exit *exec.ExitError
	if errors.As(p.exitErr, &exit) && !exit.Success() {
		return fmt.Errorf("the data plane stopped: %w", p.exitErr)
	}
	return nil
}

// socketPair is a connected pair of unix stream sockets, both close-on-exec (exec.Cmd
// passes one on explicitly). ForkLock keeps a concurrent fork from inheriting them
// between the two calls, where SOCK_CLOEXEC is not available (macOS).
func socketPair() ([2]int, error) {
	syscall.ForkLock.RLock()
	defer syscall.ForkLock.RUnlock()
	pair, err := syscall.Socketpair(syscall.AF_UNIX, syscall.SOCK_STREAM, 0)
	if err != nil {
		return pair, err
	}
	syscall.CloseOnExec(pair[0])
	syscall.CloseOnExec(pair[1])
	return pair, nil
}

// controlSocket names the unix socket the data plane reaches this process on. On Linux it
// is abstract (no file: the pod's root file system is read-only, and the socket goes
// away with the process); it is reachable from the pod's network namespace, like the
// admin port whose paths it answers. Elsewhere it lives in a private temporary folder.
func (p *Process) controlSocket() (string, error) {
	if runtime.GOOS == "linux" {
		var id [8]byte
		if _, err := rand.Read(id[:]); err != nil {
			return "", err
		}
		return "@bridgehead-control-" + hex.EncodeToString(id[:]), nil
	}
	dir, err := os.MkdirTemp("", "bridgehead-control-")
	if err != nil {
		return "", err
	}
	p.dir = dir
	return filepath.Join(dir, "control.sock"), nil
}

// exitStatus is how the data plane ended (after p.exited is closed).
func (p *Process) exitStatus() error {
	if p.exitErr == nil {
		return errors.New("exit status 0")
	}
	return p.exitErr
}

func (p *Process) cleanup() {
	if p.ctl != nil {
		_ = p.ctl.Close()
	}
	if p.dir != "" {
		_ = os.RemoveAll(p.dir)
	}
}
