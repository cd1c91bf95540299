package middleware

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/bridgehead/bridgehead/internal/snapshot"
)

// fakeClock is a clock the test moves by hand.
type fakeClock struct{ t time.Time }

func (c *fakeClock) now() time.Time          { return c.t }
func (c *fakeClock) advance(d time.Duration) { c.t = c.t.Add(d) }

// TestRateLimitBucket: with average 10 per second and burst 3, a source gets its burst at
// once, then 429 with Retry-After 1 and X-Retry-In naming the wait, then one request per
// 100ms; another source has its own bucket; a wait of up to half a token interval (50ms)
// is granted rather than refused.
func TestRateLimitBucket(t *testing.T) {
	clock := &fakeClock{t: time.Unix(1_700_000_000, 0)}
	cfg := &snapshot.RateLimit{Average: 10, Period: time.Second, Burst: 3, Source: snapshot.Source{IPStrategy: &snapshot.SourceIP{}}}
	b := newBuckets(cfg, clock.now)
	for i := range 3 {
		if d, ok := b.reserve("192.0.2.1"); !ok || d != 0 {
			t.Fatalf("burst request %d: delay %v ok %v; want 0 true", i, d, ok)
		}
	}
	if d, ok := b.reserve("192.0.2.1"); ok || d != 100*time.Millisecond {
		t.Fatalf("4th request at once: delay %v ok %v; want refused with 100ms", d, ok)
	}
	if _, ok := b.reserve("192.0.2.2"); !ok {
		t.Fatal("another source was refused: buckets are not per source")
	}
	clock.advance(60 * time.Millisecond)
	if d, ok := b.reserve("192.0.2.1"); !ok || d != 40*time.Millisecond {
		t.Fatalf("after 60ms: delay %v ok %v; want granted after waiting 40ms", d, ok)
	}
	clock.advance(40 * time.Millisecond) // the reserved token is taken; the next is 100ms away
	if _, ok := b.reserve("192.0.2.1"); ok {
		t.Fatal("a second request in the same 100ms was granted")
	}

	h := newRateLimit(cfg, b, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	rec := httptest.NewRecorder()
	req := newReq(http.MethodGet, "/", "a.example")
	req.RemoteAddr = "192.0.2.1:5555"
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusTooManyRequests || rec.Header().Get("Retry-After") != "1" || rec.Header().Get("X-Retry-In") != "100ms" {
		t.Fatalf("refused request: %d Retry-After %q X-Retry-In %q; want 429, 1, 100ms", rec.Code, rec.Header().Get("Retry-After"), rec.Header().Get("X-Retry-In"))
	}
}

// TestRateLimitSlowRateRetryAfter: 2 per minute waits 30s between tokens, so Retry-After
// says 30; a wait of at most 500ms is granted below one token a second, as in Traefik.
func TestRateLimitSlowRateRetryAfter(t *testing.T) {
	clock := &fakeClock{t: time.Unix(1_700_000_000, 0)}
	cfg := &snapshot.RateLimit{Average: 2, Period: time.Minute, Burst: 1, Source: snapshot.Source{Host: true}}
	h := newRateLimit(cfg, newBuckets(cfg, clock.now), http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	codes := []int{}
	var retry string
	for range 2 {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, newReq(http.MethodGet, "/", "slow.example"))
		codes = append(codes, rec.Code)
		retry = rec.Header().Get("Retry-After")
	}
	if codes[0] != http.StatusOK || codes[1] != http.StatusTooManyRequests || retry != "30" {
		t.Fatalf("codes %v Retry-After %q; want [200 429] and 30", codes, retry)
	}
}

// TestRateLimitSources: each sourceCriterion groups as Traefik does; a request without
// the header named by requestHeaderName gets 500; average 0 is no limit at all.
func TestRateLimitSources(t *testing.T) {
	header := newSourceOf(snapshot.Source{Header: "x-tenant"})
	r := newReq(http.MethodGet, "/", "a.example")
	if _, ok := header(r); ok {
		t.Error("a request without X-Tenant has a source")
	}
	r.Header.Set("X-Tenant", "blue")
	if k, ok := header(r); !ok || k != "blue" {
		t.Errorf("X-Tenant: blue gives %q %v", k, ok)
	}
	depth := newSourceOf(snapshot.Source{IPStrategy: &snapshot.SourceIP{Depth: 2}})
	r.Header.Set("X-Forwarded-For", "203.0.113.9, 198.51.100.7, 10.0.0.1")
	if k, _ := depth(r); k != "198.51.100.7" {
		t.Errorf("depth 2 of %q gives %q", r.Header.Get("X-Forwarded-For"), k)
	}
	remote := newSourceOf(snapshot.Source{IPStrategy: &snapshot.SourceIP{}})
	r.RemoteAddr = "[::ffff:192.0.2.8]:1234"
	if k, _ := remote(r); k != "192.0.2.8" {
		t.Errorf("remote address %q gives %q", r.RemoteAddr, k)
	}

	cfg := &snapshot.RateLimit{Average: 1, Period: time.Second, Burst: 1, Source: snapshot.Source{Header: "X-Tenant"}}
	h := newRateLimit(cfg, newBuckets(cfg, time.Now), http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, newReq(http.MethodGet, "/", "a.example"))
	if rec.Code != http.StatusInternalServerError {
		t.Errorf("no X-Tenant: %d; want 500 as Traefik", rec.Code)
	}
	next := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {})
	off := &snapshot.RateLimit{Average: 0, Burst: 1}
	if h := newRateLimit(off, newBuckets(off, time.Now), next); h == nil || func() bool { _, ok := h.(*rateLimit); return ok }() {
		t.Error("average 0 built a limiter")
	}
}

