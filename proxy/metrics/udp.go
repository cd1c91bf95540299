package metrics

import "github.com/prometheus/client_golang/prometheus"

// udpVecs are the series of UDP routes: sessions (one per client address), datagrams
// each way, and datagrams dropped before reaching a backend.
type udpVecs struct {
	sessions  *prometheus.CounterVec // route
	open      *prometheus.GaugeVec   // entrypoint
	datagrams *prometheus.CounterVec // route, direction
	bytes     *prometheus.CounterVec // route, direction
	dropped   *prometheus.CounterVec // entrypoint, reason
}

func newUDPVecs() udpVecs {
	return udpVecs{
		sessions: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "bridgehead_udp_sessions_total", Help: "UDP sessions (one per client address until it is idle) opened, by route.",
		}, []string{"route"}),
		open: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "bridgehead_udp_sessions_open", Help: "UDP sessions open now, by entry point.",
		}, []string{"entrypoint"}),
		datagrams: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "bridgehead_udp_datagrams_total", Help: "Datagrams forwarded on UDP routes; in is client to backend.",
		}, []string{"route", "direction"}),
		bytes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "bridgehead_udp_bytes_total", Help: "Bytes of the datagrams forwarded on UDP routes; in is client to backend.",
		}, []string{"route", "direction"}),
		dropped: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "bridgehead_udp_dropped_total", Help: "Client datagrams dropped, by entry point and reason (NoRoute, SessionLimit, BackendUnreachable, ...).",
		}, []string{"entrypoint", "reason"}),
	}
}

func (u udpVecs) collectors() []prometheus.Collector {
	return []prometheus.Collector{u.sessions, u.open, u.datagrams, u.bytes, u.dropped}
}

// UDPSession counts a session a UDP route opened.
func (m *Registry) UDPSession(route string) {
	m.Route(route).series(m.udp.sessions.MetricVec).(prometheus.Counter).Inc()
}

// UDPSessionsOpen sets the number of open sessions of a UDP entry point.
func (m *Registry) UDPSessionsOpen(entryPoint string, n int) {
	m.udp.open.WithLabelValues(labelValue(entryPoint)).Set(float64(n))
}

// UDPDatagram counts one datagram of n bytes forwarded on a route; in is client to backend.
func (m *Registry) UDPDatagram(route string, in bool, n int) {
	dir := "out"
	if in {
		dir = "in"
	}
	r := m.Route(route)
	r.series(m.udp.datagrams.MetricVec, dir).(prometheus.Counter).Inc()
	r.series(m.udp.bytes.MetricVec, dir).(prometheus.Counter).Add(float64(n))
}

// UDPDropped counts a client datagram dropped on an entry point, by reason.
func (m *Registry) UDPDropped(entryPoint, reason string) {
	m.udp.dropped.WithLabelValues(labelValue(entryPoint), labelValue(reason)).Inc()
}
