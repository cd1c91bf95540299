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
		h.mirrors = append(h.mirrors, &mirrorTarget{percent: p})
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
