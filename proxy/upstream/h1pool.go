package upstream

import (
	"bufio"
	"context"
	"time"
)

// The fast path's connections to each endpoint: taken idle or dialled (get), waited for
// when the handshake rate allows no new one (await), handed back to a waiting request or
// kept idle (put), and closed when idle too long or over the idle cap (sweep).

// h1Host is the fast path's state for one endpoint.
type h1Host struct {
	idle []*h1Conn // most recently used last
	open int       // dialling, in use and idle
	// waiting holds the requests that wait for a connection (see get), oldest first.
	waiting []chan *h1Conn
}

// unused reports whether the host's entry can go: no connection, no request waiting.
func (h *h1Host) unused() bool { return h.open <= 0 && len(h.idle) == 0 && len(h.waiting) == 0 }

// get returns an idle connection to addr (unless fresh), or dials a new one. It returns
// nil and no error when the fast path cannot take the request: the endpoint is at the
// fast path's share of the connection cap, the backend turned out to speak HTTP/2, or
// no connection and no handshake token came in time (see defaultHandWait).
//
// When the handshake rate allows no new connection now, the request first waits (up to
// defaultHandWait) for whichever comes first: a connection another request hands back
// (put), or its handshake token. Under load a connection in use is back within a round
// trip, long before a token; so a burst (a client that reconnects, a backend that
// restarted) reuses what the pool holds instead of opening more. Before this wait, such a
// request went straight to http.Transport, which dialled connections of its own: make
// bench's HTTP/2 run ended with 570 to 690 connections to the origin for 500 streams, the
// transport's left idle for its IdleConnTimeout.
func (p *h1Pool) get(ctx context.Context, addr string, fresh bool) (*h1Conn, error) {
	now := time.Now()
	var stale []*h1Conn
	p.mu.Lock()
	h := p.hostLocked(addr)
	for !fresh && len(h.idle) > 0 {
		c := h.idle[len(h.idle)-1]
		h.idle[len(h.idle)-1] = nil
		h.idle = h.idle[:len(h.idle)-1]
		if now.Sub(c.idleAt) < p.idleTimeout {
			p.mu.Unlock()
			closeAll(stale)
			c.reused = true
			return c, nil
		}
		// The most recently used is too old, so are the others.
		stale = append(stale, c)
		h.open--
	}
	if p.maxOpen > 0 && h.open >= p.maxOpen {
		p.mu.Unlock()
		closeAll(stale)
		return nil, nil
	}
	due := p.handshakes.reserve(addr)
	var handed chan *h1Conn
	if due > 0 && fresh {
		// A retry after a stale connection wants a new one; the transport may have it.
		p.mu.Unlock()
		closeAll(stale)
		p.handshakes.unreserve(addr)
		return nil, nil
	}
	if due > 0 {
		handed = make(chan *h1Conn, 1)
		h.waiting = append(h.waiting, handed)
	} else {
		h.open++
	}
	p.mu.Unlock()
	closeAll(stale)
	if handed != nil {
		c, err := p.await(ctx, addr, handed, min(due, p.handWait))
		if c != nil || err != nil {
			return c, err
		}
		if due > p.handWait {
			// Connections are slow to come back (a slow backend): the transport, which
			// has a handshake rate of its own, takes the request.
			p.handshakes.unreserve(addr)
			return nil, nil
		}
		// The token is due, and no connection came back: dial, within the cap. (The
		// endpoint's entry went when the last waiter left it with no connection.)
		p.mu.Lock()
		h = p.hostLocked(addr)
		if p.maxOpen > 0 && h.open >= p.maxOpen {
			p.mu.Unlock()
			p.handshakes.unreserve(addr)
			return nil, nil
		}
		h.open++
		p.mu.Unlock()
	}
	c, err := p.dial(ctx, addr)
	if c == nil {
		p.forget(addr)
	}
	return c, err
}

