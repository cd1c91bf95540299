package metrics

import (
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/prometheus/common/expfmt"

	"github.com/bridgehead/bridgehead/internal/snapshot"
)

// The metrics live in one client_golang registry per Server (two Servers in one process,
// as the tests run them, never share a series), with the Go runtime and process
// collectors next to ours. The per-request path never looks a series up by its labels:
// each route caches the children it has used, so a request costs a few atomic adds.

// trackedCodes get their own series; other codes are counted under their class ("5xx").
var trackedCodes = []int{200, 201, 204, 206, 301, 302, 304, 307, 308, 400, 401, 403, 404, 405, 408, 413, 421, 429, 499, 500, 502, 503, 504}

var codeSlot = func() [600]uint8 {
	var t [600]uint8
	for i, c := range trackedCodes {
		t[c] = uint8(i + 1)
	}
	return t
}()

// latencyBuckets span a cached answer on loopback (1 ms) to a backend at its response
// header timeout (60 s).
var latencyBuckets = []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60}

// Registry is one Server's metrics: the client_golang registry and its vectors, and
// the cached series of each route.
type Registry struct {
	registry       *prometheus.Registry
	requests       *prometheus.CounterVec   // route, code
	latency        *prometheus.HistogramVec // route
	backendLatency *prometheus.HistogramVec // route, backend
	upstream       *prometheus.CounterVec   // route, reason
	handshakes     *prometheus.CounterVec   // reason
	tcpConns       *prometheus.CounterVec   // route
	tcpBytesIO     *prometheus.CounterVec   // route, direction
	tcpFails       *prometheus.CounterVec   // route, reason
	mirrors        *prometheus.CounterVec   // route, result
	certificates   *prometheus.GaugeVec     // source, use, subject
	udp            udpVecs
	mu             sync.Mutex
	routes         map[string]*Route
	certificatesMu sync.Mutex
	// live is Retain's set of the snapshot's route IDs, emptied and filled again by each
	// call rather than made afresh: at 10,000 routes a new set per swap was 0.3 MB of
	// every rebuild's garbage. retainMu keeps two Retains from sharing it.
	retainMu sync.Mutex
	live     map[string]bool
}

// Route is a route's cached series. It survives snapshot swaps while the route
// exists, and knows every series it created so that removing the route removes exactly
// those (no scan over every series of every route).
type Route struct {
	m  *Registry
	id string // the label value: valid UTF-8
	// counters is made on the route's first response: at 10,000 routes, most of which
	// may never see a request, their slots would hold 2.4 MB.
	counters atomic.Pointer[codeCounters]
	latency  atomic.Pointer[observerRef]

	mu      sync.Mutex
	seen    map[string]bool         // series keys already in created
	created [][]string              // label values of each series this route made...
	vecs    []*prometheus.MetricVec // ...and the vector each belongs to
}

type counterRef struct{ prometheus.Counter }

// codeCounters are a route's request counters, looked up once per status code.
type codeCounters struct {
	byCode  [24]atomic.Pointer[counterRef] // slot 0 unused, see codeSlot
	classes [6]atomic.Pointer[counterRef]  // other codes by class (1xx..5xx)
}

type observerRef struct{ prometheus.Observer }

// New makes an empty Registry with the Go runtime and process collectors.
func New() *Registry {
	m := &Registry{
		registry: prometheus.NewRegistry(),
		routes:   map[string]*Route{},
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "bridgehead_requests_total", Help: "HTTP responses by route and status code.",
		}, []string{"route", "code"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "bridgehead_request_duration_seconds", Help: "Time from routing a request to the end of its response, by route.",
			Buckets: latencyBuckets,
		}, []string{"route"}),
		backendLatency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "bridgehead_backend_request_duration_seconds", Help: "Time a backend Service took to answer (to the end of the response), by route and backend.",
			Buckets: latencyBuckets,
		}, []string{"route", "backend"}),
		upstream: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "bridgehead_upstream_failures_total", Help: "Upstream failures by route and classified reason.",
		}, []string{"route", "reason"}),
		handshakes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "bridgehead_client_handshake_failures_total", Help: "Client TLS handshakes refused, by reason.",
		}, []string{"reason"}),
		tcpConns: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "bridgehead_tcp_connections_total", Help: "TCP connections by route.",
		}, []string{"route"}),
		tcpBytesIO: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "bridgehead_tcp_bytes_total", Help: "Bytes forwarded on TCP routes; in is client to backend.",
		}, []string{"route", "direction"}),
		tcpFails: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "bridgehead_tcp_failures_total", Help: "TCP connections that failed, by route and reason.",
		}, []string{"route", "reason"}),
		mirrors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "bridgehead_mirror_requests_total", Help: "Copies of requests for the mirrors of a mirroring TraefikService, by route and result (sent, or dropped because too many were in flight).",
		}, []string{"route", "result"}),
		certificates: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "bridgehead_certificate_not_after_seconds", Help: "Expiry of the certificates in use (unix time).",
		}, []string{"source", "use", "subject"}),
	}
	m.udp = newUDPVecs()
	m.registry.MustRegister(m.udp.collectors()...)
	m.registry.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		m.requests, m.latency, m.backendLatency, m.upstream, m.handshakes,
		m.tcpConns, m.tcpBytesIO, m.tcpFails, m.mirrors, m.certificates,
	)
	return m
}

