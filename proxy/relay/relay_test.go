//go:build linux

package relay

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"io"
	"net"
	"sync"
	"testing"
	"time"
)

// connPair returns the two ends of one loopback TCP connection.
func connPair(t testing.TB) (dialed, accepted *net.TCPConn) {
	t.Helper()
	ln, err := net.ListenTCP("tcp", &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = ln.Close() }()
	d, err := net.DialTCP("tcp", nil, ln.Addr().(*net.TCPAddr))
	if err != nil {
		t.Fatal(err)
	}
	a, err := ln.AcceptTCP()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = d.Close(); _ = a.Close() })
	return d, a
}

// relayed is a user's client and backend joined through the relay.
type relayed struct {
	client, backend *net.TCPConn // the user's ends
	handle          *Handle
	done            chan Result
}

func startRelay(t *testing.T, opts Options) *relayed {
	t.Helper()
	client, proxyFront := connPair(t)
	proxyBack, backend := connPair(t)
	r := &relayed{client: client, backend: backend, done: make(chan Result, 1)}
	h, err := Default.Start(proxyFront, proxyBack, opts, func(res Result) { r.done <- res })
	if err != nil {
		t.Fatal(err)
	}
	r.handle = h
	return r
}

func (r *relayed) result(t *testing.T, within time.Duration) Result {
	t.Helper()
	select {
	case res := <-r.done:
		return res
	case <-time.After(within):
		t.Fatalf("the pair was not finished within %v", within)
		return Result{}
	}
}

func randomBytes(t *testing.T, n int) []byte {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return b
}

// Both directions carry megabytes at once while one reader is slow, so writes block and
// the rest waits in pending; every byte arrives in order, and the counts say so.
func TestBulkBothWaysWithBackpressure(t *testing.T) {
	r := startRelay(t, Options{TerminationDelay: time.Second})
	up, down := randomBytes(t, 8<<20), randomBytes(t, 8<<20)
	var wg sync.WaitGroup
	send := func(c *net.TCPConn, b []byte) {
		defer wg.Done()
		if _, err := c.Write(b); err != nil {
			t.Error(err)
		}
		_ = c.CloseWrite()
	}
	var gotUp, gotDown []byte
	recv := func(c *net.TCPConn, into *[]byte, slow bool) {
		defer wg.Done()
		buf := make([]byte, 4096)
		for {
			n, err := c.Read(buf)
			*into = append(*into, buf[:n]...)
			if err != nil {
				return
			}
			if slow && len(*into)%(1<<20) < 4096 {
				time.Sleep(20 * time.Millisecond) // a slow reader: the relay's writes must block
			}
		}
	}
	wg.Add(4)
	go send(r.client, up)
	go send(r.backend, down)
	go recv(r.backend, &gotUp, true)
	go recv(r.client, &gotDown, false)
	wg.Wait()
	if sha256.Sum256(gotUp) != sha256.Sum256(up) || sha256.Sum256(gotDown) != sha256.Sum256(down) {
		t.Fatalf("bytes differ: up %d of %d, down %d of %d", len(gotUp), len(up), len(gotDown), len(down))
	}
	if res := r.result(t, 5*time.Second); res.In != int64(len(up)) || res.Out != int64(len(down)) {
		t.Fatalf("result %+v, want In %d Out %d", res, len(up), len(down))
	}
}

// A backend that answers and closes at once sends its last bytes and its FIN together;
// the client must get both (the end of the stream is not lost after a short read).
func TestDataFollowedAtOnceByFINArrivesWhole(t *testing.T) {
	const pairs = 200
	var wg sync.WaitGroup
	for i := range pairs {
		r := startRelay(t, Options{TerminationDelay: 5 * time.Second})
		wg.Add(1)
		go func() {
			defer wg.Done()
			reply := bytes.Repeat([]byte{byte(i)}, 100+i)
			if _, err := r.client.Write([]byte("hello")); err != nil {
				t.Error(err)
				return
			}
			req := make([]byte, 5)
			if _, err := io.ReadFull(r.backend, req); err != nil {
				t.Error(err)
				return
			}
			_, _ = r.backend.Write(reply)
			_ = r.backend.Close()
			_ = r.client.SetReadDeadline(time.Now().Add(3 * time.Second))
			got, err := io.ReadAll(r.client)
			if err != nil || !bytes.Equal(got, reply) {
				t.Errorf("pair %d: got %d bytes, err %v; want %d bytes then EOF", i, len(got), err, len(reply))
			}
		}()
	}
	wg.Wait()
}