// hostLocked returns addr's entry, made if there is none (p.mu held).
func (p *h1Pool) hostLocked(addr string) *h1Host {
	h := p.hosts[addr]
	if h == nil {
		h = &h1Host{}
		p.hosts[addr] = h
	}
	return h
}

// defaultHandWait bounds how long a request waits for a connection to come back before it
// goes to the transport. In make bench's HTTP/2 run, while the pool grew back to 500
// connections after the load generator reconnected, 17,000 requests waited: half of them
// under 2.2 ms, 99% under 8 ms, the longest 18 ms (14 got their token first). A backend
// that takes seconds to answer costs its requests at most this much more than before.
const defaultHandWait = 50 * time.Millisecond

// await waits up to wait for a connection handed to the request through handed. It
// returns nil and no error when wait passed first: the handshake token reserved is then
// the caller's. Otherwise the token goes back to the limiter.
func (p *h1Pool) await(ctx context.Context, addr string, handed chan *h1Conn, wait time.Duration) (*h1Conn, error) {
	t := time.NewTimer(wait)
	defer t.Stop()
	var c *h1Conn
	select {
	case c = <-handed:
	case <-t.C:
	case <-ctx.Done():
	}
	if c == nil && !p.stopWaiting(addr, handed) {
		c = <-handed // put took the request off the queue, and its connection is on the way
	}
	if c == nil && ctx.Err() == nil {
		return nil, nil // wait passed: the token is the caller's
	}
	p.handshakes.unreserve(addr)
	if ctx.Err() != nil {
		if c != nil {
			p.put(c) // to the next request waiting, or idle
		}
		return nil, ctx.Err()
	}
	c.reused = true
	return c, nil
}

// stopWaiting takes handed off addr's queue; false when put already had.
func (p *h1Pool) stopWaiting(addr string, handed chan *h1Conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	h := p.hosts[addr]
	for i, ch := range h.waiting {
		if ch == handed {
			h.waiting = append(h.waiting[:i], h.waiting[i+1:]...)
			if h.unused() {
				delete(p.hosts, addr)
			}
			return true
		}
	}
	return false
}

func (p *h1Pool) dial(ctx context.Context, addr string) (*h1Conn, error) {
	c := &h1Conn{pool: p, addr: addr, limit: -1}
	if p.u.scheme == "https" {
		tc, err := p.u.handshakeTLS(ctx, "tcp", addr, false)
		if err != nil {
			return nil, err
		}
		cs := tc.ConnectionState()
		if cs.NegotiatedProtocol == "h2" {
			_ = tc.Close() // noteProtocol has sent the backend's requests to the transport
			return nil, nil
		}
		c.conn, c.tls = tc, &cs
	} else {
		conn, err := p.u.dial(ctx, "tcp", addr)
		if err != nil {
			return nil, err
		}
		c.conn = conn
	}
	c.br = bufio.NewReaderSize(c, 4<<10)
	c.bw = bufio.NewWriterSize(c.conn, 4<<10)
	c.abortFunc = c.abort
	return c, nil
}

// defaultIdleGrace is how long a connection must have been idle before the idle cap
// (maxIdleConnsPerHost) closes it. A cap enforced at once closes connections that a burst
// needs again a moment later: under 500 concurrent streams and a cap of 200, connections
// were dialled again at the handshake limit (100 a second), and with a one-second grace
// still at half of it. Like HAProxy's idle pool purge (pool-purge-delay, 5 s), the excess
// is closed once it has stayed unused that long; the connection cap bounds the total.
const defaultIdleGrace = 5 * time.Second

