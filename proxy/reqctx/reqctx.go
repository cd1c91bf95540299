// Package reqctx is the context of a request that the proxy's own servers (proxy/h1server,
// proxy/h2server) give their handlers.
package reqctx

import (
	"context"
	"sync"
	"time"
)

// Context is a request's context: canceled when its handler returns, or when the server
// learns that the client went away (the stream was reset, the connection closed).
//
// Why not context.WithCancel: the proxy's backend exchange registers a function to abort
// its connection when the request is canceled, and removes it when the exchange ends, for
// every request (context.AfterFunc). On a cancelCtx that is an AfterFunc context, a map of
// children made for the request, a closure and a removal: with the Done channel that
// callers make to tell a cancellable context, about 7% of the proxy's CPU per keep-alive
// request. Here the first function registered through the AfterFunc method takes a slot
// in the context itself (proxy/upstream calls the method when the context has one).
//
// Under a connection context that cannot be canceled (the servers' own) the context is
// entirely this type's: the Done channel is made only when asked for, and the functions
// registered after the first, among them those of contexts derived from this one (the
// context package registers them through the AfterFunc method), wait in a map. That
// spares each request a cancelCtx, its CancelFunc and their allocations (3.6% of the
// bytes allocated per HTTP/2 request through the proxy).
//
// Under a connection context that can be canceled, only a cancelCtx hears of its
// cancellation: the context is then that cancelCtx's (see inner), and every function is
// registered with it.
type Context struct {
	parent context.Context
	// inner, when the parent can be canceled: a cancelCtx under it, which answers Done,
	// Err, Value and AfterFunc.
	inner       context.Context
	cancelInner context.CancelFunc

	mu       sync.Mutex
	canceled bool
	done     chan struct{} // made by the first Done; closed by Cancel
	slot     func()        // a registered function, or nil
	// gen counts the registrations: slotGen is the slot's, so that a stop function
	// called after its registration ended does not remove a later one; it keys more.
	gen, slotGen uint64
	more         map[uint64]func() // the functions registered while the slot was taken
}

// New returns a request context under the connection's context parent.
func New(parent context.Context) *Context {
	c := &Context{parent: parent}
	if parent.Done() != nil {
		c.inner, c.cancelInner = context.WithCancel(parent)
	}
	return c
}

// Deadline is the connection context's.
func (c *Context) Deadline() (time.Time, bool) {
	if c.inner != nil {
		return c.inner.Deadline()
	}
	return c.parent.Deadline()
}

// Done returns a channel closed once the context is canceled.
func (c *Context) Done() <-chan struct{} {
	if c.inner != nil {
		return c.inner.Done()
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.done == nil {
		c.done = make(chan struct{})
		if c.canceled {
			close(c.done)
		}
	}
	return c.done
}

// Err is context.Canceled once the context is canceled, nil before.
func (c *Context) Err() error {
	if c.inner != nil {
		return c.inner.Err()
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.canceled {
		return context.Canceled
	}
	return nil
}

// Value is the connection context's value for key.
func (c *Context) Value(key any) any {
	if c.inner != nil {
		return c.inner.Value(key)
	}
	return c.parent.Value(key)
}

// AfterFunc arranges for f to run in its own goroutine once the context is canceled, as
// context.AfterFunc does; stop reports whether it kept f from running.
func (c *Context) AfterFunc(f func()) (stop func() bool) {
	if c.inner != nil {
		return context.AfterFunc(c.inner, f)
	}
	c.mu.Lock()
	if c.canceled {
		c.mu.Unlock()
		go f()
		return func() bool { return false }
	}
	c.gen++
	gen := c.gen
	if c.slot == nil {
		c.slot, c.slotGen = f, gen
		c.mu.Unlock()
		return func() bool {
			c.mu.Lock()
			defer c.mu.Unlock()
			if c.slot == nil || c.slotGen != gen {
				return false // it ran, or it was stopped before
			}
			c.slot = nil
			return true
		}
	}
	if c.more == nil {
		c.more = make(map[uint64]func())
	}
	c.more[gen] = f
	c.mu.Unlock()
	return func() bool {
		c.mu.Lock()
		defer c.mu.Unlock()
		if _, ok := c.more[gen]; !ok {
			return false
		}
		delete(c.more, gen)
		return true
	}
}

// Cancel cancels the context. The registered functions start after Err is set, as with
// context.AfterFunc.
func (c *Context) Cancel() {
	if c.inner != nil {
		c.cancelInner()
		return
	}
	c.mu.Lock()
	if c.canceled {
		c.mu.Unlock()
		return
	}
	c.canceled = true
	if c.done != nil {
		close(c.done)
	}
	f, more := c.slot, c.more
	c.slot, c.more = nil, nil
	c.mu.Unlock()
	if f != nil {
		go f()
	}
	for _, f := range more {
		go f()
	}
}
