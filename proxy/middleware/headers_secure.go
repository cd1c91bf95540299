package middleware

import (
	"net/http"
	"strings"

	"github.com/bridgehead/bridgehead/internal/snapshot"
)

// secure is the security part of Traefik's headers middleware (unrolled/secure there).
type secure struct {
	allowedHosts      []string
	hostsProxyHeaders []string
	sslProxyHeaders   map[string]string
	cfg               *snapshot.SecureHeaders
}

func newSecure(c *snapshot.SecureHeaders) *secure {
	s := &secure{allowedHosts: c.AllowedHosts, sslProxyHeaders: c.SSLProxyHeaders, cfg: c}
	for _, h := range c.HostsProxyHeaders {
		s.hostsProxyHeaders = append(s.hostsProxyHeaders, http.CanonicalHeaderKey(h))
	}
	return s
}

// responseOps are the headers set on an answer over HTTPS (tls) or plain HTTP.
func (s *secure) responseOps(tls bool) []headerOp {
	var ops []headerOp
	for _, k := range sortedKeys(s.cfg.Always) {
		ops = append(ops, op(k, s.cfg.Always[k]))
	}
	if s.cfg.STS != "" && (tls || s.cfg.ForceSTS) {
		ops = append(ops, op("Strict-Transport-Security", s.cfg.STS))
	}
	if s.cfg.PublicKey != "" && tls {
		ops = append(ops, op("Public-Key-Pins", s.cfg.PublicKey))
	}
	return ops
}

// hostAllowed: the request's host, or the first hostsProxyHeaders header it carries, is
// one of allowedHosts (exact, case-insensitive, port included as Traefik compares it).
func (s *secure) hostAllowed(r *http.Request) bool {
	if len(s.allowedHosts) == 0 {
		return true
	}
	host := r.Host
	for _, h := range s.hostsProxyHeaders {
		if v := r.Header.Get(h); v != "" {
			host = v
			break
		}
	}
	for _, a := range s.allowedHosts {
		if strings.EqualFold(a, host) {
			return true
		}
	}
	return false
}

// isHTTPS: the request came over TLS, or carries one of sslProxyHeaders with its value.
func (s *secure) isHTTPS(r *http.Request) bool {
	if r.TLS != nil || strings.EqualFold(r.URL.Scheme, "https") {
		return true
	}
	for k, v := range s.sslProxyHeaders {
		if r.Header.Get(k) == v {
			return true
		}
	}
	return false
}
