package v1alpha1

// Headers is Traefik's headers middleware: custom request and response headers (an empty
// value removes the header), CORS (preflight answered by the gateway), and the security
// response headers. Traefik v3's deprecated fields featurePolicy, sslRedirect,
// sslTemporaryRedirect, sslHost and sslForceHost are not in this schema: Traefik v3 ignores
// them, so a Traefik manifest that sets them is refused with what to use instead.
type Headers struct {
	// CustomRequestHeaders are set on the request sent to the backend.
	// +kubebuilder:validation:MaxProperties=64
	// +kubebuilder:validation:XValidation:rule="self.all(k, k.matches('^[-A-Za-z0-9!#$%&*+.^_|~]+$'))",message="customRequestHeaders keys must be valid HTTP header names"
	// +optional
	CustomRequestHeaders map[string]string `json:"customRequestHeaders,omitempty"`
	// CustomResponseHeaders are set on the response sent to the client.
	// +kubebuilder:validation:MaxProperties=64
	// +kubebuilder:validation:XValidation:rule="self.all(k, k.matches('^[-A-Za-z0-9!#$%&*+.^_|~]+$'))",message="customResponseHeaders keys must be valid HTTP header names"
	// +optional
	CustomResponseHeaders map[string]string `json:"customResponseHeaders,omitempty"`

	// AccessControlAllowCredentials sends Access-Control-Allow-Credentials: true.
	// +optional
	AccessControlAllowCredentials bool `json:"accessControlAllowCredentials,omitempty"`
	// AccessControlAllowHeaders is sent in Access-Control-Allow-Headers on preflight answers.
	// +kubebuilder:validation:MaxItems=64
	// +optional
	AccessControlAllowHeaders []string `json:"accessControlAllowHeaders,omitempty"`
	// AccessControlAllowMethods is sent in Access-Control-Allow-Methods on preflight answers.
	// +kubebuilder:validation:MaxItems=32
	// +optional
	AccessControlAllowMethods []string `json:"accessControlAllowMethods,omitempty"`
	// AccessControlAllowOriginList are the origins allowed ("*" allows any); the request's
	// Origin is echoed in Access-Control-Allow-Origin when it is listed.
	// +kubebuilder:validation:MaxItems=256
	// +optional
	AccessControlAllowOriginList []string `json:"accessControlAllowOriginList,omitempty"`
	// AccessControlAllowOriginListRegex are Go regular expressions (RE2) for allowed origins.
	// +kubebuilder:validation:MaxItems=64
	// +optional
	AccessControlAllowOriginListRegex []string `json:"accessControlAllowOriginListRegex,omitempty"`
	// AccessControlExposeHeaders is sent in Access-Control-Expose-Headers.
	// +kubebuilder:validation:MaxItems=64
	// +optional
	AccessControlExposeHeaders []string `json:"accessControlExposeHeaders,omitempty"`
	// AccessControlMaxAge is sent in Access-Control-Max-Age on preflight answers (seconds).
	// +optional
	AccessControlMaxAge *int64 `json:"accessControlMaxAge,omitempty"`
	// AddVaryHeader adds Origin to the response's Vary header.
	// +optional
	AddVaryHeader bool `json:"addVaryHeader,omitempty"`

	// AllowedHosts, when set, answers 500 "Bad Host" to a request whose host (or the first
	// of HostsProxyHeaders present) is not listed (case-insensitive, exact).
	// +kubebuilder:validation:MaxItems=256
	// +optional
	AllowedHosts []string `json:"allowedHosts,omitempty"`
	// HostsProxyHeaders are request headers that carry the original host for AllowedHosts.
	// +kubebuilder:validation:MaxItems=16
	// +optional
	HostsProxyHeaders []string `json:"hostsProxyHeaders,omitempty"`
	// SSLProxyHeaders are request header values that mark a request as HTTPS (for
	// stsSeconds and publicKey) when it reached the gateway over plain HTTP, e.g.
	// X-Forwarded-Proto: https behind a TLS-terminating load balancer.
	// +kubebuilder:validation:MaxProperties=16
	// +optional
	SSLProxyHeaders map[string]string `json:"sslProxyHeaders,omitempty"`

	// STSSeconds sends Strict-Transport-Security: max-age=STSSeconds on HTTPS answers.
	// +kubebuilder:validation:Minimum=0
	// +optional
	STSSeconds *int64 `json:"stsSeconds,omitempty"`
	// STSIncludeSubdomains adds includeSubDomains to Strict-Transport-Security.
	// +optional
	STSIncludeSubdomains bool `json:"stsIncludeSubdomains,omitempty"`
	// STSPreload adds preload to Strict-Transport-Security.
	// +optional
	STSPreload bool `json:"stsPreload,omitempty"`
	// ForceSTSHeader sends Strict-Transport-Security on plain-HTTP answers too.
	// +optional
	ForceSTSHeader bool `json:"forceSTSHeader,omitempty"`
	// FrameDeny sends X-Frame-Options: DENY.
	// +optional
	FrameDeny bool `json:"frameDeny,omitempty"`
	// CustomFrameOptionsValue is sent in X-Frame-Options instead of DENY.
	// +optional
	CustomFrameOptionsValue string `json:"customFrameOptionsValue,omitempty"`
	// ContentTypeNosniff sends X-Content-Type-Options: nosniff.
	// +optional
	ContentTypeNosniff bool `json:"contentTypeNosniff,omitempty"`
	// BrowserXSSFilter sends X-XSS-Protection: 1; mode=block.
	// +optional
	BrowserXSSFilter bool `json:"browserXssFilter,omitempty"`
	// CustomBrowserXSSValue is sent in X-XSS-Protection instead.
	// +optional
	CustomBrowserXSSValue string `json:"customBrowserXSSValue,omitempty"`
	// ContentSecurityPolicy is sent in Content-Security-Policy.
	// +optional
	ContentSecurityPolicy string `json:"contentSecurityPolicy,omitempty"`
	// ContentSecurityPolicyReportOnly is sent in Content-Security-Policy-Report-Only.
	// +optional
	ContentSecurityPolicyReportOnly string `json:"contentSecurityPolicyReportOnly,omitempty"`
	// PublicKey is sent in Public-Key-Pins on HTTPS answers.
	// +optional
	PublicKey string `json:"publicKey,omitempty"`
	// ReferrerPolicy is sent in Referrer-Policy.
	// +optional
	ReferrerPolicy string `json:"referrerPolicy,omitempty"`
	// PermissionsPolicy is sent in Permissions-Policy.
	// +optional
	PermissionsPolicy string `json:"permissionsPolicy,omitempty"`
	// IsDevelopment turns off allowedHosts, Strict-Transport-Security and Public-Key-Pins,
	// as Traefik does, for development setups.
	// +optional
	IsDevelopment bool `json:"isDevelopment,omitempty"`
}
