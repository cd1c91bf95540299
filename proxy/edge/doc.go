// Package edge is the client-facing TLS of the data plane: for each snapshot it builds
// one *tls.Config per host name (exact, then wildcard, then the default policy), enforces
// each TLSOption's client-certificate mode on every handshake, derives session-ticket keys
// per policy, serves a self-signed certificate when nothing else matches, and hands RSA
// keys to OpenSSL (proxy/opensslrsa) when it can.
//
// It reads internal/snapshot, and of proxy/... it uses only proxy/opensslrsa: the accept
// loop asks it for a config per SNI, never the other way around, and it knows nothing of
// routes, health or metrics. Like all of proxy/..., it never imports Kubernetes packages.
// (proxy/imports_test.go checks both.)
package edge
