package udpsession

import (
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// echo is a UDP backend on loopback that answers each datagram with it.
func echo(t *testing.T) string {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = pc.Close() })
	go func() {
		buf := make([]byte, maxDatagram)
		for {
			n, from, err := pc.ReadFrom(buf)
			if err != nil {
				return
			}
			_, _ = pc.WriteTo(buf[:n], from)
		}
	}()
	return pc.LocalAddr().String()
}

type counts struct {
	opened, dropped atomic.Int64
	mu              sync.Mutex
	reasons         map[string]int
}

func (c *counts) SessionOpened(Target)       { c.opened.Add(1) }
func (c *counts) Sessions(int)               {}
func (c *counts) Datagram(Target, bool, int) {}
func (c *counts) Dropped(r string) {
	c.dropped.Add(1)
	c.mu.Lock()
	if c.reasons == nil {
		c.reasons = map[string]int{}
	}
	c.reasons[r]++
	c.mu.Unlock()
}

func (c *counts) reason(r string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.reasons[r]
}

func start(t *testing.T, cfg Config) (*Proxy, string) {
	t.Helper()
	conn, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	p := New(conn, cfg)
	done := make(chan error, 1)
	go func() { done <- p.Serve() }()
	t.Cleanup(func() {
		_ = p.Close()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Serve: %v", err)
			}
		case <-time.After(5 * time.Second):
			t.Error("Serve did not return after Close")
		}
		if n := p.Sessions(); n != 0 {
			t.Errorf("%d sessions left after Close", n)
		}
	})
	return p, conn.LocalAddr().String()
}

func roundTrip(t *testing.T, c net.Conn, msg string) string {
	t.Helper()
	if _, err := c.Write([]byte(msg)); err != nil {
		t.Fatal(err)
	}
	_ = c.SetReadDeadline(time.Now().Add(2 * time.Second))
	buf := make([]byte, maxDatagram)
	n, err := c.Read(buf)
	if err != nil {
		return "error: " + err.Error()
	}
	return string(buf[:n])
}

// A datagram of the largest size goes through whole, both ways.
func TestLargestDatagram(t *testing.T) {
	backend := echo(t)
	_, addr := start(t, Config{Route: func(netip.AddrPort, *Target) (Target, bool) { return Target{Route: "r", Address: backend}, true }})
	c, err := net.Dial("udp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = c.Close() }()
	big := make([]byte, 65507) // the IPv4 maximum
	for i := range big {
		big[i] = byte('a' + i%26)
	}
	if got := roundTrip(t, c, string(big)); got != string(big) {
		t.Fatalf("a %d-byte datagram came back as %d bytes", len(big), len(got))
	}
}

// The route's answer decides per datagram: a new target replaces the session, no route
// drops the datagram and ends the session.
func TestRouteChangesReplaceOrEndTheSession(t *testing.T) {
	a, b := echo(t), echo(t)
	var target atomic.Value
	target.Store(a)
	obs := &counts{}
	p, addr := start(t, Config{Observer: obs, Route: func(_ netip.AddrPort, cur *Target) (Target, bool) {
		addr := target.Load().(string)
		if addr == "" {
			return Target{}, false
		}
		return Target{Route: "r", Address: addr}, true
	}})
	c, err := net.Dial("udp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = c.Close() }()
	if got := roundTrip(t, c, "1"); got != "1" {
		t.Fatal(got)
	}
	target.Store(b)
	if got := roundTrip(t, c, "2"); got != "2" || obs.opened.Load() != 2 || p.Sessions() != 1 {
		t.Fatalf("after a new target: %q, %d sessions opened, %d open", got, obs.opened.Load(), p.Sessions())
	}
	target.Store("")
	_, _ = c.Write([]byte("3"))
	deadline := time.Now().Add(2 * time.Second)
	for obs.dropped.Load() == 0 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond) // bounded poll of the drop count
	}
	if n, r := p.Sessions(), obs.reason(DropNoRoute); n != 0 || r != 1 {
		t.Fatalf("without a route: %d sessions, %d NoRoute drops", n, r)
	}
}

// A backend that is not listening: the ICMP refusal ends the session, and the next
// datagram tries again (here: to a backend that answers).
func TestRefusedBackendEndsTheSession(t *testing.T) {
	dead, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	deadAddr := dead.LocalAddr().String()
	_ = dead.Close()
	alive := echo(t)
	var tries atomic.Int64
	obs := &counts{}
	_, addr := start(t, Config{Observer: obs, Route: func(_ netip.AddrPort, cur *Target) (Target, bool) {
		if cur != nil {
			return *cur, true
		}
		if tries.Add(1) == 1 {
			return Target{Route: "r", Address: deadAddr}, true
		}
		return Target{Route: "r", Address: alive}, true
	}})
	c, err := net.Dial("udp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = c.Close() }()
	var got string
	for i := 0; i < 5 && got != "retry"; i++ { // the client retransmits, as resolvers do
		got = roundTrip(t, c, "retry")
	}
	if got != "retry" {
		t.Fatalf("no answer after the dead backend's session ended: %q (%d drops)", got, obs.dropped.Load())
	}
}
