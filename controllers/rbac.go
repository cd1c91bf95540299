// Package controllers holds the controller-runtime reconcilers that watch the gateway's
// inputs, rebuild the routing snapshot and write status.
package controllers

// The permissions the gateway needs: read its inputs, write status and events, and hold a
// Lease for leader election (in its own namespace only). Secrets are read-only and never
// listed cluster-wide by the Helm chart unless the user asks for every namespace. The
// chart's templates/rbac.yaml mirrors these rules; test/apiserver checks that they agree.
//
// +kubebuilder:rbac:groups=gateway.bridgehead.dev,resources=ingressroutes;ingressroutetcps;ingressrouteudps;tlsoptions;tlsstores;serverstransports;serverstransporttcps;middlewares;middlewaretcps;traefikservices,verbs=get;list;watch
// +kubebuilder:rbac:groups=gateway.bridgehead.dev,resources=ingressroutes/status;ingressroutetcps/status;ingressrouteudps/status;tlsoptions/status;tlsstores/status;serverstransports/status;serverstransporttcps/status;middlewares/status;middlewaretcps/status;traefikservices/status,verbs=get;update;patch
// +kubebuilder:rbac:groups="",resources=secrets;services;configmaps,verbs=get;list;watch
// +kubebuilder:rbac:groups=discovery.k8s.io,resources=endpointslices,verbs=get;list;watch
// +kubebuilder:rbac:groups=networking.k8s.io,resources=ingresses;ingressclasses,verbs=get;list;watch
// +kubebuilder:rbac:groups=networking.k8s.io,resources=ingresses/status,verbs=get;update;patch
// +kubebuilder:rbac:groups=gateway.networking.k8s.io,resources=gatewayclasses;gateways;listenersets;httproutes;grpcroutes;tlsroutes;tcproutes;referencegrants;backendtlspolicies,verbs=get;list;watch
// +kubebuilder:rbac:groups=gateway.networking.k8s.io,resources=gatewayclasses/status;gateways/status;listenersets/status;httproutes/status;grpcroutes/status;tlsroutes/status;tcproutes/status;backendtlspolicies/status,verbs=get;update;patch
// +kubebuilder:rbac:groups="",resources=namespaces,verbs=get;list;watch
// +kubebuilder:rbac:groups="",resources=events,verbs=create;patch
// +kubebuilder:rbac:groups=events.k8s.io,resources=events,verbs=create;patch
// +kubebuilder:rbac:groups=coordination.k8s.io,namespace=bridgehead,resources=leases,verbs=get;create;update
