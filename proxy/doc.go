// Package proxy is Bridgehead's data plane: the accept loop of each entry point (PROXY
// protocol from trusted load balancers, the ClientHello peek that sends passthrough SNI to
// TCP routes), the router, and forwarding to verified backends (HTTP routes, load
// balancing with passive ejection, TCP routes).
//
// Jobs that need none of that live in subpackages, each held by one value in Server:
// client TLS per SNI (proxy/edge), endpoint health (proxy/health), metrics
// (proxy/metrics), the admin port (proxy/admin), the access log (proxy/accesslog), and
// the PROXY protocol codec (proxy/proxyproto).
//
// It reads only the immutable snapshot (internal/snapshot) and never imports Kubernetes
// packages (imports_test.go). Every snapshot is compiled once, off the hot path, into a
// state (TLS configs, routers, balancers) that a connection or request loads with a single
// atomic read.
package proxy