// TestMemoryKeepsBucketsAcrossSnapshots: the same Middleware rebuilt for a new snapshot
// keeps counting (a client cannot get a fresh burst because an endpoint changed); a
// changed configuration starts afresh; Sweep forgets what no chain uses.
func TestMemoryKeepsBucketsAcrossSnapshots(t *testing.T) {
	clock := &fakeClock{t: time.Unix(1_700_000_000, 0)}
	mem := NewMemory(clock.now)
	mw := func(avg int64) []*snapshot.Middleware {
		return []*snapshot.Middleware{{
			Source:    snapshot.Ref{Kind: "Middleware", Namespace: "web", Name: "rl"},
			RateLimit: &snapshot.RateLimit{Average: avg, Period: time.Minute, Burst: 1, Source: snapshot.Source{Host: true}},
		}}
	}
	ok := &capture{}
	get := func(h http.Handler) int {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, newReq(http.MethodGet, "/", "a.example"))
		return rec.Code
	}
	first := mem.Chain(mw(1), ok)
	mem.Sweep()
	if c := get(first); c != http.StatusOK {
		t.Fatalf("first request: %d", c)
	}
	second := mem.Chain(mw(1), ok)
	mem.Sweep()
	if c := get(second); c != http.StatusTooManyRequests {
		t.Fatalf("after a swap the bucket was full again: %d; want 429", c)
	}
	changed := mem.Chain(mw(2), ok)
	mem.Sweep()
	if c := get(changed); c != http.StatusOK {
		t.Fatalf("a changed limit kept the old bucket: %d; want 200", c)
	}
	if len(mem.buckets) != 1 {
		t.Fatalf("Sweep kept %d bucket sets; want 1 (the old configuration forgotten)", len(mem.buckets))
	}
}

// BenchmarkRateLimit is the cost of an admitted request (one source, a limit never hit).
func BenchmarkRateLimit(b *testing.B) {
	cfg := &snapshot.RateLimit{Average: 1 << 40, Period: time.Second, Burst: 1 << 40, Source: snapshot.Source{IPStrategy: &snapshot.SourceIP{}}}
	h := newRateLimit(cfg, newBuckets(cfg, time.Now), http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	r := newReq(http.MethodGet, "/", "a.example")
	r.RemoteAddr = "192.0.2.1:5555"
	w := &discardWriter{h: http.Header{}}
	b.ReportAllocs()
	for b.Loop() {
		h.ServeHTTP(w, r)
	}
}

// TestHostKey: one host is one source, however the client spells it.
func TestHostKey(t *testing.T) {
	for in, want := range map[string]string{
		"a.example": "a.example", "A.Example:443": "a.example", "a.example:8443": "a.example",
		"[2001:db8::1]:443": "2001:db8::1", "[2001:db8::1]": "2001:db8::1", "192.0.2.1:80": "192.0.2.1",
	} {
		if got := hostKey(in); got != want {
			t.Errorf("hostKey(%q) = %q; want %q", in, got, want)
		}
	}
}
