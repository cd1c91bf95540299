package h2server

import (
	"net/http"
	"sync"
	"time"
)

// Handlers run on workers: goroutines that stay for the next stream once their handler
// returned, and end once idle for between idleWorkerTimeout and twice that.
//
// Why: a new goroutine starts with the runtime's average stack, small because most
// goroutines are idle connections, and forwarding a request grows it (a copy of the
// stack so far at each doubling). Starting a goroutine per stream and growing its stack
// was about 8% of the CPU under the HTTP/2 bench; a worker grows its stack once
// (growStack) and takes stream after stream.
//
// The idle workers form a stack, the last one to finish taking the next stream: its
// stack is the likeliest to be in the CPU's caches. Each waits on a channel of its own,
// with a plain receive. (Workers that all took their streams from one channel in a select
// with a timer for the idle timeout and the server's quit channel spent 3% of the CPU
// under the HTTP/2 bench in the select and the timer's reset, and took turns in order of
// arrival, the coldest first.) A sweep, armed while workers are idle, ends those that
// stayed idle for a whole round.
const idleWorkerTimeout = time.Second

// task is a stream and the handler to run for it.
type task struct {
	st      *stream
	handler http.HandlerFunc
}

// worker is a worker's own channel: a task, or closed to end it.
type worker struct {
	tasks chan task
	round uint64 // the pool's round when it last went idle
}

// workerPool holds the idle workers, the most recently idle last.
type workerPool struct {
	mu       sync.Mutex
	idle     []*worker
	round    uint64 // counts the sweeps
	sweeping bool   // a sweep is armed
	closed   bool   // by Shutdown: idle workers end, busy ones once their stream is done
}

// start runs the stream's handler on an idle worker, or on a new one.
func (s *Server) start(st *stream, handler http.HandlerFunc) {
	p := &s.workers
	p.mu.Lock()
	if n := len(p.idle); n > 0 {
		w := p.idle[n-1]
		p.idle[n-1] = nil
		p.idle = p.idle[:n-1]
		p.mu.Unlock()
		w.tasks <- task{st, handler} // a capacity of one: never blocks
		return
	}
	p.mu.Unlock()
	go s.work(&worker{tasks: make(chan task, 1)}, task{st, handler})
}

func (s *Server) work(w *worker, t task) {
	growStack()
	for {
		t.st.run(t.handler)
		t = task{} // the stream is done: an idle worker must not keep it
		if !s.workers.park(w) {
			return
		}
		var ok bool
		if t, ok = <-w.tasks; !ok {
			return
		}
	}
}

// park puts w on top of the idle workers; false when the server is shutting down.
func (p *workerPool) park(w *worker) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return false
	}
	w.round = p.round
	p.idle = append(p.idle, w)
	if !p.sweeping {
		p.sweeping = true
		time.AfterFunc(idleWorkerTimeout, p.sweep)
	}
	return true
}

// sweep ends the workers that went idle before the previous sweep: idle since, for one
// round at least. The idle workers are in the order they went idle, so those are at the
// bottom. The sweep arms the next while any worker is idle.
func (p *workerPool) sweep() {
	p.mu.Lock()
	defer p.mu.Unlock()
	old := 0
	for old < len(p.idle) && p.idle[old].round < p.round {
		close(p.idle[old].tasks)
		old++
	}
	n := copy(p.idle, p.idle[old:])
	clear(p.idle[n:])
	p.idle = p.idle[:n]
	p.round++
	if n > 0 && !p.closed {
		time.AfterFunc(idleWorkerTimeout, p.sweep)
	} else {
		p.sweeping = false
	}
}

// close ends the idle workers, and the others once their streams are done.
func (p *workerPool) close() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.closed = true
	for _, w := range p.idle {
		close(w.tasks)
	}
	clear(p.idle)
	p.idle = p.idle[:0]
}

// growStack grows the worker's stack once, to what forwarding a request reaches
// (httputil.ReverseProxy's frames alone are 2.5 KB), while it is still shallow: one
// growth with almost nothing to copy.
//
//go:noinline
func growStack() byte {
	var frame [6 << 10]byte
	frame[len(frame)-1] = 1
	return frame[frameIndex] // an index the compiler cannot know keeps the frame
}

var frameIndex = 0