// labelValue makes s a value client_golang accepts: the exposition format is UTF-8, and a
// route or certificate name can hold any byte (those become U+FFFD).
func labelValue(s string) string {
	if utf8.ValidString(s) {
		return s
	}
	return strings.ToValidUTF8(s, "\uFFFD")
}

// Route returns the series of a route, made on first use and kept until Retain drops it.
func (m *Registry) Route(id string) *Route {
	m.mu.Lock()
	defer m.mu.Unlock()
	r, ok := m.routes[id]
	if !ok {
		r = &Route{m: m, id: labelValue(id)}
		m.routes[id] = r
	}
	return r
}

// series returns vec's child for the route and the other label values, remembering it so
// that forget deletes it.
func (r *Route) series(vec *prometheus.MetricVec, values ...string) prometheus.Metric {
	lv := append([]string{r.id}, values...)
	for i := range lv[1:] {
		lv[i+1] = labelValue(lv[i+1])
	}
	metric, err := vec.GetMetricWithLabelValues(lv...)
	if err != nil {
		panic(err) // the label counts are fixed here; valid UTF-8 is ensured above
	}
	r.mu.Lock()
	key := strings.Join(lv, "\xff") // 0xff never occurs in valid UTF-8
	if !r.seen[key] {
		if r.seen == nil {
			r.seen = map[string]bool{}
		}
		r.seen[key] = true
		r.created = append(r.created, lv)
		r.vecs = append(r.vecs, vec)
	}
	r.mu.Unlock()
	return metric
}

// forget deletes every series of the route.
func (r *Route) forget() {
	r.mu.Lock()
	defer r.mu.Unlock()
	for i, lv := range r.created {
		r.vecs[i].DeleteLabelValues(lv...)
	}
	r.seen, r.created, r.vecs = nil, nil, nil
}

// Observe counts one response of the route: its status code and its duration.
func (r *Route) Observe(code int, d time.Duration) {
	r.Count(code)
	lat := r.latency.Load()
	if lat == nil {
		lat = &observerRef{r.series(r.m.latency.MetricVec).(prometheus.Observer)}
		r.latency.Store(lat)
	}
	lat.Observe(d.Seconds())
}

// Count counts one response of the route by status code.
func (r *Route) Count(code int) {
	cs := r.counters.Load()
	if cs == nil {
		// Two first responses at once: the swap keeps one set, which both then use.
		r.counters.CompareAndSwap(nil, &codeCounters{})
		cs = r.counters.Load()
	}
	var slot *atomic.Pointer[counterRef]
	switch {
	case code > 0 && code < len(codeSlot) && codeSlot[code] != 0:
		slot = &cs.byCode[codeSlot[code]]
	case code >= 100 && code < 600:
		slot = &cs.classes[code/100]
	default:
		return
	}
	c := slot.Load()
	if c == nil {
		label := strconv.Itoa(code)
		if codeSlot[code] == 0 {
			label = strconv.Itoa(code/100) + "xx"
		}
		c = &counterRef{r.series(r.m.requests.MetricVec, label).(prometheus.Counter)}
		slot.Store(c)
	}
	c.Inc()
}

// Latency is one latency series, looked up once and kept by its user (a backend of a
// compiled snapshot), so that observing costs no label lookup.
type Latency struct{ o prometheus.Observer }

// Observe records one duration.
func (l *Latency) Observe(d time.Duration) { l.o.Observe(d.Seconds()) }

// BackendLatency returns the latency series of one backend Service of the route.
func (r *Route) BackendLatency(service string) *Latency {
	return &Latency{r.series(r.m.backendLatency.MetricVec, service).(prometheus.Observer)}
}

