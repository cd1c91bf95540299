package proxy

import (
	"bytes"
	"fmt"
	"math"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
)

// The mirrors' turns follow Traefik's count exactly, also under concurrent requests:
// after n requests a mirror at p percent has had ceil(n*p/100) copies.
func TestMirrorTurnsAreExactShares(t *testing.T) {
	percents := []uint64{0, 1, 25, 33, 50, 100}
	h := &mirroringHandler{}
	for _, p := range percents {
		h.mirrors = append(h.mirrors, &mirrorTarget{num: p, den: 100})
	}
	const workers, each = 8, 1250
	counts := make([]atomic.Uint64, len(percents))
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range each {
				mask := h.turns()
				for i := range percents {
					if mask&(1<<i) != 0 {
						counts[i].Add(1)
					}
				}
			}
		}()
	}
	wg.Wait()
	n := uint64(workers * each)
	for i, p := range percents {
		want := (n*p + 99) / 100
		if got := counts[i].Load(); got != want {
			t.Errorf("%d%% of %d requests: %d copies, want %d", p, n, got, want)
		}
	}
}

// Gateway API fractions: num of every den requests, exact at every count, also with
// denominators large enough that n*num would overflow.
func TestMirrorFractionsAreExact(t *testing.T) {
	for _, f := range []struct{ num, den uint64 }{{25, 50}, {1, 3}, {2, 3}, {1, 1000}, {7, 7}, {0, 5}, {1 << 30, 1<<31 - 1}} {
		h := &mirroringHandler{mirrors: []*mirrorTarget{{num: f.num, den: f.den}}}
		count := uint64(0)
		for n := uint64(1); n <= 3000; n++ {
			if h.turns() != 0 {
				count++
			}
			if want := (n*f.num + f.den - 1) / f.den; count != want {
				t.Fatalf("%d/%d after %d requests: %d copies, want %d", f.num, f.den, n, count, want)
			}
		}
	}
	// Far along the count, where n*num overflows 64 bits, the rule still holds.
	const num, den = 1<<31 - 2, 1<<31 - 1
	for n := uint64(1 << 40); n < 1<<40+1000; n++ {
		q := func(m uint64) uint64 { // ceil(m*num/den) without overflow: m = a*den + b
			a, b := m/den, m%den
			return a*num + (b*num+den-1)/den
		}
		if got, want := takes(n, num, den), q(n) > q(n-1); got != want {
			t.Fatalf("request %d at %d/%d: takes %v, want %v", n, num, den, got, want)
		}
	}
}

func TestReadUpTo(t *testing.T) {
	for _, tc := range []struct {
		body     string
		max      int64
		complete bool
	}{
		{"", 0, true}, {"a", 0, false}, {"abcd", 4, true}, {"abcde", 4, false}, {strings.Repeat("x", 1<<16), -1, true},
	} {
		data, complete, err := readUpTo(bytes.NewReader([]byte(tc.body)), tc.max)
		if err != nil || complete != tc.complete || (complete && string(data) != tc.body) || (!complete && int64(len(data)) != tc.max+1) {
			t.Errorf("readUpTo(%d bytes, %d) = %d bytes, %v, %v; want complete %v", len(tc.body), tc.max, len(data), complete, err, tc.complete)
		}
	}
}

// Highest random weight spreads client addresses in proportion to the weights.
func TestRendezvousSharesFollowWeights(t *testing.T) {
	h := &weightedHandler{weights: []int{2, 1, 0}, keys: []string{"a", "b", "c"}}
	counts := make([]int, 3)
	const clients = 30000
	for i := range clients {
		r := &http.Request{RemoteAddr: fmt.Sprintf("10.%d.%d.%d:1234", i>>16, (i>>8)&255, i&255)}
		counts[h.pickByClient(r)]++
	}
	if counts[2] != 0 || math.Abs(float64(counts[0])/clients-2.0/3) > 0.02 {
		t.Errorf("addresses per child %v of %d; want 2/3, 1/3, none", counts, clients)
	}
}
