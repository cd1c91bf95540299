// Package v1alpha1 contains the Bridgehead API, group gateway.bridgehead.dev.
//
// Field names and JSON tags follow Traefik v3's CRDs (traefik.io/v1alpha1), so a user's
// manifests port over by changing apiVersion. Where Bridgehead adds a field (for example
// ServersTransport.peerCertSANs or cipherSuites), the field's comment says so.
//
// This package imports apimachinery only: it is the bottom of the dependency graph.
//
// +kubebuilder:object:generate=true
// +groupName=gateway.bridgehead.dev
package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// GroupName is the API group of every kind in this package.
const GroupName = "gateway.bridgehead.dev"

var (
	// GroupVersion is the group and version of every kind in this package.
	GroupVersion = schema.GroupVersion{Group: GroupName, Version: "v1alpha1"}

	// SchemeBuilder registers the kinds of this package with a runtime.Scheme.
	SchemeBuilder = runtime.NewSchemeBuilder(addKnownTypes)

	// AddToScheme adds the kinds of this package to a runtime.Scheme.
	AddToScheme = SchemeBuilder.AddToScheme
)

func addKnownTypes(s *runtime.Scheme) error {
	s.AddKnownTypes(GroupVersion,
		&IngressRoute{}, &IngressRouteList{},
		&IngressRouteTCP{}, &IngressRouteTCPList{},
		&IngressRouteUDP{}, &IngressRouteUDPList{},
		&TLSOption{}, &TLSOptionList{},
		&TLSStore{}, &TLSStoreList{},
		&ServersTransport{}, &ServersTransportList{},
		&ServersTransportTCP{}, &ServersTransportTCPList{},
		&Middleware{}, &MiddlewareList{},
		&MiddlewareTCP{}, &MiddlewareTCPList{},
		&TraefikService{}, &TraefikServiceList{},
	)
	metav1.AddToGroupVersion(s, GroupVersion)
	return nil
}
