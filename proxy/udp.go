package proxy

import (
	"fmt"
	"net"
	"net/netip"
	"slices"
	"sync/atomic"

	"github.com/bridgehead/bridgehead/internal/snapshot"
	"github.com/bridgehead/bridgehead/proxy/udpsession"
)

// UDP entry points take datagrams for IngressRouteUDPs: one route per entry point, one
// session per client address (proxy/udpsession), the session's endpoint chosen by the
// route's weights, then round robin over the Service's endpoints.

// udpEntryPoint is one UDP listener and its sessions.
type udpEntryPoint struct {
	EntryPoint
	srv   *Server
	conn  *net.UDPConn
	proxy *udpsession.Proxy
}

// udpRoute is a compiled UDP route.
type udpRoute struct {
	snap     *snapshot.UDPRoute
	backends []*udpBackend
	schedule *schedule
	// endpoints are every endpoint of the route: a session whose endpoint is no longer
	// among them starts over on the next datagram.
	endpoints map[string]bool
}

type udpBackend struct {
	endpoints []string
	next      atomic.Uint64
}

// compileUDP gives each UDP entry point its route. translate leaves at most one route per
// entry point; were there more, the first by ID would serve.
func (s *Server) compileUDP(st *state) {
	st.udp = map[string]*udpRoute{}
	for _, ur := range st.snap.UDPRoutes {
		if ur.Failure != nil {
			continue
		}
		r := &udpRoute{snap: ur, endpoints: map[string]bool{}}
		var weights []int
		for _, b := range ur.Backends {
			cb := &udpBackend{}
			for _, ep := range b.Endpoints {
				cb.endpoints = append(cb.endpoints, ep.Address)
				r.endpoints[ep.Address] = true
			}
			w := b.Weight
			if b.Failure != nil || len(cb.endpoints) == 0 {
				w = 0
			}
			weights = append(weights, w)
			r.backends = append(r.backends, cb)
		}
		r.schedule = newSchedule(weights)
		for _, ep := range s.udpEntryPoints {
			if (len(ur.EntryPoints) == 0 || slices.Contains(ur.EntryPoints, ep.Name)) && st.udp[ep.Name] == nil {
				st.udp[ep.Name] = r
			}
		}
	}
}

// route is the session table's question: where does this client's datagram go?
func (ep *udpEntryPoint) route(_ netip.AddrPort, current *udpsession.Target) (udpsession.Target, bool) {
	st := ep.srv.state.Load()
	if st == nil {
		return udpsession.Target{}, false
	}
	r := st.udp[ep.Name]
	if r == nil {
		return udpsession.Target{}, false
	}
	if current != nil && current.Route == r.snap.ID && r.endpoints[current.Address] {
		return *current, true
	}
	i := r.schedule.pick()
	if i < 0 {
		return udpsession.Target{}, false
	}
	b := r.backends[i]
	addr := b.endpoints[(b.next.Add(1)-1)%uint64(len(b.endpoints))]
	return udpsession.Target{Route: r.snap.ID, Address: addr}, true
}

// listen opens the entry point's socket.
func (ep *udpEntryPoint) listen() error {
	pc, err := net.ListenPacket("udp", ep.Address)
	if err != nil {
		return fmt.Errorf("entry point %s: %w", ep.Name, err)
	}
	ep.conn = pc.(*net.UDPConn)
	cfg := ep.srv.cfg
	ep.proxy = udpsession.New(ep.conn, udpsession.Config{
		Timeout: cfg.UDPTimeout, MaxSessions: cfg.UDPMaxSessions, Route: ep.route,
		Dial: cfg.DialContext, Observer: udpObserver{m: ep.srv, ep: ep.Name}, Log: cfg.Log,
	})
	return nil
}

// udpObserver counts an entry point's sessions and datagrams in the metrics.
type udpObserver struct {
	m  *Server
	ep string
}

func (o udpObserver) SessionOpened(t udpsession.Target) { o.m.metrics.UDPSession(t.Route) }
func (o udpObserver) Sessions(open int)                 { o.m.metrics.UDPSessionsOpen(o.ep, open) }
func (o udpObserver) Datagram(t udpsession.Target, in bool, n int) {
	o.m.metrics.UDPDatagram(t.Route, in, n)
}
func (o udpObserver) Dropped(reason string) { o.m.metrics.UDPDropped(o.ep, reason) }
