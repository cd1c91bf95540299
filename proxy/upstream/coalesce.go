package upstream

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptrace"
	"sync"
	"sync/atomic"
	"time"
)

// dialGate keeps a burst of requests from dialling one backend once each while the first
// connection to it is still being made. http.Transport dials for every request that finds
// no idle connection, and only learns from the handshake's ALPN that one HTTP/2
// connection would have carried them all: a cold start under 300 concurrent streams made
// ~300 TLS handshakes to the backend and grew the proxy's heap by tens of MiB, to keep 2.
//
// With the gate, a dial that starts while another to the same address is in flight waits
// for it. If that one negotiated HTTP/2, the waiting dial gives up as soon as its own
// request has been given a connection (the transport hands an HTTP/2 connection to every
// waiting request), so its error goes nowhere; if the request still has none after
// coalesceGrace (an HTTP/1 backend, a full HTTP/2 connection), it dials after all.
type dialGate struct {
	dialing atomic.Int32 // dials in flight to any address: requests carry a waiter only then,
	warm    atomic.Bool  // or before the first dial has succeeded (a cold start's burst)
	mu      sync.Mutex
	flights map[string]*flight
	// grace overrides coalesceGrace (tests on a loaded machine, where handing a new
	// connection to a burst can take longer than in production).
	grace time.Duration
}

type flight struct {
	done chan struct{}
	h2   bool // set before done is closed
}

// coalesceGrace is how long a waiting dial gives its request to be handed the new HTTP/2
// connection before dialling anyway.
const coalesceGrace = 200 * time.Millisecond

// errDialCoalesced is what a dial returns when its request rides a connection another
// dial made; http.Transport drops it, since the request is already served.
var errDialCoalesced = errors.New("dial not needed: the request uses an HTTP/2 connection another dial made")

// waiter is a request's view of whether the transport has given it a connection.
type waiter struct {
	once    sync.Once
	gotConn chan struct{}
}

type waiterKey struct{}

// watch returns req with a waiter when it may be one of a burst (a dial is in flight, or
// none has succeeded yet); otherwise req itself, at no cost.
func (g *dialGate) watch(req *http.Request) *http.Request {
	if g.warm.Load() && g.dialing.Load() == 0 {
		return req
	}
	w := &waiter{gotConn: make(chan struct{})}
	ctx := context.WithValue(req.Context(), waiterKey{}, w)
	ctx = httptrace.WithClientTrace(ctx, &httptrace.ClientTrace{
		GotConn: func(httptrace.GotConnInfo) { w.once.Do(func() { close(w.gotConn) }) },
	})
	return req.WithContext(ctx)
}

// dial runs do for addr, or returns errDialCoalesced when a dial already in flight to addr
// gave the request its connection.
func (g *dialGate) dial(ctx context.Context, addr string, do func() (h2 bool, err error)) error {
	w, _ := ctx.Value(waiterKey{}).(*waiter)
	for {
		g.mu.Lock()
		f, busy := g.flights[addr]
		if !busy {
			break // with g.mu held: this dial becomes the flight
		}
		g.mu.Unlock()
		select {
		case <-f.done:
		case <-ctx.Done():
			return ctx.Err()
		}
		if !f.h2 || w == nil {
			// HTTP/1 connections are not shared (and a failed dial shares nothing): dial.
			_, err := do()
			return err
		}
		grace := g.grace
		if grace == 0 {
			grace = coalesceGrace
		}
		t := time.NewTimer(grace)
		select {
		case <-w.gotConn:
			t.Stop()
			return errDialCoalesced
		case <-t.C:
			// Still no connection: the new one may be full of streams. Go round: the
			// first waiter to get here dials, the others wait for it.
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		}
	}
	f := &flight{done: make(chan struct{})}
	if g.flights == nil {
		g.flights = map[string]*flight{}
	}
	g.flights[addr] = f
	g.dialing.Add(1)
	g.mu.Unlock()

	h2, err := do()
	f.h2 = h2 && err == nil
	if err == nil {
		g.warm.Store(true)
	}
	g.mu.Lock()
	delete(g.flights, addr)
	g.dialing.Add(-1)
	g.mu.Unlock()
	close(f.done)
	return err
}
