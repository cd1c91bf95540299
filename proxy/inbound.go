package proxy

import (
	"net"
	"net/http"
	"net/netip"
	"time"
)

// Production defaults of the client-side limits (Config).
const (
	// DefaultMaxHeaderBytes is the request line and header fields of an HTTP/1.1 request,
	// and the header list of an HTTP/2 one. nginx buffers at most 4 x 8 KiB of headers and
	// Envoy 60 KiB; 64 KiB is enough for any browser's cookies.
	DefaultMaxHeaderBytes = 64 << 10
	// DefaultMaxHeaderFields is Apache's LimitRequestFields (HAProxy's tune.http.maxhdr
	// is 101): browsers send 10 to 30.
	DefaultMaxHeaderFields = 100
	// DefaultRequestBodyIdleTimeout is nginx's client_body_timeout: the longest a request
	// body may go without sending a byte.
	DefaultRequestBodyIdleTimeout = 60 * time.Second
)

// Typed reasons of the refusals made on the client's side (Bridgehead-Error).
const (
	reasonTooManyHeaderFields = "TooManyHeaderFields"
	reasonClientBodyMalformed = "ClientBodyMalformed"
	reasonClientBodyTimeout   = "ClientBodyTimeout"
)

// connectionClose is the shared Connection header value that makes net/http close the
// connection after the response (read-only, len == cap).
var connectionClose = []string{"close"}

// closeAfter reports whether the connection must close after answering r because r's
// framing could be read another way by a proxy in front of us (RFC 9112 section 6.1).
//
// The case the RFC names is a request with both Content-Length and Transfer-Encoding: a
// front proxy that framed it by Content-Length sees the bytes after the chunked body as
// the start of its next request, while we would serve them as a request of their own
// (request smuggling). net/http cannot tell us: it deletes Content-Length while parsing a
// chunked request (transfer.go fixLength) and keeps no trace of it, and it ignores and
// deletes Transfer-Encoding on HTTP/1.0 requests, which it frames by Content-Length.
// Finding the header ourselves would mean parsing every connection's bytes a second time.
// So we close after every request that could have carried both: every HTTP/1.1 request
// that is chunked, and every HTTP/1.0 request (net/http closes those anyway unless the
// client asked for keep-alive). It costs a reconnect (and a TLS handshake) to clients that
// upload chunked bodies or keep HTTP/1.0 connections alive, and nothing to anyone else.
// HTTP/2 frames its own messages and is not affected.
func closeAfter(r *http.Request) bool {
	return r.ProtoMajor == 1 && (len(r.TransferEncoding) > 0 || (r.ProtoMinor == 0 && !r.Close))
}

// trustsForwarded reports whether the client on c may set X-Forwarded-* headers. It runs
// once per connection; c's address is the client's (a PROXY header replaced the load
// balancer's already).
func (ep *entryPoint) trustsForwarded(c net.Conn) bool {
	if len(ep.ForwardedTrustedIPs) == 0 {
		return false
	}
	var a netip.Addr
	switch v := c.RemoteAddr().(type) {
	case nil:
		return false
	case *net.TCPAddr:
		a = v.AddrPort().Addr()
	default:
		ap, err := netip.ParseAddrPort(v.String())
		if err != nil {
			return false
		}
		a = ap.Addr()
	}
	a = a.Unmap().WithZone("")
	for _, p := range ep.ForwardedTrustedIPs {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// Header names compared by scrubHeader, lower case with '-'.
const (
	hdrForwarded       = "forwarded"
	hdrRealIP          = "x-real-ip"
	hdrForwardedPrefix = "x-forwarded-"
	hdrClientCert      = "x-forwarded-tls-client-cert"
	hdrClientCertInfo  = "x-forwarded-tls-client-cert-info"
)

// scrubHeader removes, in one pass over the header map, the headers a backend takes as
// the gateway's word:
//   - from every client: X-Forwarded-Tls-Client-Cert and -Info, which only the
//     passTLSClientCert middleware sets (a backend that trusts them trusts a client
//     identity);
//   - from clients not in ForwardedTrustedIPs (untrusted): Forwarded, X-Real-Ip and every
//     X-Forwarded-* (-For, -Host, -Proto, -Port, -Prefix, -Uri, -Method, -Server, -Ssl,
//     ...). The gateway sets its own afterwards (setForwarded, the middlewares).
//
// Names are compared the way CGI-style stacks (PHP, Django, Rack) read them: any case,
// '_' for '-', so X_Forwarded_For cannot slip through as another header. It returns the
// number of header fields (values), for the field limit. It allocates nothing.
func scrubHeader(h http.Header, trusted bool) (fields int) {
	for k, v := range h {
		fields += len(v)
		if len(k) < len(hdrForwarded) {
			continue
		}
		switch c := k[0] | 0x20; {
		case c == 'f':
			if !trusted && len(k) == len(hdrForwarded) && sameName(k, hdrForwarded) {
				delete(h, k)
			}
		case c == 'x' && (k[1] == '-' || k[1] == '_'):
			switch {
			case len(k) == len(hdrRealIP):
				if !trusted && sameName(k, hdrRealIP) {
					delete(h, k)
				}
			case len(k) > len(hdrForwardedPrefix) && sameName(k[:len(hdrForwardedPrefix)], hdrForwardedPrefix):
				if !trusted ||
					(len(k) == len(hdrClientCert) && sameName(k, hdrClientCert)) ||
					(len(k) == len(hdrClientCertInfo) && sameName(k, hdrClientCertInfo)) {
					delete(h, k)
				}
			}
		}
	}
	return fields
}

// sameName compares a header name with lower, a lower-case name spelled with '-', in any
// case and with '_' for '-'. len(name) == len(lower).
func sameName(name, lower string) bool {
	for i := 0; i < len(lower); i++ {
		c := name[i]
		switch {
		case c == '_':
			c = '-'
		case 'A' <= c && c <= 'Z':
			c += 'a' - 'A'
		}
		if c != lower[i] {
			return false
		}
	}
	return true
}
