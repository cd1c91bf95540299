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

	mu sync.Mutex
	// before and transports are the last snapshot's HTTP routes and transports.
	before     []*snapshot.HTTPRoute
	transports map[string]*snapshot.Transport
	sem        chan struct{}
	ctx        context.Context
	stop       context.CancelFunc
	wg         sync.WaitGroup
}

// NewProber makes a Prober that dials through pool's transports and records each
// handshake's outcome in outcomes.
func NewProber(pool *upstream.Pool, outcomes *upstream.Outcomes, log *slog.Logger) *Prober {
	ctx, cancel := context.WithCancel(context.Background())
	return &Prober{pool: pool, outcomes: outcomes, log: log, sem: make(chan struct{}, probeConcurrency), ctx: ctx, stop: cancel}
}

// probeKey identifies what a handshake depends on. Its fields are the snapshot's own
// strings, so a key costs no allocation.
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

// eachKey calls fn with the probe key of every endpoint of r that a handshake checks,
// with its backend and address.
func eachKey(r *snapshot.HTTPRoute, transports map[string]*snapshot.Transport, fn func(probeKey, *snapshot.Transport, *snapshot.Backend, string)) {
	if r.Failure != nil {
		return
	}
	for _, b := range r.Backends {
		if b.Failure != nil || b.Scheme != "https" {
			continue
		}
		t := transports[b.Transport]
		for _, ep := range b.Endpoints {
			fn(keyOf(r.ID, t, b, ep.Address), t, b, ep.Address)
		}
	}
}

// Changes probes every endpoint whose TLS path the snapshot changed: an endpoint whose
// probe key (route, address, names, transport and its hash) the route of the same ID did
// not have in the previous snapshot. changes (snapshot.MatchRoutes against the previous
// snapshot) says which routes are the very objects that snapshot had: those have the keys
// they had, unless a transport changed, so only the others' keys are made and compared.
// Keying every endpoint of every route by its seven strings on each swap was 40% of a
// swap's CPU at 10,000 routes with one endpoint each.
func (p *Prober) Changes(snap *snapshot.Snapshot, changes *snapshot.RouteChanges) {
	transports := changes.Transports
	if transports == nil {
		transports = snap.TransportsByID()
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	// Every key holds its transport's hash: the routes through a transport that changed
	// have new keys, and when changes is not relative to the snapshot seen last every
	// route is compared.
	all := !sameList(changes.Before, p.before)
	changedTransports := changes.ChangedTransports
	if changes.Transports == nil {
		changedTransports = snapshot.ChangedTransports(p.transports, transports)
	}
	known := map[probeKey]bool{}
	addKnown := func(k probeKey, _ *snapshot.Transport, _ *snapshot.Backend, _ string) { known[k] = true }
	if all {
		for _, r := range p.before {
			eachKey(r, p.transports, addKnown)
		}
	} else {
		for _, i := range changes.Gone {
			eachKey(p.before[i], p.transports, addKnown)
		}
	}
	for j, r := range snap.HTTPRoutes {
		if !all && changes.From[j] >= 0 && !r.UsesTransport(changedTransports) {
			continue
		}
		eachKey(r, transports, func(k probeKey, t *snapshot.Transport, b *snapshot.Backend, addr string) {
			if !known[k] {
				known[k] = true
				p.probe(r.ID, t, b, addr)
			}
		})
	}
	p.before, p.transports = snap.HTTPRoutes, transports
}

// sameList reports whether a and b are the same list (not only equal ones).
func sameList(a, b []*snapshot.HTTPRoute) bool {
	return len(a) == len(b) && (len(a) == 0 || &a[0] == &b[0])
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
