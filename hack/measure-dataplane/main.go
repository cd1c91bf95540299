// Command measure-dataplane measures `bridgehead serve --config-dir`: memory of every
// process of the gateway at 1, 1,000 and 10,000 routes (idle and under a bounded load),
// start-up until idle, reload latency and idle CPU at the largest count, and what happens
// to traffic when a process is killed with SIGKILL. It was written for issue 17's process
// decision (docs/measurements/dataplane-split.md): the "process" mode drove the separate
// bridgehead-dataplane binary, which exists only up to commit 97ecf71; today's gateway is
// measured with -modes in-process (the default).
//
// Everything runs on loopback: the gateway's entry points are ephemeral 127.0.0.1 ports and
// the one backend every route forwards to is an HTTPS server inside this program. Every
// load is bounded in time. Every process started is stopped by its PID.
//
//	go build -o bin/ ./cmd/bridgehead
//	nice -n 5 go run ./hack/measure-dataplane -bin bin -out /tmp/dataplane.json > /tmp/dataplane.md
//
// It has no tests of its own: `go test ./...` builds it and runs nothing.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Fixed measurement parameters (the brief's numbers).
const (
	loadConns      = 50               // closed-loop connections, as wrk -c50
	loadDuration   = 10 * time.Second // as wrk -d10s
	settle         = 5 * time.Second  // after the last route answers, before idle memory
	idleCPUWindow  = 60 * time.Second
	reloadSamples  = 5
	reloadLimit    = 60 * time.Second
	killRate       = 100 // requests per second around a kill
	killDuration   = 20 * time.Second
	killAt         = 5 * time.Second // into the paced load
	startupLimit   = 3 * time.Minute
	afterKillWatch = 14 * time.Second // how long the survivors are watched after a kill
)

func main() {
	binDir := flag.String("bin", "bin", "folder holding bridgehead (and, at commits up to 97ecf71, bridgehead-dataplane)")
	out := flag.String("out", "dataplane.json", "raw results (JSON)")
	runs := flag.Int("runs", 2, "runs of every measurement per mode")
	countsFlag := flag.String("routes", "1,1000,10000", "route counts for memory; the largest also gets idle CPU and reload latency")
	killRoutes := flag.Int("kill-routes", 1000, "routes served during the kill tests (0: no kill tests)")
	modesFlag := flag.String("modes", "in-process", "data-plane modes: in-process; process only with binaries from commits up to 97ecf71")
	profileDir := flag.String("profile", "", "also take a 20 s CPU profile of the idle gateway at the largest count into this folder (serve --pprof: the data plane's process, or the one process)")
	flag.Parse()
	var counts []int
	for _, c := range strings.Split(*countsFlag, ",") {
		n, err := strconv.Atoi(c)
		if err != nil || n < 1 {
			fatalf("-routes: %q is not a positive count", c)
		}
		counts = append(counts, n)
	}
	bin, err := filepath.Abs(*binDir)
	if err != nil {
		fatalf("%v", err)
	}
	m, err := newMeasurer(bin)
	if err != nil {
		fatalf("%v", err)
	}
	m.profileDir = *profileDir
	defer m.close()
	res := &results{Started: time.Now().UTC(), LoadBefore: loadAverage(), CPUs: cpuCount()}
	// Runs are interleaved (mode A, mode B, mode A, ...) so a change in how busy the shared
	// machine is falls on both modes alike.
	for run := 1; run <= *runs; run++ {
		for _, mode := range strings.Split(*modesFlag, ",") {
			for _, n := range counts {
				r, err := m.instance(mode, run, n, n == counts[len(counts)-1])
				if err != nil {
					fatalf("%s run %d, %d routes: %v", mode, run, n, err)
				}
				res.Instances = append(res.Instances, r)
				m.progress("%s run %d %d routes: startup %.2fs idle RSS %d KiB", mode, run, n, r.StartupSeconds, r.IdleTotal.RSS)
			}
			targets := []string{"data plane", "control"}
			if *killRoutes == 0 {
				targets = nil
			} else if mode == "in-process" {
				targets = []string{"one process"}
			}
			for _, target := range targets {
				k, err := m.kill(mode, run, *killRoutes, target)
				if err != nil {
					fatalf("%s run %d, kill %s: %v", mode, run, target, err)
				}
				res.Kills = append(res.Kills, k)
				m.progress("%s run %d kill %s: serve %s", mode, run, target, k.ServeExit)
			}
		}
	}
	res.Finished, res.LoadAfter = time.Now().UTC(), loadAverage()
	raw, err := json.MarshalIndent(res, "", "  ")
	if err != nil {
		fatalf("%v", err)
	}
	if err := os.WriteFile(*out, raw, 0o644); err != nil {
		fatalf("%v", err)
	}
	res.markdown(os.Stdout)
}

func fatalf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "measure-dataplane: "+format+"\n", args...)
	os.Exit(1)
}

func cpuCount() int {
	b, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return 0
	}
	return strings.Count(string(b), "\nprocessor") + strings.Count(string(b[:min(len(b), 10)]), "processor")
}

// role names a gateway process by what it runs.
func role(mode string, pid int) string {
	switch {
	case mode == "in-process":
		return "one process"
	case exeName(pid) == "bridgehead-dataplane":
		return "data plane"
	default:
		return "control"
	}
}

// killProcess sends SIGKILL to pid.
func killProcess(pid int) error { return syscall.Kill(pid, syscall.SIGKILL) }
