package upstream

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httptrace"
	"net/textproto"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/bridgehead/bridgehead/internal/pki"
	"github.com/bridgehead/bridgehead/internal/snapshot"
)

// fastConns is how many connections the HTTP/1.1 fast path holds to addr.
func fastConns(rt http.RoundTripper, addr string) int {
	p := rt.(*upstream).h1
	p.mu.Lock()
	defer p.mu.Unlock()
	if h := p.hosts[addr]; h != nil {
		return h.open
	}
	return 0
}

// Keep-alive GETs to an HTTP/1.1 backend, plain or TLS, ride one connection of the fast
// path; the first TLS request goes through http.Transport, which learns the protocol.
func TestH1FastPathKeepsOneConnection(t *testing.T) {
	ca := pki.MustCA("backend-ca")
	for _, tc := range []struct {
		name      string
		scheme    string
		cfg       *tls.Config
		transport *snapshot.Transport
		maxConns  int32
	}{
		{"plain", "http", nil, nil, 1},
		{"tls, h2 offered, backend speaks HTTP/1.1", "https", serving(ca.MustIssue("backend", pki.Options{DNSNames: []string{"backend.web.svc"}})), trust(ca, "ca"), 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv, s := startBackend(t, tc.cfg, false)
			b := backend(tc.scheme, addrOf(srv), "backend.web.svc")
			if tc.transport == nil {
				b.Transport = ""
			}
			p := NewPool(Options{})
			for range 20 {
				if proto := mustServe(t, p, tc.transport, b); proto != 1 {
					t.Fatalf("HTTP/%d, want HTTP/1.1", proto)
				}
			}
			if n := s.newConns.Load(); n > tc.maxConns {
				t.Errorf("the backend saw %d connections for 20 keep-alive requests, want at most %d", n, tc.maxConns)
			}
			if fastConns(p.For(tc.transport, b), addrOf(srv)) != 1 {
				t.Errorf("the fast path holds %d connections, want 1", fastConns(p.For(tc.transport, b), addrOf(srv)))
			}
		})
	}
}

// A backend that negotiates HTTP/2 keeps getting HTTP/2 from http.Transport.
func TestH1FastPathLeavesHTTP2ToTheTransport(t *testing.T) {
	ca := pki.MustCA("backend-ca")
	srv, s := startBackend(t, serving(ca.MustIssue("backend", pki.Options{DNSNames: []string{"backend.web.svc"}})), true)
	b := backend("https", addrOf(srv), "backend.web.svc")
	p := NewPool(Options{})
	for range 10 {
		if proto := mustServe(t, p, trust(ca, "ca"), b); proto != 2 {
			t.Fatalf("HTTP/%d, want HTTP/2", proto)
		}
	}
	if n := s.newConns.Load(); n != 1 {
		t.Errorf("the backend saw %d connections, want 1 HTTP/2 connection", n)
	}
	if n := fastConns(p.For(trust(ca, "ca"), b), addrOf(srv)); n != 0 {
		t.Errorf("the fast path holds %d connections to an HTTP/2 backend", n)
	}
}

// rawHTTP serves each connection with answer, called per request head read; it returns
// false to close the connection.
func rawHTTP(t *testing.T, conns *atomic.Int32, answer func(w *bufio.Writer, head []string) bool) string {
	return rawListener(t, func(c net.Conn) {
		defer func() { _ = c.Close() }()
		conns.Add(1)
		br, bw := bufio.NewReader(c), bufio.NewWriter(c)
		for {
			var head []string
			for {
				line, err := br.ReadString('\n')
				if err != nil {
					return
				}
				if line = strings.TrimRight(line, "\r\n"); line == "" {
					break
				}
				head = append(head, line)
			}
			more := answer(bw, head)
			if bw.Flush() != nil || !more {
				return
			}
		}
	})
}

func plainBackend(addr string) *snapshot.Backend {
	b := backend("http", addr, "")
	b.Transport = ""
	return b
}

