package proxy

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/bridgehead/bridgehead/internal/snapshot"
	"github.com/bridgehead/bridgehead/proxy/accesslog"
	"github.com/bridgehead/bridgehead/proxy/admin"
	"github.com/bridgehead/bridgehead/proxy/edge"
	"github.com/bridgehead/bridgehead/proxy/h1server"
	"github.com/bridgehead/bridgehead/proxy/h2server"
	"github.com/bridgehead/bridgehead/proxy/health"
	"github.com/bridgehead/bridgehead/proxy/metrics"
	"github.com/bridgehead/bridgehead/proxy/middleware"
	"github.com/bridgehead/bridgehead/proxy/pathnorm"
	"github.com/bridgehead/bridgehead/proxy/upstream"
)

// EntryPoint is one listener.
type EntryPoint struct {
	Name    string
	Address string
	TLS     bool
	// UDP makes the entry point a UDP socket for IngressRouteUDPs (TLS and the fields
	// below do not apply to it).
	UDP bool
	// RedirectTo, on a plain entry point, redirects every request to this TLS entry point
	// (permanently), except ACME http-01 challenges, which are routed as usual.
	RedirectTo string
	// AdvertisedPort is the port clients reach this entry point on when a Service or load
	// balancer maps another port to it (443 -> 8443); redirects to it use this port.
	AdvertisedPort string
	// TrustedProxies are load balancers whose connections start with a PROXY protocol
	// header (v1 or v2): the client address it carries replaces theirs. Connections from
	// these addresses without a valid header are closed.
	TrustedProxies []netip.Prefix
	// ForwardedTrustedIPs are the clients (by their direct address, after PROXY protocol)
	// whose X-Forwarded-*, X-Real-Ip and Forwarded headers are kept (X-Forwarded-For is
	// appended to). Everyone else's are removed before routing; see scrubHeader.
	ForwardedTrustedIPs []netip.Prefix
}

// Config configures the data plane.
type Config struct {
	EntryPoints []EntryPoint
	// AdminAddress serves /healthz, /readyz and /metrics; empty turns it off.
	AdminAddress string
	// Ready reports whether the control plane has produced its first snapshot.
	Ready func() error
	// ErrorHeader sends the short failure reason in a Bridgehead-Error response header.
	ErrorHeader bool
	// Log is the structured logger; debug level logs every TLS handshake.
	Log *slog.Logger
	// AccessLog receives one JSON line per request; nil turns it off.
	AccessLog io.Writer
	// DialContext replaces the upstream dialer (tests map cluster addresses to local ones).
	DialContext func(ctx context.Context, network, addr string) (net.Conn, error)
	// ShutdownDelay is how long readiness fails before listeners stop, so load balancers
	// stop sending new connections first. Grace bounds draining after that.
	ShutdownDelay, Grace time.Duration
	// TCPIdleTimeout closes a TCP route's connection when neither side sent anything for
	// this long; zero keeps connections open.
	TCPIdleTimeout time.Duration
	// GoroutineTCPCopy copies plain TCP pairs (passthrough, TCP forwarding) with two
	// goroutines each instead of the event-loop relay (proxy/relay), which costs less CPU;
	// it is what other platforms than Linux always do.
	GoroutineTCPCopy bool
	// NetHTTP1 serves HTTP/1.1 with net/http's server alone, instead of serving GETs and
	// HEADs without a body with proxy/h1server first.
	NetHTTP1 bool
	// NetHTTP2 serves HTTP/2 on TLS entry points with net/http's server instead of
	// proxy/h2server.
	NetHTTP2 bool
	// UDPTimeout ends a UDP session after this long without a datagram either way (zero:
	// udpsession.DefaultTimeout, 3s as Traefik's udp.timeout); UDPMaxSessions bounds the
	// sessions of each UDP entry point (zero: udpsession.DefaultMaxSessions).
	UDPTimeout     time.Duration
	UDPMaxSessions int
	// TCPRouteGrace is how long connections of a removed TCP route may finish.
	TCPRouteGrace time.Duration
	// PeekTimeout bounds how long a client may take to send its ClientHello on a TLS
	// entry point that has TCP routes.
	PeekTimeout time.Duration
	// Timeouts of the client side.
	ReadHeaderTimeout, ReadTimeout, IdleTimeout time.Duration
	// RequestBodyIdleTimeout bounds how long one read of a request body may wait for the
	// client: a client that stalls its upload gets 408 (ClientBodyTimeout) instead of
	// holding a backend connection; negative turns it off.
	RequestBodyIdleTimeout time.Duration
	// MaxHeaderBytes bounds a request's header (request line and fields) in HTTP/1.1 and
	// its header list in HTTP/2 (SETTINGS_MAX_HEADER_LIST_SIZE); MaxHeaderFields bounds
	// the number of fields. Both are answered with 431.
	MaxHeaderBytes       int
	MaxHeaderFields      int
	MaxConcurrentStreams int
	// Path allows what request paths may hold beyond plain segments (encoded slashes,
	// backslashes, parameters); by default such requests get 400.
	Path pathnorm.Options
	// Upstream are the defaults of every backend transport (see upstream.Limits).
	Upstream upstream.Limits
	// GoRSA keeps RSA signatures in Go's crypto even in builds that can hand them to
	// OpenSSL (proxy/opensslrsa), whose are about 3.5x cheaper.
	GoRSA bool
}

