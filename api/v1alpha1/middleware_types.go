package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// MiddlewareSpec holds exactly one middleware. tlsClientSubject and redirectScheme.statusCode
// are Bridgehead extensions (Traefik has neither); the other fields are Traefik's.
// +kubebuilder:validation:XValidation:rule="[has(self.redirectScheme), has(self.stripPrefix), has(self.addPrefix), has(self.replacePath), has(self.headers), has(self.ipAllowList), has(self.ipWhiteList), has(self.passTLSClientCert), has(self.tlsClientSubject), has(self.basicAuth), has(self.digestAuth), has(self.rateLimit), has(self.inFlightReq), has(self.chain), has(self.buffering), has(self.forwardAuth), has(self.retry), has(self.errors), has(self.circuitBreaker)].filter(x, x).size() == 1",message="set exactly one middleware: redirectScheme, stripPrefix, addPrefix, replacePath, headers, ipAllowList, ipWhiteList, passTLSClientCert, tlsClientSubject, basicAuth, digestAuth, rateLimit, inFlightReq, chain, buffering, forwardAuth, retry, errors or circuitBreaker"
type MiddlewareSpec struct {
	// RedirectScheme redirects requests to another scheme (typically http to https).
	// +optional
	RedirectScheme *RedirectScheme `json:"redirectScheme,omitempty"`
	// StripPrefix removes path prefixes before forwarding.
	// +optional
	StripPrefix *StripPrefix `json:"stripPrefix,omitempty"`
	// AddPrefix adds a path prefix before forwarding.
	// +optional
	AddPrefix *AddPrefix `json:"addPrefix,omitempty"`
	// ReplacePath replaces the whole request path before forwarding; the original path is
	// sent in X-Replaced-Path.
	// +optional
	ReplacePath *ReplacePath `json:"replacePath,omitempty"`
	// Headers adds or removes request and response headers.
	// +optional
	Headers *Headers `json:"headers,omitempty"`
	// IPAllowList accepts requests only from the listed client addresses.
	// +optional
	IPAllowList *IPAllowList `json:"ipAllowList,omitempty"`
	// IPWhiteList is ipAllowList under the name Traefik v2 gave it (Traefik v3 still reads it).
	// +optional
	IPWhiteList *IPWhiteList `json:"ipWhiteList,omitempty"`
	// PassTLSClientCert forwards the client's certificate (or parts of it) in a header.
	// +optional
	PassTLSClientCert *PassTLSClientCert `json:"passTLSClientCert,omitempty"`
	// TLSClientSubject admits only requests whose verified client certificate's subject
	// matches a regular expression; others get 403. A Bridgehead extension.
	// +optional
	TLSClientSubject *TLSClientSubject `json:"tlsClientSubject,omitempty"`
	// BasicAuth admits users listed in a Secret (HTTP Basic authentication).
	// +optional
	BasicAuth *BasicAuth `json:"basicAuth,omitempty"`
	// DigestAuth admits users listed in a Secret (HTTP Digest authentication).
	// +optional
	DigestAuth *DigestAuth `json:"digestAuth,omitempty"`
	// RateLimit limits the request rate per source (429 with Retry-After beyond it).
	// +optional
	RateLimit *RateLimit `json:"rateLimit,omitempty"`
	// InFlightReq limits the requests in progress per source (429 beyond it).
	// +optional
	InFlightReq *InFlightReq `json:"inFlightReq,omitempty"`
	// Chain runs other Middlewares in order.
	// +optional
	Chain *Chain `json:"chain,omitempty"`
	// Buffering reads whole bodies before sending them on, bounding their sizes.
	// +optional
	Buffering *Buffering `json:"buffering,omitempty"`
	// ForwardAuth admits requests that an authentication server admits.
	// +optional
	ForwardAuth *ForwardAuth `json:"forwardAuth,omitempty"`
	// Retry sends a request again when its backend could not be reached.
	// +optional
	Retry *Retry `json:"retry,omitempty"`
	// Errors answers listed statuses with a page from another Service.
	// +optional
	Errors *ErrorPage `json:"errors,omitempty"`
	// CircuitBreaker stops forwarding while an expression over recent requests holds.
	// +optional
	CircuitBreaker *CircuitBreaker `json:"circuitBreaker,omitempty"`
}

