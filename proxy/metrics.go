package proxy

import (
	"fmt"
	"io"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"unicode/utf8"

	"github.com/bridgehead/bridgehead/internal/snapshot"
)

// The metrics are kept in atomics and written in the Prometheus text format by hand: the
// data plane imports no metrics library, and counting costs one atomic add per request.

// trackedCodes get their own counter; other codes are counted under their class.
var trackedCodes = []int{200, 201, 204, 206, 301, 302, 304, 307, 308, 400, 401, 403, 404, 405, 408, 413, 421, 429, 499, 500, 502, 503, 504}

var codeSlot = func() [600]uint8 {
	var t [600]uint8
	for i, c := range trackedCodes {
		t[c] = uint8(i + 1)
	}
	return t
}()

// routeStats counts a route's responses; it survives snapshot swaps.
type routeStats struct {
	id      string
	byCode  [24]atomic.Uint64 // slot 0: other codes, see classes
	classes [6]atomic.Uint64  // other codes by class (1xx..5xx)
}

func (r *routeStats) count(code int) {
	if code > 0 && code < len(codeSlot) && codeSlot[code] != 0 {
		r.byCode[codeSlot[code]].Add(1)
		return
	}
	if c := code / 100; c >= 1 && c <= 5 {
		r.classes[c].Add(1)
	}
}

type metrics struct {
	mu         sync.Mutex
	routes     map[string]*routeStats
	upstream   sync.Map // labels{route, reason} -> *atomic.Uint64
	handshakes sync.Map // labels{reason} -> *atomic.Uint64
	tcpConns   sync.Map // labels{route} -> *atomic.Uint64
	tcpBytesIO sync.Map // labels{route, direction} -> *atomic.Uint64
	tcpFails   sync.Map // labels{route, reason} -> *atomic.Uint64
	certs      atomic.Pointer[[]certGauge]
}

// labels are the label values of one series, in the order writeMap names them. A struct,
// not a joined string: a value may hold any byte, so no separator is safe.
type labels [2]string

type certGauge struct {
	source, kind, subject string
	notAfter              int64
}

func newMetrics() *metrics { return &metrics{routes: map[string]*routeStats{}} }

func (m *metrics) route(id string) *routeStats {
	m.mu.Lock()
	defer m.mu.Unlock()
	r, ok := m.routes[id]
	if !ok {
		r = &routeStats{id: id}
		m.routes[id] = r
	}
	return r
}

// retain drops the series of routes the snapshot no longer has, so route churn (every
// Ingress ever created) does not grow /metrics and memory without bound. A route that
// comes back starts from zero, which Prometheus reads as a counter reset.
func (m *metrics) retain(snap *snapshot.Snapshot) {
	live := make(map[string]bool, len(snap.HTTPRoutes)+len(snap.TCPRoutes))
	for _, r := range snap.HTTPRoutes {
		live[r.ID] = true
	}
	for _, r := range snap.TCPRoutes {
		live[r.ID] = true
	}
	m.mu.Lock()
	for id := range m.routes {
		if !live[id] {
			delete(m.routes, id)
		}
	}
	m.mu.Unlock()
	for _, series := range []*sync.Map{&m.upstream, &m.tcpConns, &m.tcpBytesIO, &m.tcpFails} {
		series.Range(func(k, _ any) bool {
			if !live[k.(labels)[0]] {
				series.Delete(k)
			}
			return true
		})
	}
}

func counter(m *sync.Map, key labels) *atomic.Uint64 {
	if c, ok := m.Load(key); ok {
		return c.(*atomic.Uint64)
	}
	c, _ := m.LoadOrStore(key, new(atomic.Uint64))
	return c.(*atomic.Uint64)
}

func (m *metrics) upstreamFailure(route, reason string) {
	counter(&m.upstream, labels{route, reason}).Add(1)
}

func (m *metrics) handshakeFailure(reason string) { counter(&m.handshakes, labels{reason}).Add(1) }

func (m *metrics) tcpConnection(route string) { counter(&m.tcpConns, labels{route}).Add(1) }

