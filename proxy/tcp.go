package proxy

import (
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"net/netip"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/bridgehead/bridgehead/internal/rule"
	"github.com/bridgehead/bridgehead/internal/snapshot"
	"github.com/bridgehead/bridgehead/proxy/edge"
	"github.com/bridgehead/bridgehead/proxy/health"
	"github.com/bridgehead/bridgehead/proxy/proxyproto"
	"github.com/bridgehead/bridgehead/proxy/relay"
	"github.com/bridgehead/bridgehead/proxy/sniff"
	"github.com/bridgehead/bridgehead/proxy/upstream"
)

// tcpRoute is a compiled IngressRouteTCP rule.
type tcpRoute struct {
	snap       *snapshot.TCPRoute
	rule       *rule.Rule
	filters    []tcpFilter // the route's MiddlewareTCPs, in order
	backends   []*tcpBackend
	schedule   *schedule
	transports map[string]*snapshot.Transport
}

type tcpBackend struct {
	snap      *snapshot.TCPBackend
	endpoints []*health.Endpoint
	next      schedule
}

// compileTCP builds the TCP routes of each entry point, in priority order.
func (s *Server) compileTCP(st *state, transports map[string]*snapshot.Transport, used map[*health.Endpoint]bool) {
	st.tcp = map[string][]*tcpRoute{}
	counters := map[string]bool{}
	defer s.connCounters.retain(counters)
	for _, tr := range st.snap.TCPRoutes {
		parsed, err := rule.Parse(tr.Match, rule.TCP)
		if err != nil {
			s.log.Error("TCP route rule does not compile", "route", tr.ID, "error", err)
			continue
		}
		r := &tcpRoute{snap: tr, rule: parsed, transports: transports, filters: s.compileTCPFilters(tr, counters)}
		var weights []int
		for _, b := range tr.Backends {
			cb := &tcpBackend{snap: b}
			for _, ep := range b.Endpoints {
				es := s.health.Get("tcp/"+b.Service.String()+"/"+b.Port, ep.Address)
				used[es] = true
				cb.endpoints = append(cb.endpoints, es)
			}
			w := b.Weight
			if b.Failure != nil || len(cb.endpoints) == 0 {
				w = 0
			}
			weights = append(weights, w)
			r.backends = append(r.backends, cb)
		}
		r.schedule = newSchedule(weights)
		for _, ep := range s.entryPoints {
			if len(tr.EntryPoints) == 0 || slices.Contains(tr.EntryPoints, ep.Name) {
				st.tcp[ep.Name] = append(st.tcp[ep.Name], r)
			}
		}
	}
}

// Decision says which router takes a connection, and why: for `diagnose` and logs.
type Decision struct {
	Router string // "tcp" or "https"
	Route  string // the TCP route's ID, when Router is tcp
	Why    string
}

// Explain answers "for SNI x on this entry point, which router wins and why". A TCP route
// whose rule matches wins over HTTP routes for the same name (that is how passthrough
// and HTTPS share a port); everything else goes to the HTTPS router.
func (s *Server) Explain(entryPoint, sni string, alpn []string) Decision {
	st := s.state.Load()
	if st == nil {
		return Decision{Router: "none", Why: "no configuration yet"}
	}
	if r := st.matchTCP(entryPoint, sniff.Hello{ServerName: edge.NormalizeHost(sni), ALPN: alpn}, netip.Addr{}); r != nil {
		kind := "terminated then forwarded as TCP"
		if r.snap.Passthrough {
			kind = "passed through untouched"
		}
		return Decision{Router: "tcp", Route: r.snap.ID, Why: r.snap.Source.Kind + " " + r.snap.Source.Namespace + "/" + r.snap.Source.Name + " matches " + r.snap.Match + " and TCP routes win over HTTP routes on a shared entry point; the connection is " + kind}
	}
	return Decision{Router: "https", Why: "no TCP route matches; TLS is terminated and requests go to the HTTP router"}
}

