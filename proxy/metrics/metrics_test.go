package metrics

import (
	"strings"
	"testing"
	"time"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/bridgehead/bridgehead/internal/snapshot"
)

// A route that leaves the snapshot leaves /metrics with all its series; the others stay
// and keep counting.
func TestMetricsDropRemovedRoutes(t *testing.T) {
	m := New()
	old, kept := m.Route("web/old"), m.Route("web/kept")
	old.Count(200)
	kept.Count(200)
	m.UpstreamFailure("web/old", "UnknownAuthority")
	m.UpstreamFailure("web/kept", "Timeout")
	m.TCPConnection("tcp/gone")
	m.TCPBytes("tcp/gone", 10, 20)
	m.TCPFailure("tcp/gone", "ConnectionRefused")
	m.TCPConnection("tcp/kept")
	m.HandshakeFailure("UnknownSNI")

	m.Retain(&snapshot.Snapshot{
		HTTPRoutes: []*snapshot.HTTPRoute{{RouteHead: snapshot.RouteHead{ID: "web/kept"}}},
		TCPRoutes:  []*snapshot.TCPRoute{{RouteHead: snapshot.RouteHead{ID: "tcp/kept"}}},
	}, nil)
	m.Route("web/kept").Count(200)

	var out strings.Builder
	if err := m.write(&out); err != nil {
		t.Fatal(err)
	}
	text := out.String()
	for _, gone := range []string{"web/old", "tcp/gone"} {
		if strings.Contains(text, gone) {
			t.Errorf("%s is still in /metrics after its route was removed:\n%s", gone, text)
		}
	}
	for _, want := range []string{
		`bridgehead_requests_total{code="200",route="web/kept"} 2`,
		`bridgehead_upstream_failures_total{reason="Timeout",route="web/kept"} 1`,
		`bridgehead_tcp_connections_total{route="tcp/kept"} 1`,
		`bridgehead_client_handshake_failures_total{reason="UnknownSNI"} 1`,
	} {
		if !strings.Contains(text, want) {
			t.Errorf("/metrics lacks %s:\n%s", want, text)
		}
	}
}

// hostile label values: everything the text format escapes, what strconv.Quote escaped
// differently (tab, é, NUL), a Prometheus-looking line break, and invalid UTF-8.
var hostile = "web/a\tb\"c\\d\ne\u00e9\x00}{x=\"1\"} 2\n#f\xff\xfeg"

// The whole page parses with Prometheus's own text parser, and every label value reads
// back as written (invalid UTF-8 as U+FFFD).
func TestMetricsLabelValuesAreEscapedForPrometheus(t *testing.T) {
	m := New()
	m.Route(hostile).Observe(200, time.Millisecond)
	m.Route(hostile).Count(299)
	m.Route(hostile).BackendLatency(hostile).Observe(2 * time.Millisecond)
	m.UpstreamFailure(hostile, "Timeout")
	m.HandshakeFailure(hostile)
	m.TCPConnection(hostile)
	m.TCPBytes(hostile, 1, 2)
	m.TCPFailure(hostile, "ConnectionRefused")
	m.setCertificates([]certGauge{{source: hostile, kind: "edge", subject: hostile, notAfter: 1}})
	var out strings.Builder
	if err := m.write(&out); err != nil {
		t.Fatal(err)
	}

	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(strings.NewReader(out.String()))
	if err != nil {
		t.Fatalf("Prometheus's parser refuses /metrics: %v\n%s", err, out.String())
	}
	want := strings.ToValidUTF8(hostile, "\uFFFD")
	seen, ours := 0, 0
	for name, f := range families {
		if !strings.HasPrefix(name, "bridgehead_") {
			continue
		}
		ours++
		for _, metric := range f.GetMetric() {
			for _, l := range metric.GetLabel() {
				switch l.GetName() {
				case "route", "reason", "source", "subject", "backend":
					if l.GetValue() != want && l.GetValue() != "Timeout" && l.GetValue() != "ConnectionRefused" {
						t.Errorf("%s: label %s reads back as %q, want %q", name, l.GetName(), l.GetValue(), want)
					}
					seen++
				}
			}
		}
	}
	// 9 families; labels that can be hostile: requests 2 series, latency 1, backend
	// latency 2 labels, upstream 2 labels, handshakes 1, tcp connections 1, tcp bytes 2
	// series, tcp failures 2 labels, certificate 2 labels.
	if ours != 9 || seen != 15 {
		t.Errorf("%d bridgehead families, %d hostile-capable labels read back; want 9 and 15:\n%s", ours, seen, out.String())
	}
	for _, runtime := range []string{"go_goroutines", "go_memstats_heap_inuse_bytes", "process_resident_memory_bytes"} {
		if _, ok := families[runtime]; !ok {
			t.Errorf("/metrics lacks the runtime metric %s", runtime)
		}
	}
}

// BenchmarkRequestMetrics is what /metrics costs one proxied request: its status code and
// its latency on the route.
func BenchmarkRequestMetrics(b *testing.B) {
	m := New()
	r := m.Route("web/app")
	b.ReportAllocs()
	for b.Loop() {
		r.Observe(200, 1500*time.Microsecond)
	}
}

// Told what changed since the last snapshot, Retain drops the series of the routes gone
// and keeps the others, a route changed into another object under its ID included; a
// series made for a route no snapshot has (an observation after its route was dropped)
// is dropped as well.
func TestMetricsRetainDropsWhatTheChangesRemoved(t *testing.T) {
	m := New()
	route := func(id string) *snapshot.HTTPRoute {
		m.Route(id).Count(200) // as the compile and a first response do
		return &snapshot.HTTPRoute{RouteHead: snapshot.RouteHead{ID: id}}
	}
	page := func() string {
		var out strings.Builder
		if err := m.write(&out); err != nil {
			t.Fatal(err)
		}
		return out.String()
	}
	check := func(step string, present, absent []string) {
		t.Helper()
		text := page()
		for _, id := range present {
			if !strings.Contains(text, `route="`+id+`"`) {
				t.Errorf("%s: %s's series are gone:\n%s", step, id, text)
			}
		}
		for _, id := range absent {
			if strings.Contains(text, `route="`+id+`"`) {
				t.Errorf("%s: %s's series are still in /metrics:\n%s", step, id, text)
			}
		}
	}
	a := route("web/a")
	before := []*snapshot.HTTPRoute{a, route("web/b"), route("web/c")}
	m.Retain(&snapshot.Snapshot{HTTPRoutes: before}, nil)

	after := []*snapshot.HTTPRoute{a, {RouteHead: snapshot.RouteHead{ID: "web/c"}}, route("web/d")}
	changes := snapshot.MatchRoutes(before, after)
	m.Retain(&snapshot.Snapshot{HTTPRoutes: after}, &changes)
	check("b removed, c changed, d added", []string{"web/a", "web/c", "web/d"}, []string{"web/b"})

	m.UpstreamFailure("web/b", "Timeout") // a request to b that was still in flight
	again := snapshot.MatchRoutes(after, after)
	m.Retain(&snapshot.Snapshot{HTTPRoutes: after}, &again)
	check("nothing changed after a late observation", []string{"web/a", "web/c", "web/d"}, []string{"web/b"})
}
