package proxy

import (
	"crypto/sha256"
	"encoding/hex"
	"sync/atomic"
	"time"
)

// ejectFor is how long an endpoint is skipped after a connect or TLS failure.
const ejectFor = 10 * time.Second

// schedule is a precomputed smooth weighted round-robin order: picking is one atomic
// increment, with no lock on the hot path.
type schedule struct {
	order []int
	next  atomic.Uint64
}

func newSchedule(weights []int) *schedule {
	g := 0
	total := 0
	for _, w := range weights {
		g = gcd(g, w)
	}
	if g == 0 {
		return &schedule{}
	}
	reduced := make([]int, len(weights))
	for i, w := range weights {
		reduced[i] = w / g
		total += reduced[i]
	}
	// Cap the schedule length; proportions stay within rounding for extreme weights.
	const maxLen = 4096
	if total > maxLen {
		total = 0
		for i, w := range reduced {
			reduced[i] = max(1, w*maxLen/sum(reduced))
			if w == 0 {
				reduced[i] = 0
			}
			total += reduced[i]
		}
	}
	current := make([]int, len(reduced))
	order := make([]int, 0, total)
	for range total {
		best := -1
		for i, w := range reduced {
			current[i] += w
			if w > 0 && (best < 0 || current[i] > current[best]) {
				best = i
			}
		}
		current[best] -= total
		order = append(order, best)
	}
	return &schedule{order: order}
}

// pick returns the next index, or -1 when every weight is zero.
func (s *schedule) pick() int {
	if len(s.order) == 0 {
		return -1
	}
	return s.order[(s.next.Add(1)-1)%uint64(len(s.order))]
}

func gcd(a, b int) int {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}

func sum(xs []int) int {
	t := 0
	for _, x := range xs {
		t += x
	}
	return t
}

// stickyValue is the cookie value for an endpoint: a hash, so internal addresses are not
// disclosed to clients.
func stickyValue(address string) string {
	s := sha256.Sum256([]byte("bridgehead sticky\x00" + address))
	return hex.EncodeToString(s[:8])
}
