// Package reqctx is the context of a request that the proxy's own servers (proxy/h1server,
// proxy/h2server) give their handlers.
package reqctx

import (
	"context"
	"sync"
)

// Context is a request's context: canceled when its handler returns, or when the server
// learns that the client went away (the stream was reset, the connection closed).
//
// Why not only context.WithCancel: the proxy's backend exchange registers a function to
// abort its connection when the request is canceled, and removes it when the exchange
// ends, for every request (context.AfterFunc). On a cancelCtx that is an AfterFunc
// context, a map of children made for the request, a closure and a removal: with the Done
// channel that callers make to tell a cancellable context, about 7% of the proxy's CPU
// per keep-alive request. Here the first function registered through the AfterFunc
// method takes a slot in the context itself (proxy/upstream calls the method when the
// context has one).
//
// Everything else is the embedded cancelCtx's, which this context cancels first: Done,
// Err, context.AfterFunc and contexts derived from it (they find the cancelCtx through
// Value and register with it as with any other), and the functions the method registers
// after the first.
type Context struct {
	context.Context // a cancelCtx under the connection's context
	cancelInner     context.CancelFunc
	// noSlot: the connection's context can be canceled too, which only the cancelCtx
	// hears of; every function is then registered with it.
	noSlot bool

	mu       sync.Mutex
	canceled bool
	slot     func() // the registered function the slot holds, or nil
	// gen counts the slot's registrations, so that a stop function called after its
	// registration ended does not remove a later one.
	gen uint64
}

// New returns a request context under the connection's context parent.
func New(parent context.Context) *Context {
	inner, cancel := context.WithCancel(parent)
	return &Context{Context: inner, cancelInner: cancel, noSlot: parent.Done() != nil}
}

// AfterFunc arranges for f to run in its own goroutine once the context is canceled, as
// context.AfterFunc does; stop reports whether it kept f from running.
func (c *Context) AfterFunc(f func()) (stop func() bool) {
	if c.noSlot {
		return context.AfterFunc(c.Context, f)
	}
	c.mu.Lock()
	if c.canceled || c.slot != nil {
		c.mu.Unlock()
		// The inner context is canceled too (or about to be: Cancel cancels it right
		// after it empties the slot), so f runs at once or with the others.
		return context.AfterFunc(c.Context, f)
	}
	c.slot = f
	c.gen++
	gen := c.gen
	c.mu.Unlock()
	return func() bool {
		c.mu.Lock()
		defer c.mu.Unlock()
		if c.slot == nil || c.gen != gen {
			return false // it ran, or it was stopped before
		}
		c.slot = nil
		return true
	}
}

// Cancel cancels the context: the inner context first, so that a function registered in
// the slot sees Err set when it runs, as with context.AfterFunc.
func (c *Context) Cancel() {
	c.mu.Lock()
	if c.canceled {
		c.mu.Unlock()
		return
	}
	c.canceled = true
	f := c.slot
	c.slot = nil
	c.mu.Unlock()
	c.cancelInner()
	if f != nil {
		go f()
	}
}
