package dataplane

import (
	"crypto/tls"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"runtime/metrics"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"

	"github.com/bridgehead/bridgehead/proxy"
	"github.com/bridgehead/bridgehead/proxy/upstream"
)

// connCounter counts a backend's connections: all it accepted, and the most open at once.
// A connection counts as open from its accept until the backend reads its end (EOF, or a
// reset) or closes it, the earliest the backend can know that the gateway let it go.
type connCounter struct {
	net.Listener
	total, open, maxOpen atomic.Int64
}

func (c *connCounter) Accept() (net.Conn, error) {
	conn, err := c.Listener.Accept()
	if err != nil {
		return nil, err
	}
	c.total.Add(1)
	n := c.open.Add(1)
	for m := c.maxOpen.Load(); n > m && !c.maxOpen.CompareAndSwap(m, n); m = c.maxOpen.Load() {
	}
	return &countedConn{Conn: conn, c: c}, nil
}

type countedConn struct {
	net.Conn
	c    *connCounter
	once sync.Once
}

func (cc *countedConn) gone() { cc.once.Do(func() { cc.c.open.Add(-1) }) }

func (cc *countedConn) Read(b []byte) (int, error) {
	n, err := cc.Conn.Read(b)
	if err != nil && !isTimeout(err) {
		cc.gone()
	}
	return n, err
}

func (cc *countedConn) Close() error { cc.gone(); return cc.Conn.Close() }

// heapSampler records the most live heap (objects) the process held while it ran.
type heapSampler struct {
	stop chan struct{}
	done chan struct{}
	max  uint64
}

func sampleHeap() *heapSampler {
	h := &heapSampler{stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(h.done)
		s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
		tick := time.NewTicker(10 * time.Millisecond)
		defer tick.Stop()
		for {
			metrics.Read(s)
			h.max = max(h.max, s[0].Value.Uint64())
			select {
			case <-h.stop:
				return
			case <-tick.C:
			}
		}
	}()
	return h
}

func (h *heapSampler) peak() uint64 { close(h.stop); <-h.done; return h.max }

// vmRSS is the process's resident memory now, from /proc/self/status ("" elsewhere).
func vmRSS() string {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return ""
	}
	for _, l := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(l, "VmRSS:") {
			return strings.TrimSpace(strings.TrimPrefix(l, "VmRSS:"))
		}
	}
	return ""
}

// Rapid-reset ceilings: the test's backend sees at most rrMaxConns connections at once
// and at most rrHandshakes a second after a burst of as many; the whole test process
// (client, gateway and backend) keeps under rrHeapCeiling of live heap.
const (
	rrMaxConns    = 8
	rrHandshakes  = 20
	rrHeapCeiling = 64 << 20
	rrDuration    = 2 * time.Second
	rrMaxStreams  = 50000
)

