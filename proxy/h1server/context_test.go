package h1server

import (
	"context"
	"errors"
	"io"
	"net/http"
	"testing"
	"time"
)

type afterFuncer interface {
	AfterFunc(func()) func() bool
}

// TestAClientThatGoesAwayRunsTheRequestsAfterFunc: the function a backend exchange
// registers through the request context's AfterFunc (to abort its connection) runs when
// the client leaves during the request, and sees the context's error set.
func TestAClientThatGoesAwayRunsTheRequestsAfterFunc(t *testing.T) {
	aborted := make(chan error, 1)
	started := make(chan struct{})
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(started)
		ctx := r.Context()
		a, ok := ctx.(afterFuncer)
		if !ok {
			t.Error("the request's context has no AfterFunc method")
			return
		}
		done := make(chan struct{})
		stop := a.AfterFunc(func() { aborted <- ctx.Err(); close(done) })
		select {
		case <-done:
		case <-time.After(10 * time.Second):
		}
		if stop() {
			t.Error("stop kept from running a function that ran")
		}
	})
	ts := startServer(t, h, func(s *Server) { s.WatchDelay = time.Millisecond })
	c, _ := dial(t, ts.addr)
	_, _ = io.WriteString(c, "GET /gone HTTP/1.1\r\nHost: a\r\n\r\n")
	<-started
	_ = c.Close()
	select {
	case err := <-aborted:
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("the context's error when the function ran: %v, want context.Canceled", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the function registered for the request of a client that went away did not run")
	}
}
