package main

import (
	"fmt"
	"time"
)

// killResult is one SIGKILL under a paced load.
type killResult struct {
	Mode   string
	Run    int
	Routes int
	Target string // "data plane", "control" or "one process"
	// Counts is the outcome per second of sending; the kill is at KillAtSecond.
	Counts       []secondCount
	KillAtSecond float64
	// LastOKAfterKill is how long after the kill the last request succeeded (negative: before).
	LastOKAfterKill float64
	// ServeExit says how serve ended, ServeExitSeconds when (after the kill; -1: still running
	// when the watch ended).
	ServeExit        string
	ServeExitSeconds float64
	// SurvivorExitSeconds is, for each other process, when it exited after the kill (-1: it
	// was still running when the watch ended).
	SurvivorExitSeconds map[string]float64
	Log                 []string // serve's last log lines (both processes log to its stderr)
}

func (m *measurer) kill(mode string, run, n int, target string) (*killResult, error) {
	g, _, _, err := m.start(mode, n)
	if err != nil {
		return nil, err
	}
	defer g.stop()
	time.Sleep(2 * time.Second) // the measurement's own wait: a steady gateway before the load
	serve := g.cmd.Process.Pid
	victim := 0
	survivors := map[int]string{}
	for _, pid := range g.pids() {
		if role(mode, pid) == target {
			victim = pid
		} else {
			survivors[pid] = role(mode, pid)
		}
	}
	if victim == 0 {
		return nil, fmt.Errorf("no %s process among %v", target, g.pids())
	}
	k := &killResult{Mode: mode, Run: run, Routes: n, Target: target, KillAtSecond: killAt.Seconds(),
		ServeExit: "still running", ServeExitSeconds: -1, SurvivorExitSeconds: map[string]float64{}}
	for _, r := range survivors {
		k.SurvivorExitSeconds[r] = -1
	}
	watched := make(chan struct{})
	at := func() {
		defer close(watched)
		t0 := time.Now()
		if err := killProcess(victim); err != nil {
			k.ServeExit = "kill failed: " + err.Error()
			return
		}
		for time.Since(t0) < afterKillWatch {
			select {
			case <-g.done:
				if k.ServeExitSeconds < 0 {
					k.ServeExitSeconds = g.exited.Sub(t0).Seconds()
				}
			default:
			}
			for pid, r := range survivors {
				gone := !alive(pid)
				if pid == serve {
					gone = k.ServeExitSeconds >= 0
				}
				if gone && k.SurvivorExitSeconds[r] < 0 {
					k.SurvivorExitSeconds[r] = time.Since(t0).Seconds()
				}
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	counts, lastOK := pacedLoad(g, n, killRate, killDuration, killAt, at)
	<-watched
	k.Counts, k.LastOKAfterKill = counts, (lastOK - killAt).Seconds()
	select {
	case <-g.done:
		k.ServeExit = g.exitDescription()
	default:
	}
	k.Log = g.lastLogLines(4)
	return k, nil
}
