package health

import (
	"context"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/bridgehead/bridgehead/internal/snapshot"
	"github.com/bridgehead/bridgehead/proxy/upstream"
)

// Proactive probes: when a snapshot changes the TLS path of a route (new transport or
// transport hash, new endpoints, other names), the gateway performs a real handshake to
// each affected endpoint right away, so the route's BackendTLSReady condition is right
// before the first user request fails.

const (
	probeConcurrency = 8
	probeTimeout     = 5 * time.Second
)

// Prober performs those handshakes and records their outcomes.
type Prober struct {
	pool     *upstream.Pool
	outcomes *upstream.Outcomes
	log      *slog.Logger

	mu    sync.Mutex
	seen  map[probeKey]bool // probe keys of the previous snapshot
	spare map[probeKey]bool // the map before that, to fill with the next snapshot's keys
	sem   chan struct{}
	ctx   context.Context
	stop  context.CancelFunc
	wg    sync.WaitGroup
}

// NewProber makes a Prober that dials through pool's transports and records each
// handshake's outcome in outcomes.
func NewProber(pool *upstream.Pool, outcomes *upstream.Outcomes, log *slog.Logger) *Prober {
	ctx, cancel := context.WithCancel(context.Background())
	return &Prober{pool: pool, outcomes: outcomes, log: log, seen: map[probeKey]bool{}, sem: make(chan struct{}, probeConcurrency), ctx: ctx, stop: cancel}
}

// probeKey identifies what a handshake depends on. Its fields are the snapshot's own
// strings, so a key costs no allocation: Changes makes one per endpoint of every route
// of every snapshot.
type probeKey struct {
	route, scheme, serverName, address string
	names                              string // VerifyNames, joined
	transport, transportHash           string
	hasTransport                       bool
}

func keyOf(routeID string, t *snapshot.Transport, b *snapshot.Backend, addr string) probeKey {
	k := probeKey{route: routeID, scheme: b.Scheme, serverName: b.ServerName, address: addr}
	if len(b.VerifyNames) > 0 {
		k.names = strings.Join(b.VerifyNames, "|")
	}
	if t != nil {
		k.transport, k.transportHash, k.hasTransport = t.ID, t.Hash, true
	}
	return k
}

// Changes probes every endpoint whose TLS path the snapshot changed.
func (p *Prober) Changes(snap *snapshot.Snapshot) {
	transports := map[string]*snapshot.Transport{}
	for _, t := range snap.Transports {
		transports[t.ID] = t
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	// The two maps take turns, so each snapshot does not allocate one of every endpoint.
	next := p.spare
	if next == nil {
		next = make(map[probeKey]bool, len(p.seen))
	}
	for _, r := range snap.HTTPRoutes {
		if r.Failure != nil {
			continue
		}
		for _, b := range r.Backends {
			if b.Failure != nil || b.Scheme != "https" {
				continue
			}
			t := transports[b.Transport]
			for _, ep := range b.Endpoints {
				k := keyOf(r.ID, t, b, ep.Address)
				next[k] = true
				if !p.seen[k] {
					p.probe(r.ID, t, b, ep.Address)
				}
			}
		}
	}
	p.seen, p.spare = next, p.seen
	clear(p.spare)
}

func (p *Prober) probe(routeID string, t *snapshot.Transport, b *snapshot.Backend, addr string) {
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		select {
		case p.sem <- struct{}{}:
		case <-p.ctx.Done():
			return
		}
		defer func() { <-p.sem }()
		ctx, cancel := context.WithTimeout(p.ctx, probeTimeout)
		defer cancel()
		presented, err := p.pool.Probe(ctx, t, b, addr)
		if p.ctx.Err() != nil {
			return
		}
		o := upstream.Observation{RouteID: routeID, Backend: b.Service, Endpoint: addr, At: time.Now()}
		if err != nil {
			o.Reason, _, o.Detail = upstream.Classify(err)
			p.log.Warn("backend probe failed", "route", routeID, "endpoint", addr, "reason", string(o.Reason), "detail", o.Detail.Message)
		} else {
			o.OK = true
			if presented != nil {
				o.Detail = upstream.Detail{Endpoint: addr, Subject: presented.Subject, Issuer: presented.Issuer, SANs: presented.SANs, NotAfter: presented.NotAfter}
			}
		}
		p.outcomes.Record(o)
	}()
}

// Close stops probing and waits for the probes under way.
func (p *Prober) Close() {
	p.stop()
	p.wg.Wait()
}
