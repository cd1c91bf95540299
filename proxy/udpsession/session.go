// Package udpsession forwards the datagrams of one UDP socket (an entry point) to
// backends, one session per client address: the session's first datagram chooses an
// endpoint, every later one of the same client goes to it, and the endpoint's replies are
// sent to the client from the entry point's own socket (the address the client wrote to,
// so its firewall or resolver accepts them). A session ends after Timeout without a
// datagram either way. The table of sessions is bounded: a new client beyond MaxSessions
// is dropped (counted), existing sessions keep working.
package udpsession

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"
)

// Defaults, as Traefik's entry point udp.timeout (3s).
const (
	DefaultTimeout     = 3 * time.Second
	DefaultMaxSessions = 4096
	// maxDatagram is the largest UDP payload over IPv4 and IPv6 without jumbograms.
	maxDatagram = 65535
)

// Drop reasons, as counted by Observer.Dropped.
const (
	DropNoRoute            = "NoRoute"
	DropSessionLimit       = "SessionLimit"
	DropBackendUnreachable = "BackendUnreachable"
)

// Target is where a session sends its client's datagrams.
type Target struct {
	// Route identifies the route (metrics, logs).
	Route string
	// Address is the backend endpoint, host:port.
	Address string
}

// Observer hears what the proxy does (metrics). Calls come from the proxy's goroutines;
// they must not block.
type Observer interface {
	SessionOpened(t Target)
	Sessions(open int)
	Datagram(t Target, in bool, n int)
	Dropped(reason string)
}

// Config configures a Proxy.
type Config struct {
	// Timeout ends a session after this long without a datagram either way; zero means
	// DefaultTimeout.
	Timeout time.Duration
	// MaxSessions bounds the session table; zero means DefaultMaxSessions.
	MaxSessions int
	// Route decides for each client datagram where it goes. current is the client's
	// session's target, or nil for a client without one. It returns the target to use
	// (current itself while that is still routed, so the session stays; another one
	// replaces the session), or false to drop the datagram and end the client's session.
	Route func(client netip.AddrPort, current *Target) (Target, bool)
	// Dial opens the socket to a backend endpoint (network "udp"); nil uses net.Dialer.
	Dial func(ctx context.Context, network, addr string) (net.Conn, error)
	// Observer may be nil.
	Observer Observer
	Log      *slog.Logger
}

// Proxy serves one UDP socket.
type Proxy struct {
	conn *net.UDPConn
	cfg  Config

	mu       sync.Mutex
	sessions map[netip.AddrPort]*session
	closed   bool
	wg       sync.WaitGroup
}

type session struct {
	client  netip.AddrPort
	target  Target
	backend net.Conn
	// last is the unix nanoseconds of the last datagram either way.
	last atomic.Int64
	done atomic.Bool
}

// New makes a Proxy for conn; Serve runs it.
func New(conn *net.UDPConn, cfg Config) *Proxy {
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultTimeout
	}
	if cfg.MaxSessions <= 0 {
		cfg.MaxSessions = DefaultMaxSessions
	}
	if cfg.Dial == nil {
		d := &net.Dialer{}
		cfg.Dial = d.DialContext
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if cfg.Observer == nil {
		cfg.Observer = nopObserver{}
	}
	return &Proxy{conn: conn, cfg: cfg, sessions: map[netip.AddrPort]*session{}}
}

// Serve reads client datagrams until the socket is closed (Close), then ends every
// session and returns nil; another read error is returned.
func (p *Proxy) Serve() error {
	defer p.closeSessions()
	buf := make([]byte, maxDatagram)
	for {
		n, client, err := p.conn.ReadFromUDPAddrPort(buf)
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return nil
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				continue
			}
			return err
		}
		p.forward(client, buf[:n])
	}
}

// Close closes the socket; Serve then ends every session and returns.
func (p *Proxy) Close() error {
	p.mu.Lock()
	p.closed = true
	p.mu.Unlock()
	return p.conn.Close()
}

// Sessions is the number of open sessions.
func (p *Proxy) Sessions() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.sessions)
}