// Retain drops the series of routes the snapshot no longer has, so route churn (every
// Ingress ever created) does not grow /metrics and memory without bound. A route that
// comes back starts from zero, which Prometheus reads as a counter reset.
//
// Call it once the snapshot's HTTP routes have their series (the compile makes them).
// changes (snapshot.MatchRoutes against the snapshot retained last; nil when not known)
// says which HTTP routes are gone: their IDs are dropped unless a route of the snapshot
// has it again. Only when the registry then holds more routes than the snapshot's HTTP
// routes and the TCP and UDP routes it knows are every route's ID compared: at 10,000
// routes, a set of them all made on every swap was a fifth of the swap's CPU.
func (m *Registry) Retain(snap *snapshot.Snapshot, changes *snapshot.RouteChanges) {
	m.retainMu.Lock()
	defer m.retainMu.Unlock()
	m.mu.Lock()
	var gone []*Route
	drop := func(id string) {
		if r, ok := m.routes[id]; ok {
			gone = append(gone, r)
			delete(m.routes, id)
		}
	}
	if changes != nil && len(changes.Gone) > 0 {
		again := map[string]bool{}
		for j, i := range changes.From {
			if i < 0 {
				again[snap.HTTPRoutes[j].ID] = true
			}
		}
		for _, i := range changes.Gone {
			if id := changes.Before[i].ID; !again[id] {
				drop(id)
			}
		}
	}
	streams := 0 // the TCP and UDP routes that have series
	for _, r := range snap.TCPRoutes {
		if _, ok := m.routes[r.ID]; ok {
			streams++
		}
	}
	for _, r := range snap.UDPRoutes {
		if _, ok := m.routes[r.ID]; ok {
			streams++
		}
	}
	if changes == nil || len(m.routes) > len(snap.HTTPRoutes)+streams {
		live := m.live
		if live == nil {
			live = make(map[string]bool, len(snap.HTTPRoutes)+len(snap.TCPRoutes))
			m.live = live
		}
		for _, r := range snap.HTTPRoutes {
			live[r.ID] = true
		}
		for _, r := range snap.TCPRoutes {
			live[r.ID] = true
		}
		for _, r := range snap.UDPRoutes {
			live[r.ID] = true
		}
		for id := range m.routes {
			if !live[id] {
				drop(id)
			}
		}
		clear(live) // so that it keeps no route ID alive
	}
	m.mu.Unlock()
	for _, r := range gone {
		r.forget()
	}
}

// UpstreamFailure counts a classified upstream failure of a route.
func (m *Registry) UpstreamFailure(route, reason string) {
	m.Route(route).series(m.upstream.MetricVec, reason).(prometheus.Counter).Inc()
}

// HandshakeFailure counts a client connection refused before or during TLS, by reason.
func (m *Registry) HandshakeFailure(reason string) {
	m.handshakes.WithLabelValues(labelValue(reason)).Inc()
}

// Mirror counts a copy of a request for a mirror: result is sent or dropped.
func (m *Registry) Mirror(route, result string) {
	m.Route(route).series(m.mirrors.MetricVec, result).(prometheus.Counter).Inc()
}

// TCPConnection counts a connection a TCP route took.
func (m *Registry) TCPConnection(route string) {
	m.Route(route).series(m.tcpConns.MetricVec).(prometheus.Counter).Inc()
}

// TCPFailure counts a TCP route's connection that failed, by reason.
func (m *Registry) TCPFailure(route, reason string) {
	m.Route(route).series(m.tcpFails.MetricVec, reason).(prometheus.Counter).Inc()
}

// TCPBytes adds the bytes a TCP route's connection forwarded each way.
func (m *Registry) TCPBytes(route string, in, out int64) {
	r := m.Route(route)
	r.series(m.tcpBytesIO.MetricVec, "in").(prometheus.Counter).Add(float64(in))
	r.series(m.tcpBytesIO.MetricVec, "out").(prometheus.Counter).Add(float64(out))
}

// certGauge is one certificate in use, for the expiry gauge.
type certGauge struct {
	source, kind, subject string
	notAfter              int64
}

// RecordCertificates publishes the expiry of every certificate a snapshot uses as gauges.
func (m *Registry) RecordCertificates(snap *snapshot.Snapshot) {
	var gs []certGauge
	for _, c := range snap.CertificatesInUse() {
		gs = append(gs, certGauge{source: c.Source.Namespace + "/" + c.Source.Name, kind: c.Use, subject: c.Subject, notAfter: c.NotAfter.Unix()})
	}
	m.setCertificates(gs)
}

// setCertificates replaces the expiry gauges with the certificates of a new snapshot.
func (m *Registry) setCertificates(certs []certGauge) {
	m.certificatesMu.Lock()
	defer m.certificatesMu.Unlock()
	m.certificates.Reset()
	for _, c := range certs {
		m.certificates.WithLabelValues(labelValue(c.source), labelValue(c.kind), labelValue(c.subject)).Set(float64(c.notAfter))
	}
}

// Handler serves /metrics in the format the scraper asks for (text by default).
func (m *Registry) Handler() http.Handler {
	return promhttp.HandlerFor(m.registry, promhttp.HandlerOpts{ErrorHandling: promhttp.ContinueOnError})
}

// write prints every metric in the Prometheus text exposition format (tests, debugging).
func (m *Registry) write(out io.Writer) error {
	families, err := m.registry.Gather()
	if err != nil {
		return err
	}
	enc := expfmt.NewEncoder(out, expfmt.NewFormat(expfmt.TypeTextPlain))
	for _, f := range families {
		if err := enc.Encode(f); err != nil {
			return err
		}
	}
	return nil
}
