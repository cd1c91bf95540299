package gcpace

import (
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"testing"
	"time"

	. "github.com/onsi/gomega"
)

func TestPercentKeepsTheHeadroomAtLeastHeadroomOrMinPercentOfTheLiveHeap(t *testing.T) {
	for _, live := range []uint64{0, 1 << 20, 8 << 20, Headroom, Headroom + 1, 40 << 20, 48 << 20, 60 << 20, 2 * Headroom, 70 << 20, 300 << 20, 4 << 30} {
		p := Percent(live)
		if p < MinPercent || p > MaxPercent || p%5 != 0 {
			t.Fatalf("live %d MiB: GOGC %d, outside [%d, %d] or not a step of 5", live>>20, p, MinPercent, MaxPercent)
		}
		headroom := live * uint64(p) / 100
		if live <= Headroom && p != MaxPercent {
			t.Errorf("live %d MiB: GOGC %d; a small heap keeps Go's default", live>>20, p)
		}
		// At least the larger of Headroom and MinPercent of the heap, and not 5 points
		// more than needed for it.
		want := max(uint64(Headroom), live*MinPercent/100)
		if live > Headroom && (headroom+live/20 < want || (p > MinPercent && headroom > want+live/20)) {
			t.Errorf("live %d MiB: GOGC %d gives a headroom of %d MiB, want about %d", live>>20, p, headroom>>20, want>>20)
		}
	}
}

func gogc(t *testing.T) int {
	t.Helper()
	s := []metrics.Sample{{Name: "/gc/gogc:percent"}}
	metrics.Read(s)
	return int(s[0].Value.Uint64())
}

// A real heap: 100 MiB kept live lowers GOGC to MinPercent; once they are dropped and
// collected, GOGC is back at 100. With GOGC in the environment, nothing changes.
func TestAdjustFollowsTheLiveHeap(t *testing.T) {
	defer debug.SetGCPercent(debug.SetGCPercent(100))
	t.Setenv("GOGC", "")
	p := New()

	held := make([][]byte, 100)
	for i := range held {
		held[i] = make([]byte, 1<<20)
	}
	runtime.GC()
	p.Adjust()
	if got := gogc(t); got != MinPercent {
		t.Fatalf("100 MiB live: GOGC %d, want %d", got, MinPercent)
	}
	runtime.KeepAlive(held)
	clear(held) // the 100 MiB are garbage now
	runtime.GC()
	p.Adjust()
	if got := gogc(t); got != MaxPercent {
		t.Fatalf("the heap dropped: GOGC %d, want %d", got, MaxPercent)
	}

	t.Setenv("GOGC", "400")
	debug.SetGCPercent(400)
	fixed := New()
	held = make([][]byte, 100)
	for i := range held {
		held[i] = make([]byte, 1<<20)
	}
	runtime.GC()
	fixed.Adjust()
	if got := gogc(t); got != 400 {
		t.Fatalf("GOGC=400 in the environment: GOGC %d after Adjust", got)
	}
	runtime.KeepAlive(held)
}

// Following, the pacer adjusts GOGC after collections alone: nothing calls Adjust.
func TestFollowAdjustsAfterEveryCollection(t *testing.T) {
	defer debug.SetGCPercent(debug.SetGCPercent(100))
	t.Setenv("GOGC", "")
	g := NewWithT(t)
	stop := New().Follow()
	defer stop()

	held := make([][]byte, 100)
	for i := range held {
		held[i] = make([]byte, 1<<20)
	}
	// Each poll collects: the pacer's cleanup runs after a collection, on its own goroutine.
	g.Eventually(func() int { runtime.GC(); return gogc(t) }, 5*time.Second, 10*time.Millisecond).Should(Equal(MinPercent),
		"100 MiB live, GOGC not lowered")
	runtime.KeepAlive(held)
	clear(held)
	g.Eventually(func() int { runtime.GC(); return gogc(t) }, 5*time.Second, 10*time.Millisecond).Should(Equal(MaxPercent),
		"the heap dropped, GOGC not raised again")

	// Stopped, it leaves GOGC alone.
	stop()
	runtime.GC() // the tick armed before the stop goes, and arms no other
	debug.SetGCPercent(400)
	held = make([][]byte, 100)
	for i := range held {
		held[i] = make([]byte, 1<<20)
	}
	g.Consistently(func() int { runtime.GC(); return gogc(t) }, 300*time.Millisecond, 10*time.Millisecond).Should(Equal(400),
		"a stopped pacer changed GOGC")
	runtime.KeepAlive(held)
}