// A backend that closes each connection after one answer (without saying so) costs no
// failed request: a GET that meets the closed idle connection is sent again on a new one.
func TestH1StaleIdleConnectionIsRetried(t *testing.T) {
	var conns atomic.Int32
	addr := rawHTTP(t, &conns, func(w *bufio.Writer, _ []string) bool {
		_, _ = w.WriteString("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
		return false
	})
	p := NewPool(Options{})
	b := plainBackend(addr)
	for i := range 5 {
		mustServe(t, p, nil, b)
		// The answer was whole, so its connection went back to the pool: the next request
		// takes it and finds it closed.
		rt := p.For(nil, b).(*upstream)
		rt.h1.mu.Lock()
		idle := len(rt.h1.hosts[addr].idle)
		rt.h1.mu.Unlock()
		if i == 0 && idle != 1 {
			t.Fatalf("%d idle connections after the first answer, want 1", idle)
		}
	}
	if n := conns.Load(); n != 5 {
		t.Errorf("the backend saw %d connections for 5 requests, want 5", n)
	}
}

// A response longer than its Content-Length leaves bytes behind: the connection is not
// reused, so they can never be read as the next request's answer.
func TestH1ConnectionWithLeftoverBytesIsNotReused(t *testing.T) {
	var conns atomic.Int32
	addr := rawHTTP(t, &conns, func(w *bufio.Writer, _ []string) bool {
		_, _ = w.WriteString("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok" +
			"HTTP/1.1 200 OK\r\nContent-Length: 8\r\n\r\nsmuggled")
		return true
	})
	p := NewPool(Options{})
	b := plainBackend(addr)
	for range 3 {
		mustServe(t, p, nil, b) // asserts the body is exactly "ok"
	}
	if n := conns.Load(); n != 3 {
		t.Errorf("the backend saw %d connections for 3 requests, want 3 (none reused)", n)
	}
}

// A backend that never answers gets the response-header timeout, named as such.
func TestH1ResponseHeaderTimeout(t *testing.T) {
	var conns atomic.Int32
	hang := make(chan struct{})
	t.Cleanup(func() { close(hang) })
	addr := rawHTTP(t, &conns, func(*bufio.Writer, []string) bool { <-hang; return false })
	p := NewPool(Options{Limits: Limits{ResponseHeaderTimeout: 200 * time.Millisecond}})
	b := plainBackend(addr)
	// The first request teaches nothing here: plain HTTP takes the fast path at once.
	d := mustFail(t, p, nil, b, Timeout, http.StatusGatewayTimeout)
	if !strings.Contains(d.Message, "responseHeaderTimeout") {
		t.Errorf("message does not name responseHeaderTimeout: %s", d.Message)
	}
	if n := fastConns(p.For(nil, b), addr); n != 0 {
		t.Errorf("the timed-out connection is still held (%d)", n)
	}
}

// The header timeout's deadline stays on a connection after an answer whose body was
// buffered (armHeaderTimeout). It must not fail the next request when it passed while
// the connection sat idle, must not cut off a body slower than the timeout, and must
// still cut off a later answer that does not come.
func TestH1HeaderTimeoutAcrossAnswers(t *testing.T) {
	const timeout = 200 * time.Millisecond
	var conns, requests atomic.Int32
	hang := make(chan struct{})
	t.Cleanup(func() { close(hang) })
	addr := rawHTTP(t, &conns, func(w *bufio.Writer, _ []string) bool {
		switch requests.Add(1) {
		case 3: // half the body, the rest after longer than the timeout
			_, _ = w.WriteString("HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nok")
			_ = w.Flush()
			time.Sleep(timeout + timeout/2)
			_, _ = w.WriteString("ok")
		case 4:
			<-hang
			return false
		default:
			_, _ = w.WriteString("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
		}
		return true
	})
	p := NewPool(Options{Limits: Limits{ResponseHeaderTimeout: timeout}})
	b := plainBackend(addr)
	get := func(want string) {
		t.Helper()
		resp, err := roundTrip(t.Context(), p.For(nil, b), b)
		if err != nil {
			t.Fatalf("request %d: %v", requests.Load(), err)
		}
		body, err := io.ReadAll(resp.Body)
		_ = resp.Body.Close()
		if err != nil || string(body) != want {
			t.Fatalf("request %d: body %q, %v; want %q", requests.Load(), body, err, want)
		}
	}
	get("ok")
	time.Sleep(timeout + timeout/2) // idle past the deadline the first answer left
	get("ok")
	get("okok")
	start := time.Now()
	mustFail(t, p, nil, b, Timeout, http.StatusGatewayTimeout)
	if took := time.Since(start); took < timeout || took > 10*timeout {
		t.Errorf("the silent answer was cut off after %v, want about %v", took, timeout)
	}
	if n := conns.Load(); n != 1 {
		t.Errorf("%d connections for 4 requests, want 1", n)
	}
}

// A client that goes away ends the backend request at once and frees its connection.
func TestH1ClientCancelAbortsTheExchange(t *testing.T) {
	var conns atomic.Int32
	got := make(chan struct{}, 1)
	hang := make(chan struct{})
	t.Cleanup(func() { close(hang) })
	addr := rawHTTP(t, &conns, func(*bufio.Writer, []string) bool { got <- struct{}{}; <-hang; return false })
	p := NewPool(Options{})
	b := plainBackend(addr)
	ctx, cancel := context.WithCancel(t.Context())
	go func() { <-got; cancel() }()
	start := time.Now()
	mustFailCtx(t, ctx, p, nil, b, ClientCanceled, 499)
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("the cancelled request took %v to end", d)
	}
	if n := fastConns(p.For(nil, b), addr); n != 0 {
		t.Errorf("the cancelled connection is still held (%d)", n)
	}
}

// Requests with a body, or a method that must not be sent twice, stay on http.Transport.
func TestH1BodiesStayOnTheTransport(t *testing.T) {
	srv, _ := startBackend(t, nil, false)
	b := plainBackend(addrOf(srv))
	p := NewPool(Options{})
	rt := p.For(nil, b)
	for _, method := range []string{http.MethodPost, http.MethodDelete} {
		req, _ := http.NewRequestWithContext(t.Context(), method, "http://"+addrOf(srv)+"/", strings.NewReader("body"))
		resp, err := rt.RoundTrip(req)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		_ = resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("%s: %d", method, resp.StatusCode)
		}
	}
	if n := fastConns(rt, addrOf(srv)); n != 0 {
		t.Errorf("the fast path carried a request with a body (%d connections)", n)
	}
}

