package main

import (
	"crypto/x509"
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// measurer holds what every gateway instance shares: the certificates, the backend and a
// scratch folder.
type measurer struct {
	bin         string
	scratch     string
	edgeCA      *x509.CertPool
	edge        *leaf
	backendCA   *authority
	backendAddr string
	stopBackend func()
	folders     int
	profileDir  string // when set: serve --pprof, and a CPU profile of the idle gateway
}

func newMeasurer(bin string) (*measurer, error) {
	for _, b := range []string{"bridgehead", "bridgehead-dataplane"} {
		if _, err := os.Stat(filepath.Join(bin, b)); err != nil {
			return nil, fmt.Errorf("%w (build both: go build -o bin/ ./cmd/bridgehead ./cmd/bridgehead-dataplane)", err)
		}
	}
	edgeCA, err := newAuthority("measure edge CA")
	if err != nil {
		return nil, err
	}
	edge, err := edgeCA.issue("example.test", "*.example.test")
	if err != nil {
		return nil, err
	}
	backendCA, err := newAuthority("measure backend CA")
	if err != nil {
		return nil, err
	}
	backend, err := backendCA.issue("backend.web.svc", "backend.web.svc")
	if err != nil {
		return nil, err
	}
	addr, stop, err := startBackend(backend.tls)
	if err != nil {
		return nil, err
	}
	scratch, err := os.MkdirTemp("", "measure-dataplane-")
	if err != nil {
		stop()
		return nil, err
	}
	return &measurer{bin: bin, scratch: scratch, edgeCA: edgeCA.pool(), edge: edge, backendCA: backendCA,
		backendAddr: addr, stopBackend: stop}, nil
}

func (m *measurer) close() {
	m.stopBackend()
	_ = os.RemoveAll(m.scratch)
}

func (m *measurer) progress(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "%s [load %s] "+format+"\n", append([]any{time.Now().UTC().Format("15:04:05"), loadAverage()}, args...)...)
}

// start writes a fresh folder of n routes and serves it in mode, returning once the last
// route answers through the gateway.
func (m *measurer) start(mode string, n int) (*gateway, string, time.Duration, error) {
	m.folders++
	dir := filepath.Join(m.scratch, fmt.Sprintf("folder-%d", m.folders))
	if err := writeFolder(dir, n, m.edge, m.backendCA, m.backendAddr); err != nil {
		return nil, "", 0, err
	}
	g, err := startGateway(m.bin, dir, mode, m.edgeCA, m.profileDir != "")
	if err != nil {
		return nil, "", 0, err
	}
	c := g.client(false, 2*time.Second)
	startup, err := waitServing(c, host(n-1), g.started, startupLimit)
	c.CloseIdleConnections()
	if err != nil {
		g.stop()
		return nil, "", 0, fmt.Errorf("%w\n%s", err, g.log)
	}
	g.remember()
	return g, dir, startup, nil
}

// instanceResult is one gateway serving n routes.
type instanceResult struct {
	Mode           string
	Run, Routes    int
	StartupSeconds float64 // from exec to the last route answering: also how long a restart takes
	// QuietSeconds is from exec until the gateway's processes used under quietCPU in one
	// quietWindow (the start-up backend probes and their verdicts done); -1: not within
	// quietLimit. BusyCPU is their CPU seconds in each window until then.
	QuietSeconds float64
	BusyCPU      []float64
	Idle         map[string]memory
	IdleTotal    memory
	Load         loadResult
	PeakByRole   map[string]memory
	IdleCPU      map[string]float64 `json:",omitempty"` // CPU seconds over idleCPUWindow
	Reloads      []reloadSample     `json:",omitempty"`
}

type reloadSample struct {
	RouteSeconds float64 // from the file's rename to the new host answering
	HashSeconds  float64 // from the rename to /snapshot/hash changing (-1: never)
}

