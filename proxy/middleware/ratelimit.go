package middleware

import (
	"hash/maphash"
	"math"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/bridgehead/bridgehead/internal/snapshot"
)

// maxRateSources bounds the buckets one rateLimit keeps (Traefik's bound too); beyond it
// the bucket that would expire soonest is forgotten.
const maxRateSources = 65536

const bucketShards = 16

var tooManyRequests = []byte("Too Many Requests\n")

// rateLimit is Traefik's rateLimit: a token bucket per source. A request takes a token;
// when none is left it reserves the next one and waits for it if that takes at most
// maxDelay, and otherwise gets 429 with Retry-After (whole seconds, rounded up) and
// X-Retry-In (the exact wait), as Traefik answers.
type rateLimit struct {
	next    http.Handler
	source  sourceOf
	buckets *buckets
}

// newRateLimit builds the middleware on buckets, which outlive the snapshot (see Memory).
func newRateLimit(c *snapshot.RateLimit, b *buckets, next http.Handler) http.Handler {
	if c.Average <= 0 {
		return next // Traefik: average 0 is no limit
	}
	return &rateLimit{next: next, source: newSourceOf(c.Source), buckets: b}
}

// newBuckets sizes the buckets as Traefik does: rate = average/period; a wait of up to
// half the interval between tokens (500ms below one token a second) is waited out.
func newBuckets(c *snapshot.RateLimit, now func() time.Time) *buckets {
	period := c.Period
	if period <= 0 {
		period = time.Second
	}
	rate := float64(c.Average) * float64(time.Second) / float64(period)
	burst := c.Burst
	if burst < 1 {
		burst = 1
	}
	maxDelay := 500 * time.Millisecond
	if rate >= 1 {
		maxDelay = time.Second / (time.Duration(rate) * 2)
	}
	// A bucket idle this long is full again (or nearly, at high bursts), so forgetting it
	// costs nothing; Traefik's ttl.
	ttl := 2 * time.Second
	if rate < 1 && rate > 0 {
		ttl = time.Duration(1+int(1/rate)) * time.Second
	}
	b := &buckets{rate: rate, burst: float64(burst), maxDelay: maxDelay, ttl: ttl, now: now, seed: maphash.MakeSeed()}
	for i := range b.shards {
		b.shards[i].m = map[string]*bucket{}
	}
	return b
}

func (m *rateLimit) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	key, ok := m.source(r)
	if !ok {
		writeText(w, http.StatusInternalServerError, noSource)
		return
	}
	delay, ok := m.buckets.reserve(key)
	if !ok {
		h := w.Header()
		h.Set("Retry-After", strconv.FormatFloat(math.Ceil(delay.Seconds()), 'f', 0, 64))
		h.Set("X-Retry-In", delay.String())
		writeText(w, http.StatusTooManyRequests, tooManyRequests)
		return
	}
	if delay > 0 {
		t := time.NewTimer(delay)
		select {
		case <-r.Context().Done():
			t.Stop()
			return // the client went away while waiting for its turn
		case <-t.C:
		}
	}
	m.next.ServeHTTP(w, r)
}

var noSource = []byte("could not extract source of request\n")

// buckets holds one token bucket per source, sharded so that sources do not all wait on
// one lock.
type buckets struct {
	rate, burst float64 // tokens per second; capacity
	maxDelay    time.Duration
	ttl         time.Duration
	now         func() time.Time
	seed        maphash.Seed
	shards      [bucketShards]bucketShard
}

type bucketShard struct {
	mu sync.Mutex
	m  map[string]*bucket
}

type bucket struct {
	tokens  float64
	last    time.Time
	expires time.Time
}

// reserve takes a token for source. It returns how long the request must wait for it,
// and false (with the wait it would have had) when that is longer than maxDelay; then
// no token is taken.
func (b *buckets) reserve(source string) (time.Duration, bool) {
	now := b.now()
	s := &b.shards[maphash.String(b.seed, source)%bucketShards]
	s.mu.Lock()
	defer s.mu.Unlock()
	k, ok := s.m[source]
	if !ok {
		if len(s.m) >= maxRateSources/bucketShards {
			s.evict(now)
		}
		k = &bucket{tokens: b.burst, last: now}
		s.m[source] = k
	} else if el := now.Sub(k.last); el > 0 {
		k.tokens = math.Min(b.burst, k.tokens+el.Seconds()*b.rate)
		k.last = now
	}
	k.expires = now.Add(b.ttl)
	tokens := k.tokens - 1
	var delay time.Duration
	if tokens < 0 {
		delay = time.Duration(-tokens / b.rate * float64(time.Second))
	}
	if delay > b.maxDelay {
		return delay, false
	}
	k.tokens = tokens
	return delay, true
}

// evict forgets the expired buckets, or when none has expired the one closest to it.
func (s *bucketShard) evict(now time.Time) {
	var oldest string
	var at time.Time
	for k, v := range s.m {
		if !v.expires.After(now) {
			delete(s.m, k)
			continue
		}
		if at.IsZero() || v.expires.Before(at) {
			oldest, at = k, v.expires
		}
	}
	if len(s.m) >= maxRateSources/bucketShards {
		delete(s.m, oldest)
	}
}
