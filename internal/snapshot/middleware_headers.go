package snapshot

// CORS is the cross-origin part of a headers middleware: a preflight request (OPTIONS with
// Origin and Access-Control-Request-Method) is answered by the gateway.
type CORS struct {
	AllowCredentials bool     `json:"allowCredentials,omitempty"`
	AllowHeaders     []string `json:"allowHeaders,omitempty"`
	AllowMethods     []string `json:"allowMethods,omitempty"`
	AllowOrigins     []string `json:"allowOrigins,omitempty"`
	// AllowOriginPatterns are compiled Go regular expressions (checked by translate).
	AllowOriginPatterns []string `json:"allowOriginPatterns,omitempty"`
	ExposeHeaders       []string `json:"exposeHeaders,omitempty"`
	// MaxAge is sent on preflight answers when set.
	MaxAge        *int64 `json:"maxAge,omitempty"`
	AddVaryOrigin bool   `json:"addVaryOrigin,omitempty"`
}

// SecureHeaders is the security part of a headers middleware.
type SecureHeaders struct {
	// AllowedHosts answers 500 "Bad Host" to other hosts; HostsProxyHeaders carry the host.
	AllowedHosts      []string `json:"allowedHosts,omitempty"`
	HostsProxyHeaders []string `json:"hostsProxyHeaders,omitempty"`
	// SSLProxyHeaders mark a plain-HTTP request as HTTPS (header -> value).
	SSLProxyHeaders map[string]string `json:"sslProxyHeaders,omitempty"`
	// STS is the Strict-Transport-Security value, sent on HTTPS answers ("" = none), or on
	// every answer with ForceSTS.
	STS      string `json:"sts,omitempty"`
	ForceSTS bool   `json:"forceSTS,omitempty"`
	// PublicKey is the Public-Key-Pins value, sent on HTTPS answers.
	PublicKey string `json:"publicKey,omitempty"`
	// Always are response headers sent on every answer (X-Frame-Options, CSP, ...).
	Always map[string]string `json:"always,omitempty"`
}