// RedirectScheme redirects to another scheme, keeping host, path and query.
type RedirectScheme struct {
	// Scheme to redirect to.
	// +kubebuilder:validation:Enum=http;https
	Scheme string `json:"scheme"`
	// Port to redirect to; empty keeps the scheme's default port.
	// +kubebuilder:validation:Pattern=`^[0-9]{1,5}$`
	// +optional
	Port string `json:"port,omitempty"`
	// Permanent answers 308 instead of 307 (301/302 for GET and HEAD, as in Traefik).
	// +optional
	Permanent bool `json:"permanent,omitempty"`
	// StatusCode, when set, is the status of every redirect whatever the method, and
	// permanent is ignored. A Bridgehead extension (Traefik has no such field), for the
	// redirect codes of ingress-nginx (308) and the HAProxy controllers (ssl-redirect-code).
	// Note that with 301, 302 and 303 clients may turn a POST into a GET.
	// +kubebuilder:validation:Enum=301;302;303;307;308
	// +optional
	StatusCode int `json:"statusCode,omitempty"`
}

// StripPrefix removes the first matching prefix from the request path.
type StripPrefix struct {
	// Prefixes to strip; each starts with /.
	// +kubebuilder:validation:MinItems=1
	// +kubebuilder:validation:MaxItems=32
	// +kubebuilder:validation:items:Pattern=`^/`
	// +kubebuilder:validation:items:MaxLength=1024
	Prefixes []string `json:"prefixes"`
	// ForceSlash is accepted for Traefik compatibility.
	//
	// Deprecated: Traefik v3 removed its effect.
	// +optional
	ForceSlash *bool `json:"forceSlash,omitempty"`
}

// AddPrefix prepends a path prefix.
type AddPrefix struct {
	// Prefix to add; starts with /.
	// +kubebuilder:validation:Pattern=`^/`
	// +kubebuilder:validation:MaxLength=1024
	Prefix string `json:"prefix"`
}

// ReplacePath replaces the whole path (Traefik's replacePath).
type ReplacePath struct {
	// Path to send instead of the request's; starts with /. The query is kept.
	// +kubebuilder:validation:Pattern=`^/`
	// +kubebuilder:validation:MaxLength=1024
	Path string `json:"path"`
}

// TLSClientSubject admits only clients whose verified certificate's subject matches
// Pattern (as ingress-nginx's auth-tls-match-cn). A Bridgehead extension, not in Traefik.
// The route needs a TLSOption that verifies client certificates (clientAuth); a request
// without a verified client certificate, or over plain HTTP, gets 403.
type TLSClientSubject struct {
	// Pattern is a Go regular expression (RE2 syntax), unanchored, matched against the
	// subject in RFC 2253 form, e.g. "CN=alice,OU=ops,O=Example": "CN=(alice|bob)" admits
	// alice and bob, "^CN=alice," only a subject that starts with CN=alice.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=1024
	// +kubebuilder:validation:XValidation:rule="!self.matches(r'(^|[^\\\\])[(][?]<?[=!]')",message="pattern uses a lookahead or lookbehind ((?=, (?!, (?<=, (?<!), which Go regular expressions (RE2) do not have: rewrite it without, e.g. CN=(alice|bob), for a subject like CN=alice,O=Example"
	Pattern string `json:"pattern"`
}

