package main

import (
	"fmt"
	"io"
	"slices"
	"sort"
	"strings"
	"time"
)

// results is everything one invocation measured.
type results struct {
	Started, Finished     time.Time
	LoadBefore, LoadAfter string
	CPUs                  int
	Instances             []*instanceResult
	Kills                 []*killResult
}

func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	sort.Float64s(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// cell is "median (run 1, run 2, ...)" with format f.
func cell(f string, xs []float64) string {
	if len(xs) == 0 {
		return "–"
	}
	parts := make([]string, len(xs))
	for i, x := range xs {
		parts[i] = fmt.Sprintf(f, x)
	}
	if len(xs) == 1 {
		return parts[0]
	}
	return fmt.Sprintf(f, median(xs)) + " (" + strings.Join(parts, ", ") + ")"
}

func mib(kib int64) float64 { return float64(kib) / 1024 }

// modes and counts in the order measured.
func (r *results) modes() []string {
	var out []string
	for _, in := range r.Instances {
		if !slices.Contains(out, in.Mode) {
			out = append(out, in.Mode)
		}
	}
	return out
}

func (r *results) counts() []int {
	var out []int
	for _, in := range r.Instances {
		if !slices.Contains(out, in.Routes) {
			out = append(out, in.Routes)
		}
	}
	return out
}

// series collects f over the runs of one mode and route count.
func (r *results) series(mode string, n int, f func(*instanceResult) (float64, bool)) []float64 {
	var out []float64
	for _, in := range r.Instances {
		if in.Mode == mode && in.Routes == n {
			if v, ok := f(in); ok {
				out = append(out, v)
			}
		}
	}
	return out
}

func (r *results) markdown(w io.Writer) {
	fmt.Fprintf(w, "Measured %s to %s UTC on %d CPUs; load average (1, 5, 15 min) before: %s, after: %s.\n",
		r.Started.Format("2006-01-02 15:04"), r.Finished.Format("15:04"), r.CPUs, r.LoadBefore, r.LoadAfter)
	fmt.Fprintln(w, "Cells are the median, then each run in brackets.")

	fmt.Fprintln(w, "\n### Memory (MiB), idle after load and settle")
	fmt.Fprintln(w, "\n| mode | routes | RSS total | PSS total | anon total | control RSS | data plane RSS | control anon | data plane anon | startup to last route answering (s) |")
	fmt.Fprintln(w, "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
	for _, mode := range r.modes() {
		for _, n := range r.counts() {
			fmt.Fprintf(w, "| %s | %d | %s | %s | %s | %s | %s | %s | %s | %s |\n", mode, n,
				cell("%.1f", r.series(mode, n, func(in *instanceResult) (float64, bool) { return mib(in.IdleTotal.RSS), true })),
				cell("%.1f", r.series(mode, n, func(in *instanceResult) (float64, bool) { return mib(in.IdleTotal.PSS), true })),
				cell("%.1f", r.series(mode, n, func(in *instanceResult) (float64, bool) { return mib(in.IdleTotal.Anon), true })),
				cell("%.1f", r.series(mode, n, roleRSS("control", false))),
				cell("%.1f", r.series(mode, n, roleRSS("data plane", false))),
				cell("%.1f", r.series(mode, n, roleAnon("control", false))),
				cell("%.1f", r.series(mode, n, roleAnon("data plane", false))),
				cell("%.2f", r.series(mode, n, func(in *instanceResult) (float64, bool) { return in.StartupSeconds, true })))
		}
	}

	fmt.Fprintf(w, "\n### Memory (MiB), peak during %d connections for %s\n", loadConns, loadDuration)
	fmt.Fprintln(w, "\n| mode | routes | peak RSS total | peak PSS total | peak anon total | control peak RSS | data plane peak RSS | requests/s | failed |")
	fmt.Fprintln(w, "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
	for _, mode := range r.modes() {
		for _, n := range r.counts() {
			fmt.Fprintf(w, "| %s | %d | %s | %s | %s | %s | %s | %s | %s |\n", mode, n,
				cell("%.1f", r.series(mode, n, func(in *instanceResult) (float64, bool) { return mib(in.Load.PeakTotal.RSS), true })),
				cell("%.1f", r.series(mode, n, func(in *instanceResult) (float64, bool) { return mib(in.Load.PeakTotal.PSS), true })),
				cell("%.1f", r.series(mode, n, func(in *instanceResult) (float64, bool) { return mib(in.Load.PeakTotal.Anon), true })),
				cell("%.1f", r.series(mode, n, roleRSS("control", true))),
				cell("%.1f", r.series(mode, n, roleRSS("data plane", true))),
				cell("%.0f", r.series(mode, n, func(in *instanceResult) (float64, bool) { return float64(in.Load.Requests) / in.Load.Seconds, true })),
				cell("%.0f", r.series(mode, n, func(in *instanceResult) (float64, bool) { return float64(in.Load.Failures), true })))
		}
	}

	fmt.Fprintf(w, "\n### Start-up: from exec until idle (under %.1f CPU seconds in %s, all processes)\n", quietCPU, quietWindow)
	fmt.Fprintln(w, "\n| mode | routes | run | last route answers (s) | idle after (s) | CPU seconds per window until then |")
	fmt.Fprintln(w, "| --- | ---: | ---: | ---: | ---: | --- |")
	for _, in := range r.Instances {
		var ws []string
		for _, c := range in.BusyCPU {
			ws = append(ws, fmt.Sprintf("%.1f", c))
		}
		fmt.Fprintf(w, "| %s | %d | %d | %.2f | %.0f | %s |\n", in.Mode, in.Routes, in.Run, in.StartupSeconds, in.QuietSeconds, strings.Join(ws, " "))
	}

	largest := r.counts()[len(r.counts())-1]
	fmt.Fprintf(w, "\n### Reload at %d routes (s): one route file gains a route for a new host\n", largest)
	fmt.Fprintln(w, "\n| mode | samples | new host answers: median | max | /snapshot/hash changes: median | max |")
	fmt.Fprintln(w, "| --- | ---: | ---: | ---: | ---: | ---: |")
	for _, mode := range r.modes() {
		var route, hash []float64
		for _, in := range r.Instances {
			if in.Mode == mode {
				for _, s := range in.Reloads {
					route = append(route, s.RouteSeconds)
					hash = append(hash, s.HashSeconds)
				}
			}
		}
		fmt.Fprintf(w, "| %s | %d | %.3f | %.3f | %.3f | %.3f |\n", mode, len(route), median(route), slices.Max(append(route, 0)), median(hash), slices.Max(append(hash, 0)))
	}

	fmt.Fprintf(w, "\n### Idle CPU at %d routes: CPU seconds over %s, no requests, no edits\n", largest, idleCPUWindow)
	fmt.Fprintln(w, "\n| mode | total | control | data plane |")
	fmt.Fprintln(w, "| --- | ---: | ---: | ---: |")
	for _, mode := range r.modes() {
		cpu := func(role string) func(*instanceResult) (float64, bool) {
			return func(in *instanceResult) (float64, bool) {
				if in.IdleCPU == nil {
					return 0, false
				}
				if role == "" {
					var t float64
					for _, v := range in.IdleCPU {
						t += v
					}
					return t, true
				}
				v, ok := in.IdleCPU[role]
				return v, ok
			}
		}
		ctl := "control"
		if mode == "in-process" {
			ctl = "one process"
		}
		fmt.Fprintf(w, "| %s | %s | %s | %s |\n", mode, cell("%.2f", r.series(mode, largest, cpu(""))),
			cell("%.2f", r.series(mode, largest, cpu(ctl))), cell("%.2f", r.series(mode, largest, cpu("data plane"))))
	}

	if len(r.Kills) == 0 {
		return
	}
	fmt.Fprintf(w, "\n### SIGKILL under %d requests/s (kill %s into the load)\n", killRate, killAt)
	fmt.Fprintln(w, "\n| mode | killed | run | routes | last success after kill (s) | serve | serve exit after (s) | other process exits after (s) | OK/failed per second from 2 s before the kill |")
	fmt.Fprintln(w, "| --- | --- | ---: | ---: | ---: | --- | ---: | --- | --- |")
	for _, k := range r.Kills {
		var others []string
		for role, s := range k.SurvivorExitSeconds {
			if s < 0 {
				others = append(others, fmt.Sprintf("%s: still running after %s", role, afterKillWatch))
			} else {
				others = append(others, fmt.Sprintf("%s: %.2f", role, s))
			}
		}
		var secs []string
		from := int(k.KillAtSecond) - 2
		for i := max(from, 0); i < len(k.Counts) && i < from+10; i++ {
			secs = append(secs, fmt.Sprintf("%d/%d", k.Counts[i].OK, k.Counts[i].Failed))
		}
		exitAfter := "–"
		if k.ServeExitSeconds >= 0 {
			exitAfter = fmt.Sprintf("%.2f", k.ServeExitSeconds)
		}
		fmt.Fprintf(w, "| %s | %s | %d | %d | %.2f | %s | %s | %s | %s |\n", k.Mode, k.Target, k.Run, k.Routes,
			k.LastOKAfterKill, k.ServeExit, exitAfter, strings.Join(others, "; "), strings.Join(secs, " "))
	}
	fmt.Fprintln(w, "\nserve's last log lines after each kill:")
	for _, k := range r.Kills {
		fmt.Fprintf(w, "\n%s, %s killed, run %d:\n\n```\n%s\n```\n", k.Mode, k.Target, k.Run, strings.Join(k.Log, "\n"))
	}
}

// roleAnon picks one role's anonymous resident memory in MiB, idle or at peak.
func roleAnon(role string, peak bool) func(*instanceResult) (float64, bool) {
	return func(in *instanceResult) (float64, bool) {
		src := in.Idle
		if peak {
			src = in.PeakByRole
		}
		if in.Mode == "in-process" && role == "control" {
			role = "one process"
		}
		m, ok := src[role]
		return mib(m.Anon), ok
	}
}

// roleRSS picks one role's RSS in MiB, idle or at peak.
func roleRSS(role string, peak bool) func(*instanceResult) (float64, bool) {
	return func(in *instanceResult) (float64, bool) {
		src := in.Idle
		if peak {
			src = in.PeakByRole
		}
		if in.Mode == "in-process" && role == "control" {
			role = "one process"
		}
		m, ok := src[role]
		return mib(m.RSS), ok
	}
}
