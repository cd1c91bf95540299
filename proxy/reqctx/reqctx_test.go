package reqctx

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"
)

// ran returns a function that closes the channel it returns when it runs.
func ran() (func(), chan struct{}) {
	ch := make(chan struct{})
	return func() { close(ch) }, ch
}

func waitRan(t *testing.T, ch chan struct{}, what string) {
	t.Helper()
	select {
	case <-ch:
	case <-time.After(10 * time.Second):
		t.Fatalf("%s did not run", what)
	}
}

// TestAfterFunc checks the slot against context.AfterFunc's contract:
// stop reports whether it kept the function from running; a function registered once the
// context is done runs at once; functions registered while the slot is taken, and
// contexts derived from the request's, end with it.
func TestAfterFunc(t *testing.T) {
	t.Run("stopped before the cancel", func(t *testing.T) {
		ctx := New(context.Background())
		var runs atomic.Int32
		stop := ctx.AfterFunc(func() { runs.Add(1) })
		if !stop() {
			t.Fatal("the first stop reported that the function had run")
		}
		if stop() {
			t.Fatal("a second stop reported that it kept the function from running")
		}
		f, ch := ran()
		ctx.AfterFunc(f) // the slot is free again
		ctx.Cancel()
		waitRan(t, ch, "the function registered after a stop")
		if runs.Load() != 0 {
			t.Fatal("a stopped function ran")
		}
	})
	t.Run("a stale stop leaves a later registration", func(t *testing.T) {
		ctx := New(context.Background())
		stale := ctx.AfterFunc(func() {})
		stale()
		f, ch := ran()
		stop := ctx.AfterFunc(f)
		if stale() {
			t.Fatal("the first registration's stop removed the second's function")
		}
		ctx.Cancel()
		waitRan(t, ch, "the second registration")
		if stop() {
			t.Fatal("stop after the function ran reported that it kept it from running")
		}
	})
	t.Run("several, derived, and after the cancel", func(t *testing.T) {
		ctx := New(context.Background())
		f1, ch1 := ran()
		f2, ch2 := ran()
		ctx.AfterFunc(f1)
		stop2 := ctx.AfterFunc(f2) // the slot is taken
		derived, cancel := context.WithTimeout(ctx, time.Hour)
		defer cancel()
		select {
		case <-ctx.Done():
			t.Fatal("done before the cancel")
		default:
		}
		ctx.Cancel()
		waitRan(t, ch1, "the slot's function")
		waitRan(t, ch2, "the second function")
		if stop2() {
			t.Fatal("the second function's stop reported that it kept it from running")
		}
		<-derived.Done()
		if !errors.Is(derived.Err(), context.Canceled) || !errors.Is(ctx.Err(), context.Canceled) {
			t.Fatalf("errors %v and %v, want context.Canceled", derived.Err(), ctx.Err())
		}
		f3, ch3 := ran()
		ctx.AfterFunc(f3)
		waitRan(t, ch3, "a function registered after the cancel")
		ctx.Cancel() // again: nothing happens
	})
	t.Run("under a connection context that is canceled", func(t *testing.T) {
		conn, cancelConn := context.WithCancel(context.Background())
		ctx := New(conn)
		f, ch := ran()
		ctx.AfterFunc(f)
		cancelConn()
		waitRan(t, ch, "the function of a request whose connection's context was canceled")
		f2, ch2 := ran()
		ctx.AfterFunc(f2)
		waitRan(t, ch2, "a function registered once the connection's context was canceled")
		ctx.Cancel()
	})
}

// A stop function removes its own registration only, whichever of the slot and the map
// holds it and whatever was registered after it.
func TestStopRemovesItsOwnFunction(t *testing.T) {
	ctx := New(context.Background())
	var ranSlot, ranStopped atomic.Int32
	stopSlot := ctx.AfterFunc(func() { ranSlot.Add(1) })
	stopMore := ctx.AfterFunc(func() { ranStopped.Add(1) })
	kept, ch := ran()
	ctx.AfterFunc(kept)
	if !stopSlot() || !stopMore() {
		t.Fatal("a stop before the cancel reported that its function had run")
	}
	if stopSlot() || stopMore() {
		t.Fatal("a second stop reported that it kept its function from running")
	}
	ctx.Cancel()
	waitRan(t, ch, "the function that was not stopped")
	if ranSlot.Load() != 0 || ranStopped.Load() != 0 {
		t.Fatal("a stopped function ran")
	}
}

// Done, Err, Cause, Value and Deadline answer as a context.WithCancel's would.
func TestContextMethods(t *testing.T) {
	type key struct{}
	cancellable, cancelConn := context.WithCancel(context.WithValue(context.Background(), key{}, "conn"))
	defer cancelConn()
	for _, parent := range []context.Context{context.WithValue(context.Background(), key{}, "conn"), cancellable} {
		ctx := New(parent)
		if ctx.Value(key{}) != "conn" {
			t.Errorf("Value: %v, want the connection context's", ctx.Value(key{}))
		}
		if _, ok := ctx.Deadline(); ok {
			t.Error("a deadline under a connection context without one")
		}
		if ctx.Err() != nil {
			t.Errorf("Err before the cancel: %v", ctx.Err())
		}
		done := ctx.Done()
		select {
		case <-done:
			t.Fatal("done before the cancel")
		default:
		}
		ctx.Cancel()
		<-done
		<-ctx.Done()
		if !errors.Is(ctx.Err(), context.Canceled) || !errors.Is(context.Cause(ctx), context.Canceled) {
			t.Errorf("Err %v, Cause %v; want context.Canceled", ctx.Err(), context.Cause(ctx))
		}
		late := New(parent)
		late.Cancel()
		<-late.Done() // made after the cancel: closed already
	}
}
