package middleware

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/bridgehead/bridgehead/internal/snapshot"
)

// unreachable is a next handler that fails its first `fail` tries before the request is
// sent (as the forwarder does when it cannot connect), then answers 200 with the body it
// read. Each try sets a response header and rewrites the path, as middlewares after
// retry would.
type unreachable struct {
	fail  int
	tries int
	paths []string
	at    []time.Time
}

func (u *unreachable) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	u.tries++
	u.at = append(u.at, time.Now())
	u.paths = append(u.paths, r.URL.Path)
	r.URL.Path += "/x"
	w.Header().Add("X-Try", "set")
	if u.tries <= u.fail {
		if !AttemptFrom(r.Context()).Unreached() {
			w.WriteHeader(http.StatusBadGateway)
		}
		return
	}
	body, _ := io.ReadAll(r.Body)
	_, _ = w.Write(body)
}

func TestRetryTriesAgainOnlyWhatWasNotSent(t *testing.T) {
	u := &unreachable{fail: 2}
	h := newRetry(&snapshot.Retry{Attempts: 3}, u)
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest(http.MethodPost, "/p", strings.NewReader("body")))
	if w.Code != http.StatusOK || w.Body.String() != "body" || u.tries != 3 {
		t.Fatalf("got %d %q after %d tries; want 200 with the whole body on the third", w.Code, w.Body.String(), u.tries)
	}
	if got := w.Header().Values("X-Try"); len(got) != 1 {
		t.Errorf("X-Try %q: the headers of the tries left to the next one leaked", got)
	}
	for i, p := range u.paths {
		if p != "/p" {
			t.Errorf("try %d saw path %q; want /p (each try gets its own copy of the request)", i+1, p)
		}
	}

	u = &unreachable{fail: 5}
	w = httptest.NewRecorder()
	newRetry(&snapshot.Retry{Attempts: 3}, u).ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/", nil))
	if w.Code != http.StatusBadGateway || u.tries != 3 {
		t.Errorf("every try unreachable: %d after %d tries; want the last try's 502 after 3", w.Code, u.tries)
	}
}

// sent fails after the request went out: it is never tried again.
type sent struct{ tries int }

func (s *sent) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.tries++
	_, _ = io.ReadAll(r.Body) // the transport sent the body
	if !AttemptFrom(r.Context()).Unreached() {
		w.WriteHeader(http.StatusBadGateway)
	}
}

func TestRetryNeverResendsABodyOnceRead(t *testing.T) {
	s := &sent{}
	w := httptest.NewRecorder()
	newRetry(&snapshot.Retry{Attempts: 4}, s).ServeHTTP(w, httptest.NewRequest(http.MethodPost, "/", strings.NewReader("once")))
	if s.tries != 2 || w.Code != http.StatusBadGateway {
		// The first try read the body, so the second is the last: it answers.
		t.Errorf("%d tries, %d; want 2 (the body was read, so the next try is the last) and 502", s.tries, w.Code)
	}
}

// TestRetryBackoff: Traefik's exponential backoff, without jitter (jitter 0.5 is the
// middle): 4 attempts from 20ms wait 20ms, 25.2ms, 31.7ms (the multiplier is 2^(1/3),
// so the last wait would be twice the first one attempt later); with jitter at its ends
// a wait is 50% shorter or longer.
func TestRetryBackoff(t *testing.T) {
	for _, tc := range []struct {
		jitter float64
		want   []time.Duration
	}{
		{0.5, []time.Duration{20 * time.Millisecond, 25198421 * time.Nanosecond, 31748021 * time.Nanosecond}},
		{0, []time.Duration{10 * time.Millisecond, 12599210 * time.Nanosecond, 15874010 * time.Nanosecond}},
	} {
		u := &unreachable{fail: 3}
		h := newRetry(&snapshot.Retry{Attempts: 4, InitialInterval: 20 * time.Millisecond}, u).(*retry)
		h.jitter = func() float64 { return tc.jitter }
		var waits []time.Duration
		h.sleep = func(_ context.Context, d time.Duration) bool { waits = append(waits, d); return true }
		h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/", nil))
		if len(waits) != len(tc.want) {
			t.Fatalf("jitter %v: waits %v; want %v", tc.jitter, waits, tc.want)
		}
		for i, w := range tc.want {
			if d := waits[i] - w; d < -time.Microsecond || d > time.Microsecond {
				t.Errorf("jitter %v: wait %d is %v; want %v", tc.jitter, i+1, waits[i], w)
			}
		}
	}
}

// TestRetryTimeout: a failure after timeout has passed since the first attempt began is
// answered, as in Traefik; before it, the next attempt follows.
func TestRetryTimeout(t *testing.T) {
	for _, tc := range []struct {
		timeout time.Duration
		tries   int
	}{{time.Nanosecond, 1}, {time.Minute, 10}} {
		u := &unreachable{fail: 10}
		h := newRetry(&snapshot.Retry{Attempts: 10, Timeout: tc.timeout}, u)
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/", nil))
		if u.tries != tc.tries || w.Code != http.StatusBadGateway {
			t.Errorf("timeout %v: %d tries, %d; want %d and the 502", tc.timeout, u.tries, w.Code, tc.tries)
		}
	}
}

// TestRetryConcurrent: concurrent requests through one retry middleware, each failing
// once before it is sent (run with -race).
func TestRetryConcurrent(t *testing.T) {
	var n atomic.Int64
	h := newRetry(&snapshot.Retry{Attempts: 3}, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if n.Add(1)%2 == 1 && AttemptFrom(r.Context()).Unreached() {
			return
		}
		_, _ = io.WriteString(w, "ok")
	}))
	var wg sync.WaitGroup
	var bad atomic.Int64
	for range 8 {
		wg.Go(func() {
			for range 200 {
				w := httptest.NewRecorder()
				h.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/", nil))
				if w.Code != 200 || w.Body.String() != "ok" {
					bad.Add(1)
				}
			}
		})
	}
	wg.Wait()
	if bad.Load() != 0 {
		t.Errorf("%d requests were not answered ok", bad.Load())
	}
}
