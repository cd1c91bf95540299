package upstream

import (
	"net"
	"runtime"
	"sync"
	"time"
)

// batchedConn sits under the TLS layer of a connection to a backend, or is the whole
// connection of an h2c one. Once batch is called (after a handshake that chose HTTP/2; at
// once for h2c), a Write queues its bytes and returns, and a goroutine of the connection
// writes whatever has queued, after the goroutines that are ready at that moment have
// run. Before, every Write goes straight to the socket.
//
// Why: net/http's HTTP/2 client writes each request's HEADERS under the connection's
// write lock and flushes them at once: one TLS record and one write system call per
// request, each waking the backend. Under 500 streams on 3 connections that was 18% of
// the gateway's CPU, and HAProxy, which writes many streams' frames at once, cost a third
// of Bridgehead per request. With the queue, the streams that reach their write while one
// is waiting to go out share its system call (the TLS records stay one a request).
//
// A Write that returns nil has only queued its bytes, as a write into a socket's buffer
// has only reached the kernel. A failed write ends the connection, so that the HTTP/2
// client's read loop fails the streams instead of leaving them to wait for answers to
// requests that never left; but not at once (failedWriteGrace): the reader first gets
// what the peer sent before it closed, such as the TLS alert that says why.
type batchedConn struct {
	net.Conn

	mu      sync.Mutex
	room    sync.Cond // signalled when the writer has taken the queue, or failed
	batched bool
	queue   []byte // waiting for the writer
	spare   []byte // the writer's last buffer, for the next queue
	writing bool   // a writer goroutine runs: queued bytes will go out without another
	err     error  // the writer's failure, returned by every later Write
}

// maxQueued is how much a connection's queue holds before a Write waits for the writer:
// a request body must not pile up in memory faster than the backend takes it.
const maxQueued = 64 << 10

// failedWriteGrace is how long a connection whose write failed stays open for its reader.
// A write fails because the peer reset or closed the connection, and the reader then ends
// by itself once it has read what came before (a TLS 1.3 backend that wants a client
// certificate says so in an alert right after the handshake, then closes). Closing at
// once made the reader's error "use of closed network connection" instead of the alert,
// for 6 of 800 first requests to such a backend; the grace only bounds the wait for a
// peer that stays silent.
const failedWriteGrace = time.Second

// maxKeptBuffer is the largest write buffer a connection keeps for its next batch: room
// for the HEADERS of many requests, while a body's batches are let go once sent.
const maxKeptBuffer = 16 << 10

func newBatchedConn(c net.Conn) *batchedConn {
	b := &batchedConn{Conn: c}
	b.room.L = &b.mu
	return b
}

// batch turns queueing on: once the handshake is over, or before the first write of an
// h2c connection.
func (b *batchedConn) batch() {
	b.mu.Lock()
	b.batched = true
	b.mu.Unlock()
}

func (b *batchedConn) Write(p []byte) (int, error) {
	b.mu.Lock()
	if !b.batched {
		b.mu.Unlock()
		return b.Conn.Write(p)
	}
	for b.err == nil && len(b.queue) >= maxQueued {
		b.room.Wait()
	}
	if b.err != nil {
		err := b.err
		b.mu.Unlock()
		return 0, err
	}
	b.queue = append(b.queue, p...)
	if !b.writing {
		b.writing = true
		go b.write()
	}
	b.mu.Unlock()
	return len(p), nil
}

// write sends the queue until it is empty. The yield first lets the goroutines that are
// ready add their frames, as yieldBeforeWrite does for HTTP/1.1.
func (b *batchedConn) write() {
	runtime.Gosched()
	b.mu.Lock()
	for len(b.queue) > 0 && b.err == nil {
		out := b.queue
		b.queue, b.spare = b.spare[:0], nil
		b.room.Broadcast()
		b.mu.Unlock()
		_, err := b.Conn.Write(out)
		b.mu.Lock()
		if cap(out) <= maxKeptBuffer {
			b.spare = out[:0]
		}
		if err != nil {
			b.err = err
			// Closing twice is harmless: the user's Close may come first.
			conn := b.Conn
			time.AfterFunc(failedWriteGrace, func() { _ = conn.Close() })
		}
	}
	b.writing = false
	b.room.Broadcast()
	b.mu.Unlock()
}

// SetWriteDeadline reaches the socket only before batching. After, the one write deadline
// set on these connections is crypto/tls's around its close_notify: five seconds, then
// now, which would fail the writer before it sent the alert still queued. Close bounds
// the writer instead (net/http's HTTP/2 client sets none: HTTP2Config.WriteByteTimeout is
// not used).
func (b *batchedConn) SetWriteDeadline(t time.Time) error {
	if b.isBatched() {
		return nil
	}
	return b.Conn.SetWriteDeadline(t)
}

// SetDeadline is SetReadDeadline once batching, for the reason given at SetWriteDeadline.
func (b *batchedConn) SetDeadline(t time.Time) error {
	if b.isBatched() {
		return b.SetReadDeadline(t)
	}
	return b.Conn.SetDeadline(t)
}

func (b *batchedConn) isBatched() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.batched
}

// closeFlushWait bounds how long Close waits for queued bytes (a GOAWAY, TLS's
// close_notify) to go out to a backend that does not read.
const closeFlushWait = time.Second

// Close sends what is queued, then closes the connection.
func (b *batchedConn) Close() error {
	b.mu.Lock()
	if b.writing && b.err == nil {
		_ = b.Conn.SetWriteDeadline(time.Now().Add(closeFlushWait))
		for b.writing {
			b.room.Wait()
		}
	}
	b.batched = false
	b.mu.Unlock()
	return b.Conn.Close()
}
