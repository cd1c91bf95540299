package admin

import (
	"log"
	"net/http"
	"time"
)

// Port holds what the admin port serves.
type Port struct {
	ready   func() error
	metrics http.Handler
	extra   map[string]http.Handler
}

// New makes the admin port's handlers: ready says why the data plane cannot take
// traffic (nil when it can), metrics serves /metrics.
func New(ready func() error, metrics http.Handler) *Port {
	return &Port{ready: ready, metrics: metrics}
}

// Handle adds a handler (status pages, snapshot hash). Call it before Server.
func (p *Port) Handle(pattern string, h http.Handler) {
	if p.extra == nil {
		p.extra = map[string]http.Handler{}
	}
	p.extra[pattern] = h
}

// Server returns the HTTP server of the admin port, with every handler added so far.
func (p *Port) Server(errorLog *log.Logger) *http.Server {
	return &http.Server{Handler: p.handler(), ReadHeaderTimeout: 5 * time.Second, ErrorLog: errorLog}
}

// handler serves health, readiness and metrics.
func (p *Port) handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		_, _ = w.Write([]byte("ok\n"))
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, _ *http.Request) {
		if err := p.ready(); err != nil {
			http.Error(w, "not ready: "+err.Error(), http.StatusServiceUnavailable)
			return
		}
		_, _ = w.Write([]byte("ok\n"))
	})
	mux.Handle("GET /metrics", p.metrics)
	for path, h := range p.extra {
		mux.Handle(path, h)
	}
	return mux
}