// put keeps c for the next request to its endpoint.
func (p *h1Pool) put(c *h1Conn) {
	now := time.Now()
	c.idleAt = now
	var stale *h1Conn
	p.mu.Lock()
	h := p.hosts[c.addr]
	if p.maxIdle > 0 && len(h.waiting) > 0 {
		// A request waits for a connection to this endpoint: it gets this one.
		handed := h.waiting[0]
		h.waiting = append(h.waiting[:0], h.waiting[1:]...)
		p.mu.Unlock()
		handed <- c
		return
	}
	if len(h.idle) >= p.maxIdle && len(h.idle) > 0 && now.Sub(h.idle[0].idleAt) >= p.idleGrace {
		// Over the cap, and the longest idle has waited long enough: it goes.
		stale = h.idle[0]
		h.idle = append(h.idle[:0], h.idle[1:]...)
		h.open--
	}
	if p.maxIdle <= 0 {
		p.mu.Unlock()
		c.close()
		return
	}
	h.idle = append(h.idle, c)
	wake := now.Add(p.idleTimeout)
	if len(h.idle) > p.maxIdle {
		wake = now.Add(p.idleGrace)
	}
	p.sweepBy(now, wake)
	p.mu.Unlock()
	if stale != nil {
		_ = stale.conn.Close()
	}
}

// sweepBy makes sure a sweep runs by at (p.mu held).
func (p *h1Pool) sweepBy(now, at time.Time) {
	if p.sweeping && !p.sweepAt.After(at) {
		return
	}
	p.sweeping, p.sweepAt = true, at
	time.AfterFunc(at.Sub(now), p.sweep)
}

// forget accounts for a connection to addr that is gone.
func (p *h1Pool) forget(addr string) {
	p.mu.Lock()
	if h := p.hosts[addr]; h != nil {
		h.open--
		if h.unused() {
			delete(p.hosts, addr)
		}
	}
	p.mu.Unlock()
}

// sweep closes the connections idle for idleTimeout, and those over the idle cap idle for
// the idle grace, so an unused endpoint holds no connection (and the backend no socket) for
// long; it runs only while some are idle.
func (p *h1Pool) sweep() {
	now := time.Now()
	var stale []*h1Conn
	var next time.Time
	p.mu.Lock()
	for addr, h := range p.hosts {
		// h.idle is oldest first.
		n := 0
		for n < len(h.idle) && (now.Sub(h.idle[n].idleAt) >= p.idleTimeout ||
			(len(h.idle)-n > p.maxIdle && now.Sub(h.idle[n].idleAt) >= p.idleGrace)) {
			n++
		}
		stale = append(stale, h.idle[:n]...)
		h.idle = append(h.idle[:0], h.idle[n:]...)
		h.open -= n
		if len(h.idle) == 0 {
			if h.unused() {
				delete(p.hosts, addr)
			}
			continue
		}
		at := h.idle[0].idleAt.Add(p.idleTimeout)
		if len(h.idle) > p.maxIdle {
			at = h.idle[0].idleAt.Add(p.idleGrace)
		}
		if next.IsZero() || at.Before(next) {
			next = at
		}
	}
	p.sweeping = false
	if !next.IsZero() {
		p.sweepBy(now, next)
	}
	p.mu.Unlock()
	closeAll(stale)
}

// dropIdle closes the idle connections to addr.
func (p *h1Pool) dropIdle(addr string) {
	p.mu.Lock()
	var stale []*h1Conn
	if h := p.hosts[addr]; h != nil {
		stale = h.idle
		h.idle = nil
		h.open -= len(stale)
	}
	p.mu.Unlock()
	closeAll(stale)
}

// closeIdle closes every idle connection (CloseIdleConnections).
func (p *h1Pool) closeIdle() {
	if p == nil {
		return
	}
	p.mu.Lock()
	var stale []*h1Conn
	for addr, h := range p.hosts {
		stale = append(stale, h.idle...)
		h.open -= len(h.idle)
		h.idle = nil
		if h.unused() {
			delete(p.hosts, addr)
		}
	}
	p.mu.Unlock()
	closeAll(stale)
}

func closeAll(conns []*h1Conn) {
	for _, c := range conns {
		_ = c.conn.Close()
	}
}
