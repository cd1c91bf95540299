package proxy

import (
	"net"
	"net/netip"
	"sync"

	"github.com/bridgehead/bridgehead/internal/snapshot"
	"github.com/bridgehead/bridgehead/proxy/middleware"
)

// Reasons a TCP route's middlewares refuse a connection (metrics, access log).
const (
	tcpReasonNotAllowed         = "ClientNotAllowed"
	tcpReasonTooManyConnections = "TooManyConnections"
)

// tcpFilter is one compiled MiddlewareTCP of a route: exactly one of its fields is set.
type tcpFilter struct {
	isAllow  bool           // an ipAllowList: allow lists the ranges admitted
	allow    []netip.Prefix //
	inFlight *connCounter   // an inFlightConn: at most amount connections per client
	amount   int64
}

// compileTCPFilters compiles a route's middlewares, in order. The in-flight counters live
// in the server's registry, keyed by route and middleware, so a snapshot swap neither
// resets nor forgets the connections that are open.
func (s *Server) compileTCPFilters(tr *snapshot.TCPRoute, used map[string]bool) []tcpFilter {
	var out []tcpFilter
	for _, m := range tr.Middlewares {
		switch {
		case m.IPAllowList != nil:
			out = append(out, tcpFilter{isAllow: true, allow: middleware.NormalizePrefixes(m.IPAllowList.SourceRange)})
		case m.InFlightConn != nil:
			key := tr.ID + "|" + m.Source.String()
			used[key] = true
			out = append(out, tcpFilter{inFlight: s.connCounters.get(key), amount: m.InFlightConn.Amount})
		default:
			// Validate refuses such a snapshot; never let a filter that filters nothing through.
			out = append(out, tcpFilter{isAllow: true})
		}
	}
	return out
}

// admit runs the route's filters on a new connection, in order, before any TLS handshake
// or backend dial. On success, release frees what the connection holds (its in-flight
// slots) and must be called once when it ends; on refusal, reason says why. A route
// without filters costs one length check.
func (r *tcpRoute) admit(conn net.Conn) (release func(), reason string, ok bool) {
	if len(r.filters) == 0 {
		return nil, "", true
	}
	client := clientAddr(conn)
	var held []*connCounter
	release = func() {
		for _, c := range held {
			c.release(client)
		}
	}
	for _, f := range r.filters {
		switch {
		case f.isAllow:
			if !client.IsValid() || !containsAddr(f.allow, client) {
				release()
				return nil, tcpReasonNotAllowed, false
			}
		case f.inFlight != nil:
			if !client.IsValid() || !f.inFlight.acquire(client, f.amount) {
				release()
				return nil, tcpReasonTooManyConnections, false
			}
			held = append(held, f.inFlight)
		}
	}
	return release, "", true
}

// clientAddr is the address the filters judge: the connection's peer, or the client a
// trusted load balancer's PROXY header named (the listener wraps the connection so that
// RemoteAddr reports it). IPv4-mapped IPv6 is unmapped so IPv4 ranges match.
func clientAddr(c net.Conn) netip.Addr {
	ap, err := netip.ParseAddrPort(c.RemoteAddr().String())
	if err != nil {
		return netip.Addr{}
	}
	return ap.Addr().Unmap().WithZone("")
}

func containsAddr(ps []netip.Prefix, a netip.Addr) bool {
	for _, p := range ps {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// connCounter counts the open connections per client address of one inFlightConn
// middleware on one route.
type connCounter struct {
	mu    sync.Mutex
	count map[netip.Addr]int64
}

func (c *connCounter) acquire(a netip.Addr, limit int64) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.count[a] >= limit {
		return false
	}
	c.count[a]++
	return true
}

func (c *connCounter) release(a netip.Addr) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.count[a] <= 1 {
		delete(c.count, a) // no entry per client that has gone
		return
	}
	c.count[a]--
}

// connCounters keeps the in-flight counters across snapshot swaps.
type connCounters struct {
	mu sync.Mutex
	m  map[string]*connCounter
}

func (r *connCounters) get(key string) *connCounter {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.m == nil {
		r.m = map[string]*connCounter{}
	}
	c, ok := r.m[key]
	if !ok {
		c = &connCounter{count: map[netip.Addr]int64{}}
		r.m[key] = c
	}
	return c
}

// retain forgets the counters no route uses any more. A connection still open under a
// forgotten counter releases into it harmlessly.
func (r *connCounters) retain(used map[string]bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for k := range r.m {
		if !used[k] {
			delete(r.m, k)
		}
	}
}
