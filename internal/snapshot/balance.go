package snapshot

import "fmt"

// Balance is how a route spreads its requests when one weighted list of Backends cannot
// say it: a TraefikService that mirrors requests, that pins a client with a cookie to
// the service it chose, or that fails over to a fallback. It is a tree whose leaves are the route's Backends (by index);
// every Backend of the route is a leaf of it, mirrors included.
//
// A leaf sets Backend only; an inner node exactly one of Weighted, Mirroring and
// Failover.
type Balance struct {
	// Backend, on a leaf, is the index of its backend in the route's Backends.
	Backend *int `json:"backend,omitempty"`
	// Weighted balances over Children by Weights.
	Weighted *WeightedBalance `json:"weighted,omitempty"`
	// Mirroring sends every request to Main and copies some to each mirror.
	Mirroring *MirroringBalance `json:"mirroring,omitempty"`
	// Failover sends requests to Main while it has an available endpoint, else to
	// Fallback.
	Failover *FailoverBalance `json:"failover,omitempty"`
}

// FailoverBalance is Traefik's failover: Main while it can answer, Fallback otherwise.
type FailoverBalance struct {
	Source   Ref      `json:"source"`
	Main     *Balance `json:"main"`
	Fallback *Balance `json:"fallback"`
}

// WeightedBalance is a weighted round robin over subtrees.
type WeightedBalance struct {
	// Source is the TraefikService (or the route) this level comes from.
	Source   Ref        `json:"source"`
	Children []*Balance `json:"children"`
	Weights  []int      `json:"weights"`
	// Sticky, when set, pins a client to the child it was sent to first, with this
	// cookie; Keys are the cookie's values, one per child.
	Sticky *StickyCookie `json:"sticky,omitempty"`
	Keys   []string      `json:"keys,omitempty"`
	// ByClient chooses, instead of a round robin, the child with the highest weighted
	// hash of the client's address and its Key (Traefik's highestRandomWeight).
	ByClient bool `json:"byClient,omitempty"`
}

// MirroringBalance is Traefik's mirroring: Main answers; each mirror gets a copy of
// Percent of the requests, sent after Main answered, whose answer is discarded.
type MirroringBalance struct {
	Source  Ref       `json:"source"`
	Main    *Balance  `json:"main"`
	Mirrors []*Mirror `json:"mirrors,omitempty"`
	// MirrorBody copies the request body to the mirrors; without it they get none.
	MirrorBody bool `json:"mirrorBody"`
	// MaxBodySize is the largest body that is mirrored; negative means no limit.
	MaxBodySize int64 `json:"maxBodySize"`
}

// Mirror is one mirror of a MirroringBalance. It gets Percent of the requests, or, when
// Fraction is set, Fraction.Numerator out of every Fraction.Denominator (Gateway API
// HTTPRequestMirrorFilter: percent, or fraction for finer shares). The share is
// counted, not drawn: exact at every request count.
type Mirror struct {
	Balance  *Balance  `json:"balance"`
	Percent  int       `json:"percent"`
	Fraction *Fraction `json:"fraction,omitempty"`
}

// Fraction is Numerator out of Denominator (Gateway API Fraction; its Denominator
// defaults to 100, which the translator fills in). 0 <= Numerator <= Denominator, and
// Denominator > 0.
type Fraction struct {
	Numerator   int `json:"numerator"`
	Denominator int `json:"denominator"`
}

// Share is the mirror's part of the requests as numerator and denominator.
func (m *Mirror) Share() (numerator, denominator int) {
	if m.Fraction != nil {
		return m.Fraction.Numerator, m.Fraction.Denominator
	}
	return m.Percent, 100
}

// Leaf reports whether the node is a backend.
func (b *Balance) Leaf() bool { return b.Backend != nil }

// check reports what is inconsistent in a route's tree: a leaf outside Backends, a
// backend that is no leaf, a node with both or neither shape, a percent out of range.
func (b *Balance) check(backends int) []string {
	var errs []string
	seen := make([]bool, backends)
	var walk func(n *Balance, where string)
	walk = func(n *Balance, where string) {
		switch {
		case n == nil:
			errs = append(errs, where+" is empty")
		case shapes(n) > 1:
			errs = append(errs, where+" has more than one of backend, weighted, mirroring and failover")
		case n.Leaf():
			if *n.Backend < 0 || *n.Backend >= backends {
				errs = append(errs, fmt.Sprintf("%s names backend %d of %d", where, *n.Backend, backends))
				return
			}
			seen[*n.Backend] = true
		case n.Weighted != nil:
			w := n.Weighted
			if len(w.Children) == 0 || len(w.Children) != len(w.Weights) {
				errs = append(errs, where+" has no children, or not one weight per child")
			}
			if (w.Sticky != nil || w.ByClient) && len(w.Keys) != len(w.Children) {
				errs = append(errs, where+" is sticky or by client without one key per child")
			}
			for i, c := range w.Children {
				if i < len(w.Weights) && w.Weights[i] < 0 {
					errs = append(errs, fmt.Sprintf("%s child %d has a negative weight", where, i))
				}
				walk(c, fmt.Sprintf("%s/%d", where, i))
			}
		case n.Failover != nil:
			walk(n.Failover.Main, where+"/main")
			walk(n.Failover.Fallback, where+"/fallback")
		case n.Mirroring == nil:
			errs = append(errs, where+" is neither a backend, weighted, mirroring nor failover")
		default:
			m := n.Mirroring
			walk(m.Main, where+"/main")
			for i, mr := range m.Mirrors {
				if mr == nil || mr.Percent < 0 || mr.Percent > 100 {
					errs = append(errs, fmt.Sprintf("%s mirror %d needs a percent from 0 to 100", where, i))
					continue
				}
				if f := mr.Fraction; f != nil && (f.Denominator < 1 || f.Numerator < 0 || f.Numerator > f.Denominator) {
					errs = append(errs, fmt.Sprintf("%s mirror %d needs a fraction with 0 <= numerator <= denominator, denominator > 0", where, i))
					continue
				}
				walk(mr.Balance, fmt.Sprintf("%s/mirror%d", where, i))
			}
		}
	}
	walk(b, "balance")
	for i, ok := range seen {
		if !ok {
			errs = append(errs, fmt.Sprintf("backend %d is no leaf of the balance", i))
		}
	}
	return errs
}

// shapes counts the node's kinds; a sound node has one.
func shapes(n *Balance) int {
	c := 0
	for _, set := range []bool{n.Backend != nil, n.Weighted != nil, n.Mirroring != nil, n.Failover != nil} {
		if set {
			c++
		}
	}
	return c
}
