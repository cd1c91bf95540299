package controllers

import (
	"testing"
	"time"
)

func TestPacerRebuildsAQuietChangeAtOnceAndSpacesABurst(t *testing.T) {
	p := &pacer{interval: 100 * time.Millisecond}
	t0 := time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC)
	if d := p.delay(t0); d != 0 {
		t.Fatalf("the first event waited %v; it should be rebuilt at once", d)
	}
	p.started(t0)
	p.finished(t0.Add(40 * time.Millisecond))
	// A burst right after a 40 ms rebuild started waits for the rest of the interval
	// (four times 40 ms is more than 100 ms).
	for _, at := range []time.Duration{0, 10 * time.Millisecond, 99 * time.Millisecond} {
		if d, want := p.delay(t0.Add(at)), 100*time.Millisecond-at; d != want {
			t.Errorf("an event %v after a rebuild started waited %v, want %v", at, d, want)
		}
	}
	// After a quiet interval, the next change is rebuilt at once again.
	if d := p.delay(t0.Add(250 * time.Millisecond)); d != 0 {
		t.Errorf("an event after a quiet interval waited %v, want 0", d)
	}
}

// A new application arrives as separate events (its Service, BackendTLSPolicy and
// HTTPRoute): the first is rebuilt at once, and the route, a few milliseconds later,
// must not wait a whole interval when rebuilds are cheap.
func TestPacerSpacesCheapRebuildsByWhatTheyCost(t *testing.T) {
	t0 := time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		took, want time.Duration
	}{
		{took: 5 * time.Millisecond, want: 20 * time.Millisecond},
		{took: 20 * time.Millisecond, want: 80 * time.Millisecond},
		{took: time.Millisecond, want: minSpacing},
		{took: time.Second, want: 100 * time.Millisecond},
	} {
		p := &pacer{interval: 100 * time.Millisecond}
		p.started(t0)
		p.finished(t0.Add(c.took))
		at := c.took + time.Millisecond
		if d := p.delay(t0.Add(at)); d != max(c.want-at, 0) {
			t.Errorf("after a rebuild of %v, an event %v after its start waited %v, want %v", c.took, at, d, max(c.want-at, 0))
		}
		if d := p.delay(t0.Add(c.want)); d != 0 {
			t.Errorf("after a rebuild of %v, an event %v after its start waited %v, want 0", c.took, c.want, d)
		}
	}
	// A configured interval below the floor still bounds the spacing.
	p := &pacer{interval: 5 * time.Millisecond}
	p.started(t0)
	p.finished(t0.Add(time.Millisecond))
	if d := p.delay(t0); d != 5*time.Millisecond {
		t.Errorf("with a 5 ms interval, an event at a rebuild's start waited %v, want 5ms", d)
	}
}
