package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// IngressRouteTCPSpec routes TCP connections, usually by TLS SNI, to Kubernetes Services.
type IngressRouteTCPSpec struct {
	// EntryPoints this route listens on. Empty means every entry point.
	// +kubebuilder:validation:MaxItems=16
	// +kubebuilder:validation:items:MinLength=1
	// +kubebuilder:validation:items:MaxLength=64
	// +optional
	EntryPoints []string `json:"entryPoints,omitempty"`
	// Routes are the match rules and the Services they send connections to.
	// +kubebuilder:validation:MinItems=1
	// +kubebuilder:validation:MaxItems=128
	Routes []RouteTCP `json:"routes"`
	// TLS either passes the client's TLS through untouched or terminates it.
	// +optional
	TLS *TLSTCP `json:"tls,omitempty"`
}

// RouteTCP is one match rule of an IngressRouteTCP.
type RouteTCP struct {
	// Match is the rule: HostSNI(`a.example`), HostSNI(`*.example`), HostSNIRegexp, ALPN,
	// ClientIP, combined with &&, || and !. HostSNI(`*`) matches every connection.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=4096
	Match string `json:"match"`
	// Priority breaks ties between overlapping rules; higher wins. Zero means the length
	// of the match rule.
	// +kubebuilder:validation:Minimum=0
	// +optional
	Priority int `json:"priority,omitempty"`
	// Services receive the matched connections, balanced by weight.
	// +kubebuilder:validation:MinItems=1
	// +kubebuilder:validation:MaxItems=32
	Services []ServiceTCP `json:"services"`
	// Middlewares are MiddlewareTCPs (ipAllowList, inFlightConn) applied in order to each
	// connection, before a TLS handshake or a backend connection.
	// +kubebuilder:validation:MaxItems=32
	// +optional
	Middlewares []ObjectReference `json:"middlewares,omitempty"`
}

// ServiceTCP is a Kubernetes Service a TCP route forwards to.
type ServiceTCP struct {
	// Name of the Service.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=63
	Name string `json:"name"`
	// Namespace of the Service; defaults to the route's namespace.
	// +kubebuilder:validation:MaxLength=63
	// +optional
	Namespace string `json:"namespace,omitempty"`
	// Port of the Service, by number or by name.
	// +kubebuilder:validation:XValidation:rule="type(self) == int ? (self >= 1 && self <= 65535) : self.matches('^[a-z0-9]([-a-z0-9]*[a-z0-9])?$')",message="port must be a number from 1 to 65535 or the name of a Service port"
	Port Port `json:"port"`
	// Weight of this service among the route's services; default 1.
	// +kubebuilder:validation:Minimum=0
	// +kubebuilder:validation:Maximum=1000000
	// +optional
	Weight *int `json:"weight,omitempty"`
	// TLS makes the gateway open TLS to the backend, verified as the ServersTransportTCP says.
	// +optional
	TLS bool `json:"tls,omitempty"`
	// ServersTransport names the ServersTransportTCP (in the route's namespace) for this service.
	// +kubebuilder:validation:MaxLength=253
	// +optional
	ServersTransport string `json:"serversTransport,omitempty"`
	// ProxyProtocol sends a PROXY protocol header with the client's address to the backend.
	// +optional
	ProxyProtocol *ProxyProtocol `json:"proxyProtocol,omitempty"`
}

// TLSTCP is the TLS handling of an IngressRouteTCP.
// +kubebuilder:validation:XValidation:rule="!(has(self.passthrough) && self.passthrough) || !has(self.options)",message="tls.options cannot be used with tls.passthrough: a passed-through connection is never terminated by the gateway, so no TLSOption applies; remove options or passthrough"
type TLSTCP struct {
	// SecretName is the certificate served when the gateway terminates TLS.
	// +optional
	SecretName SecretName `json:"secretName,omitempty"`
	// Passthrough sends the client's TLS bytes to the backend untouched, chosen by SNI.
	// +optional
	Passthrough bool `json:"passthrough,omitempty"`
	// Options names the TLSOption used when the gateway terminates TLS.
	// +optional
	Options *ObjectReference `json:"options,omitempty"`
	// Domains list the names the certificate is for.
	// +kubebuilder:validation:MaxItems=64
	// +optional
	Domains []Domain `json:"domains,omitempty"`
}

// IngressRouteTCP is a TCP route: TLS passthrough by SNI, or TLS termination then TCP.
//
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:shortName=irt,categories=bridgehead
// +kubebuilder:printcolumn:name="Passthrough",type=boolean,JSONPath=`.spec.tls.passthrough`
// +kubebuilder:printcolumn:name="Ready",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].status`
// +kubebuilder:printcolumn:name="Reason",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].reason`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type IngressRouteTCP struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec   IngressRouteTCPSpec `json:"spec"`
	Status Status              `json:"status,omitempty"`
}

// IngressRouteTCPList is a list of IngressRouteTCPs.
//
// +kubebuilder:object:root=true
type IngressRouteTCPList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []IngressRouteTCP `json:"items"`
}
