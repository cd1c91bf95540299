package standalone

import (
	"context"
	"io"
	"net/http"
	"sync"
	"testing"
	"time"
)

// TestRateLimitAnswers429AtTheConfiguredRate is issue 18's Done-when: a rateLimit of
// average 20 per second (burst 1) admits 20 requests a second, within 10%, measured over
// 10 s of four clients sending 100 requests a second each through real TLS on loopback, and every
// request beyond the rate gets 429 with Retry-After. Real curl sees the same on a slow
// limit (1 a minute): 200, then 429 with Retry-After: 60.
func TestRateLimitAnswers429AtTheConfiguredRate(t *testing.T) {
	p := newPKI(t)
	backend := tlsBackend(t, p, "backend", false)
	dir := writeFolder(t, map[string]string{
		"secrets.yaml":   p.secretsYAML(),
		"transport.yaml": transportYAML,
		"services.yaml":  serviceYAML(t, "svc-a", addrOf(backend)),
		"limited.yaml": middlewareRoute("limited", "limited", "twenty-a-second", "") +
			middlewareYAML("twenty-a-second", "  rateLimit: {average: 20, period: 1s, burst: 1}\n") +
			middlewareRoute("slow", "slow", "one-a-minute", "") +
			middlewareYAML("one-a-minute", "  rateLimit: {average: 1, period: 1m}\n"),
	})
	gw := serveFolder(t, dir)
	c := gw.httpsClient(p.edgeCA, false)
	waitBody(t, c, "https://limited.example.test/", http.StatusOK, "")
	wantCondition(t, gw, "Middleware/web/twenty-a-second", "Ready", "True")

	t.Run("20 a second, within 10%, over 10 s", func(t *testing.T) {
		const (
			clients  = 4
			span     = 10 * time.Second
			maxPerGo = 2000 // bounds the loop by count as well as by time
			pace     = 10 * time.Millisecond
			rate     = 20.0
		)
		var mu sync.Mutex
		counts := map[int]int{}
		badRetryAfter := 0
		start := time.Now()
		deadline := start.Add(span)
		var wg sync.WaitGroup
		for range clients {
			wg.Go(func() {
				// Each client sends up to 100 requests a second: 400 in all, 20 times the
				// limit, without taking the machine's cores from the other tests.
				tick := time.NewTicker(pace)
				defer tick.Stop()
				for i := 0; i < maxPerGo && time.Now().Before(deadline); i++ {
					<-tick.C
					ctx, cancel := context.WithDeadline(context.Background(), deadline.Add(2*time.Second))
					req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "https://limited.example.test/", nil)
					resp, err := c.Do(req)
					if err != nil {
						cancel()
						mu.Lock()
						counts[0]++
						mu.Unlock()
						continue
					}
					_, _ = io.Copy(io.Discard, resp.Body)
					_ = resp.Body.Close()
					cancel()
					mu.Lock()
					// Only requests answered within the span count: a request admitted
					// after waiting for its token may finish just past it.
					if time.Now().Before(deadline) || resp.StatusCode != http.StatusOK {
						counts[resp.StatusCode]++
					}
					if resp.StatusCode == http.StatusTooManyRequests && resp.Header.Get("Retry-After") != "1" {
						badRetryAfter++
					}
					mu.Unlock()
				}
			})
		}
		wg.Wait()
		elapsed := time.Since(start)
		admitted := counts[http.StatusOK]
		measured := float64(admitted) / min(elapsed, span).Seconds()
		t.Logf("rateLimit average 20/s burst 1: %d clients for %v: %d admitted (%.1f/s, want 20 ± 10%%), %d answered 429 (all with Retry-After: 1: %v), %d transport errors",
			clients, elapsed.Round(time.Millisecond), admitted, measured, counts[http.StatusTooManyRequests], badRetryAfter == 0, counts[0])
		if measured < rate*0.9 || measured > rate*1.1 {
			t.Errorf("admitted %.1f requests a second; want 20 ± 10%% (18 to 22)", measured)
		}
		if counts[http.StatusTooManyRequests] == 0 {
			t.Error("no request got 429: the clients did not exceed the rate")
		}
		if badRetryAfter > 0 {
			t.Errorf("%d answers of 429 lacked Retry-After: 1", badRetryAfter)
		}
		for code, n := range counts {
			if code != http.StatusOK && code != http.StatusTooManyRequests {
				t.Errorf("%d requests got %d; want only 200 and 429", n, code)
			}
		}
	})

	t.Run("curl sees 429 with Retry-After", func(t *testing.T) {
		ca := writePEM(t, "edge-ca.crt", p.edgeCA.PEM)
		port := port(t, gw.websecure)
		args := []string{"-sS", "--cacert", ca, "-o", "/dev/null", "--resolve", "slow.example.test:" + port + ":127.0.0.1",
			"-w", "%{http_code} retry-after=%header{retry-after}", "https://slow.example.test:" + port + "/"}
		var outs []string
		for range 2 {
			out, code := runTool(t, dir, "curl", args...)
			if code != 0 {
				t.Fatalf("curl: exit %d: %s", code, out)
			}
			outs = append(outs, out)
		}
		if outs[0] != "200 retry-after=" || outs[1] != "429 retry-after=60" {
			t.Errorf("two curls at one a minute: %q; want [200, 429 with Retry-After 60]", outs)
		}
	})
}
