package snapshot

import (
	"sync"
	"sync/atomic"
)

// Store holds the snapshot being served. Load is a single atomic read, safe on the hot
// path; Swap validates first, so a snapshot that fails validation is never served and the
// last good one keeps serving.
type Store struct {
	current    atomic.Pointer[Snapshot]
	generation atomic.Uint64

	mu        sync.Mutex // serialises Swap and guards listeners
	listeners []func(*Snapshot)
}

// Load returns the current snapshot, or nil before the first Swap. Callers load once per
// connection or request and use that generation to the end.
func (s *Store) Load() *Snapshot { return s.current.Load() }

// Generation counts successful swaps; 0 means nothing has been stored yet.
func (s *Store) Generation() uint64 { return s.generation.Load() }

// Swap validates next and, if it is sound, makes it the current snapshot and tells the
// listeners. It returns the validation error otherwise and changes nothing.
func (s *Store) Swap(next *Snapshot) error {
	if err := next.Validate(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	// Listeners (the proxy compiling its serving state) run before the snapshot becomes
	// current, so whatever reads the Store (the snapshot hash on the admin port, tests)
	// never runs ahead of what is actually served.
	for _, l := range s.listeners {
		l(next)
	}
	s.current.Store(next)
	s.generation.Add(1)
	return nil
}

// OnSwap registers fn to run on every successful Swap, in order, with the new snapshot,
// just before it becomes current. fn runs under the Store's lock and must not call Swap.
func (s *Store) OnSwap(fn func(*Snapshot)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.listeners = append(s.listeners, fn)
}