// 103 Early Hints reach the trace (ReverseProxy forwards them to the client), and the
// final answer follows on the same exchange.
func TestH1InformationalResponses(t *testing.T) {
	var conns atomic.Int32
	addr := rawHTTP(t, &conns, func(w *bufio.Writer, _ []string) bool {
		_, _ = w.WriteString("HTTP/1.1 103 Early Hints\r\nLink: </style.css>; rel=preload\r\n\r\n" +
			"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
		return true
	})
	b := plainBackend(addr)
	var hints []string
	ctx := httptrace.WithClientTrace(t.Context(), &httptrace.ClientTrace{
		Got1xxResponse: func(code int, h textproto.MIMEHeader) error {
			hints = append(hints, h.Get("Link"))
			return nil
		},
	})
	resp, err := roundTrip(ctx, NewPool(Options{}).For(nil, b), b)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusOK || string(body) != "ok" || len(hints) != 1 || hints[0] != "</style.css>; rel=preload" {
		t.Errorf("got %d %q, hints %q", resp.StatusCode, body, hints)
	}
}

// A backend that switches protocols unasked, or never stops sending 1xx, fails the
// request with a message that says so, and its connection is not kept.
func TestH1ProtocolViolationsFail(t *testing.T) {
	for _, tc := range []struct{ answer, want string }{
		{"HTTP/1.1 101 Switching Protocols\r\nUpgrade: h2c\r\n\r\n", "101 Switching Protocols"},
		{strings.Repeat("HTTP/1.1 100 Continue\r\n\r\n", 20) + "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", "more than 10 informational"},
	} {
		var conns atomic.Int32
		addr := rawHTTP(t, &conns, func(w *bufio.Writer, _ []string) bool {
			_, _ = w.WriteString(tc.answer)
			return true
		})
		b := plainBackend(addr)
		p := NewPool(Options{})
		d := mustFail(t, p, nil, b, Unknown, http.StatusBadGateway)
		if !strings.Contains(d.Message, tc.want) {
			t.Errorf("message %q does not say %q", d.Message, tc.want)
		}
		if n := fastConns(p.For(nil, b), addr); n != 0 {
			t.Errorf("the connection is still held (%d)", n)
		}
	}
}

// Idle connections close after the ServersTransport's idleConnTimeout, so the backend
// is not left holding them.
func TestH1IdleConnectionsClose(t *testing.T) {
	srv, s := startBackend(t, nil, false)
	b := plainBackend(addrOf(srv))
	b.Transport = "ServersTransport/web/idle"
	tr := &snapshot.Transport{ID: b.Transport, Hash: "1", IdleConnTimeout: 100 * time.Millisecond}
	p := NewPool(Options{})
	mustServe(t, p, tr, b)
	deadline := time.Now().Add(5 * time.Second)
	for s.closed.Load() == 0 {
		if time.Now().After(deadline) {
			t.Fatal("the idle connection was not closed within 5 s of a 100 ms idle timeout")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if n := fastConns(p.For(tr, b), addrOf(srv)); n != 0 {
		t.Errorf("the pool still counts %d connections", n)
	}
	mustServe(t, p, tr, b) // and a new one is dialled
}

// A body closed before its end closes the connection: the rest of the answer is never
// read as the next one's.
func TestH1BodyClosedEarlyClosesTheConnection(t *testing.T) {
	var conns atomic.Int32
	addr := rawHTTP(t, &conns, func(w *bufio.Writer, head []string) bool {
		if strings.Contains(head[0], "/big") {
			_, _ = w.WriteString("HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n" + strings.Repeat("x", 100000))
		} else {
			_, _ = w.WriteString("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
		}
		return true
	})
	b := plainBackend(addr)
	p := NewPool(Options{})
	rt := p.For(nil, b)
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, "http://"+addr+"/big", nil)
	resp, err := rt.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = resp.Body.Read(make([]byte, 10))
	_ = resp.Body.Close()
	mustServe(t, p, nil, b)
	if n := conns.Load(); n != 2 {
		t.Errorf("the backend saw %d connections, want 2 (the half-read one closed)", n)
	}
}

// Header fields http.Transport refuses are refused on the fast path too.
func TestH1InvalidHeaderIsRefused(t *testing.T) {
	srv, _ := startBackend(t, nil, false)
	b := plainBackend(addrOf(srv))
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, "http://"+addrOf(srv)+"/", nil)
	req.Header["X-Bad"] = []string{"a\r\nInjected: 1"}
	resp, err := NewPool(Options{}).For(nil, b).RoundTrip(req)
	if err == nil {
		_ = resp.Body.Close()
	}
	if err == nil || !strings.Contains(err.Error(), "invalid header field value") {
		t.Fatalf("want the header refused, got %v", err)
	}
	var e *Error
	if !errors.As(err, &e) {
		t.Errorf("the error is not classified: %T", err)
	}
}

// BenchmarkRoundTripH1 is one keep-alive GET over TLS to an HTTP/1.1 backend, through the
// fast path and through http.Transport (the backend's cost, in the same process, is in
// both).
func BenchmarkRoundTripH1(b *testing.B) {
	ca := pki.MustCA("backend-ca")
	srv, _ := startBackend(&testing.T{}, serving(ca.MustIssue("backend", pki.Options{DNSNames: []string{"backend.web.svc"}})), false)
	defer srv.Close()
	be := backend("https", addrOf(srv), "backend.web.svc")
	for _, path := range []string{"fast path", "http.Transport"} {
		b.Run(path, func(b *testing.B) {
			rt := NewPool(Options{}).For(trust(ca, "ca"), be)
			if path == "http.Transport" {
				rt.(*upstream).h1 = nil
			}
			b.ReportAllocs()
			for b.Loop() {
				resp, err := roundTrip(context.Background(), rt, be)
				if err != nil {
					b.Fatal(err)
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				_ = resp.Body.Close()
			}
		})
	}
}

// A burst beyond maxIdleConnsPerHost keeps its connections for the next burst; once they
// stay unused for the grace (shortened here), the pool shrinks back to the cap.
func TestH1IdleCapAppliesAfterAGrace(t *testing.T) {
	var arrived atomic.Int32
	release := make(chan struct{})
	s := &seen{}
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if arrived.Add(1) <= 5 {
			<-release
		}
		_, _ = io.WriteString(w, "ok")
	}))
	srv.Config.ConnState = s.connState
	srv.Start()
	t.Cleanup(srv.Close)
	b := plainBackend(addrOf(srv))
	b.Transport = "ServersTransport/web/idle"
	tr := &snapshot.Transport{ID: b.Transport, Hash: "1", MaxIdleConnsPerHost: 2}
	p := NewPool(Options{})
	p.For(tr, b).(*upstream).h1.idleGrace = 300 * time.Millisecond
	burst := func() {
		var wg sync.WaitGroup
		for range 5 {
			wg.Go(func() { mustServe(t, p, tr, b) })
		}
		wg.Wait()
	}
	go func() {
		for arrived.Load() < 5 {
			time.Sleep(time.Millisecond)
		}
		close(release)
	}()
	burst() // five requests in flight at once: five connections
	if n := s.newConns.Load(); n != 5 {
		t.Fatalf("the first burst made %d connections, want 5", n)
	}
	burst()
	if n := s.newConns.Load(); n != 5 {
		t.Errorf("the second burst, right after the first, dialled again: %d connections in all, want 5", n)
	}
	deadline := time.Now().Add(10 * time.Second)
	for s.closed.Load() < 3 {
		if time.Now().After(deadline) {
			t.Fatalf("%d of the 3 connections over the idle cap of 2 were closed", s.closed.Load())
		}
		time.Sleep(20 * time.Millisecond)
	}
	if n := fastConns(p.For(tr, b), addrOf(srv)); n != 2 {
		t.Errorf("the pool holds %d connections after the grace, want the cap of 2", n)
	}
}