// A client that sends its request and half-closes still gets the whole answer: its FIN
// reaches the backend, which answers after reading to EOF.
func TestHalfCloseIsForwarded(t *testing.T) {
	r := startRelay(t, Options{TerminationDelay: 5 * time.Second})
	if _, err := r.client.Write([]byte("request")); err != nil {
		t.Fatal(err)
	}
	if err := r.client.CloseWrite(); err != nil {
		t.Fatal(err)
	}
	_ = r.backend.SetReadDeadline(time.Now().Add(3 * time.Second))
	req, err := io.ReadAll(r.backend)
	if err != nil || string(req) != "request" {
		t.Fatalf("backend read %q, %v; want the request then EOF", req, err)
	}
	if _, err := r.backend.Write([]byte("answer")); err != nil {
		t.Fatal(err)
	}
	_ = r.backend.CloseWrite()
	_ = r.client.SetReadDeadline(time.Now().Add(3 * time.Second))
	if got, err := io.ReadAll(r.client); err != nil || string(got) != "answer" {
		t.Fatalf("client read %q, %v", got, err)
	}
	if res := r.result(t, 3*time.Second); res.In != 7 || res.Out != 6 {
		t.Fatalf("result %+v", res)
	}
}

// After one side finishes, the other direction gets TerminationDelay, then both close.
func TestTerminationDelayEndsAHalfClosedPair(t *testing.T) {
	r := startRelay(t, Options{TerminationDelay: 200 * time.Millisecond})
	_ = r.client.CloseWrite()
	start := time.Now()
	r.result(t, 3*time.Second)
	if d := time.Since(start); d < 150*time.Millisecond {
		t.Fatalf("closed after %v, before the termination delay", d)
	}
	_ = r.client.SetReadDeadline(time.Now().Add(3 * time.Second))
	if _, err := r.client.Read(make([]byte, 1)); !errors.Is(err, io.EOF) {
		t.Fatalf("client read after close: %v, want EOF", err)
	}
}

// Silence in both directions for IdleTimeout closes the pair; traffic keeps it open.
func TestIdleTimeout(t *testing.T) {
	r := startRelay(t, Options{TerminationDelay: time.Second, IdleTimeout: 300 * time.Millisecond})
	buf := make([]byte, 4)
	for i := range 5 { // 4 x 150ms of activity: longer than the timeout, never idle that long
		if i > 0 {
			time.Sleep(150 * time.Millisecond) // the activity pattern under test, not a sync
		}
		if _, err := r.client.Write([]byte("ping")); err != nil {
			t.Fatal(err)
		}
		if _, err := io.ReadFull(r.backend, buf); err != nil {
			t.Fatalf("an active pair was closed: %v", err)
		}
	}
	start := time.Now()
	r.result(t, 3*time.Second)
	if d := time.Since(start); d < 200*time.Millisecond {
		t.Fatalf("closed %v after the last byte, before the idle timeout", d)
	}
}

// Close from outside (a removed route) ends the pair and both users see it.
func TestHandleCloseEndsThePair(t *testing.T) {
	r := startRelay(t, Options{TerminationDelay: time.Second})
	r.handle.Close()
	r.handle.Close()
	r.result(t, 3*time.Second)
	for _, c := range []*net.TCPConn{r.client, r.backend} {
		_ = c.SetReadDeadline(time.Now().Add(3 * time.Second))
		if _, err := c.Read(make([]byte, 1)); err == nil {
			t.Fatal("read on a closed pair succeeded")
		}
	}
}

