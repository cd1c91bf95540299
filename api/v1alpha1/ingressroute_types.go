package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// IngressRouteSpec routes HTTP requests by Traefik-style match rules to Kubernetes Services.
type IngressRouteSpec struct {
	// EntryPoints this route listens on (for example web, websecure). Empty means every
	// entry point of the right kind: TLS entry points when tls is set, plain ones otherwise.
	// +kubebuilder:validation:MaxItems=16
	// +kubebuilder:validation:items:MinLength=1
	// +kubebuilder:validation:items:MaxLength=64
	// +optional
	EntryPoints []string `json:"entryPoints,omitempty"`
	// Routes are the match rules and the Services they send requests to.
	// +kubebuilder:validation:MinItems=1
	// +kubebuilder:validation:MaxItems=128
	Routes []Route `json:"routes"`
	// TLS terminates client TLS for this route's hosts.
	// +optional
	TLS *TLS `json:"tls,omitempty"`
	// ParentRefs makes this IngressRoute a child of other IngressRoutes (Traefik's
	// multi-layer routing): its routes are evaluated only for requests that matched one of
	// a parent's routes, after that parent's middlewares ran, and they take the parent's
	// entry points and TLS (so a child sets neither). Every route of every parent becomes
	// a parent of every route here; a parent's routes have no services.
	// +kubebuilder:validation:MaxItems=16
	// +optional
	ParentRefs []IngressRouteRef `json:"parentRefs,omitempty"`
}

// IngressRouteRef names a parent IngressRoute.
type IngressRouteRef struct {
	// Name of the parent IngressRoute.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	Name string `json:"name"`
	// Namespace of the parent IngressRoute; defaults to this IngressRoute's namespace.
	// Another namespace needs cross-namespace references enabled.
	// +kubebuilder:validation:MaxLength=63
	// +optional
	Namespace string `json:"namespace,omitempty"`
}

// RouteKind is the kind of an IngressRoute route; only Rule exists.
// +kubebuilder:validation:Enum=Rule
type RouteKind string

// Route is one match rule of an IngressRoute.
type Route struct {
	// Match is the rule, for example Host(`app.example.com`) && PathPrefix(`/api`).
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=4096
	Match string `json:"match"`
	// Kind is accepted for Traefik compatibility; the only value is Rule.
	// +optional
	Kind RouteKind `json:"kind,omitempty"`
	// Priority breaks ties between overlapping rules; higher wins. Zero means the length
	// of the match rule, as in Traefik.
	// +kubebuilder:validation:Minimum=0
	// +optional
	Priority int `json:"priority,omitempty"`
	// Services receive the matched requests, balanced by weight. A route without services
	// is a parent route: it serves only through the child IngressRoutes that name its
	// IngressRoute in spec.parentRefs.
	// +kubebuilder:validation:MaxItems=32
	// +optional
	Services []Service `json:"services,omitempty"`
	// Middlewares run in order before the request is forwarded.
	// +kubebuilder:validation:MaxItems=32
	// +optional
	Middlewares []ObjectReference `json:"middlewares,omitempty"`
}

// ServiceKind is the kind of object a route's service names: a Kubernetes Service (the
// default) or a TraefikService (weighted or mirroring) in the same namespace rules.
// +kubebuilder:validation:Enum=Service;TraefikService
type ServiceKind string

// The kinds a route's service may name.
const (
	ServiceKindService        ServiceKind = "Service"
	ServiceKindTraefikService ServiceKind = "TraefikService"
)

// Scheme is the protocol spoken to a backend.
// +kubebuilder:validation:Enum=http;https;h2c
type Scheme string

// The backend schemes.
const (
	SchemeHTTP  Scheme = "http"
	SchemeHTTPS Scheme = "https"
	SchemeH2C   Scheme = "h2c"
)