// waitingFor is how many requests wait for a fast-path connection to addr.
func waitingFor(rt http.RoundTripper, addr string) int {
	p := rt.(*upstream).h1
	p.mu.Lock()
	defer p.mu.Unlock()
	if h := p.hosts[addr]; h != nil {
		return len(h.waiting)
	}
	return 0
}

// holdingBackend is a TLS backend that answers "ok", holding each request that arrives
// while hold is set until release is closed.
type holdingBackend struct {
	b       *snapshot.Backend
	tr      *snapshot.Transport
	seen    *seen
	hold    atomic.Bool
	arrived atomic.Int32 // requests that arrived while hold was set
	release chan struct{}
	freed   sync.Once
}

// free answers the requests held, and from then on every request at once.
func (hb *holdingBackend) free() { hb.freed.Do(func() { close(hb.release) }) }

// holdOne sends a request through rt that the backend holds, and returns once it has
// arrived; the requests after it are answered at once. finish frees it and checks its
// answer.
func (hb *holdingBackend) holdOne(t *testing.T, rt http.RoundTripper) (finish func()) {
	t.Helper()
	hb.hold.Store(true)
	held := make(chan error, 1)
	go func() {
		resp, err := roundTrip(t.Context(), rt, hb.b)
		if err == nil {
			_ = resp.Body.Close()
		}
		held <- err
	}()
	waitFor(t, "the held request at the backend", func() bool { return hb.arrived.Load() == 1 })
	hb.hold.Store(false)
	return func() {
		hb.free()
		if err := <-held; err != nil {
			t.Errorf("the held request: %v", err)
		}
	}
}

