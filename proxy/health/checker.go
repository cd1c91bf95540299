package health

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/bridgehead/bridgehead/internal/snapshot"
)

// Checker runs the active health checks of backends that ask for one. A check uses
// the backend's own transport, so it proves the TLS path (trust, server name, client
// certificate) as well as the application.
type Checker struct {
	log    *slog.Logger
	mu     sync.Mutex
	loops  map[string]*checkLoop
	live   map[string]bool // keys ensured by the compile in progress
	closed bool
}

type checkLoop struct {
	cancel context.CancelFunc
	spec   snapshot.HealthCheck
}

// NewChecker makes a Checker that logs each endpoint's change of verdict.
func NewChecker(log *slog.Logger) *Checker {
	return &Checker{log: log, loops: map[string]*checkLoop{}, live: map[string]bool{}}
}

// Ensure starts (or keeps) the checks of a backend's endpoints, sent through rt, the
// backend's own transport; loops that no compile ensures any more are stopped by Sweep.
func (h *Checker) Ensure(b *snapshot.Backend, rt http.RoundTripper, endpoints []*Endpoint) {
	hc := *b.HealthCheck
	for _, es := range endpoints {
		key := b.Service.String() + "|" + b.Port + "|" + es.Address
		h.mu.Lock()
		h.live[key] = true
		if l, ok := h.loops[key]; ok && sameCheck(l.spec, hc) || h.closed {
			h.mu.Unlock()
			continue
		}
		if l, ok := h.loops[key]; ok {
			l.cancel()
		}
		ctx, cancel := context.WithCancel(context.Background())
		h.loops[key] = &checkLoop{cancel: cancel, spec: hc}
		h.mu.Unlock()
		go h.run(ctx, rt, b, es, hc)
	}
}

func sameCheck(a, b snapshot.HealthCheck) bool {
	return fmt.Sprint(a) == fmt.Sprint(b)
}

// Sweep stops the loops the last compile did not ensure.
func (h *Checker) Sweep() {
	h.mu.Lock()
	defer h.mu.Unlock()
	for k, l := range h.loops {
		if !h.live[k] {
			l.cancel()
			delete(h.loops, k)
		}
	}
	h.live = map[string]bool{}
}

// Stop ends every check; later Ensure calls start none.
func (h *Checker) Stop() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.closed = true
	for k, l := range h.loops {
		l.cancel()
		delete(h.loops, k)
	}
}

func (h *Checker) run(ctx context.Context, rt http.RoundTripper, b *snapshot.Backend, es *Endpoint, hc snapshot.HealthCheck) {
	for {
		healthy := probe(ctx, rt, b, es.Address, hc)
		was := !es.Unhealthy.Swap(!healthy)
		if was != healthy {
			h.log.Info("health check changed", "service", b.Service.String(), "endpoint", es.Address, "healthy", healthy)
		}
		wait := hc.Interval
		if !healthy {
			wait = hc.UnhealthyInterval
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
	}
}

func probe(ctx context.Context, rt http.RoundTripper, b *snapshot.Backend, address string, hc snapshot.HealthCheck) bool {
	ctx, cancel := context.WithTimeout(ctx, hc.Timeout)
	defer cancel()
	host := address
	if hc.Port != 0 {
		if i := lastColon(address); i >= 0 {
			host = address[:i] + ":" + strconv.Itoa(hc.Port)
		}
	}
	scheme := hc.Scheme
	if scheme == "h2c" {
		scheme = "http"
	}
	req, err := http.NewRequestWithContext(ctx, hc.Method, scheme+"://"+host+hc.Path, nil)
	if err != nil {
		return false
	}
	req.Host = hc.Hostname
	if req.Host == "" && b.ServerName != "" {
		req.Host = b.ServerName
	}
	for k, v := range hc.Headers {
		req.Header.Set(k, v)
	}
	resp, err := rt.RoundTrip(req)
	if err != nil {
		return false
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	_ = resp.Body.Close()
	if hc.Status != 0 {
		return resp.StatusCode == hc.Status
	}
	return resp.StatusCode >= 200 && resp.StatusCode < 400
}

func lastColon(s string) int {
	for i := len(s) - 1; i >= 0; i-- {
		if s[i] == ':' {
			return i
		}
	}
	return -1
}
