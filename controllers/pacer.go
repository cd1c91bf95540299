package controllers

import (
	"sync"
	"time"
)

// spacingPerCost and minSpacing shape the pacer's spacing: a multiple of what the last
// rebuild took, so that rebuilding never takes more than a quarter of the time under a
// steady stream of changes, yet a cheap rebuild is not held to the full interval.
const (
	spacingPerCost = 4
	minSpacing     = 10 * time.Millisecond
)

// pacer spaces the starts of rebuilds, without delaying the first change after a quiet
// period: that one is rebuilt at once. Events that arrive while a rebuild is recent wait
// for the rest of the spacing, and the work queue folds them into one rebuild; events
// during a rebuild mark the key dirty and get exactly one more. So a single change is
// served after one rebuild's time, and a burst costs at most one rebuild per spacing.
//
// The spacing is four times the last rebuild's duration, at least minSpacing and at most
// interval. A fixed interval made every change whose objects arrive as separate events
// (a new application: its Service, BackendTLSPolicy and HTTPRoute) wait for it: the first
// object's rebuild starts at once, the route's waits the interval out, so with a few
// milliseconds of rebuild it was served a whole interval after it arrived. Scaled to the
// cost, the wait is a few milliseconds where rebuilds are cheap and the interval where
// they are not, and under constant churn rebuilds still take at most a quarter of the
// time (a fixed interval took less where rebuilds are cheap: 5% for one of 5 ms).
type pacer struct {
	interval time.Duration
	mu       sync.Mutex
	last     time.Time     // start of the last rebuild; zero before the first
	took     time.Duration // how long the last finished rebuild took
}

// delay is how long an event arriving at now waits before its rebuild.
func (p *pacer) delay(now time.Time) time.Duration {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.last.IsZero() {
		return 0
	}
	spacing := min(max(spacingPerCost*p.took, minSpacing), p.interval)
	return max(p.last.Add(spacing).Sub(now), 0)
}

// started records that a rebuild began at now.
func (p *pacer) started(now time.Time) {
	p.mu.Lock()
	p.last = now
	p.mu.Unlock()
}

// finished records that the rebuild started last ended at now.
func (p *pacer) finished(now time.Time) {
	p.mu.Lock()
	p.took = now.Sub(p.last)
	p.mu.Unlock()
}