// IPAllowList accepts only requests from the listed ranges.
type IPAllowList struct {
	// SourceRange lists the allowed client addresses, as IPs or CIDRs.
	// +kubebuilder:validation:MinItems=1
	// +kubebuilder:validation:MaxItems=256
	// +kubebuilder:validation:items:MaxLength=64
	// +kubebuilder:validation:XValidation:rule="self.all(r, isIP(r) || isCIDR(r))",message="each sourceRange entry must be an IP address or a CIDR such as 10.0.0.0/8 or 2001:db8::/32"
	SourceRange []string `json:"sourceRange"`
	// IPStrategy says which address counts as the client's.
	// +optional
	IPStrategy *IPStrategy `json:"ipStrategy,omitempty"`
	// RejectStatusCode is answered to other clients; default 403.
	// +kubebuilder:validation:Minimum=400
	// +kubebuilder:validation:Maximum=599
	// +optional
	RejectStatusCode int `json:"rejectStatusCode,omitempty"`
}

// IPStrategy picks the client address from X-Forwarded-For instead of the connection.
type IPStrategy struct {
	// Depth takes the address this many entries from the right of X-Forwarded-For.
	// +kubebuilder:validation:Minimum=0
	// +kubebuilder:validation:Maximum=64
	// +optional
	Depth int `json:"depth,omitempty"`
	// ExcludedIPs are skipped when walking X-Forwarded-For from the right.
	// +kubebuilder:validation:MaxItems=64
	// +kubebuilder:validation:items:MaxLength=64
	// +kubebuilder:validation:XValidation:rule="self.all(r, isIP(r) || isCIDR(r))",message="each excludedIPs entry must be an IP address or a CIDR"
	// +optional
	ExcludedIPs []string `json:"excludedIPs,omitempty"`
}

// PassTLSClientCert forwards the verified client certificate to the backend.
// +kubebuilder:validation:XValidation:rule="(has(self.pem) && self.pem) || has(self.info)",message="set pem: true or info, or the middleware forwards nothing"
type PassTLSClientCert struct {
	// PEM forwards the certificate chain (base64 DER, comma-separated, as Traefik v3 does) in
	// X-Forwarded-Tls-Client-Cert.
	// +optional
	PEM bool `json:"pem,omitempty"`
	// Info forwards selected fields in X-Forwarded-Tls-Client-Cert-Info.
	// +optional
	Info *TLSClientCertInfo `json:"info,omitempty"`
}

// TLSClientCertInfo selects certificate fields to forward.
type TLSClientCertInfo struct {
	// NotAfter forwards the expiry time.
	// +optional
	NotAfter bool `json:"notAfter,omitempty"`
	// NotBefore forwards the start of validity.
	// +optional
	NotBefore bool `json:"notBefore,omitempty"`
	// Sans forwards the subject alternative names.
	// +optional
	Sans bool `json:"sans,omitempty"`
	// SerialNumber forwards the serial number.
	// +optional
	SerialNumber bool `json:"serialNumber,omitempty"`
	// Subject selects subject fields.
	// +optional
	Subject *TLSClientCertDN `json:"subject,omitempty"`
	// Issuer selects issuer fields.
	// +optional
	Issuer *TLSClientCertDN `json:"issuer,omitempty"`
}

// TLSClientCertDN selects distinguished-name fields.
type TLSClientCertDN struct {
	// +optional
	Country bool `json:"country,omitempty"`
	// +optional
	Province bool `json:"province,omitempty"`
	// +optional
	Locality bool `json:"locality,omitempty"`
	// +optional
	Organization bool `json:"organization,omitempty"`
	// +optional
	OrganizationalUnit bool `json:"organizationalUnit,omitempty"`
	// +optional
	CommonName bool `json:"commonName,omitempty"`
	// +optional
	SerialNumber bool `json:"serialNumber,omitempty"`
	// +optional
	DomainComponent bool `json:"domainComponent,omitempty"`
}

// Middleware transforms or filters requests on the routes that list it.
//
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:shortName=mw,categories=bridgehead
// +kubebuilder:printcolumn:name="Ready",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].status`
// +kubebuilder:printcolumn:name="Reason",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].reason`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type Middleware struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec   MiddlewareSpec `json:"spec"`
	Status Status         `json:"status,omitempty"`
}

// MiddlewareList is a list of Middlewares.
//
// +kubebuilder:object:root=true
type MiddlewareList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []Middleware `json:"items"`
}