func (m *metrics) tcpFailure(route, reason string) {
	counter(&m.tcpFails, labels{route, reason}).Add(1)
}

func (m *metrics) tcpBytes(route string, in, out int64) {
	counter(&m.tcpBytesIO, labels{route, "in"}).Add(uint64(in))
	counter(&m.tcpBytesIO, labels{route, "out"}).Add(uint64(out))
}

// write prints every metric in the Prometheus text exposition format.
func (m *metrics) write(out io.Writer) {
	w := &strings.Builder{}
	defer func() { _, _ = io.WriteString(out, w.String()) }()
	fmt.Fprintln(w, "# HELP bridgehead_requests_total HTTP responses by route and status code.")
	fmt.Fprintln(w, "# TYPE bridgehead_requests_total counter")
	m.mu.Lock()
	ids := make([]string, 0, len(m.routes))
	for id := range m.routes {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	routes := make([]*routeStats, len(ids))
	for i, id := range ids {
		routes[i] = m.routes[id]
	}
	m.mu.Unlock()
	for _, r := range routes {
		for i, c := range trackedCodes {
			if v := r.byCode[i+1].Load(); v > 0 {
				fmt.Fprintf(w, "bridgehead_requests_total{route=%s,code=\"%d\"} %d\n", quote(r.id), c, v)
			}
		}
		for c := 1; c <= 5; c++ {
			if v := r.classes[c].Load(); v > 0 {
				fmt.Fprintf(w, "bridgehead_requests_total{route=%s,code=\"%dxx\"} %d\n", quote(r.id), c, v)
			}
		}
	}
	writeMap(w, &m.upstream, "bridgehead_upstream_failures_total", "Upstream failures by route and classified reason.", []string{"route", "reason"})
	writeMap(w, &m.handshakes, "bridgehead_client_handshake_failures_total", "Client TLS handshakes refused, by reason.", []string{"reason"})
	writeMap(w, &m.tcpConns, "bridgehead_tcp_connections_total", "TCP connections by route.", []string{"route"})
	writeMap(w, &m.tcpBytesIO, "bridgehead_tcp_bytes_total", "Bytes forwarded on TCP routes; in is client to backend.", []string{"route", "direction"})
	writeMap(w, &m.tcpFails, "bridgehead_tcp_failures_total", "TCP connections that failed, by route and reason.", []string{"route", "reason"})
	fmt.Fprintln(w, "# HELP bridgehead_certificate_not_after_seconds Expiry of the certificates in use (unix time).")
	fmt.Fprintln(w, "# TYPE bridgehead_certificate_not_after_seconds gauge")
	if certs := m.certs.Load(); certs != nil {
		for _, c := range *certs {
			fmt.Fprintf(w, "bridgehead_certificate_not_after_seconds{source=%s,use=%s,subject=%s} %d\n", quote(c.source), quote(c.kind), quote(c.subject), c.notAfter)
		}
	}
}

func writeMap(w *strings.Builder, m *sync.Map, name, help string, names []string) {
	fmt.Fprintf(w, "# HELP %s %s\n# TYPE %s counter\n", name, help, name)
	var lines []string
	m.Range(func(k, v any) bool {
		values := k.(labels)
		var b strings.Builder
		for i, l := range names {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteString(l + "=" + quote(values[i]))
		}
		lines = append(lines, fmt.Sprintf("%s{%s} %d", name, b.String(), v.(*atomic.Uint64).Load()))
		return true
	})
	sort.Strings(lines)
	for _, l := range lines {
		fmt.Fprintln(w, l)
	}
}

// labelEscaper escapes what the text exposition format escapes in a label value, and
// nothing else: backslash, double quote and line feed. Go's strconv.Quote is not that
// format (it writes \t, \u00e9, \x00, which Prometheus refuses or misreads).
var labelEscaper = strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`)

// quote writes s as a quoted label value. The format is UTF-8, so bytes that are not
// valid UTF-8 (a route or certificate name can hold any) become U+FFFD first. Values
// without anything to change cost no allocation beyond the quotes.
func quote(s string) string {
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "\uFFFD")
	}
	return `"` + labelEscaper.Replace(s) + `"`
}
