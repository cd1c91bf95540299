package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// MiddlewareTCPSpec holds exactly one TCP middleware.
// +kubebuilder:validation:XValidation:rule="[has(self.ipAllowList), has(self.ipWhiteList), has(self.inFlightConn)].filter(x, x).size() == 1",message="set exactly one TCP middleware: ipAllowList (or its deprecated name ipWhiteList) or inFlightConn"
type MiddlewareTCPSpec struct {
	// IPAllowList accepts connections only from the listed client addresses; others are
	// closed before any byte reaches a backend (and before a TLS handshake).
	// +optional
	IPAllowList *TCPIPAllowList `json:"ipAllowList,omitempty"`
	// IPWhiteList is Traefik's former name of ipAllowList (deprecated in Traefik v3, which
	// still serves it): served the same, with a warning to rename it.
	//
	// Deprecated: use ipAllowList.
	// +optional
	IPWhiteList *TCPIPAllowList `json:"ipWhiteList,omitempty"`
	// InFlightConn limits the simultaneous connections of each client IP address.
	// +optional
	InFlightConn *InFlightConn `json:"inFlightConn,omitempty"`
}

// TCPIPAllowList accepts only connections from the listed ranges. The client address is
// the connection's, or the one a trusted load balancer's PROXY protocol header carries.
type TCPIPAllowList struct {
	// SourceRange lists the allowed client addresses, as IPs or CIDRs.
	// +kubebuilder:validation:MinItems=1
	// +kubebuilder:validation:MaxItems=256
	// +kubebuilder:validation:items:MaxLength=64
	// +kubebuilder:validation:XValidation:rule="self.all(r, isIP(r) || isCIDR(r))",message="each sourceRange entry must be an IP address or a CIDR such as 10.0.0.0/8 or 2001:db8::/32"
	SourceRange []string `json:"sourceRange"`
}

// InFlightConn caps the connections one client IP address may hold open at once on a route.
type InFlightConn struct {
	// Amount is the maximum number of simultaneous connections per client IP address; a
	// connection beyond it is closed at once. Each route that lists the middleware counts
	// on its own, as in Traefik.
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=1000000
	Amount int64 `json:"amount"`
}

// MiddlewareTCP filters connections on the IngressRouteTCP routes that list it.
//
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:shortName=mwt,categories=bridgehead
// +kubebuilder:printcolumn:name="Ready",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].status`
// +kubebuilder:printcolumn:name="Reason",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].reason`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type MiddlewareTCP struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec   MiddlewareTCPSpec `json:"spec"`
	Status Status            `json:"status,omitempty"`
}

// MiddlewareTCPList is a list of MiddlewareTCPs.
//
// +kubebuilder:object:root=true
type MiddlewareTCPList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []MiddlewareTCP `json:"items"`
}
