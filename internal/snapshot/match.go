package snapshot

// A snapshot is immutable, and translate hands the next snapshot the very same route
// object for a route that did not change. So what changed between two snapshots is found
// by comparing pointers, in order: both lists are in evaluation order, and routes added,
// removed or replaced leave the others in theirs. At 10,000 routes that is a walk over
// two arrays, where a set of the last snapshot's routes cost every swap 10,000 map
// look-ups in each place that wanted to know.

// matchWindow is how far ahead the walk looks, in a plain scan, for a route it lost the
// other list's place on; past that it looks the route up in a map of the list, made on
// first need. A route moved in the order counts as removed and added, which costs its
// consumers work, never a wrong answer.
const matchWindow = 8

// RouteChanges says, for each HTTP route of a snapshot, whether the snapshot before it
// had the very same route object.
type RouteChanges struct {
	// Before is the previous snapshot's routes (nil for the first snapshot).
	Before []*HTTPRoute
	// From holds, for each route of the snapshot, its index in Before, or -1 when Before
	// did not have that object: the route is new or changed.
	From []int
	// Gone lists the indexes in Before of the routes the snapshot no longer has (removed,
	// or changed into another object), in order.
	Gone []int
	// Transports indexes the snapshot's transports by ID (TransportsByID), and
	// ChangedTransports holds the IDs of those added, removed or changed since Before's
	// snapshot (the package's ChangedTransports). The proxy's compile fills both, so that
	// the parts of a swap index 20,000 transports once; MatchRoutes leaves them nil.
	Transports        map[string]*Transport
	ChangedTransports map[string]bool
}

// MatchRoutes compares a snapshot's HTTP routes with the previous snapshot's. It is exact
// for the routes it matches (From[j] = i only when before[i] == routes[j], each i at most
// once), and matches every route kept when routes were only added, removed or replaced;
// a route that moved in the order is reported as gone and new.
func MatchRoutes(before, routes []*HTTPRoute) RouteChanges {
	c := RouteChanges{Before: before, From: make([]int, len(routes))}
	inBefore, inRoutes := finder{list: before}, finder{list: routes}
	i, j := 0, 0
	for j < len(routes) && i < len(before) {
		if before[i] == routes[j] {
			c.From[j] = i
			i, j = i+1, j+1
			continue
		}
		// before[i] further on in routes: routes[j:added] are new. routes[j] further on in
		// before: before[i:gone] are gone. Both (an order change): the shorter skip. Looked
		// for near first; then, a few routes replaced by as many (a changed route is a new
		// object in its old place: the lists meet again shortly after); then anywhere.
		added, gone := inRoutes.near(before[i], j+1), inBefore.near(routes[j], i+1)
		if added < 0 && gone < 0 {
			if d := replacedRun(before[i:], routes[j:]); d > 0 {
				for end := j + d; j < end; i, j = i+1, j+1 {
					c.Gone = append(c.Gone, i)
					c.From[j] = -1
				}
				continue
			}
			added, gone = inRoutes.anywhere(before[i], j+1), inBefore.anywhere(routes[j], i+1)
		}
		switch {
		case added >= 0 && (gone < 0 || added-j <= gone-i):
			for ; j < added; j++ {
				c.From[j] = -1
			}
		case gone >= 0:
			for ; i < gone; i++ {
				c.Gone = append(c.Gone, i)
			}
		default: // neither is in the other list: one replaced the other
			c.Gone = append(c.Gone, i)
			c.From[j] = -1
			i, j = i+1, j+1
		}
	}
	for ; j < len(routes); j++ {
		c.From[j] = -1
	}
	for ; i < len(before); i++ {
		c.Gone = append(c.Gone, i)
	}
	return c
}

// replacedRun returns d > 0 when before[d] == routes[d] for a d within matchWindow, the
// first such d, and 0 otherwise.
func replacedRun(before, routes []*HTTPRoute) int {
	for d := 1; d < len(before) && d < len(routes) && d <= matchWindow; d++ {
		if before[d] == routes[d] {
			return d
		}
	}
	return 0
}

// finder finds a route in a list at or after an index.
type finder struct {
	list []*HTTPRoute
	at   map[*HTTPRoute]int // made on first need
}

// near returns the index of r in list[from:from+matchWindow], or -1.
func (f *finder) near(r *HTTPRoute, from int) int {
	for k := from; k < len(f.list) && k < from+matchWindow; k++ {
		if f.list[k] == r {
			return k
		}
	}
	return -1
}

// anywhere returns the index of r in list[from:], or -1.
func (f *finder) anywhere(r *HTTPRoute, from int) int {
	if f.at == nil {
		f.at = make(map[*HTTPRoute]int, len(f.list))
		for k, x := range f.list {
			if _, dup := f.at[x]; !dup {
				f.at[x] = k
			}
		}
	}
	if k, ok := f.at[r]; ok && k >= from {
		return k
	}
	return -1
}
