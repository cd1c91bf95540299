// Package health is what the data plane knows about each backend endpoint, and how it
// finds out: the endpoint states that outlive snapshots (Registry: passive ejection,
// active verdict), the active health checks a backend asks for (Checker), and the
// proactive TLS probes that run when a snapshot changes a route's TLS path (Prober), so
// a route's BackendTLSReady condition is right before the first user request fails.
//
// It reads internal/snapshot, and of proxy/... it uses only proxy/upstream (transports
// and outcome records): forwarding reads the endpoint states, never the other way
// around. Like all of proxy/..., it never imports Kubernetes packages. (proxy/imports_test.go
// checks both.)
package health
