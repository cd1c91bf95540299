//go:build linux

package relay

import (
	"container/heap"
	"fmt"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// bufSize is what one read takes from a socket: big enough that a bulk transfer costs few
// syscalls, shared by every pair of the loop.
const bufSize = 64 << 10

// epoch is where the loops' clock starts. Timers and activity are monotonic nanoseconds
// since then, so a step of the wall clock neither fires nor stalls them.
var epoch = time.Now()

// wakeSlot marks the loop's eventfd in epoll events; pair slots are >= 0.
const wakeSlot = -1

// loop is one epoll instance and the goroutine that serves it.
type loop struct {
	epfd, wakefd int

	mu       sync.Mutex
	incoming []*pair // handed over, not yet registered
	closing  []*pair // asked to close from outside

	// Owned by the loop goroutine.
	pairs    []*pair // by slot; nil when free
	free     []int32
	released []int32 // slots freed in this batch: reused only after it, since events of the batch may still name them
	timers   timerHeap
	buf      []byte
	events   []unix.EpollEvent
}

// side is one connection of a pair, and the direction that reads from it.
type side struct {
	fd      int
	eof     bool   // it has sent all it will (FIN or a read error); the other's write half is shut
	pending []byte // read from it, not yet accepted by the other side
	sent    int64  // bytes read from it and written to the other side
}

type pair struct {
	slot       int32
	sides      [2]side // 0: client, 1: backend
	opts       Options
	done       func(Result)
	lastActive int64 // when (since epoch) the last byte was read either way
	closed     bool
	closeAsked atomic.Bool
}

func newLoop() (*loop, error) {
	epfd, err := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
	if err != nil {
		return nil, fmt.Errorf("relay: epoll_create1: %w", err)
	}
	wakefd, err := unix.Eventfd(0, unix.EFD_NONBLOCK|unix.EFD_CLOEXEC)
	if err != nil {
		_ = unix.Close(epfd)
		return nil, fmt.Errorf("relay: eventfd: %w", err)
	}
	ev := unix.EpollEvent{Events: unix.EPOLLIN, Fd: wakeSlot}
	if err := unix.EpollCtl(epfd, unix.EPOLL_CTL_ADD, wakefd, &ev); err != nil {
		_ = unix.Close(epfd)
		_ = unix.Close(wakefd)
		return nil, fmt.Errorf("relay: epoll_ctl: %w", err)
	}
	if err := unix.SetNonblock(epfd, true); err != nil { // so that os.NewFile polls it
		_ = unix.Close(epfd)
		_ = unix.Close(wakefd)
		return nil, fmt.Errorf("relay: epoll: %w", err)
	}
	l := &loop{epfd: epfd, wakefd: wakefd, buf: make([]byte, bufSize), events: make([]unix.EpollEvent, 128)}
	go l.run()
	return l, nil
}

// dupFD returns a duplicate of c's descriptor (sharing its non-blocking socket).
func dupFD(c *net.TCPConn) (int, error) {
	rc, err := c.SyscallConn()
	if err != nil {
		return -1, err
	}
	fd := -1
	var dupErr error
	if err := rc.Control(func(f uintptr) { fd, dupErr = unix.FcntlInt(f, unix.F_DUPFD_CLOEXEC, 0) }); err != nil {
		return -1, err
	}
	if dupErr != nil {
		return -1, fmt.Errorf("relay: dup: %w", dupErr)
	}
	return fd, nil
}

func (l *loop) start(client, backend *net.TCPConn, opts Options, done func(Result)) (*Handle, error) {
	cfd, err := dupFD(client)
	if err != nil {
		return nil, err
	}
	bfd, err := dupFD(backend)
	if err != nil {
		_ = unix.Close(cfd)
		return nil, err
	}
	// Closing Go's descriptors removes them from Go's poller; the sockets live on in ours.
	_ = client.Close()
	_ = backend.Close()
	p := &pair{sides: [2]side{{fd: cfd}, {fd: bfd}}, opts: opts, done: done}
	if len(opts.Prefix) > 0 {
		// Pending like any blocked write: the backend's first writable event sends it.
		p.sides[0].pending = opts.Prefix
		p.opts.Prefix = nil // pending holds it now: without this reference it goes once sent
	}
	l.mu.Lock()
	l.incoming = append(l.incoming, p)
	l.mu.Unlock()
	l.wake()
	return &Handle{close: func() {
		if p.closeAsked.Swap(true) {
			return
		}
		l.mu.Lock()
		l.closing = append(l.closing, p)
		l.mu.Unlock()
		l.wake()
	}}, nil
}

func (l *loop) wake() {
	one := uint64(1)
	// EAGAIN means the counter is already non-zero, which wakes the loop just as well.
	_, _ = unix.Write(l.wakefd, (*[8]byte)(unsafe.Pointer(&one))[:])
}

// run serves the loop. The epoll descriptor is itself parked in Go's poller (an epoll
// set is readable while it has events), so an idle loop holds no thread, and waiting is
// an ordinary goroutine park rather than a blocking syscall the scheduler must work
// around: a thread blocked in epoll_wait would have its P retaken by sysmon at every
// wait, which keeps sysmon waking every 20µs under load.
func (l *loop) run() {
	f := os.NewFile(uintptr(l.epfd), "relay-epoll")
	rc, err := f.SyscallConn()
	if err != nil {
		panic(fmt.Sprintf("relay: epoll descriptor: %v", err))
	}
	n := 0
	harvest := func(fd uintptr) bool {
		n = epollWait(int(fd), l.events)
		return n > 0
	}
	var deadline int64
	for {
		next := int64(0)
		if len(l.timers) > 0 {
			next = l.timers[0].when
		}
		if next != deadline {
			deadline = next
			t := time.Time{}
			if next != 0 {
				t = epoch.Add(time.Duration(next))
			}
			_ = f.SetReadDeadline(t)
		}
		n = 0
		// Nil, or os.ErrDeadlineExceeded: a timer is due.
		_ = rc.Read(harvest)
		now := int64(time.Since(epoch))
		for _, ev := range l.events[:n] {
			if ev.Fd == wakeSlot {
				l.control(now)
				continue
			}
			if p := l.pairs[ev.Fd]; p != nil && !p.closed {
				l.handle(p, int(ev.Pad), ev.Events, now)
			}
		}
		l.expire(now)
		for _, s := range l.released {
			l.pairs[s] = nil
			l.free = append(l.free, s)
		}
		l.released = l.released[:0]
	}
}

// epollWait harvests the ready events without blocking.
func epollWait(epfd int, events []unix.EpollEvent) int {
	n, _, e := unix.RawSyscall6(unix.SYS_EPOLL_PWAIT, uintptr(epfd), uintptr(unsafe.Pointer(&events[0])), uintptr(len(events)), 0, 0, 0)
	if e != 0 {
		if e == unix.EINTR {
			return 0
		}
		panic(fmt.Sprintf("relay: epoll_pwait: %v", e)) // EBADF/EFAULT/EINVAL: a bug here, not a condition
	}
	return int(n)
}

// control registers handed-over pairs and closes the ones asked to close.
func (l *loop) control(now int64) {
	var b [8]byte
	_, _ = unix.Read(l.wakefd, b[:])
	l.mu.Lock()
	incoming, closing := l.incoming, l.closing
	l.incoming, l.closing = nil, nil
	l.mu.Unlock()
	for _, p := range incoming {
		l.register(p, now)
	}
	for _, p := range closing {
		l.close(p)
	}
}

func (l *loop) register(p *pair, now int64) {
	if n := len(l.free); n > 0 {
		p.slot = l.free[n-1]
		l.free = l.free[:n-1]
	} else {
		p.slot = int32(len(l.pairs))
		l.pairs = append(l.pairs, nil)
	}
	l.pairs[p.slot] = p
	p.lastActive = now
	for i := range p.sides {
		// Edge-triggered: adding reports what is already readable, then every new arrival
		// (data, FIN, reset, send space) reports again.
		ev := unix.EpollEvent{Events: unix.EPOLLIN | unix.EPOLLOUT | unix.EPOLLRDHUP | unix.EPOLLET, Fd: p.slot, Pad: int32(i)}
		if err := unix.EpollCtl(l.epfd, unix.EPOLL_CTL_ADD, p.sides[i].fd, &ev); err != nil {
			l.close(p)
			return
		}
	}
	if p.opts.IdleTimeout > 0 {
		heap.Push(&l.timers, timer{when: now + int64(p.opts.IdleTimeout), p: p, idle: true})
	}
}

// handle acts on one event of side i.
func (l *loop) handle(p *pair, i int, events uint32, now int64) {
	other := 1 - i
	if events&unix.EPOLLOUT != 0 && p.sides[other].pending != nil {
		// Side i takes data again: finish what the other side sent, then read the other
		// side afresh (its readiness edge was spent while we were blocked).
		if !l.flush(p, other) {
			return
		}
		l.forward(p, other, false, now)
		if p.closed {
			return
		}
	}
	if events&(unix.EPOLLIN|unix.EPOLLRDHUP|unix.EPOLLHUP|unix.EPOLLERR) != 0 {
		// Without RDHUP/HUP/ERR in the mask no FIN or error is pending, so a short read
		// has emptied the socket and reading again would only return EAGAIN.
		drainedOnShort := events&(unix.EPOLLRDHUP|unix.EPOLLHUP|unix.EPOLLERR) == 0
		l.forward(p, i, drainedOnShort, now)
	}
}

// forward copies what side d has to the other side, until d is empty, the other side is
// full (the rest waits in pending), or d has finished.
func (l *loop) forward(p *pair, d int, drainedOnShort bool, now int64) {
	src, dst := &p.sides[d], &p.sides[1-d]
	for !p.closed && !src.eof && src.pending == nil {
		n, errno := read(src.fd, l.buf)
		switch {
		case n > 0:
			p.lastActive = now
			w, errno := write(dst.fd, l.buf[:n])
			src.sent += int64(w)
			if errno == unix.EAGAIN {
				src.pending = append([]byte(nil), l.buf[w:n]...)
				return
			}
			if errno != 0 {
				l.close(p) // the other side is gone: nothing more can be delivered
				return
			}
			if n < len(l.buf) && drainedOnShort {
				return
			}
		case errno == unix.EAGAIN:
			return
		case errno == unix.EINTR:
		default: // EOF (n == 0), or a reset: side d will send no more
			l.finish(p, d, now)
			return
		}
	}
}

// flush writes side d's pending bytes to the other side; it reports whether they all went.
func (l *loop) flush(p *pair, d int) bool {
	src, dst := &p.sides[d], &p.sides[1-d]
	w, errno := write(dst.fd, src.pending)
	src.sent += int64(w)
	if errno == unix.EAGAIN {
		src.pending = src.pending[w:]
		return false
	}
	if errno != 0 {
		l.close(p)
		return false
	}
	src.pending = nil
	return true
}

// finish forwards side d's end: the other side's write half is shut (half-close), and the
// pair is closed when both have finished or TerminationDelay later.
func (l *loop) finish(p *pair, d int, now int64) {
	p.sides[d].eof = true
	if p.sides[1-d].eof {
		l.close(p)
		return
	}
	_ = unix.Shutdown(p.sides[1-d].fd, unix.SHUT_WR)
	if p.opts.TerminationDelay >= 0 { // negative: the other side may go on until it finishes
		heap.Push(&l.timers, timer{when: now + int64(p.opts.TerminationDelay), p: p})
	}
}

func (l *loop) close(p *pair) {
	if p.closed {
		return
	}
	p.closed = true
	// Closing the last descriptor of a socket also removes it from the epoll set.
	_ = unix.Close(p.sides[0].fd)
	_ = unix.Close(p.sides[1].fd)
	if l.pairs != nil && int(p.slot) < len(l.pairs) && l.pairs[p.slot] == p {
		l.released = append(l.released, p.slot)
	}
	p.sides[0].pending, p.sides[1].pending = nil, nil
	go p.done(Result{In: p.sides[0].sent, Out: p.sides[1].sent})
}

// expire closes pairs whose termination delay or idle timeout has passed.
func (l *loop) expire(now int64) {
	for len(l.timers) > 0 && l.timers[0].when <= now {
		t := heap.Pop(&l.timers).(timer)
		p := t.p
		if p.closed {
			continue
		}
		if !t.idle {
			l.close(p)
			continue
		}
		idleAt := p.lastActive + int64(p.opts.IdleTimeout)
		if idleAt <= now {
			l.close(p)
			continue
		}
		heap.Push(&l.timers, timer{when: idleAt, p: p, idle: true})
	}
}

// read and write are the raw syscalls: the descriptors are non-blocking, so the
// scheduler need not hand the thread's P away around them. read returns 0 and no errno at
// the end of the stream.
func read(fd int, b []byte) (int, unix.Errno) {
	n, _, e := unix.RawSyscall(unix.SYS_READ, uintptr(fd), uintptr(unsafe.Pointer(&b[0])), uintptr(len(b)))
	if e != 0 {
		return 0, e
	}
	return int(n), 0
}

// write writes all of b unless the socket is full (EAGAIN) or fails; it returns how much
// was written either way.
func write(fd int, b []byte) (int, unix.Errno) {
	total := 0
	for total < len(b) {
		n, _, e := unix.RawSyscall(unix.SYS_WRITE, uintptr(fd), uintptr(unsafe.Pointer(&b[total])), uintptr(len(b)-total))
		if e == unix.EINTR {
			continue
		}
		if e != 0 {
			return total, e
		}
		total += int(n)
	}
	return total, 0
}

type timer struct {
	when int64
	p    *pair
	idle bool // an idle check (re-armed while the pair is active), else the termination delay
}

type timerHeap []timer

func (h timerHeap) Len() int           { return len(h) }
func (h timerHeap) Less(i, j int) bool { return h[i].when < h[j].when }
func (h timerHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *timerHeap) Push(x any)        { *h = append(*h, x.(timer)) }
func (h *timerHeap) Pop() any {
	old := *h
	t := old[len(old)-1]
	*h = old[:len(old)-1]
	return t
}
