package main

import (
	"crypto/tls"
	"io"
	"log"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// backendAnswer is the body of every backend response.
const backendAnswer = "ok\n"

// startBackend is the one HTTPS backend every route forwards to, on a loopback port.
func startBackend(cert tls.Certificate) (addr string, stop func(), err error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	srv := &http.Server{
		Handler:           http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, backendAnswer) }),
		TLSConfig:         &tls.Config{Certificates: []tls.Certificate{cert}},
		ReadHeaderTimeout: 5 * time.Second,
		ErrorLog:          log.New(io.Discard, "", 0),
	}
	go func() { _ = srv.ServeTLS(ln, "", "") }()
	return ln.Addr().String(), func() { _ = srv.Close() }, nil
}

// loadResult is what a bounded closed-loop load did, and the gateway's peak memory meanwhile.
type loadResult struct {
	Requests, Failures int64
	Seconds            float64
	PeakTotal          memory         // the largest sum over the gateway's processes at one sample
	PeakByProcess      map[int]memory // the largest of each process on its own
}

// closedLoad runs conns connections (HTTP/1.1 keep-alive, one per worker, each to its own
// route host, as wrk -c conns would) for d, sampling the gateway's memory every 100 ms.
func closedLoad(g *gateway, routes, conns int, d time.Duration) loadResult {
	var reqs, fails atomic.Int64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for w := 0; w < conns; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			c := g.client(true, 5*time.Second)
			defer c.CloseIdleConnections()
			h := host(w % routes)
			for {
				select {
				case <-stop:
					return
				default:
				}
				if ok(c, h) {
					reqs.Add(1)
				} else {
					fails.Add(1)
				}
			}
		}(w)
	}
	res := loadResult{PeakByProcess: map[int]memory{}}
	start := time.Now()
	tick := time.NewTicker(100 * time.Millisecond)
	for time.Since(start) < d {
		<-tick.C
		var total memory
		for _, pid := range g.pids() {
			m, err := readMemory(pid)
			if err != nil {
				continue
			}
			total.RSS += m.RSS
			total.PSS += m.PSS
			total.Anon += m.Anon
			p := res.PeakByProcess[pid]
			res.PeakByProcess[pid] = memory{RSS: max(p.RSS, m.RSS), PSS: max(p.PSS, m.PSS), Anon: max(p.Anon, m.Anon)}
		}
		res.PeakTotal = memory{RSS: max(res.PeakTotal.RSS, total.RSS), PSS: max(res.PeakTotal.PSS, total.PSS), Anon: max(res.PeakTotal.Anon, total.Anon)}
	}
	tick.Stop()
	close(stop)
	wg.Wait()
	res.Seconds = time.Since(start).Seconds()
	res.Requests, res.Failures = reqs.Load(), fails.Load()
	return res
}

// secondCount is the outcome of the requests sent in one second of a paced load.
type secondCount struct{ OK, Failed int }

// pacedLoad sends rate requests per second for d (each with a 1 s timeout, over a shared
// keep-alive pool, to route hosts in turn) and calls at(elapsed) once, at atOffset, from
// its own goroutine. It returns the outcome per second of sending and the time of the
// last success.
func pacedLoad(g *gateway, routes, rate int, d, atOffset time.Duration, at func()) ([]secondCount, time.Duration) {
	c := g.client(true, time.Second)
	defer c.CloseIdleConnections()
	counts := make([]secondCount, int(d/time.Second))
	var mu sync.Mutex
	var lastOK time.Duration
	var wg sync.WaitGroup
	start := time.Now()
	fired := false
	tick := time.NewTicker(time.Second / time.Duration(rate))
	defer tick.Stop()
	for i := 0; time.Since(start) < d; i++ {
		<-tick.C
		if !fired && time.Since(start) >= atOffset {
			fired = true
			go at()
		}
		sec := int(time.Since(start) / time.Second)
		if sec >= len(counts) {
			break
		}
		wg.Add(1)
		go func(i, sec int) {
			defer wg.Done()
			good := ok(c, host(i%routes))
			mu.Lock()
			defer mu.Unlock()
			if good {
				counts[sec].OK++
				lastOK = max(lastOK, time.Since(start))
			} else {
				counts[sec].Failed++
			}
		}(i, sec)
	}
	wg.Wait()
	return counts, lastOK
}