// A backend that resets the connection ends the pair; the client is not left hanging.
func TestResetEndsThePair(t *testing.T) {
	r := startRelay(t, Options{TerminationDelay: 200 * time.Millisecond})
	_ = r.backend.SetLinger(0)
	_ = r.backend.Close()
	r.result(t, 3*time.Second)
	_ = r.client.SetReadDeadline(time.Now().Add(3 * time.Second))
	if _, err := r.client.Read(make([]byte, 1)); err == nil {
		t.Fatal("client read succeeded after the backend reset")
	}
}

// The prefix (a peeked ClientHello) reaches the backend before the client's later bytes.
func TestPrefixGoesFirst(t *testing.T) {
	r := startRelay(t, Options{TerminationDelay: time.Second, Prefix: []byte("hello ")})
	if _, err := r.client.Write([]byte("world")); err != nil {
		t.Fatal(err)
	}
	got := make([]byte, 11)
	_ = r.backend.SetReadDeadline(time.Now().Add(3 * time.Second))
	if _, err := io.ReadFull(r.backend, got); err != nil || string(got) != "hello world" {
		t.Fatalf("backend got %q, %v", got, err)
	}
	_ = r.client.Close()
	if res := r.result(t, 3*time.Second); res.In != 11 {
		t.Fatalf("result %+v, want In 11", res)
	}
}

// Many short pairs in a row reuse the loop's slots without crossing streams.
func TestShortPairsInARow(t *testing.T) {
	for i := range 300 {
		r := startRelay(t, Options{TerminationDelay: time.Second})
		msg := []byte{byte(i), byte(i >> 8)}
		if _, err := r.client.Write(msg); err != nil {
			t.Fatal(err)
		}
		got := make([]byte, 2)
		_ = r.backend.SetReadDeadline(time.Now().Add(3 * time.Second))
		if _, err := io.ReadFull(r.backend, got); err != nil || !bytes.Equal(got, msg) {
			t.Fatalf("pair %d: backend got %v, %v", i, got, err)
		}
		_ = r.client.Close()
		_ = r.backend.Close()
		r.result(t, 3*time.Second)
	}
}

// BenchmarkPingPong is requests and answers (64 bytes each way) on 32 relayed pairs at
// once, as keep-alive TLS passthrough carries them, against the two-goroutine io.Copy the
// event loop replaced. Run with -cpu 1: everything (clients, backends, relay) shares one
// core, so the relay's cost per round trip shows in ns/op.
func BenchmarkPingPong(b *testing.B) {
	const pairs = 32
	run := func(b *testing.B, join func(front, back *net.TCPConn)) {
		clients := make([]*net.TCPConn, pairs)
		for i := range clients {
			client, front := connPair(b)
			back, backend := connPair(b)
			join(front, back)
			go func() {
				buf := make([]byte, 64)
				for {
					if _, err := io.ReadFull(backend, buf); err != nil {
						return
					}
					if _, err := backend.Write(buf); err != nil {
						return
					}
				}
			}()
			clients[i] = client
		}
		b.ReportAllocs()
		b.ResetTimer()
		var wg sync.WaitGroup
		for i, client := range clients {
			n := b.N / pairs
			if i < b.N%pairs {
				n++
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				msg, got := make([]byte, 64), make([]byte, 64)
				for range n {
					if _, err := client.Write(msg); err != nil {
						b.Error(err)
						return
					}
					if _, err := io.ReadFull(client, got); err != nil {
						b.Error(err)
						return
					}
				}
			}()
		}
		wg.Wait()
	}
	b.Run("event-loop", func(b *testing.B) {
		run(b, func(front, back *net.TCPConn) {
			if _, err := Default.Start(front, back, Options{TerminationDelay: time.Second}, func(Result) {}); err != nil {
				b.Fatal(err)
			}
		})
	})
	b.Run("goroutines", func(b *testing.B) {
		run(b, func(front, back *net.TCPConn) {
			go func() { _, _ = io.Copy(back, front) }()
			go func() { _, _ = io.Copy(front, back) }()
		})
	})
}