func startHoldingBackend(t *testing.T) *holdingBackend {
	t.Helper()
	ca := pki.MustCA("backend-ca")
	hb := &holdingBackend{seen: &seen{}, release: make(chan struct{})}
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if hb.hold.Load() {
			hb.arrived.Add(1)
			<-hb.release
		}
		_, _ = io.WriteString(w, "ok")
	}))
	srv.Config.ConnState = hb.seen.connState
	srv.Config.ErrorLog = discardLog()
	srv.TLS = serving(ca.MustIssue("backend", pki.Options{DNSNames: []string{"backend.web.svc"}}))
	srv.StartTLS()
	t.Cleanup(func() {
		hb.free() // Close waits for the requests in flight
		srv.Close()
	})
	hb.b, hb.tr = backend("https", addrOf(srv), "backend.web.svc"), trust(ca, "ca")
	return hb
}

// A burst that finds the fast path's connections busy and no handshake token at hand
// waits for those connections to come back, rather than going to the transport, which
// opened connections of its own that then sat idle; a request whose client goes away
// stops waiting at once, and the others are served.
func TestH1BurstWaitsForConnectionsToComeBack(t *testing.T) {
	hb := startHoldingBackend(t)
	p := NewPool(Options{})
	mustServe(t, p, hb.tr, hb.b) // learns HTTP/1.1 through the transport: one connection
	rt := p.For(hb.tr, hb.b)
	// Two fast-path handshakes now, the next one in 100 s; requests wait as long as it
	// takes.
	rt.(*upstream).h1.handshakes = newHandshakeLimiter(0.01, 2)
	rt.(*upstream).h1.handWait = time.Minute
	hb.hold.Store(true)

	const burst = 10
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	errs := make(chan error, burst)
	var wg sync.WaitGroup
	for i := range burst {
		reqCtx := t.Context()
		if i == burst-1 {
			reqCtx = ctx
		}
		wg.Go(func() {
			resp, err := roundTrip(reqCtx, rt, hb.b)
			if err == nil {
				body, _ := io.ReadAll(resp.Body)
				_ = resp.Body.Close()
				if string(body) != "ok" {
					err = errors.New("answer " + string(body))
				}
			}
			errs <- err
		})
		if i == 1 {
			waitFor(t, "two requests at the backend", func() bool { return hb.arrived.Load() == 2 })
		}
	}
	waitFor(t, "8 requests waiting for a connection", func() bool { return waitingFor(rt, hb.b.Endpoints[0].Address) == burst-2 })
	cancel()
	if err := <-errs; !errors.Is(err, context.Canceled) {
		t.Fatalf("the request whose context ended: %v, want context.Canceled", err)
	}
	if n := hb.arrived.Load(); n != 2 {
		t.Errorf("%d requests reached the backend while its 2 connections were busy, want 2", n)
	}
	hb.free()
	served := make(chan struct{})
	go func() { wg.Wait(); close(served) }()
	select {
	case <-served:
	case <-time.After(10 * time.Second):
		t.Fatal("the burst was not served within 10 s of the backend's answers")
	}
	close(errs)
	for err := range errs {
		if err != nil {
			t.Errorf("a request of the burst failed: %v", err)
		}
	}
	if n := hb.seen.newConns.Load(); n != 3 {
		t.Errorf("the backend saw %d connections, want 3 (the transport's first, the fast path's 2)", n)
	}
	if n := waitingFor(rt, hb.b.Endpoints[0].Address); n != 0 {
		t.Errorf("%d requests still wait", n)
	}
	// The waiters reserved handshake tokens they did not use: each went back, so the
	// next handshake is not pushed back by them.
	l := rt.(*upstream).h1.handshakes
	l.mu.Lock()
	tokens := l.m[hb.b.Endpoints[0].Address].tokens
	l.mu.Unlock()
	if tokens < -0.5 {
		t.Errorf("the limiter holds %.1f tokens after the burst, want 0: waiters kept their reservations", tokens)
	}
}

