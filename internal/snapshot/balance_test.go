package snapshot

import (
	"strings"
	"testing"
)

func leaf(i int) *Balance { return &Balance{Backend: &i} }

// A route's Balance must cover its Backends exactly, with sound nodes: otherwise the
// snapshot is refused (the last good one keeps serving).
func TestBalanceCheck(t *testing.T) {
	for _, tc := range []struct {
		name    string
		b       *Balance
		backend int
		want    string // "" = sound
	}{
		{"mirroring", &Balance{Mirroring: &MirroringBalance{Main: leaf(0), Mirrors: []*Mirror{{Balance: leaf(1), Percent: 25}}}}, 2, ""},
		{"failover", &Balance{Failover: &FailoverBalance{Main: leaf(0), Fallback: leaf(1)}}, 2, ""},
		{"sticky", &Balance{Weighted: &WeightedBalance{Children: []*Balance{leaf(0), leaf(1)}, Weights: []int{1, 1}, Sticky: &StickyCookie{Name: "c"}, Keys: []string{"a", "b"}}}, 2, ""},
		{"unused backend", &Balance{Failover: &FailoverBalance{Main: leaf(0), Fallback: leaf(0)}}, 2, "backend 1 is no leaf"},
		{"leaf out of range", leaf(3), 1, "names backend 3 of 1"},
		{"percent over 100", &Balance{Mirroring: &MirroringBalance{Main: leaf(0), Mirrors: []*Mirror{{Balance: leaf(1), Percent: 101}}}}, 2, "percent from 0 to 100"},
		{"fraction", &Balance{Mirroring: &MirroringBalance{Main: leaf(0), Mirrors: []*Mirror{{Balance: leaf(1), Fraction: &Fraction{Numerator: 25, Denominator: 50}}}}}, 2, ""},
		{"fraction over 1", &Balance{Mirroring: &MirroringBalance{Main: leaf(0), Mirrors: []*Mirror{{Balance: leaf(1), Fraction: &Fraction{Numerator: 3, Denominator: 2}}}}}, 2, "numerator <= denominator"},
		{"fraction of nothing", &Balance{Mirroring: &MirroringBalance{Main: leaf(0), Mirrors: []*Mirror{{Balance: leaf(1), Fraction: &Fraction{}}}}}, 2, "denominator > 0"},
		{"two shapes", &Balance{Backend: leaf(0).Backend, Failover: &FailoverBalance{Main: leaf(0), Fallback: leaf(0)}}, 1, "more than one of"},
		{"no shape", &Balance{}, 0, "neither"},
		{"sticky without keys", &Balance{Weighted: &WeightedBalance{Children: []*Balance{leaf(0)}, Weights: []int{1}, Sticky: &StickyCookie{Name: "c"}}}, 1, "one key per child"},
		{"weights", &Balance{Weighted: &WeightedBalance{Children: []*Balance{leaf(0)}, Weights: []int{-1}}}, 1, "negative weight"},
	} {
		errs := strings.Join(tc.b.check(tc.backend), "; ")
		if (tc.want == "") != (errs == "") || !strings.Contains(errs, tc.want) {
			t.Errorf("%s: %q; want %q", tc.name, errs, tc.want)
		}
	}
}