// Defaults fills unset fields with production defaults.
func (c *Config) Defaults() {
	if c.Log == nil {
		c.Log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if c.ReadHeaderTimeout == 0 {
		c.ReadHeaderTimeout = 10 * time.Second
	}
	if c.IdleTimeout == 0 {
		c.IdleTimeout = 180 * time.Second
	}
	if c.RequestBodyIdleTimeout == 0 {
		c.RequestBodyIdleTimeout = DefaultRequestBodyIdleTimeout
	}
	if c.MaxHeaderBytes == 0 {
		c.MaxHeaderBytes = DefaultMaxHeaderBytes
	}
	if c.MaxHeaderFields == 0 {
		c.MaxHeaderFields = DefaultMaxHeaderFields
	}
	c.Upstream.Defaults()
	if c.MaxConcurrentStreams == 0 {
		c.MaxConcurrentStreams = 250
	}
	if c.Grace == 0 {
		c.Grace = 30 * time.Second
	}
	if c.PeekTimeout == 0 {
		c.PeekTimeout = 10 * time.Second
	}
	if c.TCPRouteGrace == 0 {
		c.TCPRouteGrace = 10 * time.Second
	}
}

// Server is the data plane: the accept loop, the router and forwarding. The jobs that
// need none of their internals live in subpackages and are held here by one value each:
// client TLS (edge), endpoint health (health), metrics, the admin port and the access log.
type Server struct {
	cfg            Config
	state          atomic.Pointer[state]
	entryPoints    []*entryPoint // the TCP ones (HTTP, TLS, TCP routes)
	udpEntryPoints []*udpEntryPoint
	base           *tls.Config // every handshake starts here; it only dispatches per SNI
	draining       atomic.Bool
	listeners      []net.Listener
	servers        []*http.Server
	h1servers      []*h1server.Server
	h2servers      []*h2server.Server

	// Forwarding and TCP routes.
	pool         *upstream.Pool
	observations *upstream.Outcomes
	buffers      *bufferPool
	tcpConns     tcpTracker
	connCounters connCounters  // inFlightConn counts, across snapshot swaps (tcpfilter.go)
	mirrorSlots  chan struct{} // copies for mirrors in flight (mirror.go)
	kept         keptRoutes    // the last compile's routes, for the next (kept.go)
	swapMu       sync.Mutex

	// Logs.
	log       *slog.Logger
	errorLog  *log.Logger
	accessLog *accesslog.Log // nil without Config.AccessLog

	// Jobs of their own.
	edge         *edge.Builder
	health       health.Registry
	healthChecks *health.Checker
	// middlewares keeps rate-limit buckets across snapshots.
	middlewares *middleware.Memory
	prober      *health.Prober
	metrics     *metrics.Registry
	admin       *admin.Port
}

type entryPoint struct {
	EntryPoint
	srv  *Server
	port []string
	// h1 serves the entry point's HTTP/1.1 connections (nil: net/http does, see
	// Config.NetHTTP1); handedOver is the listener of the net/http server that serves the
	// connections it gives up, handOverServer.
	h1 *h1server.Server
	// h2 serves the HTTP/2 connections of a TLS entry point (nil: net/http does, see
	// Config.NetHTTP2).
	h2             *h2server.Server
	handedOver     *chanListener
	handOverServer *http.Server
}

// New builds the data plane on a Store: every successful Swap is compiled for serving.
func New(cfg Config, store *snapshot.Store) (*Server, error) {
	cfg.Defaults()
	tlsBuilder, err := edge.New(edge.Options{OpenSSL: !cfg.GoRSA, Log: cfg.Log})
	if err != nil {
		return nil, err
	}
	poolOpts := upstream.Options{DialContext: cfg.DialContext, Limits: cfg.Upstream, ClientKey: tlsBuilder.ClientKey()}
	s := &Server{
		cfg:          cfg,
		pool:         upstream.NewPool(poolOpts),
		observations: &upstream.Outcomes{},
		edge:         tlsBuilder,
		metrics:      metrics.New(),
		buffers:      newBufferPool(),
		log:          cfg.Log,
		errorLog:     slog.NewLogLogger(cfg.Log.Handler(), slog.LevelDebug),
		accessLog:    accesslog.New(cfg.AccessLog),
		mirrorSlots:  make(chan struct{}, maxMirrorsInFlight),
	}
	s.healthChecks = health.NewChecker(s.log)
	s.middlewares = middleware.NewMemory(nil)
	s.prober = health.NewProber(s.pool, s.observations, s.log)
	s.base = &tls.Config{GetConfigForClient: s.configForClient}
	s.admin = admin.New(s.ready, s.metrics.Handler())
	for _, ep := range cfg.EntryPoints {
		if ep.UDP {
			s.udpEntryPoints = append(s.udpEntryPoints, &udpEntryPoint{EntryPoint: ep, srv: s})
			continue
		}
		s.entryPoints = append(s.entryPoints, &entryPoint{EntryPoint: ep, srv: s})
	}
	store.OnSwap(s.swap)
	if snap := store.Load(); snap != nil {
		s.swap(snap)
	}
	return s, nil
}

func (s *Server) swap(snap *snapshot.Snapshot) {
	// One swap at a time, whole: each part learns what changed from the compile, relative
	// to the snapshot swapped last. The Store serializes its swaps; New's first is not.
	s.swapMu.Lock()
	defer s.swapMu.Unlock()
	st, changes := s.compile(snap)
	s.state.Store(st)
	s.metrics.Retain(snap, &changes)
	s.pool.Retain(snap, changes.Transports)
	s.tcpConns.retire(snap, s.cfg.TCPRouteGrace)
	s.prober.Changes(snap, &changes)
}

// HandleAdmin adds a handler to the admin port (status pages, snapshot hash). Call it
// before Serve.
func (s *Server) HandleAdmin(pattern string, h http.Handler) { s.admin.Handle(pattern, h) }

// Observations returns the classified upstream outcomes seen so far (for status).
func (s *Server) Observations() *upstream.Outcomes { return s.observations }

// Listen opens every entry point's listener (and the admin one), so callers learn of a
// port in use before serving starts. Addresses actually bound are returned by Addrs.
func (s *Server) Listen() error {
	for _, ep := range s.entryPoints {
		ln, err := net.Listen("tcp", ep.Address)
		if err != nil {
			s.closeListeners()
			return fmt.Errorf("entry point %s: %w", ep.Name, err)
		}
		_, port, _ := net.SplitHostPort(ln.Addr().String())
		ep.port = []string{port}
		s.listeners = append(s.listeners, ln)
	}
	if s.cfg.AdminAddress != "" {
		ln, err := net.Listen("tcp", s.cfg.AdminAddress)
		if err != nil {
			s.closeListeners()
			return fmt.Errorf("admin: %w", err)
		}
		s.listeners = append(s.listeners, ln)
	}
	for _, ep := range s.udpEntryPoints {
		if err := ep.listen(); err != nil {
			s.closeListeners()
			return err
		}
	}
	return nil
}

// Addrs returns the bound address of each entry point by name, plus "admin".
func (s *Server) Addrs() map[string]string {
	out := map[string]string{}
	for i, ep := range s.entryPoints {
		if i < len(s.listeners) {
			out[ep.Name] = s.listeners[i].Addr().String()
		}
	}
	if s.cfg.AdminAddress != "" && len(s.listeners) == len(s.entryPoints)+1 {
		out["admin"] = s.listeners[len(s.entryPoints)].Addr().String()
	}
	for _, ep := range s.udpEntryPoints {
		if ep.conn != nil {
			out[ep.Name] = ep.conn.LocalAddr().String()
		}
	}
	return out
}

func (s *Server) closeListeners() {
	for _, ln := range s.listeners {
		_ = ln.Close()
	}
	s.listeners = nil
	for _, ep := range s.udpEntryPoints {
		if ep.proxy != nil {
			_ = ep.proxy.Close()
			ep.conn, ep.proxy = nil, nil
		}
	}
}

// Serve serves every listener until ctx ends, then shuts down gracefully: readiness fails
// first, then listeners close and in-flight requests drain within the grace period.
func (s *Server) Serve(ctx context.Context) error {
	if s.listeners == nil {
		if err := s.Listen(); err != nil {
			return err
		}
	}
	errs := make(chan error, len(s.listeners)+len(s.udpEntryPoints))
	for i, ep := range s.entryPoints {
		if !s.cfg.NetHTTP1 {
			s.serveHandedOver(ep, s.listeners[i].Addr(), errs)
		}
		hs := s.httpServer(ep)
		ln := net.Listener(newRoutedListener(s.listeners[i], s, ep))
		s.servers = append(s.servers, hs)
		go func() { errs <- serveErr(hs.Serve(ln)) }()
	}
	for _, ep := range s.udpEntryPoints {
		p := ep.proxy
		go func() { errs <- p.Serve() }()
	}
	if s.cfg.AdminAddress != "" {
		hs := s.admin.Server(s.errorLog)
		s.servers = append(s.servers, hs)
		ln := s.listeners[len(s.entryPoints)]
		go func() { errs <- serveErr(hs.Serve(ln)) }()
	}
	select {
	case err := <-errs:
		_ = s.shutdown() // the serve error is the one worth reporting
		return err
	case <-ctx.Done():
	}
	s.draining.Store(true)
	if s.cfg.ShutdownDelay > 0 {
		s.log.Info("shutting down: readiness fails now, listeners close after the delay", "delay", s.cfg.ShutdownDelay)
		time.Sleep(s.cfg.ShutdownDelay) // the delay itself is the point: let load balancers notice
	}
	return s.shutdown()
}

// ready says why the data plane cannot take traffic, for the admin port's /readyz.
func (s *Server) ready() error {
	switch {
	case s.draining.Load():
		return errDraining
	case s.state.Load() == nil:
		return errNotReady
	case s.cfg.Ready != nil:
		return s.cfg.Ready()
	}
	return nil
}

func serveErr(err error) error {
	if errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	return err
}

func (s *Server) shutdown() error {
	ctx, cancel := context.WithTimeout(context.Background(), s.cfg.Grace)
	defer cancel()
	// All at once: net/http's servers close the listeners first thing, which must not
	// wait for h1server's requests in flight (nor the other way round).
	shutdowns := make([]func(context.Context) error, 0, len(s.servers)+len(s.h1servers)+len(s.h2servers))
	for _, hs := range s.servers {
		shutdowns = append(shutdowns, hs.Shutdown)
	}
	for _, hs := range s.h1servers {
		shutdowns = append(shutdowns, hs.Shutdown)
	}
	for _, hs := range s.h2servers {
		shutdowns = append(shutdowns, hs.Shutdown)
	}
	errs := make(chan error, len(shutdowns))
	for _, shutdown := range shutdowns {
		go func() { errs <- shutdown(ctx) }()
	}
	var first error
	for range shutdowns {
		if err := <-errs; err != nil && first == nil {
			first = err
		}
	}
	for _, ep := range s.udpEntryPoints {
		if ep.proxy != nil {
			_ = ep.proxy.Close()
		}
	}
	s.healthChecks.Stop()
	s.prober.Close()
	s.pool.Close()
	return first
}

func (s *Server) httpServer(ep *entryPoint) *http.Server {
	hs := &http.Server{
		Handler:           ep,
		ReadHeaderTimeout: s.cfg.ReadHeaderTimeout,
		ReadTimeout:       s.cfg.ReadTimeout,
		IdleTimeout:       s.cfg.IdleTimeout,
		MaxHeaderBytes:    s.cfg.MaxHeaderBytes,
		ErrorLog:          s.errorLog,
		HTTP2:             &http.HTTP2Config{MaxConcurrentStreams: s.cfg.MaxConcurrentStreams},
		ConnContext: func(ctx context.Context, c net.Conn) context.Context {
			if cs := handshakenState(c); cs != nil {
				return context.WithValue(ctx, connPolicyKey{}, cs)
			}
			return context.WithValue(ctx, connPolicyKey{}, ep.newConnState(c))
		},
		// Active (HTTP/1 and HTTP/2 alike) means the TLS handshake completed: such a
		// connection closes without lingering (see lingerConn).
		ConnState: func(c net.Conn, state http.ConnState) {
			if state == http.StateActive {
				markServed(c)
			}
		},
	}
	// TLS listeners hand over *tls.Conn values whose config (and ALPN) is chosen per SNI;
	// net/http then serves HTTP/2 when h2 was negotiated. Plain connections take HTTP/2
	// with prior knowledge (h2c) besides HTTP/1: gRPC clients speak it, and the Gateway
	// API requires it of HTTP listeners that take GRPCRoutes.
	hs.Protocols = new(http.Protocols)
	hs.Protocols.SetHTTP1(true)
	hs.Protocols.SetHTTP2(true)
	hs.Protocols.SetUnencryptedHTTP2(true)
	return hs
}

// acmeChallengePrefix is never redirected, so ACME http-01 solvers keep working.
const acmeChallengePrefix = "/.well-known/acme-challenge/"

// ServeHTTP routes one request: load the state once, match, check that the connection's
// TLS policy is the route's own (421 otherwise), then run the route's handler.
func (ep *entryPoint) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.ProtoMajor == 2 && ep.h2 == nil {
		presizeStack() // net/http's stream goroutine (h2server's workers grow theirs once)
	}
	s := ep.srv
	st := s.state.Load()
	if st == nil {
		s.fail(w, http.StatusServiceUnavailable, "NotReady")
		return
	}
	cs := connStateFrom(r.Context())
	if r.TLS == nil && cs != nil && cs.tls != nil {
		r.TLS = cs.tls // a TLS connection h1server handed over: net/http saw no *tls.Conn
	}
	if fields := scrubHeader(r.Header, cs != nil && cs.trustForwarded); fields > s.cfg.MaxHeaderFields {
		s.fail(w, http.StatusRequestHeaderFieldsTooLarge, reasonTooManyHeaderFields)
		return
	}
	if closeAfter(r) {
		w.Header()["Connection"] = connectionClose
	}
	// Route, and forward, the path in the one form every backend reads alike
	// (proxy/pathnorm): //admin and /public/%2e%2e/admin are /admin; what backends read
	// differently (%2F, '\', ';') is refused unless Config.Path allows it.
	if reason := s.cfg.Path.Apply(r.URL); reason != "" {
		s.fail(w, http.StatusBadRequest, string(reason))
		return
	}
	if ep.RedirectTo != "" && !strings.HasPrefix(r.URL.Path, acmeChallengePrefix) {
		middleware.Redirect(w, r, "https", s.redirectPort(ep.RedirectTo), true)
		return
	}
	client, _ := netip.ParseAddrPort(r.RemoteAddr)
	rt := st.routers[ep.Name]
	var rte *route
	if rt != nil {
		rte = rt.match(r, client.Addr())
	}
	if rte == nil {
		if ep.TLS && cs != nil && st.edge != nil && st.edge.PolicyFor(requestHost(r)) != cs.policy {
			// No route here, and the name would be negotiated under another policy (an
			// HTTPS listener of its own, GEP-3567): the request was not meant for this
			// connection, so the client should open one for its host.
			s.fail(w, http.StatusMisdirectedRequest, "MisdirectedRequest")
			return
		}
		s.fail(w, http.StatusNotFound, "NoRoute")
		return
	}
	if ep.TLS {
		if cs == nil || cs.policy != rte.policy {
			// The connection was negotiated under another TLS policy (domain fronting,
			// HTTP/2 connection reuse, a host-less route): serving it would bypass this
			// route's policy, such as client mTLS.
			s.fail(w, http.StatusMisdirectedRequest, "MisdirectedRequest")
			rte.stats.Count(http.StatusMisdirectedRequest)
			return
		}
	}
	if _, ok := r.Header["Connection"]; ok {
		dropConnectionListed(r.Header)
	}
	// As in Traefik v3, a response the backend sent without a Content-Type gets none;
	// a contentType Middleware turns detection back on.
	middleware.NoContentTypeDetection(w.Header())
	rec := getRecorder(w)
	if r.ContentLength != 0 {
		rec.body = s.watchBody(w, r)
	}
	start := time.Now()
	rte.handler.ServeHTTP(rec, r)
	if rec.body != nil {
		rec.body.stop()
	}
	took := time.Since(start)
	rte.stats.Observe(rec.code(), took)
	if s.accessLog != nil {
		s.accessLogRequest(ep, r, rte, rec, took)
	}
	putRecorder(rec)
}

