package proxy

import (
	"strings"
	"testing"

	"github.com/bridgehead/bridgehead/internal/snapshot"
)

// A route that leaves the snapshot leaves /metrics with all its series; the others stay
// and keep counting.
func TestMetricsDropRemovedRoutes(t *testing.T) {
	m := newMetrics()
	old, kept := m.route("web/old"), m.route("web/kept")
	old.count(200)
	kept.count(200)
	m.upstreamFailure("web/old", "UnknownAuthority")
	m.upstreamFailure("web/kept", "Timeout")
	m.tcpConnection("tcp/gone")
	m.tcpBytes("tcp/gone", 10, 20)
	m.tcpFailure("tcp/gone", "ConnectionRefused")
	m.tcpConnection("tcp/kept")
	m.handshakeFailure("UnknownSNI")

	m.retain(&snapshot.Snapshot{
		HTTPRoutes: []*snapshot.HTTPRoute{{ID: "web/kept"}},
		TCPRoutes:  []*snapshot.TCPRoute{{ID: "tcp/kept"}},
	})
	m.route("web/kept").count(200)

	var out strings.Builder
	m.write(&out)
	text := out.String()
	for _, gone := range []string{"web/old", "tcp/gone"} {
		if strings.Contains(text, gone) {
			t.Errorf("%s is still in /metrics after its route was removed:\n%s", gone, text)
		}
	}
	for _, want := range []string{
		`bridgehead_requests_total{route="web/kept",code="200"} 2`,
		`bridgehead_upstream_failures_total{route="web/kept",reason="Timeout"} 1`,
		`bridgehead_tcp_connections_total{route="tcp/kept"} 1`,
		`bridgehead_client_handshake_failures_total{reason="UnknownSNI"} 1`,
	} {
		if !strings.Contains(text, want) {
			t.Errorf("/metrics lacks %s:\n%s", want, text)
		}
	}
}
