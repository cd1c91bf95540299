// Package gcpace paces the Go collector to the size of the live heap.
//
// With GOGC=100 the heap grows to twice what is live before the collector runs. For the
// data plane's small heap (a few MiB with one route) that is the right trade: collections
// are rare and cheap. For the control plane at 10,000 routes, with about 70 MiB live, it
// means 70 MiB more resident memory than the routes need; and on the machine issue 20 is
// measured on, faulting in the pages the heap grows into costs about as much CPU as the
// extra collections of a smaller headroom (docs/measurements/control-plane-cost.md, tenth
// round). So the headroom above the live heap is kept at Headroom, or MinPercent of the
// live heap if that is more: GOGC goes from 100 down to MinPercent as the live heap grows
// past Headroom. An operator's GOGC always stands; the soft memory limit
// (internal/memlimit) is applied on top, as before.
package gcpace

import (
	"os"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"sync"
	"sync/atomic"
)

const (
	// MaxPercent is GOGC for a live heap up to Headroom: Go's default.
	MaxPercent = 100
	// MinPercent is the lowest GOGC set: past Headroom*100/MinPercent live (60 MiB), the
	// heap grows by 40% of what is live between collections. The cluster at 10,000 routes
	// (55-63 MB live) gets 40-45: with 50 it held 151-154 MiB, with 35 139-144 MiB for
	// 3-9 ms more CPU per change (docs/measurements/control-plane-cost.md, thirteenth
	// round).
	MinPercent = 40
	// Headroom is the growth a live heap is allowed before a collection while GOGC is
	// above MinPercent: the data plane under load (a few MiB live with one route, 16 MiB
	// with HTTP/2 clients) stays below it and keeps Go's default.
	Headroom = 24 << 20
)

// Percent is the GOGC for a live heap of live bytes, in steps of 5 so that a heap that
// moves a little does not change it at every call.
func Percent(live uint64) int {
	if live <= Headroom {
		return MaxPercent
	}
	p := int(MaxPercent * Headroom / live)
	return max(p-p%5, MinPercent)
}

// Pacer sets GOGC from the live heap each time Adjust is called (after every collection,
// with Follow). Its zero value is not usable: use New.
type Pacer struct {
	fixed   bool // GOGC is set in the environment: the operator's choice stands
	mu      sync.Mutex
	percent int
	live    []metrics.Sample
	set     func(int) int
}

// New returns a pacer that leaves GOGC alone if the environment sets it.
func New() *Pacer {
	return &Pacer{
		fixed:   os.Getenv("GOGC") != "",
		percent: MaxPercent,
		live:    []metrics.Sample{{Name: "/gc/heap/live:bytes"}},
		set:     debug.SetGCPercent,
	}
}

// Follow calls Adjust after every collection, until stop is called. Each collection
// measures the live heap anew, so this is when GOGC can change; adjusting after each
// snapshot swap instead (as first built) left GOGC where the last swap found the heap:
// at 10,000 routes in a cluster the status writes that follow the first build add to the
// heap without a swap, and GOGC stayed at 90 with 65 MB live (a 121 MB goal, where 50
// gives 97).
func (p *Pacer) Follow() (stop func()) {
	if p.fixed {
		return func() {}
	}
	var stopped atomic.Bool
	var arm func()
	arm = func() {
		// The cleanup runs once the collector has found the tick unreachable, which it is
		// from the start: after the next collection.
		runtime.AddCleanup(new(gcTick), func(p *Pacer) {
			if !stopped.Load() {
				p.Adjust()
				arm()
			}
		}, p)
	}
	arm()
	return func() { stopped.Store(true) }
}

// gcTick is an object only the collector sees go (large enough not to share a block of
// the tiny allocator, whose objects' cleanups may not run).
type gcTick struct{ _ [32]byte }

// Adjust sets GOGC for the live heap the last collection found. It costs a read of one
// runtime metric, and a call into the runtime only when GOGC changes.
func (p *Pacer) Adjust() {
	if p.fixed {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	metrics.Read(p.live)
	if p.live[0].Value.Kind() != metrics.KindUint64 {
		return // a runtime without the metric: leave GOGC as it is
	}
	if want := Percent(p.live[0].Value.Uint64()); want != p.percent {
		p.percent = want
		p.set(want)
	}
}
