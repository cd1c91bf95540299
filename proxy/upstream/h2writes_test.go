package upstream

import (
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/bridgehead/bridgehead/internal/pki"
	"github.com/bridgehead/bridgehead/internal/snapshot"
)

// socket is the connection under a batchedConn: it records each write, and can hold the
// next one until released.
type socket struct {
	net.Conn
	mu      sync.Mutex
	writes  []string
	hold    chan struct{} // when set, a write waits for it to be closed
	holding chan struct{} // closed when a write starts waiting on hold
	fail    error
	closed  bool
	unread  string // what the peer sent: Read returns it, then io.EOF, unless closed
}

func (s *socket) Read(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return 0, net.ErrClosed
	}
	if s.unread == "" {
		return 0, io.EOF
	}
	n := copy(p, s.unread)
	s.unread = s.unread[n:]
	return n, nil
}

func (s *socket) Write(p []byte) (int, error) {
	s.mu.Lock()
	hold, holding := s.hold, s.holding
	s.hold = nil
	s.mu.Unlock()
	if hold != nil {
		close(holding)
		<-hold
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.fail != nil {
		return 0, s.fail
	}
	s.writes = append(s.writes, string(p))
	return len(p), nil
}

func (s *socket) Close() error {
	s.mu.Lock()
	s.closed = true
	s.mu.Unlock()
	return nil
}

func (s *socket) SetWriteDeadline(time.Time) error { return nil }

// holdNext makes the next write wait until the returned function is called; held is
// closed once that write is waiting.
func (s *socket) holdNext() (held <-chan struct{}, release func()) {
	s.mu.Lock()
	defer s.mu.Unlock()
	hold, holding := make(chan struct{}), make(chan struct{})
	s.hold, s.holding = hold, holding
	return holding, func() { close(hold) }
}

func (s *socket) recorded() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.writes...)
}

func TestBatchedConnWritesThroughBeforeTheHandshakeIsOver(t *testing.T) {
	s := &socket{}
	b := newBatchedConn(s)
	if _, err := b.Write([]byte("hello")); err != nil {
		t.Fatal(err)
	}
	if got := s.recorded(); len(got) != 1 || got[0] != "hello" {
		t.Fatalf("a write before batch reached the socket as %q, want it there on return", got)
	}
}

// While one write is out, the frames of the streams that come meanwhile leave together.
func TestBatchedConnSendsWhatQueuedMeanwhileInOneWrite(t *testing.T) {
	s := &socket{}
	b := newBatchedConn(s)
	b.batch()
	held, release := s.holdNext()
	if n, err := b.Write([]byte("a")); n != 1 || err != nil {
		t.Fatalf("Write: %d, %v", n, err)
	}
	<-held
	for _, p := range []string{"b", "c", "d"} {
		if n, err := b.Write([]byte(p)); n != 1 || err != nil {
			t.Fatalf("Write: %d, %v", n, err)
		}
	}
	release()
	waitFor(t, "the queued writes reach the socket", func() bool { return len(s.recorded()) == 2 })
	if got := s.recorded(); got[0] != "a" || got[1] != "bcd" {
		t.Fatalf("the socket got %q, want [a bcd]: what queued behind a write goes out in one", got)
	}
}

func TestBatchedConnFailedWriteEndsTheConnection(t *testing.T) {
	s := &socket{fail: errors.New("connection reset by peer")}
	b := newBatchedConn(s)
	b.batch()
	if _, err := b.Write([]byte("x")); err != nil {
		t.Fatalf("the first Write only queues: %v", err)
	}
	waitFor(t, "the writer's failure closes the socket", func() bool {
		s.mu.Lock()
		defer s.mu.Unlock()
		return s.closed
	})
	if _, err := b.Write([]byte("y")); err == nil || err.Error() != "connection reset by peer" {
		t.Fatalf("a Write after the writer failed: %v, want its error", err)
	}
}

// A write fails because the peer closed or reset the connection; what it sent before (a
// TLS alert that says why) must still reach the reader rather than "use of closed network
// connection".
func TestBatchedConnFailedWriteLetsTheReaderReadWhatThePeerSent(t *testing.T) {
	s := &socket{fail: errors.New("broken pipe"), unread: "alert"}
	b := newBatchedConn(s)
	b.batch()
	waitFor(t, "the writer's failure", func() bool {
		_, err := b.Write([]byte("x"))
		return err != nil
	})
	buf := make([]byte, 16)
	if n, err := b.Read(buf); string(buf[:n]) != "alert" || err != nil {
		t.Fatalf("Read after the failed write: %q, %v; want the peer's alert", buf[:n], err)
	}
	if _, err := b.Read(buf); !errors.Is(err, io.EOF) {
		t.Fatalf("then: %v, want the peer's EOF", err)
	}
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
}

