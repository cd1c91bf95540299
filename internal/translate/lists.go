package translate

// lists hands out the first element of the lists in a map of lists (the routes claiming
// a rule slot, the claims on a TLS host), cut from chunks: nearly every list has one
// element, and one allocation per list was 20,000 of a build's allocations at 10,000
// routes. A list's first element is capped, so a second element copies the list out.
type lists[E any] struct {
	free []E
	// chunks are the chunks cut so far; the first next of them have been handed out since
	// the last recycle. A memo's lists hand them out again in the next call (recycle).
	chunks [][]E
	next   int
}

// recycle empties the chunks handed out, to hand them out again: the caller guarantees
// that no list cut from them is used any more. Emptied, they keep nothing alive.
func (s *lists[E]) recycle() {
	for _, c := range s.chunks[:s.next] {
		clear(c)
	}
	s.free, s.next = nil, 0
}

// add appends e to m[k].
func add[K comparable, E any](m map[K][]E, k K, e E, s *lists[E]) {
	if l, ok := m[k]; ok {
		m[k] = append(l, e)
		return
	}
	if len(s.free) == 0 {
		if s.next == len(s.chunks) {
			s.chunks = append(s.chunks, make([]E, 1024))
		}
		s.free = s.chunks[s.next]
		s.next++
	}
	s.free[0] = e
	m[k] = s.free[0:1:1]
	s.free = s.free[1:]
}
