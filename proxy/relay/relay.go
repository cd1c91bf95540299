// Package relay forwards bytes between pairs of TCP connections from a few event loops,
// the way an event-driven proxy does, instead of two goroutines per connection.
//
// A goroutine copy (io.Copy, even when it splices) costs a read that finds the socket
// empty after every burst, because Go's poller hides whether a peer's FIN came with the
// data; and every burst wakes a goroutine through the scheduler. An epoll loop sees the
// event mask (EPOLLRDHUP says a FIN is pending), so a short read means "drained", and one
// thread serves every connection of its loop. For TLS passthrough this is most of the
// proxy's CPU.
//
// The relay takes over the connections' file descriptors: Go's poller forgets them and
// the loop owns them until the pair ends. It is implemented on Linux; elsewhere Start
// returns ErrUnsupported and the caller copies with goroutines.
package relay

import (
	"errors"
	"net"
	"runtime"
	"sync"
	"sync/atomic"
	"time"
)

// ErrUnsupported is returned by Start where the relay has no event loop (not Linux).
var ErrUnsupported = errors.New("relay: not supported on this platform")

// Options shape one relayed pair.
type Options struct {
	// TerminationDelay is how long the other direction may go on after one side has
	// finished sending (its FIN is forwarded at once); then both are closed. Negative
	// means no limit: the pair ends when both directions have finished (or IdleTimeout).
	TerminationDelay time.Duration
	// IdleTimeout closes the pair when neither direction carried a byte for this long
	// (0: never).
	IdleTimeout time.Duration
	// Prefix is what was already read from the client (a peeked ClientHello); it goes to
	// the backend before anything else and counts in Result.In.
	Prefix []byte
}

// Result counts the bytes forwarded each way.
type Result struct {
	In  int64 // client to backend
	Out int64 // backend to client
}

// Relay is a set of event loops, started on first use: one per GOMAXPROCS at that time.
type Relay struct {
	once  sync.Once
	loops []*loop
	err   error
	next  atomic.Uint32
}

// Default is the process's relay; loops are shared by every server in the process, as Go's
// own poller is.
var Default = &Relay{}

// Start hands client and backend to the relay and returns at once. On success the relay
// owns both connections (they are closed here; the loop works on duplicates of their
// descriptors), and done runs once, on its own goroutine, after both are closed. On error
// both connections are untouched and still the caller's.
func (r *Relay) Start(client, backend *net.TCPConn, opts Options, done func(Result)) (*Handle, error) {
	r.once.Do(func() {
		for range max(1, runtime.GOMAXPROCS(0)) {
			l, err := newLoop()
			if err != nil {
				r.err = err
				return
			}
			r.loops = append(r.loops, l)
		}
	})
	if r.err != nil {
		return nil, r.err
	}
	l := r.loops[int(r.next.Add(1))%len(r.loops)]
	return l.start(client, backend, opts, done)
}

// Handle is one relayed pair.
type Handle struct {
	close func()
}

// Close ends the pair early (a removed route, a shutdown); both connections are closed
// by the loop and done still runs. Safe to call more than once and concurrently.
func (h *Handle) Close() { h.close() }
