package status

import (
	"context"
	"reflect"
	"sync"

	"github.com/bridgehead/bridgehead/internal/verdict"
)

// mailbox holds the newest published value and the newest runtime conditions for a
// writer that runs on the leader only. Publishing is cheap and may happen on every
// replica; the writer's loop wakes on either and always works on the newest pair, so a
// burst of builds is one round of writes.
type mailbox[T any] struct {
	once    sync.Once
	wake    chan struct{}
	mu      sync.Mutex
	pending T
	runtime verdict.Conditions
}

func (m *mailbox[T]) init() { m.once.Do(func() { m.wake = make(chan struct{}, 1) }) }

func (m *mailbox[T]) notify() {
	select {
	case m.wake <- struct{}{}:
	default:
	}
}

// publish replaces the pending value; an older unwritten one is dropped.
func (m *mailbox[T]) publish(v T) {
	m.init()
	m.mu.Lock()
	m.pending = v
	m.mu.Unlock()
	m.notify()
}

// setRuntime replaces the runtime conditions; unchanged ones cause no work, so a flood of
// identical failures is one round of writes.
func (m *mailbox[T]) setRuntime(c verdict.Conditions) {
	m.init()
	m.mu.Lock()
	same := reflect.DeepEqual(m.runtime, c)
	m.runtime = c
	m.mu.Unlock()
	if !same {
		m.notify()
	}
}

// run calls work with the newest pair after every wake-up, until ctx ends.
func (m *mailbox[T]) run(ctx context.Context, work func(T, verdict.Conditions)) {
	m.init()
	for {
		select {
		case <-ctx.Done():
			return
		case <-m.wake:
		}
		m.mu.Lock()
		v, runtime := m.pending, m.runtime
		m.mu.Unlock()
		work(v, runtime)
	}
}
