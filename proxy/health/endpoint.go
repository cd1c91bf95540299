package health

import (
	"sync"
	"sync/atomic"
)

// Endpoint is what the proxy learns about one endpoint: whether it is ejected after
// failures, or unhealthy by active health check. It outlives snapshots (kept by address
// in the Registry) so a swap does not forget that an endpoint is failing.
type Endpoint struct {
	Address      string
	EjectedUntil atomic.Int64 // unix nanos; passive ejection after connect/TLS failures
	Unhealthy    atomic.Bool  // active health check verdict
	OKReported   atomic.Bool  // a success was recorded since the last failure
}

// Available reports whether the endpoint may take traffic at now (unix nanos).
func (e *Endpoint) Available(now int64) bool {
	return !e.Unhealthy.Load() && e.EjectedUntil.Load() <= now
}

// Registry keeps endpoint states across snapshots, keyed by backend and address.
type Registry struct {
	mu    sync.Mutex
	state map[string]*Endpoint
}

// Get returns the state of an endpoint of a backend, made on first use.
func (h *Registry) Get(key, address string) *Endpoint {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.state == nil {
		h.state = map[string]*Endpoint{}
	}
	k := key + "|" + address
	s, ok := h.state[k]
	if !ok {
		s = &Endpoint{Address: address}
		h.state[k] = s
	}
	return s
}

// Retain forgets endpoints that no backend uses any more.
func (h *Registry) Retain(used map[*Endpoint]bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for k, s := range h.state {
		if !used[s] {
			delete(h.state, k)
		}
	}
}
