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
	// A burst right after the rebuild started waits for the rest of the interval.
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
