// Package gcpace paces the Go collector to the size of the live heap.
//
// With GOGC=100 the heap grows to twice what is live before the collector runs. For the
// data plane's small heap (a few MiB with one route) that is the right trade: collections
// are rare and cheap. For the control plane at 10,000 routes, with about 70 MiB live, it
// means 70 MiB more resident memory than the routes need; and on the machine issue 20 is
// measured on, faulting in the pages the heap grows into costs about as much CPU as the
// extra collections of a smaller headroom (docs/measurements/control-plane-cost.md, tenth
// round). So the headroom above the live heap is kept at Headroom, or half the live
// heap if that is more: GOGC goes from 100 down to MinPercent as the live heap grows past
// Headroom. An operator's GOGC always stands; the soft memory limit (internal/memlimit) is
// applied on top, as before.
package gcpace

import (
	"os"
	"runtime/debug"
	"runtime/metrics"
)

const (
	// MaxPercent is GOGC for a live heap up to Headroom: Go's default.
	MaxPercent = 100
	// MinPercent is the lowest GOGC set: past 2*Headroom live, the heap grows by half of
	// what is live between collections.
	MinPercent = 50
	// Headroom is the growth a live heap is allowed before a collection while GOGC is
	// above MinPercent.
	Headroom = 32 << 20
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

// Pacer sets GOGC from the live heap each time Adjust is called. Its zero value is not
// usable: use New.
type Pacer struct {
	fixed   bool // GOGC is set in the environment: the operator's choice stands
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

// Adjust sets GOGC for the live heap the last collection found. The gateway calls it
// after each snapshot swap, when the control plane's heap changes size; it costs a
// read of one runtime metric, and a call into the runtime only when GOGC changes. It
// must not be called concurrently (the Store's swaps are serialized).
func (p *Pacer) Adjust() {
	if p.fixed {
		return
	}
	metrics.Read(p.live)
	if p.live[0].Value.Kind() != metrics.KindUint64 {
		return // a runtime without the metric: leave GOGC as it is
	}
	if want := Percent(p.live[0].Value.Uint64()); want != p.percent {
		p.percent = want
		p.set(want)
	}
}
