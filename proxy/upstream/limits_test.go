package upstream

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/bridgehead/bridgehead/internal/snapshot"
)

// Every transport gets the cap and the response-header timeout of the Limits, unless the
// ServersTransport sets its own timeout; a negative limit turns it off. The cap is shared
// by http.Transport and the HTTP/1.1 fast path, never exceeded by the two together.
func TestLimitsReachTheTransport(t *testing.T) {
	b := backend("https", "127.0.0.1:1", "backend.example")
	for _, tt := range []struct {
		name        string
		limits      Limits
		transport   *snapshot.Transport
		conns       int
		timeout     time.Duration
		handshaking bool
	}{
		{"defaults", Limits{}, nil, DefaultMaxConnsPerHost, DefaultResponseHeaderTimeout, true},
		{"flags", Limits{MaxConnsPerHost: 3, ResponseHeaderTimeout: time.Second, HandshakesPerSecond: 5}, nil, 3, time.Second, true},
		{"the ServersTransport's timeout wins", Limits{}, &snapshot.Transport{ID: "t", ResponseHeaderTimeout: 5 * time.Second}, DefaultMaxConnsPerHost, 5 * time.Second, true},
		{"off", Limits{MaxConnsPerHost: -1, ResponseHeaderTimeout: -1, HandshakesPerSecond: -1}, nil, 0, 0, false},
	} {
		u := NewPool(Options{Limits: tt.limits}).build(tt.transport, b).(*upstream)
		tr := u.tr
		conns := tr.MaxConnsPerHost + u.h1.maxOpen
		if conns != tt.conns || (tt.conns > 0 && (tr.MaxConnsPerHost == 0 || u.h1.maxOpen == 0)) ||
			tr.ResponseHeaderTimeout != tt.timeout || u.h1.headerTimeout != tt.timeout || (u.handshakes != nil) != tt.handshaking {
			t.Errorf("%s: MaxConnsPerHost %d + %d, ResponseHeaderTimeout %v / %v, handshake limit %v", tt.name,
				tr.MaxConnsPerHost, u.h1.maxOpen, tr.ResponseHeaderTimeout, u.h1.headerTimeout, u.handshakes != nil)
		}
		if tt.handshaking {
			want := tt.limits.HandshakesPerSecond
			if want == 0 {
				want = DefaultHandshakesPerSecond
			}
			if got := u.handshakes.rate + u.h1.handshakes.rate; got != want || u.handshakes.rate == 0 || u.h1.handshakes.rate == 0 {
				t.Errorf("%s: handshakes per second %v + %v, want %v split between the two pools", tt.name, u.handshakes.rate, u.h1.handshakes.rate, want)
			}
		}
	}
}

// Requests beyond the cap wait for a connection instead of opening one each.
func TestMaxConnsPerHostCapsConnections(t *testing.T) {
	release := make(chan struct{})
	var inFlight atomic.Int32
	s := &seen{}
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		inFlight.Add(1)
		<-release
		_, _ = io.WriteString(w, "ok")
	}))
	srv.Config.ConnState = s.connState
	srv.Start()
	t.Cleanup(srv.Close)
	b := backend("http", addrOf(srv), "")
	p := NewPool(Options{Limits: Limits{MaxConnsPerHost: 2}})

	var wg sync.WaitGroup
	errs := make(chan error, 5)
	for range 5 {
		wg.Go(func() {
			resp, err := roundTrip(t.Context(), p.For(nil, b), b)
			if err != nil {
				errs <- err
				return
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			_ = resp.Body.Close()
		})
	}
	for deadline := time.Now().Add(10 * time.Second); inFlight.Load() < 2; time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the first two requests never reached the backend")
		}
	}
	close(release)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if n := s.newConns.Load(); n != 2 {
		t.Fatalf("the backend saw %d connections for 5 requests, want the cap of 2", n)
	}
}

// The handshake bucket grants a burst of one second's worth at once, then makes dials
// wait; a dial whose context ends stops waiting and hands its reservation back.
func TestHandshakeLimiter(t *testing.T) {
	l := newHandshakeLimiter(10, 4)
	now, cancel := context.WithCancel(t.Context())
	cancel() // a wait that would have to sleep fails at once: tells "granted now" apart
	for i := range 10 {
		if err := l.wait(now, "a:1"); err != nil {
			t.Fatalf("handshake %d of the burst: %v", i+1, err)
		}
	}
	if err := l.wait(now, "a:1"); !errors.Is(err, context.Canceled) {
		t.Fatalf("the 11th handshake within the second: %v, want to wait", err)
	}
	if tokens := l.m["a:1"].tokens; tokens < -0.01 {
		t.Errorf("a cancelled wait kept its reservation: %.2f tokens", tokens)
	}
	if err := l.wait(now, "b:1"); err != nil {
		t.Errorf("another endpoint has its own bucket: %v", err)
	}

	ctx, stop := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- l.wait(ctx, "a:1") }()
	stop()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("a waiting handshake whose context ends: %v", err)
	}
	if newHandshakeLimiter(0, 10) != nil || newHandshakeLimiter(-1, 0).wait(now, "a:1") != nil {
		t.Error("a rate of 0 or less is no limit")
	}
}

// A cold start gets as many connections at once as the pool may hold, when that is more
// than one second's worth; the rate applies after that.
func TestHandshakeLimiterBurstCoversTheConnectionCap(t *testing.T) {
	l := newHandshakeLimiter(2, 50)
	now, cancel := context.WithCancel(t.Context())
	cancel() // a wait that would have to sleep fails at once
	for i := range 50 {
		if err := l.wait(now, "a:1"); err != nil {
			t.Fatalf("handshake %d of a cold start of 50 (cap 50, 2 a second): %v", i+1, err)
		}
	}
	if err := l.wait(now, "a:1"); !errors.Is(err, context.Canceled) {
		t.Fatalf("the 51st handshake at once: %v, want to wait", err)
	}
}

// A backend that never answers costs the client the response-header timeout of the
// Limits when its ServersTransport sets none, and the message names the setting.
func TestDefaultResponseHeaderTimeout(t *testing.T) {
	addr := rawListener(t, func(c net.Conn) { _, _ = io.Copy(io.Discard, c) })
	p := NewPool(Options{Limits: Limits{ResponseHeaderTimeout: 200 * time.Millisecond}})
	d := mustFail(t, p, nil, backend("http", addr, ""), Timeout, http.StatusGatewayTimeout)
	if !strings.Contains(d.Message, "responseHeaderTimeout") || !strings.Contains(d.Message, "200ms") {
		t.Errorf("message %q should name responseHeaderTimeout and its value", d.Message)
	}
}
