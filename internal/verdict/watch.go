package verdict

import (
	"context"
	"sync/atomic"
	"time"

	"github.com/bridgehead/bridgehead/internal/snapshot"
	"github.com/bridgehead/bridgehead/proxy/upstream"
)

// Feedback is where the proxy's observations come from (upstream.Outcomes).
type Feedback interface {
	// Latest returns the latest observation per route and endpoint.
	Latest() []upstream.Observation
	// Changed signals, coalesced, when Latest has changed in a way a verdict can see.
	Changed() <-chan struct{}
}

// Watch is the one runtime-feedback loop: it computes the runtime conditions when the
// served snapshot changes, when the observations change, and when a backend certificate
// enters the expiry-warning window, and hands them to sink. While nothing changes it does
// nothing: no polling, no periodic recompute. It returns when ctx ends.
func Watch(ctx context.Context, store *snapshot.Store, fb Feedback, now func() time.Time, expiryWarning time.Duration, sink func(Conditions)) {
	// The snapshot as the Store is about to serve it: OnSwap runs just before it becomes
	// current, so reading the Store on that signal could still see the previous one.
	var latest atomic.Pointer[snapshot.Snapshot]
	latest.Store(store.Load())
	swapped := make(chan struct{}, 1)
	store.OnSwap(func(s *snapshot.Snapshot) {
		latest.Store(s)
		select {
		case swapped <- struct{}{}:
		default:
		}
	})
	expiry := time.NewTimer(time.Hour)
	expiry.Stop()
	defer expiry.Stop()
	for {
		started := time.Now()
		obs := fb.Latest()
		t := now()
		sink(Compute(latest.Load(), obs, t, expiryWarning))
		finished := time.Now()
		took := finished.Sub(started)
		if d, ok := nextExpiryWarning(obs, t, expiryWarning); ok {
			expiry.Reset(d)
		} else {
			expiry.Stop()
		}
		select {
		case <-ctx.Done():
			return
		case <-swapped:
		case <-fb.Changed():
			// Observations come in bursts: after a snapshot every route's TLS path is
			// probed (10,000 results at 10,000 routes), and a failing backend fails for
			// every route at once. Recomputing (and printing) on each would be quadratic
			// in the routes: a change right after a recompute waits out the rest of the
			// gap and is recomputed with whatever else came meanwhile; a lone change is
			// recomputed at once.
			if !settle(ctx, time.Until(finished.Add(coalesceFor(took)))) {
				return
			}
		case <-expiry.C:
		}
	}
}

// Coalescing bounds: at least minCoalesce between a recompute and the next one caused by
// observations, and at most maxCoalesce, so that a condition still shows within a second
// of a failure.
const (
	minCoalesce = 100 * time.Millisecond
	maxCoalesce = 500 * time.Millisecond
)

// coalesceFor keeps twice as long as the last recompute took between recomputes (within
// the bounds), so that recomputing takes at most a third of the loop's time however many
// routes there are.
func coalesceFor(took time.Duration) time.Duration {
	return min(max(2*took, minCoalesce), maxCoalesce)
}

// settle waits d (nothing when d is not positive); false when ctx ends first.
func settle(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return ctx.Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

// nextExpiryWarning is how long until the first certificate a backend presented enters
// the warning window, if one will.
func nextExpiryWarning(obs []upstream.Observation, now time.Time, window time.Duration) (time.Duration, bool) {
	var first time.Time
	for _, o := range obs {
		if !o.OK || o.Detail.NotAfter.IsZero() {
			continue
		}
		at := o.Detail.NotAfter.Add(-window)
		if at.After(now) && (first.IsZero() || at.Before(first)) {
			first = at
		}
	}
	if first.IsZero() {
		return 0, false
	}
	return first.Sub(now), true
}