// A request that waits for a connection dials its own once its handshake token is due,
// if none came back by then.
func TestH1WaitingRequestDialsWhenItsTokenIsDue(t *testing.T) {
	hb := startHoldingBackend(t)
	p := NewPool(Options{})
	mustServe(t, p, hb.tr, hb.b)
	rt := p.For(hb.tr, hb.b)
	rt.(*upstream).h1.handshakes = &handshakeLimiter{rate: 20, burst: 1} // one now, the next in 50 ms
	rt.(*upstream).h1.handWait = time.Minute
	finish := hb.holdOne(t, rt)
	// The only connection stays busy: the second request gets a connection of its own.
	mustServe(t, p, hb.tr, hb.b)
	if n := hb.seen.newConns.Load(); n != 3 {
		t.Errorf("the backend saw %d connections, want 3 (the transport's, the held one, the waiting request's)", n)
	}
	finish()
}

// A request that waited for its token while the endpoint had no connection at all keeps
// the connection it then dials, for the next request.
func TestH1ConnectionDialledAfterAWaitIsKept(t *testing.T) {
	hb := startHoldingBackend(t)
	p := NewPool(Options{})
	mustServe(t, p, hb.tr, hb.b)
	rt := p.For(hb.tr, hb.b)
	rt.(*upstream).CloseIdleConnections() // the transport's connection goes: none left
	limiter := &handshakeLimiter{rate: 20, burst: 1}
	limiter.reserve(hb.b.Endpoints[0].Address) // the next token in 50 ms
	rt.(*upstream).h1.handshakes = limiter
	rt.(*upstream).h1.handWait = time.Minute
	mustServe(t, p, hb.tr, hb.b)
	mustServe(t, p, hb.tr, hb.b)
	if n := fastConns(rt, hb.b.Endpoints[0].Address); n != 1 {
		t.Errorf("the fast path holds %d connections, want 1", n)
	}
	if n := hb.seen.newConns.Load(); n != 2 {
		t.Errorf("the backend saw %d connections, want 2 (the transport's, closed, then the fast path's)", n)
	}
}

