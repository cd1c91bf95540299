package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// TraefikServiceSpec is Traefik's TraefikService: a weighted round robin over Services
// and other TraefikServices, a main service whose requests are copied to mirrors, a
// service with a fallback, or services chosen per client address (highest random
// weight).
//
// +kubebuilder:validation:XValidation:rule="(has(self.weighted) ? 1 : 0) + (has(self.mirroring) ? 1 : 0) + (has(self.failover) ? 1 : 0) + (has(self.highestRandomWeight) ? 1 : 0) == 1",message="set exactly one of weighted (balance over services by weight), mirroring (a main service whose requests are copied to mirrors), failover (a service and its fallback) and highestRandomWeight (services chosen per client address)"
type TraefikServiceSpec struct {
	// Weighted balances requests over its services in proportion to their weights.
	// +optional
	Weighted *WeightedRoundRobin `json:"weighted,omitempty"`
	// Mirroring sends every request to its main service and copies a percentage of them
	// to each mirror; the mirrors' answers are discarded, and the client never waits for
	// them.
	// +optional
	Mirroring *Mirroring `json:"mirroring,omitempty"`
	// Failover sends requests to its service while that has an available endpoint
	// (healthy by its healthCheck, and not set aside after failed connections), and to
	// its fallback otherwise.
	// +optional
	Failover *Failover `json:"failover,omitempty"`
	// HighestRandomWeight sends each client address to one of its services, always the
	// same while the services stay (rendezvous hashing, weighted), as Traefik does.
	// +optional
	HighestRandomWeight *HighestRandomWeight `json:"highestRandomWeight,omitempty"`
}

// HighestRandomWeight is the highest-random-weight variant of a TraefikService: the
// service with the highest weighted hash of the client's address and the service wins.
type HighestRandomWeight struct {
	// Services are the Services and TraefikServices clients are spread over; an entry's
	// weight (default 1) scales its share of the client addresses.
	// +kubebuilder:validation:MinItems=1
	// +kubebuilder:validation:MaxItems=32
	Services []Service `json:"services"`
}

// Failover is the failover variant of a TraefikService. Each of its two entries is a
// Service (with its port) or a TraefikService. Give the service a healthCheck: that is
// what tells the gateway its endpoints are down.
type Failover struct {
	// Service answers while it has an available endpoint.
	Service Service `json:"service"`
	// Fallback answers while Service has none; when neither has, requests get 503.
	Fallback Service `json:"fallback"`
}

// WeightedRoundRobin is the weighted variant of a TraefikService.
type WeightedRoundRobin struct {
	// Services are the Services and TraefikServices requests are balanced over; each
	// entry's weight (default 1) is its share. A TraefikService entry takes no port.
	// +kubebuilder:validation:MinItems=1
	// +kubebuilder:validation:MaxItems=32
	Services []Service `json:"services"`
	// Sticky pins a client, with a cookie, to the entry of services it was first sent to
	// (a Service, or a nested TraefikService, which may pin it further with its own
	// cookie). The cookie's name defaults to one derived from the TraefikService.
	// +optional
	Sticky *Sticky `json:"sticky,omitempty"`
}

// Mirroring is the mirroring variant of a TraefikService: the main service (a Service or
// a TraefikService, written inline as a route's service entry) answers every request.
type Mirroring struct {
	Service `json:",inline"`
	// Mirrors receive a copy of percent of the requests each, after the main service has
	// answered; what they answer is discarded.
	// +kubebuilder:validation:MaxItems=16
	// +optional
	Mirrors []MirrorService `json:"mirrors,omitempty"`
	// MirrorBody copies the request body to the mirrors (default true); with false they get
	// the request without its body.
	// +optional
	MirrorBody *bool `json:"mirrorBody,omitempty"`
	// MaxBodySize is the largest request body, in bytes, that is mirrored: a request with a
	// larger body goes to the main service only. Negative (the default, -1) mirrors bodies
	// of any size, held in memory while the main service answers, as Traefik does.
	// +optional
	MaxBodySize *int64 `json:"maxBodySize,omitempty"`
}

// MirrorService is one mirror of a mirroring TraefikService.
type MirrorService struct {
	Service `json:",inline"`
	// Percent of the requests copied to this mirror, from 0 to 100 (default 0).
	// +kubebuilder:validation:Minimum=0
	// +kubebuilder:validation:Maximum=100
	// +optional
	Percent int `json:"percent,omitempty"`
}

// TraefikService is a named, reusable load-balancing service that IngressRoutes name with
// kind: TraefikService, as in Traefik: weighted over Services and nested TraefikServices,
// or mirroring a main service's requests to others.
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