// Service is a Kubernetes Service (or a TraefikService) a route forwards to.
// +kubebuilder:validation:XValidation:rule="has(self.port) || (has(self.kind) && self.kind == 'TraefikService')",message="port is required when kind is Service (the default): name the Service port by number or name, or set kind: TraefikService to route to a TraefikService"
type Service struct {
	// Name of the Service.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=63
	Name string `json:"name"`
	// Kind of the object named: Service (the default) or TraefikService. A TraefikService
	// takes no port, scheme, serversTransport, passHostHeader, sticky or healthCheck here:
	// its own spec says how it balances.
	// +optional
	Kind ServiceKind `json:"kind,omitempty"`
	// Namespace of the Service; defaults to the route's namespace.
	// +kubebuilder:validation:MaxLength=63
	// +optional
	Namespace string `json:"namespace,omitempty"`
	// Port of the Service, by number or by name; required for kind Service.
	// +kubebuilder:validation:XValidation:rule="type(self) == int ? (self >= 1 && self <= 65535) : self.matches('^[a-z0-9]([-a-z0-9]*[a-z0-9])?$')",message="port must be a number from 1 to 65535 or the name of a Service port"
	// +optional
	Port Port `json:"port,omitempty"`
	// Scheme spoken to the backend. Empty means https when the port is 443 or its name
	// starts with "https", and http otherwise.
	// +optional
	Scheme Scheme `json:"scheme,omitempty"`
	// ServersTransport names the ServersTransport (in the route's namespace) that says how
	// to verify the backend's certificate and which client certificate to present.
	// +kubebuilder:validation:MaxLength=253
	// +optional
	ServersTransport string `json:"serversTransport,omitempty"`
	// PassHostHeader forwards the client's Host header; default true.
	// +optional
	PassHostHeader *bool `json:"passHostHeader,omitempty"`
	// Weight of this service among the route's services; default 1. Zero takes it out.
	// +kubebuilder:validation:Minimum=0
	// +kubebuilder:validation:Maximum=1000000
	// +optional
	Weight *int `json:"weight,omitempty"`
	// Sticky pins a client to one endpoint with a cookie.
	// +optional
	Sticky *Sticky `json:"sticky,omitempty"`
	// HealthCheck actively probes each endpoint with the same transport as requests use.
	// +optional
	HealthCheck *HealthCheck `json:"healthCheck,omitempty"`
}

// Sticky holds session-affinity settings.
type Sticky struct {
	// Cookie that records the chosen endpoint.
	// +optional
	Cookie *Cookie `json:"cookie,omitempty"`
}

// SameSite is a cookie's SameSite attribute.
// +kubebuilder:validation:Enum=none;lax;strict
type SameSite string

// Cookie describes the sticky-session cookie.
type Cookie struct {
	// Name of the cookie; default is derived from the route.
	// +kubebuilder:validation:MaxLength=128
	// +kubebuilder:validation:Pattern=`^[!#$%&'*+\-.^_|~0-9A-Za-z]+$`
	// +optional
	Name string `json:"name,omitempty"`
	// Secure sets the Secure attribute.
	// +optional
	Secure bool `json:"secure,omitempty"`
	// HTTPOnly sets the HttpOnly attribute.
	// +optional
	HTTPOnly bool `json:"httpOnly,omitempty"`
	// SameSite sets the SameSite attribute.
	// +optional
	SameSite SameSite `json:"sameSite,omitempty"`
	// MaxAge in seconds; zero means a session cookie.
	// +kubebuilder:validation:Minimum=0
	// +optional
	MaxAge int `json:"maxAge,omitempty"`
	// Path of the cookie; default /.
	// +kubebuilder:validation:MaxLength=1024
	// +optional
	Path *string `json:"path,omitempty"`
}

// HealthCheck probes endpoints actively.
type HealthCheck struct {
	// Scheme of the probe; defaults to the service's scheme.
	// +optional
	Scheme Scheme `json:"scheme,omitempty"`
	// Path of the probe request.
	// +kubebuilder:validation:MaxLength=1024
	// +kubebuilder:validation:Pattern=`^/`
	// +optional
	Path string `json:"path,omitempty"`
	// Method of the probe request; default GET.
	// +kubebuilder:validation:Enum=GET;HEAD;POST;OPTIONS
	// +optional
	Method string `json:"method,omitempty"`
	// Status the probe expects; zero means any 2xx or 3xx.
	// +kubebuilder:validation:Minimum=100
	// +kubebuilder:validation:Maximum=599
	// +optional
	Status int `json:"status,omitempty"`
	// Port overrides the endpoint's port for the probe.
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=65535
	// +optional
	Port int `json:"port,omitempty"`
	// Hostname sent as Host (and SNI) by the probe.
	// +kubebuilder:validation:MaxLength=253
	// +optional
	Hostname string `json:"hostname,omitempty"`
	// Interval between probes of a healthy endpoint; default 30s.
	// +kubebuilder:validation:XValidation:rule="type(self) == int ? self > 0 : self.matches('^([0-9]+([.][0-9]+)?|([0-9]+([.][0-9]+)?(ns|us|ms|s|m|h))+)$')",message="interval must be a positive number of seconds or a duration such as 10s, 1m30s or 500ms"
	// +optional
	Interval *Duration `json:"interval,omitempty"`
	// UnhealthyInterval between probes of an unhealthy endpoint; default the interval.
	// +kubebuilder:validation:XValidation:rule="type(self) == int ? self > 0 : self.matches('^([0-9]+([.][0-9]+)?|([0-9]+([.][0-9]+)?(ns|us|ms|s|m|h))+)$')",message="unhealthyInterval must be a positive number of seconds or a duration such as 10s, 1m30s or 500ms"
	// +optional
	UnhealthyInterval *Duration `json:"unhealthyInterval,omitempty"`
	// Timeout of one probe; default 5s.
	// +kubebuilder:validation:XValidation:rule="type(self) == int ? self > 0 : self.matches('^([0-9]+([.][0-9]+)?|([0-9]+([.][0-9]+)?(ns|us|ms|s|m|h))+)$')",message="timeout must be a positive number of seconds or a duration such as 10s, 1m30s or 500ms"
	// +optional
	Timeout *Duration `json:"timeout,omitempty"`
	// Headers added to the probe request.
	// +kubebuilder:validation:MaxProperties=32
	// +optional
	Headers map[string]string `json:"headers,omitempty"`
}

