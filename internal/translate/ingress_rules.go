package translate

import (
	"fmt"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"

	bhv1 "github.com/bridgehead/bridgehead/api/v1alpha1"
)

// The match rules an Ingress's paths become (ingressMatch, pathPriority), which spec.tls
// entry covers a host (tlsFor), and their exported forms, so that `bridgehead migrate`
// writes IngressRoutes that match exactly what the Ingress matches, at the same priorities.

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

// ingressMatch compiles a rule's host and a path into a match rule and its priority.
// Prefix (and ImplementationSpecific) match whole path elements, as the Ingress API says:
// /foo matches /foo and /foo/bar but not /foobar.
func ingressMatch(host, path string, pathType *networkingv1.PathType) (match string, priority int, what, problem string) {
	pt := networkingv1.PathTypeImplementationSpecific
	if pathType != nil {
		pt = *pathType
	}
	if path == "" && pt == networkingv1.PathTypeImplementationSpecific {
		path = "/"
	}
	if !strings.HasPrefix(path, "/") {
		return "", 0, "", fmt.Sprintf("path %q must start with /", path)
	}
	var pathRule string
	switch pt {
	case networkingv1.PathTypeExact:
		pathRule = "Path(" + quoteRule(path) + ")"
		priority = pathPriority(host, path, true)
	case networkingv1.PathTypePrefix, networkingv1.PathTypeImplementationSpecific:
		trimmed := strings.TrimRight(path, "/")
		if trimmed == "" {
			pathRule = "PathPrefix(`/`)"
		} else {
			pathRule = "(Path(" + quoteRule(trimmed) + ") || PathPrefix(" + quoteRule(trimmed+"/") + "))"
		}
		priority = pathPriority(host, path, false)
	default:
		return "", 0, "", fmt.Sprintf("pathType %q is not one of Exact, Prefix, ImplementationSpecific", pt)
	}
	what = fmt.Sprintf("host %s, path %s (%s)", hostLabel(host), path, pt)
	if host == "" {
		return pathRule, priority, what, ""
	}
	return "Host(" + quoteRule(host) + ") && " + pathRule, priority, what, ""
}

// pathPriority ranks Ingress paths on the scale of IngressRoute priorities (the length of
// the rule Host(`h`) && PathPrefix(`/p`)), so both kinds mix as they do in Traefik: a
// longer prefix wins, and an Exact path beats any prefix that matches the same request.
func pathPriority(host, path string, exact bool) int {
	n := len("PathPrefix(``)")
	if host != "" {
		n += len("Host(``) && ") + len(host)
	}
	if exact {
		return n + len(path) + 1
	}
	trimmed := strings.TrimRight(path, "/")
	if trimmed == "" {
		trimmed = "/"
	}
	return n + len(trimmed)
}

// quoteRule writes a rule string literal.
func quoteRule(s string) string {
	if !strings.ContainsRune(s, '`') {
		return "`" + s + "`"
	}
	return strconv.Quote(s)
}

// tlsFor returns the index of the spec.tls entry that covers host, or -1 (tlsEntryFor).
func (b *ingressBuild) tlsFor(host string) int {
	hosts := make([][]string, len(b.tls))
	for k, e := range b.tls {
		hosts[k] = e.hosts
	}
	return tlsEntryFor(hosts, host)
}

// IngressTLSFor returns the index of the spec.tls entry of an Ingress that covers host,
// or -1, as the translator picks it (bridgehead migrate uses it).
func IngressTLSFor(entries []networkingv1.IngressTLS, host string) int {
	hosts := make([][]string, len(entries))
	for k, e := range entries {
		for _, h := range e.Hosts {
			if h = normalizeHost(h); h != "" {
				hosts[k] = append(hosts[k], h)
			}
		}
	}
	return tlsEntryFor(hosts, NormalizeHost(host))
}

// tlsEntryFor picks among the host lists of spec.tls entries: an exact host first, then a
// wildcard, then an entry without hosts (which covers every host); -1 when none covers it.
func tlsEntryFor(entries [][]string, host string) int {
	if host != "" {
		for k, hosts := range entries {
			for _, h := range hosts {
				if h == host {
					return k
				}
			}
		}
		for k, hosts := range entries {
			for _, h := range hosts {
				if wildcardCovers(h, host) {
					return k
				}
			}
		}
	}
	for k, hosts := range entries {
		if len(hosts) == 0 {
			return k
		}
	}
	return -1
}

func wildcardCovers(pattern, host string) bool {
	suffix, ok := strings.CutPrefix(pattern, "*.")
	if !ok || strings.HasPrefix(host, "*.") {
		return false
	}
	i := strings.IndexByte(host, '.')
	return i > 0 && host[i+1:] == suffix
}
