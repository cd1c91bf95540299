package controllers

import (
	"context"

	"github.com/bridgehead/bridgehead/internal/snapshot"
	"github.com/bridgehead/bridgehead/internal/verdict"
)

// WatchVerdicts turns the data plane's observations of real handshakes into
// BackendTLSReady conditions (and backend certificate expiry warnings) until ctx ends:
// pushed when the snapshot or the observations change, never polled. The writer skips
// unchanged verdicts.
func (g *Rebuilder) WatchVerdicts(ctx context.Context, store *snapshot.Store, feedback verdict.Feedback) {
	verdict.Watch(ctx, store, feedback, g.cfg.Clock, g.cfg.Options.ExpiryWarning, g.writer.SetRuntime)
}
