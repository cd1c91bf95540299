package controllers

import (
	"sync"
	"time"
)

// pacer spaces rebuilds at least interval apart, counted from the start of the last one,
// without delaying the first change after a quiet period: that one is rebuilt at once.
// Events that arrive while a rebuild is recent wait for the rest of the interval, and the
// work queue folds them into one rebuild; events during a rebuild mark the key dirty and
// get exactly one more. So a single change is served after one rebuild's time, and a
// burst costs at most one rebuild per interval.
type pacer struct {
	interval time.Duration
	mu       sync.Mutex
	last     time.Time // start of the last rebuild; zero before the first
}

// delay is how long an event arriving at now waits before its rebuild.
func (p *pacer) delay(now time.Time) time.Duration {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.last.IsZero() {
		return 0
	}
	return max(p.last.Add(p.interval).Sub(now), 0)
}

// started records that a rebuild began at now.
func (p *pacer) started(now time.Time) {
	p.mu.Lock()
	p.last = now
	p.mu.Unlock()
}
