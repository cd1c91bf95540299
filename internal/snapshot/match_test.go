package snapshot

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
)

// checkMatch fails t unless c is exact: every match pairs the same object, every index of
// before is matched once or gone once, and Gone is in order.
func checkMatch(t *testing.T, before, routes []*HTTPRoute, c RouteChanges) (matched int) {
	t.Helper()
	used := make([]bool, len(before))
	for j, i := range c.From {
		if i < 0 {
			continue
		}
		if before[i] != routes[j] {
			t.Fatalf("route %d matched to %d, another object", j, i)
		}
		if used[i] {
			t.Fatalf("index %d of before matched twice", i)
		}
		used[i], matched = true, matched+1
	}
	if !slices.IsSorted(c.Gone) {
		t.Fatalf("gone not in order: %v", c.Gone)
	}
	for _, i := range c.Gone {
		if used[i] {
			t.Fatalf("index %d both matched and gone", i)
		}
		used[i] = true
	}
	if n := slices.Index(used, false); n >= 0 {
		t.Fatalf("index %d of before neither matched nor gone", n)
	}
	return matched
}

func newRoutes(n int, prefix string) []*HTTPRoute {
	out := make([]*HTTPRoute, n)
	for i := range out {
		out[i] = &HTTPRoute{RouteHead: RouteHead{ID: fmt.Sprintf("%s%d", prefix, i)}}
	}
	return out
}

// Routes only added, removed or replaced, one at a time or in runs longer than the scan's
// window: every route the two snapshots share is matched, so a swap redoes only what
// changed.
func TestMatchRoutesFindsEveryKeptRouteAfterEdits(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for round := range 500 {
		before := newRoutes(rng.IntN(300), "r")
		routes := slices.Clone(before)
		for edit := range 1 + rng.IntN(4) {
			at := rng.IntN(len(routes) + 1)
			run := 1 + rng.IntN(3)
			if rng.IntN(4) == 0 {
				run = matchWindow + rng.IntN(40) // longer than the scan looks
			}
			switch rng.IntN(3) {
			case 0:
				routes = slices.Insert(routes, at, newRoutes(run, fmt.Sprintf("new%d.%d.", round, edit))...)
			case 1:
				routes = slices.Delete(routes, at, min(at+run, len(routes)))
			case 2:
				end := min(at+run, len(routes))
				routes = slices.Replace(routes, at, end, newRoutes(end-at, fmt.Sprintf("chg%d.%d.", round, edit))...)
			}
		}
		c := MatchRoutes(before, routes)
		shared := 0
		for _, r := range routes {
			if slices.Contains(before, r) {
				shared++
			}
		}
		if got := checkMatch(t, before, routes, c); got != shared {
			t.Fatalf("round %d: %d of the %d shared routes matched", round, got, shared)
		}
	}
}

// Routes moved in the order, and unrelated lists: whatever is matched is matched right.
func TestMatchRoutesIsExactWhenRoutesMove(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for range 300 {
		before := newRoutes(rng.IntN(200), "r")
		routes := slices.Clone(before)
		rng.Shuffle(len(routes), func(a, b int) {
			if rng.IntN(10) == 0 {
				routes[a], routes[b] = routes[b], routes[a]
			}
		})
		routes = append(routes, newRoutes(rng.IntN(5), "x")...)
		checkMatch(t, before, routes, MatchRoutes(before, routes))
	}
	a := newRoutes(50, "a")
	c := MatchRoutes(nil, a)
	if checkMatch(t, nil, a, c) != 0 || slices.ContainsFunc(c.From, func(i int) bool { return i != -1 }) {
		t.Fatalf("first snapshot: %v", c.From)
	}
	if c := MatchRoutes(a, nil); len(c.Gone) != 50 {
		t.Fatalf("every route removed: gone %v", c.Gone)
	}
}

// BenchmarkMatchRoutes10kOneChanged is what a swap pays to learn what changed at 10,000
// routes when one route changed.
func BenchmarkMatchRoutes10kOneChanged(b *testing.B) {
	before := newRoutes(10000, "r")
	routes := slices.Clone(before)
	routes[5000] = &HTTPRoute{}
	b.ReportAllocs()
	for b.Loop() {
		if c := MatchRoutes(before, routes); len(c.Gone) != 1 {
			b.Fatal(c.Gone)
		}
	}
}
