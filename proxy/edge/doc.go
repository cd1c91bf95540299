// Package edge is the client-facing TLS of the data plane: for each snapshot it builds
// one *tls.Config per host name (exact, then wildcard, then the default policy), enforces
// each TLSOption's client-certificate mode on every handshake, derives session-ticket keys
// per policy, serves a self-signed certificate when nothing else matches, and hands RSA
// keys to OpenSSL (proxy/opensslrsa) when it can.
//
// It reads only internal/snapshot and the standard library (plus proxy/opensslrsa). It
// must not import proxy or its other subpackages: the accept loop asks it for a config
// per SNI, never the other way around. Like all of proxy/..., it never imports Kubernetes
// packages.
package edge
