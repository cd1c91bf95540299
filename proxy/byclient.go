package proxy

import (
	"hash/fnv"
	"math"
	"net"
	"net/http"
)

// Highest random weight (rendezvous hashing), as Traefik's highestRandomWeight
// TraefikService: each child scores a hash of the client's address and the child's key,
// turned into -w/ln(u) for u in (0,1); the highest score wins. A client address keeps
// its child while the children stay, and when one goes, only its clients move.

// pickByClient returns the child for the request's client address, or -1 when no child
// may serve.
func (h *weightedHandler) pickByClient(r *http.Request) int {
	client, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		client = r.RemoteAddr
	}
	best, bestScore := -1, 0.0
	for i, w := range h.weights {
		if w <= 0 {
			continue
		}
		if s := rendezvousScore(client, h.keys[i], w); best < 0 || s > bestScore {
			best, bestScore = i, s
		}
	}
	return best
}

// rendezvousScore is the weighted score of key for client.
func rendezvousScore(client, key string, weight int) float64 {
	f := fnv.New64a()
	_, _ = f.Write([]byte(client))
	_, _ = f.Write([]byte{0})
	_, _ = f.Write([]byte(key))
	// FNV's high bits barely change with the last bytes of similar inputs (client
	// addresses differ in a digit or two), so they are mixed first (SplitMix64's
	// finalizer); u is then in (0, 1), never 0, whose logarithm gives no score.
	x := f.Sum64()
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	x ^= x >> 31
	u := (float64(x>>11) + 0.5) / (1 << 53)
	return -float64(weight) / math.Log(u)
}
