package middleware

import (
	"math"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/bridgehead/bridgehead/internal/cbexpr"
	"github.com/bridgehead/bridgehead/internal/snapshot"
)

// circuitBreaker is Traefik's circuitBreaker (vulcand/oxy's cbreaker, re-implemented):
// in standby it forwards and records each answer's status and latency; every check
// period, after a request, it evaluates the expression over the last 10 seconds and, when
// it holds, trips: for fallbackDuration every request gets responseCode without reaching
// the backend. Then it recovers for recoveryDuration, letting through a share of requests
// that grows from 0 to one half, and goes back to standby unless the expression trips it
// again. Its state lives in Memory, so a configuration reload does not close a tripped
// breaker.
type circuitBreaker struct {
	next  http.Handler
	state *breaker
	code  int
	body  []byte
}

func newCircuitBreaker(c *snapshot.CircuitBreaker, b *breaker, next http.Handler) http.Handler {
	if b == nil || b.expr == nil {
		// translate refuses an expression that does not parse; if one ever gets here,
		// the breaker cannot judge, and failing closed beats forwarding unguarded.
		return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			writeText(w, http.StatusServiceUnavailable, []byte("Service Unavailable\n"))
		})
	}
	return &circuitBreaker{next: next, state: b, code: c.ResponseCode, body: []byte(http.StatusText(c.ResponseCode))}
}

func (m *circuitBreaker) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b := m.state
	if b.open() {
		writeText(w, m.code, m.body)
		return
	}
	sw := &statusWriter{ResponseWriter: w}
	start := b.now()
	m.next.ServeHTTP(sw, r)
	b.record(sw.status(), b.now().Sub(start))
}

// Breaker states.
const (
	standby int32 = iota
	tripped
	recovering
)

// breaker is the state of one circuitBreaker Middleware, shared by the chains of every
// snapshot that holds it.
type breaker struct {
	cfg  snapshot.CircuitBreaker
	expr *cbexpr.Expr
	now  func() time.Time

	state     atomic.Int32 // read without the lock on the hot path: standby forwards
	nextCheck atomic.Int64 // unix nanoseconds; the expression is evaluated after it

	mu       sync.Mutex
	until    time.Time // end of tripped or recovering
	recStart time.Time
	allowed  int
	denied   int
	window   window
}

func newBreaker(c *snapshot.CircuitBreaker, now func() time.Time) *breaker {
	e, err := cbexpr.Parse(c.Expression)
	if err != nil {
		return &breaker{cfg: *c, now: now}
	}
	return &breaker{cfg: *c, expr: e, now: now}
}