func (st *state) matchTCP(entryPoint string, h sniff.Hello, client netip.Addr) *tcpRoute {
	info := rule.ConnInfo{SNI: h.ServerName, ALPN: h.ALPN, ClientIP: client}
	for _, r := range st.tcp[entryPoint] {
		if r.rule.MatchConn(info) {
			return r
		}
	}
	return nil
}

// tcpConn is one client connection handled by a TCP route.
type tcpConn struct {
	client  net.Conn
	backend net.Conn
	route   string
	release func()    // frees the connection's in-flight slots; run once, when it ends
	done    sync.Once // guards release
	closed  atomic.Bool
	relayed atomic.Pointer[relay.Handle] // set once the relay owns both connections
}

func (c *tcpConn) close() {
	if c.closed.Swap(true) {
		return
	}
	if h := c.relayed.Load(); h != nil {
		h.Close()
		return
	}
	_ = c.client.Close()
	if c.backend != nil {
		_ = c.backend.Close()
	}
}

// tcpTracker remembers open TCP connections by route, so that a connection survives
// snapshot swaps and is closed only when its route is removed (after a grace period).
type tcpTracker struct {
	mu    sync.Mutex
	conns map[string]map[*tcpConn]struct{}
}

func (t *tcpTracker) add(c *tcpConn) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.conns == nil {
		t.conns = map[string]map[*tcpConn]struct{}{}
	}
	if t.conns[c.route] == nil {
		t.conns[c.route] = map[*tcpConn]struct{}{}
	}
	t.conns[c.route][c] = struct{}{}
}

// remove forgets a connection that has ended, and frees what its route's middlewares
// counted for it.
func (t *tcpTracker) remove(c *tcpConn) {
	t.mu.Lock()
	delete(t.conns[c.route], c)
	t.mu.Unlock()
	c.done.Do(func() {
		if c.release != nil {
			c.release()
		}
	})
}

// retire closes, after grace, the connections of routes the snapshot no longer has.
func (t *tcpTracker) retire(snap *snapshot.Snapshot, grace time.Duration) {
	live := map[string]bool{}
	for _, r := range snap.TCPRoutes {
		live[r.ID] = true
	}
	t.mu.Lock()
	var gone []*tcpConn
	for route, set := range t.conns {
		if live[route] {
			continue
		}
		for c := range set {
			gone = append(gone, c)
		}
	}
	t.mu.Unlock()
	if len(gone) == 0 {
		return
	}
	time.AfterFunc(grace, func() {
		for _, c := range gone {
			c.close()
		}
	})
}

