package middleware

import (
	"hash/maphash"
	"net/http"
	"strconv"
	"sync"

	"github.com/bridgehead/bridgehead/internal/snapshot"
)

// inFlightReq is Traefik's inFlightReq: a source with amount requests in progress gets
// 429 for one more, until one of them finishes.
type inFlightReq struct {
	next    http.Handler
	source  sourceOf
	counts  *inFlight
	tooMany []byte
}

func newInFlightReq(c *snapshot.InFlightReq, counts *inFlight, next http.Handler) http.Handler {
	return &inFlightReq{
		next:   next,
		source: newSourceOf(c.Source),
		counts: counts,
		// Traefik's answer names the limit too.
		tooMany: []byte("max connections reached: " + strconv.FormatInt(c.Amount, 10) + "\n"),
	}
}

func (m *inFlightReq) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	key, ok := m.source(r)
	if !ok {
		writeText(w, http.StatusInternalServerError, noSource)
		return
	}
	if !m.counts.acquire(key) {
		writeText(w, http.StatusTooManyRequests, m.tooMany)
		return
	}
	// Released however next ends, a panic (http.ErrAbortHandler) included.
	defer m.counts.release(key)
	m.next.ServeHTTP(w, r)
}

// inFlight counts the requests in progress per source, sharded like buckets. A source
// with none in progress takes no memory.
type inFlight struct {
	max    int64
	seed   maphash.Seed
	shards [bucketShards]inFlightShard
}

type inFlightShard struct {
	mu sync.Mutex
	m  map[string]int64
}

func newInFlight(c *snapshot.InFlightReq) *inFlight {
	f := &inFlight{max: c.Amount, seed: maphash.MakeSeed()}
	for i := range f.shards {
		f.shards[i].m = map[string]int64{}
	}
	return f
}

func (f *inFlight) shard(key string) *inFlightShard {
	return &f.shards[maphash.String(f.seed, key)%bucketShards]
}

func (f *inFlight) acquire(key string) bool {
	s := f.shard(key)
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.m[key] >= f.max {
		return false
	}
	s.m[key]++
	return true
}

func (f *inFlight) release(key string) {
	s := f.shard(key)
	s.mu.Lock()
	defer s.mu.Unlock()
	if n := s.m[key] - 1; n > 0 {
		s.m[key] = n
	} else {
		delete(s.m, key)
	}
}