// TestRapidResetIsBoundedAtTheBackend: an HTTP/2 client that resets every stream right
// after its HEADERS (CVE-2023-44487) makes the gateway start a backend request per stream
// and abandon it; an abandoned HTTP/1.1 request costs its connection, so the gateway
// opened 500 to 700 backend TLS connections a second and once grew to 814 MB RSS. With
// a connection cap per backend endpoint and a handshake rate, the backend sees at most the
// cap at once and the rate over time, and memory stays bounded. The client runs for
// rrDuration or rrMaxStreams streams, on loopback.
func TestRapidResetIsBoundedAtTheBackend(t *testing.T) {
	p := newPKI()
	be := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select { // slow enough that resets find requests in flight
		case <-time.After(20 * time.Millisecond):
		case <-r.Context().Done():
		}
		_, _ = w.Write([]byte("ok"))
	}))
	be.TLS = &tls.Config{Certificates: []tls.Certificate{p.backend("backend.web.svc").TLS}}
	conns := &connCounter{Listener: be.Listener}
	be.Listener = conns
	be.StartTLS() // HTTP/1.1 only: every abandoned request costs a connection
	t.Cleanup(be.Close)

	g := startGateway(t, e2e(p, addrOf(be), serversTransport("backend", "backend.web.svc", []string{"backend-ca"}, nil),
		routeSpec{name: "app", match: "Host(`app.example.com`)", svc: "backend", transport: "backend", secret: "app-tls"}),
		func(c *proxy.Config) {
			c.Upstream = upstream.Limits{MaxConnsPerHost: rrMaxConns, HandshakesPerSecond: rrHandshakes}
		})
	begin := time.Now() // the handshake bucket is full here
	if code, reason, _ := get(t, g.httpsClient(p.edgeCA), "https://app.example.com/"); code != 200 {
		t.Fatalf("warm-up: %d %s", code, reason)
	}

	heap := sampleHeap()
	start := time.Now()
	streams, conns0 := 0, 0
	for time.Since(start) < rrDuration && streams < rrMaxStreams {
		streams += rapidReset(t, g, p, start.Add(rrDuration), rrMaxStreams-streams)
		conns0++
	}
	elapsed := time.Since(start)
	peak := heap.peak()
	total, sinceBegin := conns.total.Load(), time.Since(begin) // dials still waiting count too
	t.Logf("%d streams reset on %d connections in %v: backend saw %d connections, at most %d at once; live heap peaked at %d MiB; RSS now %s",
		streams, conns0, elapsed.Round(time.Millisecond), total, conns.maxOpen.Load(), peak>>20, vmRSS())

	// The gateway holds at most rrMaxConns connections to the endpoint. net/http frees a
	// connection's slot just before it closes the socket, so the next connection can reach
	// the backend before the backend has read the previous one's close: besides the ones in
	// use, the backend may see one closing connection per slot. (Without the cap: hundreds.)
	if got := conns.maxOpen.Load(); got > 2*rrMaxConns {
		t.Errorf("the backend had %d connections open at once, want at most %d in use and %d closing", got, rrMaxConns, rrMaxConns)
	}
	// The bucket starts full (one second's worth) and refills at the rate.
	if limit := int64(rrHandshakes + rrHandshakes*sinceBegin.Seconds()); total > limit {
		t.Errorf("the backend accepted %d connections in %v, want at most %d", total, sinceBegin, limit)
	}
	if peak > rrHeapCeiling {
		t.Errorf("live heap peaked at %d MiB, want under %d MiB", peak>>20, rrHeapCeiling>>20)
	}
	if code, reason, _ := get(t, g.httpsClient(p.edgeCA), "https://app.example.com/"); code != 200 {
		t.Fatalf("after the attack: %d %s", code, reason)
	}
}

// rapidReset opens one HTTP/2 connection and sends HEADERS then RST_STREAM for up to n
// streams, until the deadline or until the gateway closes the connection. It returns how
// many streams it sent.
func rapidReset(t *testing.T, g *gateway, p *testPKI, deadline time.Time, n int) int {
	c := g.dialH2(t, p)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { // drain: the gateway must never block on us
		defer wg.Done()
		for {
			if _, err := c.fr.ReadFrame(); err != nil {
				return
			}
		}
	}()
	sent := 0
	for id := uint32(1); sent < n && time.Now().Before(deadline); id += 2 {
		c.hbuf.Reset()
		if err := writeGet(c, id); err != nil {
			break
		}
		if err := c.fr.WriteRSTStream(id, http2.ErrCodeCancel); err != nil {
			break
		}
		sent++
	}
	_ = c.conn.Close()
	wg.Wait()
	return sent
}

// writeGet sends a small GET's HEADERS frame, reporting write errors (the gateway may
// close the connection under attack).
func writeGet(c *h2Conn, id uint32) error {
	for _, f := range []hpack.HeaderField{
		{Name: ":method", Value: "GET"}, {Name: ":scheme", Value: "https"},
		{Name: ":authority", Value: "app.example.com"}, {Name: ":path", Value: "/"},
	} {
		_ = c.henc.WriteField(f)
	}
	return c.fr.WriteHeaders(http2.HeadersFrameParam{StreamID: id, BlockFragment: c.hbuf.Bytes(), EndStream: true, EndHeaders: true})
}
