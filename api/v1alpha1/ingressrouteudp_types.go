package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// IngressRouteUDPSpec sends the datagrams arriving on UDP entry points to Kubernetes
// Services. UDP has no host name or path to match: each route is the whole traffic of
// its entry points, and one route serves an entry point (the oldest wins).
type IngressRouteUDPSpec struct {
	// EntryPoints this route listens on: UDP entry points of the gateway (--entrypoint
	// NAME=:PORT/udp). Empty means every UDP entry point.
	// +kubebuilder:validation:MaxItems=16
	// +kubebuilder:validation:items:MinLength=1
	// +kubebuilder:validation:items:MaxLength=64
	// +optional
	EntryPoints []string `json:"entryPoints,omitempty"`
	// Routes are the Services the datagrams go to.
	// +kubebuilder:validation:MinItems=1
	// +kubebuilder:validation:MaxItems=16
	Routes []RouteUDP `json:"routes"`
}

// RouteUDP is one route of an IngressRouteUDP.
type RouteUDP struct {
	// Services receive the datagrams, balanced by weight per client session: every
	// datagram of one client address goes to the endpoint its first one went to, until
	// the session has been idle for the gateway's --udp-timeout.
	// +kubebuilder:validation:MinItems=1
	// +kubebuilder:validation:MaxItems=32
	Services []ServiceUDP `json:"services"`
}

// ServiceUDP is a Kubernetes Service a UDP route forwards to.
type ServiceUDP struct {
	// Name of the Service.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=63
	Name string `json:"name"`
	// Namespace of the Service; defaults to the route's namespace.
	// +kubebuilder:validation:MaxLength=63
	// +optional
	Namespace string `json:"namespace,omitempty"`
	// Port of the Service, by number or by name; it must be a port of protocol UDP.
	// +kubebuilder:validation:XValidation:rule="type(self) == int ? (self >= 1 && self <= 65535) : self.matches('^[a-z0-9]([-a-z0-9]*[a-z0-9])?$')",message="port must be a number from 1 to 65535 or the name of a Service port"
	Port Port `json:"port"`
	// Weight of this service among the route's services; default 1.
	// +kubebuilder:validation:Minimum=0
	// +kubebuilder:validation:Maximum=1000000
	// +optional
	Weight *int `json:"weight,omitempty"`
}

// IngressRouteUDP is a UDP route: datagrams from each client go to one endpoint of the
// route's Services, and the replies come back from the entry point's address.
//
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:shortName=iru,categories=bridgehead
// +kubebuilder:printcolumn:name="Entry Points",type=string,JSONPath=`.spec.entryPoints`
// +kubebuilder:printcolumn:name="Ready",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].status`
// +kubebuilder:printcolumn:name="Reason",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].reason`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type IngressRouteUDP struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec   IngressRouteUDPSpec `json:"spec"`
	Status Status              `json:"status,omitempty"`
}

// IngressRouteUDPList is a list of IngressRouteUDPs.
//
// +kubebuilder:object:root=true
type IngressRouteUDPList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []IngressRouteUDP `json:"items"`
}
