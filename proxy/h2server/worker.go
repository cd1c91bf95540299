package h2server

import (
	"net/http"
	"time"
)

// Handlers run on workers: goroutines that stay for the next stream once their handler
// returned, for idleWorkerTimeout at most.
//
// Why: a new goroutine starts with the runtime's average stack, small because most
// goroutines are idle connections, and forwarding a request grows it (a copy of the
// stack so far at each doubling). Starting a goroutine per stream and growing its stack
// was about 8% of the CPU under the HTTP/2 bench; a worker grows its stack once
// (growStack) and takes stream after stream through a channel.
const idleWorkerTimeout = time.Second

// task is a stream and the handler to run for it.
type task struct {
	st      *stream
	handler http.HandlerFunc
}

// start runs the stream's handler on an idle worker, or on a new one.
func (s *Server) start(st *stream, handler http.HandlerFunc) {
	select {
	case s.work <- task{st, handler}:
	default:
		go s.worker(task{st, handler})
	}
}

func (s *Server) worker(t task) {
	growStack()
	idle := time.NewTimer(idleWorkerTimeout)
	defer idle.Stop()
	for {
		t.st.run(t.handler)
		idle.Reset(idleWorkerTimeout)
		select {
		case t = <-s.work:
		case <-idle.C:
			return
		case <-s.quit:
			return
		}
	}
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
