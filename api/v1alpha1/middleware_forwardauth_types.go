package v1alpha1

// ForwardAuth delegates the decision to admit a request to an authentication server, as
// Traefik's forwardAuth: for every request the gateway sends a GET (the original method in
// X-Forwarded-Method, the original host and URI in X-Forwarded-Host and X-Forwarded-Uri)
// with the request's headers to Address. A 2xx answer lets the request through, with the
// headers named in authResponseHeaders copied from the answer onto it; any other answer
// is returned to the client as the auth server gave it (status, headers and body). When
// the auth server cannot be reached, or its TLS certificate does not verify, the client
// gets 500 with the cause in the Bridgehead-Error header.
type ForwardAuth struct {
	// Address is the auth server's URL, http:// or https://. A host written as a Service's
	// DNS name (NAME.NAMESPACE.svc, or NAME.NAMESPACE.svc.cluster.local) is resolved to the
	// Service's ready endpoints, as for route backends (the port is the Service port,
	// default 80 or 443 by scheme); any other host is dialled as written.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=2048
	// +kubebuilder:validation:XValidation:rule="self.startsWith('http://') || self.startsWith('https://')",message="address must be an http:// or https:// URL of the auth server, such as http://auth.default.svc:8080/verify"
	Address string `json:"address"`
	// TrustForwardHeader, when true, sends the X-Forwarded-* headers the request already
	// carries (from a trusted proxy in front) to the auth server; when false they are
	// removed first; when unset, Traefik's historical behaviour: X-Forwarded-For, -Proto,
	// -Method, -Host and -Uri are set from the request and other X-Forwarded-* pass as sent.
	// +optional
	TrustForwardHeader *bool `json:"trustForwardHeader,omitempty"`
	// AuthResponseHeaders are copied from the auth server's 2xx answer onto the request
	// sent to the backend, replacing what the client sent in them.
	// +kubebuilder:validation:MaxItems=64
	// +kubebuilder:validation:items:MaxLength=256
	// +kubebuilder:validation:items:Pattern=`^[-A-Za-z0-9!#$%&*+.^_|~]+$`
	// +optional
	AuthResponseHeaders []string `json:"authResponseHeaders,omitempty"`
	// AuthResponseHeadersRegex: request headers matching it are removed, then the auth
	// server's headers matching it are copied onto the request. A Go regular expression.
	// +kubebuilder:validation:MaxLength=1024
	// +optional
	AuthResponseHeadersRegex string `json:"authResponseHeadersRegex,omitempty"`
	// AuthRequestHeaders, when set, are the only request headers sent to the auth server
	// (besides the X-Forwarded-* it sets); unset, every header is sent.
	// +kubebuilder:validation:MaxItems=64
	// +kubebuilder:validation:items:MaxLength=256
	// +kubebuilder:validation:items:Pattern=`^[-A-Za-z0-9!#$%&*+.^_|~]+$`
	// +optional
	AuthRequestHeaders []string `json:"authRequestHeaders,omitempty"`
	// AddAuthCookiesToResponse names cookies the auth server sets (Set-Cookie on its 2xx
	// answer) that are added to the backend's response, replacing the backend's own
	// cookies of those names.
	// +kubebuilder:validation:MaxItems=64
	// +kubebuilder:validation:items:MaxLength=256
	// +optional
	AddAuthCookiesToResponse []string `json:"addAuthCookiesToResponse,omitempty"`
	// TLS configures the connection to an https:// auth server. Unset, the server's
	// certificate is verified against the system roots.
	// +optional
	TLS *ForwardAuthTLS `json:"tls,omitempty"`
	// MaxResponseBodySize bounds the auth server's answer body, in bytes; a larger one
	// gets the client 401. Unset or -1: no limit (Traefik's default).
	// +kubebuilder:validation:Minimum=-1
	// +optional
	MaxResponseBodySize *int64 `json:"maxResponseBodySize,omitempty"`
	// ForwardBody sends the request body to the auth server too (read whole, then sent on
	// to the backend as well).
	// +optional
	ForwardBody bool `json:"forwardBody,omitempty"`
	// MaxBodySize bounds the body read with forwardBody, in bytes; a larger one gets the
	// client 401. Unset or -1: no limit (Traefik's default).
	// +kubebuilder:validation:Minimum=-1
	// +optional
	MaxBodySize *int64 `json:"maxBodySize,omitempty"`
	// PreserveLocationHeader returns the auth server's Location header as it wrote it;
	// otherwise a relative Location is made absolute against Address.
	// +optional
	PreserveLocationHeader bool `json:"preserveLocationHeader,omitempty"`
	// PreserveRequestMethod sends the auth request with the original method instead of GET.
	// +optional
	PreserveRequestMethod bool `json:"preserveRequestMethod,omitempty"`
	// AuthSigninURL, when set, answers a 401 from the auth server with a 302 redirect to it.
	// +kubebuilder:validation:MaxLength=2048
	// +optional
	AuthSigninURL string `json:"authSigninURL,omitempty"`
}

// ForwardAuthTLS is the TLS to the auth server, as Traefik's forwardAuth.tls in its CRD.
type ForwardAuthTLS struct {
	// CASecret names a Secret in the Middleware's namespace whose key ca.crt (or tls.ca)
	// holds the PEM roots the auth server's certificate must chain to; unset, the system
	// roots.
	// +kubebuilder:validation:MaxLength=253
	// +optional
	CASecret string `json:"caSecret,omitempty"`
	// CertSecret names a kubernetes.io/tls Secret in the Middleware's namespace (tls.crt,
	// tls.key): the client certificate presented to an auth server that asks for one.
	// +kubebuilder:validation:MaxLength=253
	// +optional
	CertSecret string `json:"certSecret,omitempty"`
	// InsecureSkipVerify does not verify the auth server's certificate at all; it raises a
	// warning condition. Set caSecret instead.
	// +optional
	InsecureSkipVerify bool `json:"insecureSkipVerify,omitempty"`
	// CAOptional has no effect, as in Traefik v3 (which deprecates it: client
	// authentication is the server's choice); it raises a warning condition.
	//
	// Deprecated: remove it.
	// +optional
	CAOptional *bool `json:"caOptional,omitempty"`
}
