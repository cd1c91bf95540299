package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// TraefikServiceSpec is Traefik's TraefikService: a weighted round robin over Services
// and other TraefikServices. (Traefik's mirroring and failover variants are not
// implemented yet: read from Traefik's API groups, they make the object not Ready.)
type TraefikServiceSpec struct {
	// Weighted balances requests over its services in proportion to their weights.
	Weighted *WeightedRoundRobin `json:"weighted"`
}

// WeightedRoundRobin is the weighted variant of a TraefikService.
type WeightedRoundRobin struct {
	// Services are the Services and TraefikServices requests are balanced over; each
	// entry's weight (default 1) is its share. A TraefikService entry takes no port.
	// +kubebuilder:validation:MinItems=1
	// +kubebuilder:validation:MaxItems=32
	Services []Service `json:"services"`
}

// TraefikService is a named, reusable load-balancing service that IngressRoutes name with
// kind: TraefikService, as in Traefik: weighted over Services and nested TraefikServices.
//
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:shortName=ts,categories=bridgehead
// +kubebuilder:printcolumn:name="Ready",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].status`
// +kubebuilder:printcolumn:name="Reason",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].reason`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type TraefikService struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec   TraefikServiceSpec `json:"spec,omitempty"`
	Status Status             `json:"status,omitempty"`
}

// TraefikServiceList is a list of TraefikServices.
//
// +kubebuilder:object:root=true
type TraefikServiceList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []TraefikService `json:"items"`
}