// serveTCP forwards a connection on a TCP route: the client's bytes untouched
// (passthrough), or TLS terminated here first, then plain or TLS to the backend.
func (s *Server) serveTCP(ep *entryPoint, st *state, r *tcpRoute, conn net.Conn, start time.Time) {
	tc := &tcpConn{client: conn, route: r.snap.ID}
	s.tcpConns.add(tc)
	relayed := false
	defer func() {
		if !relayed { // else the relay's completion does this
			s.tcpConns.remove(tc)
			tc.close()
		}
	}()
	s.metrics.TCPConnection(r.snap.ID)

	if r.snap.Failure != nil {
		s.tcpFailed(ep, r, conn, "", upstream.Reason(r.snap.Failure.Reason), start)
		return
	}
	// The route's middlewares judge the client before it costs a TLS handshake or a
	// backend connection; a refused client is closed without a byte sent anywhere.
	release, reason, ok := r.admit(conn)
	if !ok {
		s.log.Debug("TCP connection refused by the route's middlewares", "route", r.snap.ID, "client", conn.RemoteAddr().String(), "reason", reason)
		s.tcpFailed(ep, r, conn, "", upstream.Reason(reason), start)
		return
	}
	tc.release = release
	client := conn
	if r.snap.Terminate {
		cfg, _, err := st.edge.For(sniOf(conn))
		if err != nil {
			s.tcpFailed(ep, r, conn, "", "Refused", start)
			return
		}
		tlsConn := tls.Server(conn, tcpServerConfig(cfg))
		hctx, cancel := context.WithTimeout(context.Background(), s.cfg.ReadHeaderTimeout)
		err = tlsConn.HandshakeContext(hctx)
		cancel()
		if err != nil {
			s.metrics.HandshakeFailure("TCPHandshake")
			return
		}
		client = tlsConn
	}

	i := r.schedule.pick()
	if i < 0 {
		reason := upstream.NoEndpoints
		for _, b := range r.backends {
			if b.snap.Failure != nil {
				reason = upstream.Reason(b.snap.Failure.Reason)
				break
			}
		}
		s.tcpFailed(ep, r, client, "", reason, start)
		return
	}
	b := r.backends[i]
	es := pickTCP(b)
	// The dial has the transport's dialTimeout (default 30s); this bounds it with the TLS
	// handshake to the backend, never below the dialTimeout a user set.
	connectTimeout := 30 * time.Second
	if t := r.transports[b.snap.Transport]; t != nil && t.DialTimeout > connectTimeout {
		connectTimeout = t.DialTimeout
	}
	ctx, cancel := context.WithTimeout(context.Background(), connectTimeout)
	backendConn, err := s.pool.DialTCP(ctx, r.transports[b.snap.Transport], b.snap, es.Address)
	cancel()
	if err != nil {
		reason, _, detail := upstream.Classify(err)
		s.metrics.TCPFailure(r.snap.ID, string(reason))
		s.observations.Record(upstream.Observation{RouteID: r.snap.ID, Backend: b.snap.Service, Endpoint: es.Address, Reason: reason, Detail: detail, At: time.Now()})
		s.log.Warn("TCP backend failed", "route", r.snap.ID, "endpoint", es.Address, "reason", string(reason), "detail", detail.Message)
		s.tcpFailed(ep, r, client, es.Address, reason, start)
		return
	}
	tc.backend = backendConn
	if b.snap.ProxyProtocol != 0 {
		if err := proxyproto.WriteHeader(backendConn, b.snap.ProxyProtocol, conn.RemoteAddr(), conn.LocalAddr()); err != nil {
			s.tcpFailed(ep, r, client, es.Address, upstream.ConnectionReset, start)
			return
		}
	}
	// A ServersTransportTCP's terminationDelay as written (translate fills its default,
	// 100ms): 0 closes at once, negative never (Traefik's -1).
	terminationDelay := 100 * time.Millisecond
	if t := r.transports[b.snap.Transport]; t != nil {
		terminationDelay = t.TerminationDelay
	}
	finished := func(in, out int64) {
		s.metrics.TCPBytes(r.snap.ID, in, out)
		if s.accessLog != nil {
			s.accessLogConn(ep, r, conn, es.Address, in, out, "", time.Since(start))
		}
	}
	opts := relay.Options{TerminationDelay: terminationDelay, IdleTimeout: s.cfg.TCPIdleTimeout}
	if relayed = s.relay(tc, client, backendConn, opts, finished); relayed {
		return
	}
	finished(pipe(client, backendConn, terminationDelay, s.cfg.TCPIdleTimeout))
}

// relay hands a pair of plain TCP connections (passthrough, or plain TCP forwarding) to
// the event-loop relay; it reports false, with both connections untouched, when they are
// not both bare TCP sockets (TLS terminated here or to the backend) or the relay is not
// available, and the caller copies with goroutines.
func (s *Server) relay(tc *tcpConn, client, backend net.Conn, opts relay.Options, finished func(in, out int64)) bool {
	bc, ok := backend.(*net.TCPConn)
	if !ok || s.cfg.GoroutineTCPCopy {
		return false
	}
	cc := tcpOf(client) // nil for TLS terminated here
	if cc == nil {
		return false
	}
	var prefix []byte // the ClientHello the peek read: the relay sends it first
	if p, ok := client.(*peekedConn); ok {
		prefix = p.Prefix()
	}
	opts.Prefix = prefix
	h, err := relay.Default.Start(cc, bc, opts, func(res relay.Result) {
		finished(res.In, res.Out)
		s.tcpConns.remove(tc)
	})
	if err != nil {
		s.log.Debug("TCP event loop unavailable, copying with goroutines", "error", err.Error())
		return false
	}
	tc.relayed.Store(h)
	if tc.closed.Load() { // retired while being handed over
		h.Close()
	}
	return true
}