// forward sends one client datagram to its session's backend, opening the session first.
func (p *Proxy) forward(client netip.AddrPort, data []byte) {
	client = netip.AddrPortFrom(client.Addr().Unmap(), client.Port())
	p.mu.Lock()
	s := p.sessions[client]
	p.mu.Unlock()
	var current *Target
	if s != nil {
		current = &s.target
	}
	target, ok := p.cfg.Route(client, current)
	if !ok {
		if s != nil {
			p.end(s)
		}
		p.cfg.Observer.Dropped(DropNoRoute)
		return
	}
	if s != nil && target != s.target {
		// The route or its endpoints changed under the session: start over.
		p.end(s)
		s = nil
	}
	if s == nil {
		if s = p.open(client, target); s == nil {
			return
		}
	}
	s.last.Store(time.Now().UnixNano())
	_, err := s.backend.Write(data)
	if err != nil && s.done.Load() {
		// The session went idle and ended while this datagram was on its way: it is the
		// first of a new session.
		if s = p.open(client, target); s == nil {
			return
		}
		_, err = s.backend.Write(data)
	}
	if err != nil {
		// A connected UDP socket reports the ICMP refusal of an earlier datagram here:
		// end the session, so that the client's next datagram chooses again.
		p.cfg.Log.Debug("UDP backend refused a datagram", "route", target.Route, "endpoint", target.Address, "error", err.Error())
		p.cfg.Observer.Dropped(DropBackendUnreachable)
		p.end(s)
		return
	}
	p.cfg.Observer.Datagram(target, true, len(data))
}

// open starts a client's session to target, or drops the datagram (nil) when the table is
// full or the backend cannot be reached.
func (p *Proxy) open(client netip.AddrPort, target Target) *session {
	p.mu.Lock()
	full := len(p.sessions) >= p.cfg.MaxSessions
	closed := p.closed
	p.mu.Unlock()
	if closed {
		return nil
	}
	if full {
		p.cfg.Observer.Dropped(DropSessionLimit)
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), p.cfg.Timeout)
	backend, err := p.cfg.Dial(ctx, "udp", target.Address)
	cancel()
	if err != nil {
		p.cfg.Log.Debug("UDP backend cannot be reached", "route", target.Route, "endpoint", target.Address, "error", err.Error())
		p.cfg.Observer.Dropped(DropBackendUnreachable)
		return nil
	}
	s := &session{client: client, target: target, backend: backend}
	s.last.Store(time.Now().UnixNano())
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		_ = backend.Close()
		return nil
	}
	p.sessions[client] = s
	open := len(p.sessions)
	p.wg.Add(1)
	p.mu.Unlock()
	p.cfg.Observer.SessionOpened(target)
	p.cfg.Observer.Sessions(open)
	go p.replies(s)
	return s
}

// replies sends the backend's datagrams to the client until the session is idle for
// Timeout or ends.
func (p *Proxy) replies(s *session) {
	defer p.wg.Done()
	defer p.end(s)
	buf := make([]byte, maxDatagram)
	for {
		_ = s.backend.SetReadDeadline(time.Unix(0, s.last.Load()).Add(p.cfg.Timeout))
		n, err := s.backend.Read(buf)
		if n > 0 && err == nil {
			s.last.Store(time.Now().UnixNano())
			if _, werr := p.conn.WriteToUDPAddrPort(buf[:n], s.client); werr != nil {
				return
			}
			p.cfg.Observer.Datagram(s.target, false, n)
			continue
		}
		if err == nil {
			continue
		}
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() && time.Since(time.Unix(0, s.last.Load())) < p.cfg.Timeout {
			continue // a client datagram moved the deadline while this read waited
		}
		return // idle, closed, or the backend refused (ICMP): the next datagram starts over
	}
}

// end removes a session and closes its backend socket; it runs once per session.
func (p *Proxy) end(s *session) {
	if s.done.Swap(true) {
		return
	}
	p.mu.Lock()
	if p.sessions[s.client] == s {
		delete(p.sessions, s.client)
	}
	open := len(p.sessions)
	p.mu.Unlock()
	_ = s.backend.Close()
	p.cfg.Observer.Sessions(open)
}

func (p *Proxy) closeSessions() {
	p.mu.Lock()
	p.closed = true
	all := make([]*session, 0, len(p.sessions))
	for _, s := range p.sessions {
		all = append(all, s)
	}
	p.mu.Unlock()
	for _, s := range all {
		p.end(s)
	}
	p.wg.Wait()
}

type nopObserver struct{}

func (nopObserver) SessionOpened(Target)       {}
func (nopObserver) Sessions(int)               {}
func (nopObserver) Datagram(Target, bool, int) {}
func (nopObserver) Dropped(string)             {}
