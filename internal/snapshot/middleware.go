package snapshot

import "net/netip"

// Middleware is one compiled Middleware object; exactly one field besides Source is set.
type Middleware struct {
	Source            Ref                `json:"source"`
	RedirectScheme    *RedirectScheme    `json:"redirectScheme,omitempty"`
	StripPrefix       *StripPrefix       `json:"stripPrefix,omitempty"`
	AddPrefix         *AddPrefix         `json:"addPrefix,omitempty"`
	Headers           *Headers           `json:"headers,omitempty"`
	IPAllowList       *IPAllowList       `json:"ipAllowList,omitempty"`
	PassTLSClientCert *PassTLSClientCert `json:"passTLSClientCert,omitempty"`
	ReplacePath       *ReplacePath       `json:"replacePath,omitempty"`
	TLSClientSubject  *TLSClientSubject  `json:"tlsClientSubject,omitempty"`
	BasicAuth         *BasicAuth         `json:"basicAuth,omitempty"`
	DigestAuth        *DigestAuth        `json:"digestAuth,omitempty"`
	RateLimit         *RateLimit         `json:"rateLimit,omitempty"`
	InFlightReq       *InFlightReq       `json:"inFlightReq,omitempty"`
	Chain             *Chain             `json:"chain,omitempty"`
	Buffering         *Buffering         `json:"buffering,omitempty"`
	ForwardAuth       *ForwardAuth       `json:"forwardAuth,omitempty"`
	Retry             *Retry             `json:"retry,omitempty"`
	Errors            *ErrorPage         `json:"errors,omitempty"`
	CircuitBreaker    *CircuitBreaker    `json:"circuitBreaker,omitempty"`
	ReplacePathRegex  *ReplacePathRegex  `json:"replacePathRegex,omitempty"`
	StripPrefixRegex  *StripPrefixRegex  `json:"stripPrefixRegex,omitempty"`
	RedirectRegex     *RedirectRegex     `json:"redirectRegex,omitempty"`
	ContentType       *ContentType       `json:"contentType,omitempty"`
	Compress          *Compress          `json:"compress,omitempty"`
	GrpcWeb           *GrpcWeb           `json:"grpcWeb,omitempty"`
	// Gateway API HTTPRoute filters (middleware_gateway.go).
	RequestHeaderModifier  *HeaderModifier  `json:"requestHeaderModifier,omitempty"`
	ResponseHeaderModifier *HeaderModifier  `json:"responseHeaderModifier,omitempty"`
	RequestRedirect        *RequestRedirect `json:"requestRedirect,omitempty"`
	URLRewrite             *URLRewrite      `json:"urlRewrite,omitempty"`
}

// TLSClientSubject admits only requests whose verified client certificate's subject
// (RFC 2253, e.g. "CN=alice,O=Example") matches Pattern, a Go regular expression
// (ingress-nginx's auth-tls-match-cn); others get 403.
type TLSClientSubject struct {
	Pattern string `json:"pattern"`
}

// ReplacePath replaces the whole request path (ingress-nginx's rewrite-target without
// captures, HAProxy's one-argument path-rewrite); the query is kept.
type ReplacePath struct {
	Path string `json:"path"`
}

// RedirectScheme redirects to Scheme, keeping host, path and query.
type RedirectScheme struct {
	Scheme    string `json:"scheme"`
	Port      string `json:"port,omitempty"`
	Permanent bool   `json:"permanent,omitempty"`
	// StatusCode, when set, is the status of every redirect whatever the method (301, 302,
	// 303, 307 or 308); otherwise Permanent and the method choose.
	StatusCode int `json:"statusCode,omitempty"`
}

// StripPrefix removes the first matching prefix.
type StripPrefix struct {
	Prefixes []string `json:"prefixes"`
}

// AddPrefix prepends Prefix.
type AddPrefix struct {
	Prefix string `json:"prefix"`
}

// Headers sets (or, with an empty value, removes) headers, answers CORS, and adds the
// security response headers (Traefik's headers middleware).
type Headers struct {
	Request  map[string]string `json:"request,omitempty"`
	Response map[string]string `json:"response,omitempty"`
	CORS     *CORS             `json:"cors,omitempty"`
	Secure   *SecureHeaders    `json:"secure,omitempty"`
}

// IPAllowList admits only clients in SourceRange.
type IPAllowList struct {
	SourceRange      []netip.Prefix `json:"sourceRange"`
	Depth            int            `json:"depth,omitempty"`
	ExcludedIPs      []netip.Prefix `json:"excludedIPs,omitempty"`
	RejectStatusCode int            `json:"rejectStatusCode"`
}

// PassTLSClientCert forwards the client certificate.
type PassTLSClientCert struct {
	PEM bool `json:"pem,omitempty"`
	// Info lists the fields forwarded in X-Forwarded-Tls-Client-Cert-Info, e.g.
	// "notAfter", "subject.commonName".
	Info []string `json:"info,omitempty"`
}
