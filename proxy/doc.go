// Package proxy is Bridgehead's data plane: entry points, client TLS chosen per SNI,
// the router, and the reverse proxy to verified backends.
//
// It reads only the immutable snapshot (internal/snapshot) and never imports Kubernetes
// packages. Every snapshot is compiled once, off the hot path, into a state (TLS configs,
// routers, balancers) that a connection or request loads with a single atomic read.
package proxy