// TLS terminates client TLS for an IngressRoute.
type TLS struct {
	// SecretName is a kubernetes.io/tls Secret with the certificate served for the route's
	// hosts. Empty means the TLSStore default (or a generated self-signed certificate).
	// +optional
	SecretName SecretName `json:"secretName,omitempty"`
	// Options names the TLSOption (versions, ciphers, client mTLS) for the route's hosts.
	// Empty means the TLSOption named "default" in the gateway's namespace, if any.
	// +optional
	Options *ObjectReference `json:"options,omitempty"`
	// Domains list the names the certificate is for, when the match rule has no Host().
	// +kubebuilder:validation:MaxItems=64
	// +optional
	Domains []Domain `json:"domains,omitempty"`
}

// IngressRouteStatus is the observed state of an IngressRoute.
type IngressRouteStatus struct {
	Status `json:",inline"`
	// Hosts are the host names the route's match rules serve.
	// +kubebuilder:validation:MaxItems=256
	// +optional
	Hosts []string `json:"hosts,omitempty"`
	// Certificates is the inventory of the certificates the route depends on: the edge
	// certificate, and the roots and client certificates of its ServersTransports.
	// +kubebuilder:validation:MaxItems=64
	// +optional
	Certificates []CertificateInfo `json:"certificates,omitempty"`
}

// CertificateUse says what a certificate in the inventory is for.
// +kubebuilder:validation:Enum=Edge;UpstreamRoot;UpstreamClient
type CertificateUse string

// The certificate uses.
const (
	CertificateUseEdge           CertificateUse = "Edge"
	CertificateUseUpstreamRoot   CertificateUse = "UpstreamRoot"
	CertificateUseUpstreamClient CertificateUse = "UpstreamClient"
)

// CertificateInfo identifies a certificate without any secret material.
type CertificateInfo struct {
	// Use is what the route uses the certificate for.
	Use CertificateUse `json:"use"`
	// Source is the Secret or ConfigMap it is read from, as Kind/namespace/name.
	// +kubebuilder:validation:MaxLength=512
	Source string `json:"source"`
	// Subject of the certificate.
	// +kubebuilder:validation:MaxLength=1024
	Subject string `json:"subject"`
	// SHA256 is the fingerprint of the certificate's DER encoding, hex.
	// +kubebuilder:validation:MaxLength=64
	SHA256 string `json:"sha256"`
	// NotAfter is when the certificate expires.
	NotAfter metav1.Time `json:"notAfter"`
}

// IngressRoute is an HTTP route with optional TLS termination, in the style of Traefik's.
//
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:shortName=ir,categories=bridgehead
// +kubebuilder:printcolumn:name="Hosts",type=string,JSONPath=`.status.hosts`
// +kubebuilder:printcolumn:name="TLS",type=string,JSONPath=`.spec.tls.secretName`
// +kubebuilder:printcolumn:name="Ready",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].status`
// +kubebuilder:printcolumn:name="Reason",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].reason`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type IngressRoute struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec   IngressRouteSpec   `json:"spec"`
	Status IngressRouteStatus `json:"status,omitempty"`
}

// IngressRouteList is a list of IngressRoutes.
//
// +kubebuilder:object:root=true
type IngressRouteList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []IngressRoute `json:"items"`
}
