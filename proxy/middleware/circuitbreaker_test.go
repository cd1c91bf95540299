package middleware

import (
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/bridgehead/bridgehead/internal/snapshot"
)

// clock is a settable time for the breaker.
type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

// TestCircuitBreakerTripsFallsBackRecovers walks Traefik's states on a fake clock: 503s
// trip the breaker at the next check; while tripped every request gets responseCode and
// the backend sees none; recovering lets through a share growing to one half; then
// standby forwards everything. A chain rebuilt from the same Memory keeps the state.
func TestCircuitBreakerTripsFallsBackRecovers(t *testing.T) {
	clk := &clock{t: time.Unix(1_000_000, 0)}
	mem := NewMemory(clk.now)
	code, hits := http.StatusServiceUnavailable, 0
	backend := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { hits++; w.WriteHeader(code) })
	mw := &snapshot.Middleware{Source: snapshot.Ref{Kind: "Middleware", Namespace: "web", Name: "cb"}, CircuitBreaker: &snapshot.CircuitBreaker{
		Expression: "ResponseCodeRatio(500, 600, 0, 600) > 0.5", CheckPeriod: 100 * time.Millisecond,
		FallbackDuration: 10 * time.Second, RecoveryDuration: 10 * time.Second, ResponseCode: http.StatusTeapot,
	}}
	send := func(h http.Handler) int {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/", nil))
		return w.Code
	}
	h := mem.Chain([]*snapshot.Middleware{mw}, backend)
	mem.Sweep()
	// The first answer is checked at once: one 503 of one is a ratio of 1.
	if got := send(h); got != 503 {
		t.Fatalf("first request: %d; want the backend's 503", got)
	}
	if got := send(h); got != http.StatusTeapot {
		t.Fatalf("after a check that held: %d; want 418 (tripped)", got)
	}
	code = http.StatusOK
	h = mem.Chain([]*snapshot.Middleware{mw}, backend) // a reload
	mem.Sweep()
	before := hits
	for range 50 {
		if got := send(h); got != http.StatusTeapot {
			t.Fatalf("tripped, after a reload: %d; want 418", got)
		}
	}
	if hits != before {
		t.Errorf("the backend saw %d requests while tripped; want none", hits-before)
	}
	clk.t = clk.t.Add(10 * time.Second) // fallback over: recovering
	passed, early := 0, 0
	for i := range 100 {
		clk.t = clk.t.Add(99 * time.Millisecond) // 9.9s of the 10s recovery
		if send(h) == http.StatusOK {
			passed++
			if i < 20 {
				early++
			}
		}
	}
	t.Logf("recovering: %d of 100 requests passed over 9.9s, %d of the first 20", passed, early)
	// The share let through so far follows the target, which grows from 0 to one half.
	if passed < 40 || passed > 50 || early > 4 {
		t.Errorf("recovering let %d of 100 through, %d of the first 20; want the share to grow to about half, from few", passed, early)
	}
	clk.t = clk.t.Add(200 * time.Millisecond)
	for range 20 {
		if got := send(h); got != http.StatusOK {
			t.Fatalf("after recovery: %d; want 200 (standby)", got)
		}
	}
}

func TestWindowMetrics(t *testing.T) {
	var w window
	now := time.Unix(2_000_000, 0)
	for i, c := range []int{200, 200, 502, 504, 500, 404} {
		w.add(now.Add(time.Duration(i)*time.Millisecond), c, time.Duration(i+1)*10*time.Millisecond)
	}
	w.add(now.Add(-11*time.Second), 502, time.Hour) // outside the 10s window
	w.at = now.Add(time.Second)
	if got := w.Requests(); got != 6 {
		t.Errorf("Requests %d; want 6", got)
	}
	if got := w.NetworkErrorRatio(); got != 2.0/6 {
		t.Errorf("NetworkErrorRatio %v; want 2/6 (502 and 504)", got)
	}
	if got := w.ResponseCodeRatio(500, 600, 0, 600); got != 3.0/6 {
		t.Errorf("ResponseCodeRatio(500,600,0,600) %v; want 3/6", got)
	}
	if got := w.ResponseCodeRatio(500, 600, 600, 700); got != 0 {
		t.Errorf("ResponseCodeRatio over nothing %v; want 0", got)
	}
	// Latencies 10..60ms: the median is 30ms, within a bin (4%).
	if got := w.LatencyAtQuantileMS(50); got < 30 || got > 31 {
		t.Errorf("LatencyAtQuantileMS(50) %v; want 30", got)
	}
	if got := w.LatencyAtQuantileMS(100); got < 60 || got > 62 {
		t.Errorf("LatencyAtQuantileMS(100) %v; want 60", got)
	}
}

// TestCircuitBreakerConcurrent: many requests at once through one breaker while it trips
// and recovers (run with -race); each answer is the backend's or the fallback.
func TestCircuitBreakerConcurrent(t *testing.T) {
	mem := NewMemory(nil)
	mw := &snapshot.Middleware{Source: snapshot.Ref{Kind: "Middleware", Namespace: "web", Name: "cb"}, CircuitBreaker: &snapshot.CircuitBreaker{
		Expression: "NetworkErrorRatio() > 0.1", CheckPeriod: time.Millisecond,
		FallbackDuration: 5 * time.Millisecond, RecoveryDuration: 5 * time.Millisecond, ResponseCode: http.StatusTeapot,
	}}
	var n atomic.Int64
	h := mem.Chain([]*snapshot.Middleware{mw}, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		if n.Add(1)%3 == 0 {
			w.WriteHeader(http.StatusBadGateway)
		}
	}))
	var wg sync.WaitGroup
	var bad atomic.Int64
	for range 8 {
		wg.Go(func() {
			for range 300 {
				w := httptest.NewRecorder()
				h.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/", nil))
				if w.Code != 200 && w.Code != http.StatusBadGateway && w.Code != http.StatusTeapot {
					bad.Add(1)
				}
			}
		})
	}
	wg.Wait()
	if bad.Load() != 0 {
		t.Errorf("%d answers were neither the backend's nor the fallback", bad.Load())
	}
}