// A request body must not pile up in memory faster than the backend takes it.
func TestBatchedConnWriteWaitsWhenTheQueueIsFull(t *testing.T) {
	s := &socket{}
	b := newBatchedConn(s)
	b.batch()
	held, release := s.holdNext()
	if _, err := b.Write([]byte("first")); err != nil {
		t.Fatal(err)
	}
	<-held
	if _, err := b.Write(make([]byte, maxQueued)); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		_, _ = b.Write([]byte("over"))
	}()
	select {
	case <-done:
		t.Fatal("a Write past a full queue returned while the socket took nothing")
	case <-time.After(100 * time.Millisecond):
	}
	release()
	<-done
	waitFor(t, "everything reaches the socket", func() bool {
		n := 0
		for _, w := range s.recorded() {
			n += len(w)
		}
		return n == len("first")+maxQueued+len("over")
	})
}

// Through TLS: data written just before Close, and TLS's close_notify, reach the peer
// (crypto/tls sets a write deadline of now right after queueing the alert).
func TestBatchedConnCloseSendsWhatIsQueued(t *testing.T) {
	ca := pki.MustCA("batched CA")
	leaf := ca.MustIssue("backend", pki.Options{DNSNames: []string{"backend.example"}})
	ln, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{Certificates: []tls.Certificate{leaf.TLS}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ln.Close() })
	type result struct {
		data []byte
		err  error
	}
	got := make(chan result, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			got <- result{err: err}
			return
		}
		defer func() { _ = c.Close() }()
		data, err := io.ReadAll(c) // nil error only after a close_notify
		got <- result{data, err}
	}()
	raw, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	b := newBatchedConn(raw)
	c := tls.Client(b, &tls.Config{RootCAs: ca.Pool(), ServerName: "backend.example"})
	if err := c.Handshake(); err != nil {
		t.Fatal(err)
	}
	b.batch()
	if _, err := c.Write([]byte("last frames")); err != nil {
		t.Fatal(err)
	}
	if err := c.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	r := <-got
	if r.err != nil || string(r.data) != "last frames" {
		t.Fatalf("the peer read %q, %v; want the last frames and then TLS's close_notify", r.data, r.err)
	}
}

// Concurrent requests to an HTTP/2 backend share the write system calls to its socket:
// over TLS once the handshake negotiated h2, and over h2c from the first write.
func TestHTTP2RequestsToABackendShareWrites(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1)) // as the gateway in make bench
	ca := pki.MustCA("Backend CA")
	leaf := ca.MustIssue("backend", pki.Options{DNSNames: []string{"backend.example"}})
	overTLS, _ := startBackend(t, serving(leaf), true)
	h2c := httptest.NewUnstartedServer(http.HandlerFunc((&seen{}).handler))
	h2c.Config.Protocols = new(http.Protocols)
	h2c.Config.Protocols.SetUnencryptedHTTP2(true)
	h2c.Start()
	t.Cleanup(h2c.Close)
	for _, c := range []struct {
		name string
		tr   *snapshot.Transport
		b    *snapshot.Backend
	}{
		{"TLS", trust(ca, "backend-ca"), backend("https", addrOf(overTLS), "backend.example")},
		{"h2c", nil, backend("h2c", addrOf(h2c), "")},
	} {
		t.Run(c.name, func(t *testing.T) {
			var writes atomic.Int64
			p := NewPool(Options{DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
				c, err := (&net.Dialer{}).DialContext(ctx, network, addr)
				if err != nil {
					return nil, err
				}
				return &countingConn{Conn: c, writes: &writes}, nil
			}})
			rt := p.For(c.tr, c.b)
			if proto := mustServe(t, p, c.tr, c.b); proto != 2 {
				t.Fatalf("HTTP/%d, want HTTP/2", proto)
			}
			before := writes.Load()
			const requests = 50
			var wg sync.WaitGroup
			errs := make(chan error, requests)
			for range requests {
				wg.Go(func() {
					resp, err := roundTrip(context.Background(), rt, c.b)
					if err != nil {
						errs <- err
						return
					}
					_, _ = io.Copy(io.Discard, resp.Body)
					_ = resp.Body.Close()
					if resp.StatusCode != http.StatusOK || resp.ProtoMajor != 2 {
						errs <- errors.New(resp.Proto + " " + resp.Status)
					}
				})
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				t.Fatal(err)
			}
			if n := writes.Load() - before; n >= requests/2 {
				t.Fatalf("%d concurrent requests took %d writes to the backend's socket, want them to share writes", requests, n)
			}
		})
	}
}

type countingConn struct {
	net.Conn
	writes *atomic.Int64
}

func (c *countingConn) Write(p []byte) (int, error) {
	c.writes.Add(1)
	return c.Conn.Write(p)
}
