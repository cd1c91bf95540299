// Package proxyproto reads and writes PROXY protocol headers (versions 1 and 2): the
// client address a trusted load balancer puts in front of a connection, and the one the
// gateway sends to a TCP backend that asks for it. Reading is byte-exact, so what follows
// the header is left for TLS or HTTP.
//
// It is a codec on io.Reader and io.Writer over the standard library only, and imports
// nothing of proxy/... (proxy/imports_test.go checks it). Which peers are trusted to send
// a header is the entry point's decision (proxy), not this package's.
package proxyproto