func (m *measurer) instance(mode string, run, n int, largest bool) (*instanceResult, error) {
	g, dir, startup, err := m.start(mode, n)
	if err != nil {
		return nil, err
	}
	defer g.stop()
	r := &instanceResult{Mode: mode, Run: run, Routes: n, StartupSeconds: startup.Seconds(), Idle: map[string]memory{}, PeakByRole: map[string]memory{}}
	// Idle means idle: after start the data plane probes every route's backend over TLS
	// and the control process recomputes verdicts from the results, which at 10,000 routes
	// keeps a core busy for a while.
	if r.QuietSeconds, r.BusyCPU, err = waitQuiet(g); err != nil {
		return nil, err
	}
	for _, pid := range g.pids() {
		mem, err := readMemory(pid)
		if err != nil {
			return nil, err
		}
		r.Idle[role(mode, pid)] = mem
		r.IdleTotal.RSS += mem.RSS
		r.IdleTotal.PSS += mem.PSS
		r.IdleTotal.Anon += mem.Anon
		r.IdleTotal.File += mem.File
	}
	r.Load = closedLoad(g, n, loadConns, loadDuration)
	for pid, mem := range r.Load.PeakByProcess {
		r.PeakByRole[role(mode, pid)] = mem
	}
	if !largest {
		return r, nil
	}
	time.Sleep(settle)
	if m.profileDir != "" {
		if err := g.profile(filepath.Join(m.profileDir, fmt.Sprintf("%s-run%d-%d.pprof", mode, run, n))); err != nil {
			return nil, err
		}
	}
	if r.IdleCPU, err = idleCPU(g, mode); err != nil {
		return nil, err
	}
	for k := 0; k < reloadSamples; k++ {
		s, err := reload(g, dir, fmt.Sprintf("reload-%d", k))
		if err != nil {
			return nil, err
		}
		r.Reloads = append(r.Reloads, s)
		time.Sleep(time.Second) // let the watcher's "recent file" window and the GC calm down between samples
	}
	return r, nil
}

// Quiet: the gateway is idle once its processes use under quietCPU CPU seconds in one
// quietWindow (2% of a core); the wait is bounded by quietLimit.
const (
	quietWindow = 5 * time.Second
	quietCPU    = 0.1
	quietLimit  = 10 * time.Minute
)

// waitQuiet waits until the gateway is idle and returns when that was (seconds since
// exec; -1 if not within quietLimit) and the CPU seconds of every window until then.
func waitQuiet(g *gateway) (float64, []float64, error) {
	total := func() (float64, error) {
		var t float64
		for _, pid := range g.pids() {
			s, err := cpuSeconds(pid)
			if err != nil {
				return 0, err
			}
			t += s
		}
		return t, nil
	}
	var windows []float64
	prev, err := total()
	if err != nil {
		return 0, nil, err
	}
	deadline := time.Now().Add(quietLimit)
	for time.Now().Before(deadline) {
		time.Sleep(quietWindow)
		cur, err := total()
		if err != nil {
			return 0, nil, err
		}
		windows = append(windows, cur-prev)
		if cur-prev < quietCPU {
			return time.Since(g.started).Seconds(), windows, nil
		}
		prev = cur
	}
	return -1, windows, nil
}

// idleCPU is each process's CPU seconds over idleCPUWindow with no requests and no edits.
func idleCPU(g *gateway, mode string) (map[string]float64, error) {
	pids := g.pids()
	before := map[int]float64{}
	for _, pid := range pids {
		s, err := cpuSeconds(pid)
		if err != nil {
			return nil, err
		}
		before[pid] = s
	}
	time.Sleep(idleCPUWindow)
	out := map[string]float64{}
	for _, pid := range pids {
		s, err := cpuSeconds(pid)
		if err != nil {
			return nil, err
		}
		out[role(mode, pid)] = s - before[pid]
	}
	return out, nil
}

// reload adds a route for a new host to one route file and times how long until that host
// answers through the gateway, and until the admin port's /snapshot/hash changes.
func reload(g *gateway, dir, name string) (reloadSample, error) {
	h := name + ".example.test"
	c := g.client(false, 2*time.Second)
	defer c.CloseIdleConnections()
	if ok(c, h) {
		return reloadSample{}, fmt.Errorf("%s answers before its route exists", h)
	}
	prev := g.snapshotHash()
	if prev == "" {
		return reloadSample{}, fmt.Errorf("GET /snapshot/hash on the admin port failed")
	}
	start := time.Now()
	if err := appendRoute(dir, name, h); err != nil {
		return reloadSample{}, err
	}
	hashDone := make(chan float64, 1)
	go func() {
		for time.Since(start) < reloadLimit {
			if cur := g.snapshotHash(); cur != "" && cur != prev {
				hashDone <- time.Since(start).Seconds()
				return
			}
			time.Sleep(10 * time.Millisecond)
		}
		hashDone <- -1
	}()
	took, err := waitServing(c, h, start, reloadLimit)
	if err != nil {
		return reloadSample{}, err
	}
	return reloadSample{RouteSeconds: took.Seconds(), HashSeconds: <-hashDone}, nil
}