// dropConnectionListed removes the headers a client names in Connection before the
// middlewares run: ReverseProxy strips them only later, which would let a client delete a
// header a middleware set (the Connection-header smuggling pattern). Upgrade stays, for
// WebSocket.
func dropConnectionListed(h http.Header) {
	for _, v := range h["Connection"] {
		for _, name := range strings.Split(v, ",") {
			name = strings.TrimSpace(name)
			switch strings.ToLower(name) {
			case "", "upgrade", "close", "keep-alive":
				continue
			}
			h.Del(name)
		}
	}
}

// redirectPort is the port to put in redirects to the named TLS entry point: empty for
// 443, so URLs stay clean.
func (s *Server) redirectPort(name string) string {
	for _, ep := range s.entryPoints {
		if ep.Name != name {
			continue
		}
		port := ep.AdvertisedPort
		if port == "" && len(ep.port) == 1 {
			port = ep.port[0]
		}
		if port == "443" {
			return ""
		}
		return port
	}
	return ""
}

// fail answers with a status and, when enabled, the short typed reason in a header. The
// reason may be followed by a space and a detail (snapshot.Failure.Header: the
// namespace/name of a missing CA Secret); the detail goes only into the header, which
// --error-header=false turns off. The body never carries configuration details: those go
// to the log and the status.
func (s *Server) fail(w http.ResponseWriter, status int, reason string) {
	h := w.Header()
	if s.cfg.ErrorHeader {
		h.Set("Bridgehead-Error", reason)
	}
	h.Set("Content-Type", "text/plain; charset=utf-8")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	token, _, _ := strings.Cut(reason, " ")
	_, _ = io.WriteString(w, strconv.Itoa(status)+" "+http.StatusText(status)+" ("+token+")\n")
}