// copyIdle copies like io.Copy but gives up once neither direction has carried a byte for
// idle (a one-way download keeps both halves open). It trades the kernel splice of
// io.Copy for the ability to see activity, so it is used only with an idle timeout.
func copyIdle(dst, src net.Conn, idle time.Duration, lastActive *atomic.Int64) int64 {
	buf := make([]byte, 32<<10)
	var n int64
	for {
		_ = src.SetReadDeadline(time.Now().Add(idle))
		r, err := src.Read(buf)
		if r > 0 {
			lastActive.Store(time.Now().UnixNano())
			w, werr := dst.Write(buf[:r])
			n += int64(w)
			if werr != nil {
				return n
			}
		}
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() && time.Since(time.Unix(0, lastActive.Load())) < idle {
				continue // the other direction is busy: this side is merely quiet
			}
			return n
		}
	}
}

// tcpServerConfig is the edge config without HTTP's ALPN: a terminated TCP route speaks
// whatever the client and backend speak.
func tcpServerConfig(cfg *tls.Config) *tls.Config {
	c := cfg.Clone()
	c.NextProtos = nil
	return c
}

// sniOf returns the SNI a peeked connection announced.
func sniOf(c net.Conn) string {
	if p, ok := c.(*peekedConn); ok {
		return p.hello.ServerName
	}
	return ""
}

func pickTCP(b *tcpBackend) *health.Endpoint {
	now := time.Now().UnixNano()
	n := uint64(len(b.endpoints))
	start := b.next.next.Add(1) - 1
	for k := range n {
		if es := b.endpoints[(start+k)%n]; es.Available(now) {
			return es
		}
	}
	return b.endpoints[start%n]
}

func (s *Server) tcpFailed(ep *entryPoint, r *tcpRoute, conn net.Conn, endpoint string, reason upstream.Reason, start time.Time) {
	s.metrics.TCPFailure(r.snap.ID, string(reason))
	if s.accessLog != nil {
		s.accessLogConn(ep, r, conn, endpoint, 0, 0, string(reason), time.Since(start))
	}
}

// pipe copies both ways until both directions end. When one side finishes sending, the
// other side's write half is closed (half-close propagates), and the connection is torn
// down terminationDelay later if the other direction has not finished by then. Between
// two TCP connections io.Copy splices in the kernel.
func pipe(client, backend net.Conn, terminationDelay, idle time.Duration) (in, out int64) {
	var wg sync.WaitGroup
	wg.Add(2)
	var once sync.Once
	var lastActive atomic.Int64 // unix nanos of the last byte in either direction
	lastActive.Store(time.Now().UnixNano())
	closeBoth := func() {
		once.Do(func() {
			_ = client.Close()
			_ = backend.Close()
		})
	}
	copyHalf := func(dst, src net.Conn, n *int64) {
		defer wg.Done()
		if idle > 0 {
			*n = copyIdle(dst, src, idle, &lastActive)
		} else {
			*n, _ = io.Copy(dst, src)
		}
		if cw, ok := dst.(interface{ CloseWrite() error }); ok && cw.CloseWrite() == nil {
			if terminationDelay >= 0 {
				time.AfterFunc(terminationDelay, closeBoth)
			}
			return
		}
		closeBoth()
	}
	go copyHalf(backend, client, &in)
	copyHalf(client, backend, &out)
	wg.Wait()
	closeBoth()
	return in, out
}