// A request whose handshake token is far off waits for a connection to come back only
// so long: then the transport takes it (a slow backend keeps its connections busy).
func TestH1WaitForAConnectionIsBounded(t *testing.T) {
	hb := startHoldingBackend(t)
	p := NewPool(Options{})
	mustServe(t, p, hb.tr, hb.b) // the transport's connection, idle now
	rt := p.For(hb.tr, hb.b)
	rt.(*upstream).h1.handshakes = &handshakeLimiter{rate: 0.01, burst: 1} // one now, the next in 100 s
	rt.(*upstream).h1.handWait = 20 * time.Millisecond
	finish := hb.holdOne(t, rt)
	mustServe(t, p, hb.tr, hb.b) // on the transport's connection
	if n := fastConns(rt, hb.b.Endpoints[0].Address); n != 1 {
		t.Errorf("the fast path holds %d connections, want the held one", n)
	}
	if n := hb.seen.newConns.Load(); n != 2 {
		t.Errorf("the backend saw %d connections, want 2 (the transport's, reused, and the held one)", n)
	}
	finish()
}

// A connection handed to a request just as its client went away is not lost: it goes to
// the pool for the next request.
func TestH1ConnectionHandedToARequestThatGaveUpIsKept(t *testing.T) {
	const addr = "backend:443"
	p := &h1Pool{maxIdle: 2, idleTimeout: time.Minute, hosts: map[string]*h1Host{}}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	// await chooses at random between the connection and the ended context, both ready.
	for range 20 {
		handed := make(chan *h1Conn, 1)
		p.hosts[addr] = &h1Host{open: 1, waiting: []chan *h1Conn{handed}}
		client, server := net.Pipe()
		t.Cleanup(func() { _, _ = client.Close(), server.Close() })
		c := &h1Conn{pool: p, addr: addr, conn: client}
		p.put(c) // hands c to the waiting request
		if got, err := p.await(ctx, addr, handed, time.Minute); got != nil || !errors.Is(err, context.Canceled) {
			t.Fatalf("await after the context ended: %v, %v; want no connection and context.Canceled", got, err)
		}
		if h := p.hosts[addr]; len(h.idle) != 1 || h.idle[0] != c {
			t.Fatalf("the connection handed over was not kept for the next request (idle: %d)", len(h.idle))
		}
	}
}
