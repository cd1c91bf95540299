package controllers

import (
	"context"
	"time"

	"github.com/bridgehead/bridgehead/internal/snapshot"
	"github.com/bridgehead/bridgehead/internal/verdict"
	"github.com/bridgehead/bridgehead/proxy/upstream"
)

// verdictInterval is how often runtime observations are turned into conditions. The
// writer skips unchanged verdicts, so this bounds status writes, not handshakes.
const verdictInterval = time.Second

// WatchVerdicts turns the data plane's observations of real handshakes into
// BackendTLSReady conditions (and backend certificate expiry warnings) until ctx ends.
func (g *Rebuilder) WatchVerdicts(ctx context.Context, store *snapshot.Store, observations func() []upstream.Observation) {
	t := time.NewTicker(verdictInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		g.writer.SetRuntime(verdict.Compute(store.Load(), observations(), g.cfg.Clock(), g.cfg.Options.ExpiryWarning))
	}
}
