package verdict

import (
	"context"
	"sync/atomic"
	"time"

	"github.com/bridgehead/bridgehead/internal/snapshot"
	"github.com/bridgehead/bridgehead/proxy/upstream"
)

// Feedback is where the data plane's observations come from: the proxy in this process,
// or the data-plane process that pushes them over its socket.
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
		obs := fb.Latest()
		t := now()
		sink(Compute(latest.Load(), obs, t, expiryWarning))
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
		case <-expiry.C:
		}
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