// open says whether the request gets the fallback answer.
func (b *breaker) open() bool {
	if b.state.Load() == standby {
		return false
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	now := b.now()
	switch b.state.Load() {
	case tripped:
		if now.Before(b.until) {
			return true
		}
		b.state.Store(recovering)
		b.until, b.recStart, b.allowed, b.denied = now.Add(b.cfg.RecoveryDuration), now, 0, 0
		fallthrough
	case recovering:
		if now.After(b.until) {
			b.state.Store(standby)
			return false
		}
		// Let a request through while the share let through stays below the target,
		// which grows from 0 to one half over the recovery (as oxy's ratio controller).
		target := 0.5 * float64(now.Sub(b.recStart)) / float64(b.cfg.RecoveryDuration)
		if float64(b.allowed+1)/float64(b.allowed+1+b.denied) < target {
			b.allowed++
			return false
		}
		b.denied++
		return true
	}
	return false
}

// record counts an answer, then evaluates the expression if a check period has passed.
func (b *breaker) record(code int, took time.Duration) {
	now := b.now()
	b.mu.Lock()
	defer b.mu.Unlock()
	b.window.add(now, code, took)
	if now.UnixNano() < b.nextCheck.Load() {
		return
	}
	b.nextCheck.Store(now.Add(b.cfg.CheckPeriod).UnixNano())
	if b.state.Load() == tripped {
		return
	}
	b.window.at = now
	if b.expr.Eval(&b.window) {
		b.state.Store(tripped)
		b.until = now.Add(b.cfg.FallbackDuration)
		b.window = window{}
	}
}

// window holds the last windowSeconds of answers in one-second buckets (as oxy's rolling
// counters). Latencies go into logarithmic bins 4% wide, from 1µs to an hour.
type window struct {
	buckets [windowSeconds]secondCounts
	at      time.Time // the time the expression is evaluated at
}

const (
	windowSeconds = 10
	latencyBins   = 560
	binGrowth     = 1.04
)

type secondCounts struct {
	unix    int64
	total   int64
	netErr  int64
	codes   map[int]int64
	latency [latencyBins]uint32
}

func (w *window) add(now time.Time, code int, took time.Duration) {
	sec := now.Unix()
	bk := &w.buckets[sec%windowSeconds]
	if bk.unix != sec {
		*bk = secondCounts{unix: sec}
	}
	bk.total++
	if code == http.StatusBadGateway || code == http.StatusGatewayTimeout {
		// What oxy counts as a network error: the proxy's answer to a failed round trip.
		bk.netErr++
	}
	if bk.codes == nil {
		bk.codes = map[int]int64{}
	}
	bk.codes[code]++
	bk.latency[latencyBin(took)]++
}

func latencyBin(d time.Duration) int {
	us := float64(d) / float64(time.Microsecond)
	if us <= 1 {
		return 0
	}
	return min(latencyBins-1, int(math.Log(us)/math.Log(binGrowth))+1)
}

// binUpper is the largest latency of a bin.
func binUpper(i int) time.Duration {
	return time.Duration(math.Pow(binGrowth, float64(i)) * float64(time.Microsecond))
}

// live calls fn for the buckets of the last windowSeconds.
func (w *window) live(fn func(*secondCounts)) {
	now := w.at.Unix()
	for i := range w.buckets {
		if bk := &w.buckets[i]; bk.total > 0 && bk.unix > now-windowSeconds && bk.unix <= now {
			fn(bk)
		}
	}
}

func (w *window) Requests() int64 {
	var n int64
	w.live(func(bk *secondCounts) { n += bk.total })
	return n
}

func (w *window) NetworkErrorRatio() float64 {
	var total, net int64
	w.live(func(bk *secondCounts) { total += bk.total; net += bk.netErr })
	if total == 0 {
		return 0
	}
	return float64(net) / float64(total)
}

// ResponseCodeRatio is the answers with a status in [startA, endA) over those in
// [startB, endB); 0 when there are none of the latter.
func (w *window) ResponseCodeRatio(startA, endA, startB, endB int) float64 {
	var a, b int64
	w.live(func(bk *secondCounts) {
		for code, n := range bk.codes {
			if code >= startA && code < endA {
				a += n
			}
			if code >= startB && code < endB {
				b += n
			}
		}
	})
	if b == 0 {
		return 0
	}
	return float64(a) / float64(b)
}

// LatencyAtQuantileMS is the latency, in whole milliseconds, under which quantile percent
// (50.0 is the median) of the answers came.
func (w *window) LatencyAtQuantileMS(quantile float64) float64 {
	var bins [latencyBins]uint64
	var total uint64
	w.live(func(bk *secondCounts) {
		for i, n := range bk.latency {
			bins[i] += uint64(n)
			total += uint64(n)
		}
	})
	if total == 0 {
		return 0
	}
	want := uint64(math.Ceil(math.Max(quantile, 0) / 100 * float64(total)))
	var seen uint64
	for i, n := range bins {
		seen += n
		if n > 0 && seen >= want {
			return float64(binUpper(i) / time.Millisecond)
		}
	}
	return float64(binUpper(latencyBins-1) / time.Millisecond)
}

// statusWriter remembers the status written.
type statusWriter struct {
	http.ResponseWriter
	code int
}

func (s *statusWriter) WriteHeader(code int) {
	if s.code == 0 && code >= 200 {
		s.code = code
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusWriter) Write(p []byte) (int, error) {
	if s.code == 0 {
		s.code = http.StatusOK
	}
	return s.ResponseWriter.Write(p)
}

func (s *statusWriter) Flush() {
	if f, ok := s.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

func (s *statusWriter) Unwrap() http.ResponseWriter { return s.ResponseWriter }

func (s *statusWriter) status() int {
	if s.code == 0 {
		return http.StatusOK
	}
	return s.code
}
