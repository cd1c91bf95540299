package translate

import (
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"

	bhv1 "github.com/bridgehead/bridgehead/api/v1alpha1"
)

// The match rules an Ingress's paths become, exported so that `bridgehead migrate` writes
// IngressRoutes that match exactly what the Ingress matches, at the same priorities.

// IngressPathRule returns the match rule and priority of one Ingress path (host may be
// empty), or a problem saying why the path cannot be served.
func IngressPathRule(host, path string, pathType *networkingv1.PathType) (match string, priority int, problem string) {
	match, priority, _, problem = ingressMatch(NormalizeHost(host), path, pathType)
	return match, priority, problem
}

// RedirectRule returns the match rule and priority of the route that redirects plain HTTP
// for host to HTTPS: everything but ACME http-01 challenges.
func RedirectRule(host string) (match string, priority int) {
	host = NormalizeHost(host)
	return "Host(" + quoteRule(host) + ") && !PathPrefix(" + quoteRule(acmeChallengePath) + ")", pathPriority(host, "/", false)
}

// CatchAllRule is the match rule and priority of an Ingress's spec.defaultBackend.
func CatchAllRule() (match string, priority int) { return "PathPrefix(`/`)", catchAllPriority }

// PassthroughRule is the match rule of an ssl-passthrough host.
func PassthroughRule(host string) string { return "HostSNI(" + quoteRule(NormalizeHost(host)) + ")" }

// NormalizeHost lowercases a host name and drops a trailing dot, as routes compare hosts.
func NormalizeHost(h string) string { return normalizeHost(h) }

// BackendScheme is how the gateway speaks to a backend: the explicit scheme, else https
// for port 443 or a port named https*, else http. port is the Service's port when known.
func BackendScheme(explicit bhv1.Scheme, port *corev1.ServicePort, written bhv1.Port) string {
	return backendScheme(explicit, port, written)
}
