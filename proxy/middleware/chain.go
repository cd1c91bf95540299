// Package middleware runs a route's compiled middlewares (internal/snapshot) in front of
// its backends. Chain builds every middleware once per snapshot, off the hot path: per
// request a middleware only reads configuration it precomputed, so a built chain is safe
// for concurrent use and allocates only what its job needs.
package middleware

import (
	"net/http"

	"github.com/bridgehead/bridgehead/internal/snapshot"
)

// Chain wraps next with the route's middlewares, first listed runs first. It returns next
// itself when mws is empty, so a route without middlewares pays nothing.
// Stateful middlewares (rateLimit) start with fresh state; the proxy keeps theirs across
// snapshots in a Memory (Memory.Chain, Memory.BuildHolding).
func Chain(mws []*snapshot.Middleware, next http.Handler) http.Handler {
	// Wrapping from the last one outwards leaves the first listed outermost, so it sees
	// the request first (and the response last), as in Traefik.
	return (*Memory)(nil).Chain(mws, next)
}

// wrap builds one middleware around next. A Middleware with nothing set cannot come out
// of translate; if one ever does, passing requests on beats failing the whole route.
func wrap(m *snapshot.Middleware, next http.Handler) http.Handler {
	switch {
	case m == nil:
		return next
	case m.RedirectScheme != nil:
		return newRedirectScheme(m.RedirectScheme, next)
	case m.StripPrefix != nil:
		return newStripPrefix(m.StripPrefix, next)
	case m.AddPrefix != nil:
		return newAddPrefix(m.AddPrefix, next)
	case m.Headers != nil:
		return newHeaders(m.Headers, next)
	case m.IPAllowList != nil:
		return newIPAllowList(m.IPAllowList, next)
	case m.PassTLSClientCert != nil:
		return newPassTLSClientCert(m.PassTLSClientCert, next)
	case m.ReplacePath != nil:
		return newReplacePath(m.ReplacePath, next)
	case m.TLSClientSubject != nil:
		return newTLSClientSubject(m.TLSClientSubject, next)
	case m.BasicAuth != nil:
		return newBasicAuth(m.BasicAuth, next)
	case m.DigestAuth != nil:
		return newDigestAuth(m.DigestAuth, next)
	case m.Buffering != nil:
		return newBuffering(m.Buffering, next)
	case m.Retry != nil:
		return newRetry(m.Retry, next)
	case m.ReplacePathRegex != nil:
		return newReplacePathRegex(m.ReplacePathRegex, next)
	case m.StripPrefixRegex != nil:
		return newStripPrefixRegex(m.StripPrefixRegex, next)
	case m.RedirectRegex != nil:
		return newRedirectRegex(m.RedirectRegex, next)
	case m.ContentType != nil:
		return newContentType(m.ContentType, next)
	case m.Compress != nil:
		return newCompress(m.Compress, next)
	case m.GrpcWeb != nil:
		return newGrpcWeb(m.GrpcWeb, next)
	case m.RequestHeaderModifier != nil:
		return newRequestHeaderModifier(m.RequestHeaderModifier, next)
	case m.ResponseHeaderModifier != nil:
		return newResponseHeaderModifier(m.ResponseHeaderModifier, next)
	case m.RequestRedirect != nil:
		// It answers every request: nothing after it runs.
		return newRequestRedirect(m.RequestRedirect)
	case m.URLRewrite != nil:
		return newURLRewrite(m.URLRewrite, next)
	}
	return next
}

// Header values below are shared by every request instead of allocated per request.
// Each has len == cap, so an append by a later handler copies rather than writing into
// the shared array; nothing may assign into their elements.
var (
	textPlain = []string{"text/plain; charset=utf-8"}
	noSniff   = []string{"nosniff"}
)

// writeText answers a short plain-text response without the allocations of http.Error.
func writeText(w http.ResponseWriter, code int, body []byte) {
	h := w.Header()
	h["Content-Type"] = textPlain
	h["X-Content-Type-Options"] = noSniff
	w.WriteHeader(code)
	_, _ = w.Write(body) // the client went away: nothing left to tell it
}
