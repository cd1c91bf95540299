package middleware

import (
	"encoding/json"
	"net/http"
	"sync"
	"time"

	"github.com/bridgehead/bridgehead/internal/snapshot"
)

// Memory keeps what stateful middlewares count (rate-limit buckets, requests in flight,
// circuit breakers' states and windows) from one snapshot to
// the next. Chains are rebuilt on every swap, and a swap happens on any change anywhere
// (an endpoint coming up is enough): without Memory each one would hand every client a
// full bucket again. State is kept per Middleware object and configuration, so editing a
// rateLimit starts it afresh, as a new limit should.
type Memory struct {
	now func() time.Time

	mu       sync.Mutex
	buckets  map[string]*buckets
	inFlight map[string]*inFlight
	breakers map[string]*breaker
	used     map[string]bool
}

// NewMemory returns an empty Memory; now is the clock (nil: time.Now).
func NewMemory(now func() time.Time) *Memory {
	if now == nil {
		now = time.Now
	}
	return &Memory{now: now, buckets: map[string]*buckets{}, inFlight: map[string]*inFlight{}, breakers: map[string]*breaker{}, used: map[string]bool{}}
}

// Chain is the package's Chain with state kept in mem.
func (mem *Memory) Chain(mws []*snapshot.Middleware, next http.Handler) http.Handler {
	return mem.Build(nil, mws, next)
}

// Build is Chain with env for the middlewares that call out (forwardAuth): the proxy
// passes its upstream pool and the snapshot's transports, so that the auth server is
// reached through the same verified transport code as backends.
func (mem *Memory) Build(env *Env, mws []*snapshot.Middleware, next http.Handler) http.Handler {
	return mem.build(env, mws, next, nil)
}

// Held names the state a chain built with BuildHolding uses, for Hold.
type Held []string

// BuildHolding is Build, and also names the state the chain uses: a caller that keeps
// the chain for a later snapshot passes it to Hold then, so that Sweep keeps that state.
func (mem *Memory) BuildHolding(env *Env, mws []*snapshot.Middleware, next http.Handler) (http.Handler, Held) {
	var held Held
	h := mem.build(env, mws, next, &held)
	return h, held
}

// Hold marks the state of a chain built before as used, as building it again would.
func (mem *Memory) Hold(held Held) {
	if mem == nil || len(held) == 0 {
		return
	}
	mem.mu.Lock()
	defer mem.mu.Unlock()
	for _, k := range held {
		mem.used[k] = true
	}
}

func (mem *Memory) build(env *Env, mws []*snapshot.Middleware, next http.Handler, held *Held) http.Handler {
	h := next
	for i := len(mws) - 1; i >= 0; i-- {
		if s := mem.stateful(env, mws[i], h, held); s != nil {
			h = s
			continue
		}
		h = wrap(mws[i], h)
	}
	return h
}

// Sweep forgets the state that no chain built since the previous Sweep used: call it
// after building the chains of a snapshot.
func (mem *Memory) Sweep() {
	if mem == nil {
		return
	}
	mem.mu.Lock()
	defer mem.mu.Unlock()
	for k := range mem.buckets {
		if !mem.used[k] {
			delete(mem.buckets, k)
		}
	}
	for k := range mem.inFlight {
		if !mem.used[k] {
			delete(mem.inFlight, k)
		}
	}
	for k := range mem.breakers {
		if !mem.used[k] {
			delete(mem.breakers, k)
		}
	}
	clear(mem.used)
}

// stateful builds the middlewares that count or call out (forwardAuth, errors pages), or
// returns nil for the others. A nil Memory gives each build fresh state.
func (mem *Memory) stateful(env *Env, m *snapshot.Middleware, next http.Handler, held *Held) http.Handler {
	switch {
	case m == nil:
		return nil
	case m.RateLimit != nil:
		var b *buckets
		if mem == nil {
			b = newBuckets(m.RateLimit, time.Now)
		} else {
			b = remember(mem, held, mem.buckets, m.Source, m.RateLimit, func() *buckets { return newBuckets(m.RateLimit, mem.now) })
		}
		return newRateLimit(m.RateLimit, b, next)
	case m.Chain != nil:
		// Not stateful itself, but what it holds may be.
		return mem.build(env, m.Chain.Middlewares, next, held)
	case m.ForwardAuth != nil:
		return newForwardAuth(env, m, next)
	case m.CircuitBreaker != nil:
		// A tripped breaker stays tripped across reloads, and the answers it counted count.
		var b *breaker
		if mem == nil {
			b = newBreaker(m.CircuitBreaker, time.Now)
		} else {
			b = remember(mem, held, mem.breakers, m.Source, m.CircuitBreaker, func() *breaker { return newBreaker(m.CircuitBreaker, mem.now) })
		}
		return newCircuitBreaker(m.CircuitBreaker, b, next)
	case m.Errors != nil:
		// Not stateful either, but it forwards to a backend of its own.
		return newErrorPages(m.Errors, env.backends(), next)
	case m.InFlightReq != nil:
		// Requests still in progress on the previous snapshot's chain count against the
		// new one: the counts are shared.
		var f *inFlight
		if mem == nil {
			f = newInFlight(m.InFlightReq)
		} else {
			f = remember(mem, held, mem.inFlight, m.Source, m.InFlightReq, func() *inFlight { return newInFlight(m.InFlightReq) })
		}
		return newInFlightReq(m.InFlightReq, f, next)
	}
	return nil
}

// remember returns the state kept for (source, config), making it with fresh if none is.
func remember[T any, C any](mem *Memory, held *Held, in map[string]T, source snapshot.Ref, config C, fresh func() T) T {
	cfg, _ := json.Marshal(config) // snapshot types always marshal
	key := source.Kind + "/" + source.Namespace + "/" + source.Name + "\x00" + string(cfg)
	if held != nil {
		*held = append(*held, key)
	}
	mem.mu.Lock()
	defer mem.mu.Unlock()
	mem.used[key] = true
	v, ok := in[key]
	if !ok {
		v = fresh()
		in[key] = v
	}
	return v
}
