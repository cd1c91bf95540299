// Package metrics is the data plane's Prometheus metrics: one client_golang registry per
// Server (with the Go runtime and process collectors), the per-route series the request
// path counts into without a label lookup, their removal when a route leaves the
// snapshot, certificate expiry gauges, and the /metrics exposition handler.
//
// It reads internal/snapshot and the Prometheus client libraries, and imports nothing of
// proxy/...: the data plane counts into it, it never calls back. Like all of proxy/..., it
// never imports Kubernetes packages. (proxy/imports_test.go checks both.)
package metrics
