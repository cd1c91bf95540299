package translate

import (
	"fmt"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"

	bhv1 "github.com/bridgehead/bridgehead/api/v1alpha1"
	"github.com/bridgehead/bridgehead/internal/snapshot"
)

// resolved is a Service port resolved to endpoints.
type resolved struct {
	service   *corev1.Service
	port      *corev1.ServicePort // nil for an ExternalName Service given a port number
	endpoints []snapshot.Endpoint
}

// resolveService finds a Service port and its ready endpoints. A problem is returned with
// the HTTP status the route must answer while it lasts.
func (t *translator) resolveService(fromNS, ns, name string, port bhv1.Port) (*resolved, *finding, int) {
	if ns == "" {
		ns = fromNS
	}
	if !t.permitted(fromNS, ns) {
		return nil, &finding{reason: bhv1.ReasonRefNotPermitted, message: fmt.Sprintf(
				"Service %s/%s is in another namespace; cross-namespace references are off (start the gateway with --allow-cross-namespace, or route to a Service in namespace %s)", ns, name, fromNS)},
			http.StatusServiceUnavailable
	}
	t.noteService(nsName{ns, name})
	svc, ok := t.services[nsName{ns, name}]
	if !ok {
		return nil, &finding{reason: bhv1.ReasonNotFound, message: fmt.Sprintf("Service %q not found in namespace %s", name, ns)}, http.StatusServiceUnavailable
	}
	res := &resolved{service: svc}
	if svc.Spec.Type == corev1.ServiceTypeExternalName {
		return t.resolveExternalName(res, port)
	}
	res.port = FindServicePort(svc, port)
	if res.port == nil {
		return nil, &finding{reason: bhv1.ReasonPortNotFound, message: fmt.Sprintf("port %q not found on Service %s/%s (it has: %s)", string(port), ns, name, DescribeServicePorts(svc))}, http.StatusServiceUnavailable
	}
	res.endpoints = t.readyEndpoints(ns, name, res.port)
	if len(res.endpoints) == 0 {
		return res, &finding{reason: bhv1.ReasonNoEndpoints, message: fmt.Sprintf("Service %s/%s port %s has no ready endpoints; requests get 503 until a pod is ready", ns, name, ServicePortLabel(res.port))}, http.StatusServiceUnavailable
	}
	return res, nil, 0
}

func (t *translator) resolveExternalName(res *resolved, port bhv1.Port) (*resolved, *finding, int) {
	svc := res.service
	if !t.opts.AllowExternalNameServices {
		return nil, &finding{reason: bhv1.ReasonExternalNameNotAllowed, message: fmt.Sprintf(
				"Service %s/%s is of type ExternalName (%s), which is off because it can point anywhere, including the gateway's own admin port; start the gateway with --allow-external-name-services to allow it",
				svc.Namespace, svc.Name, svc.Spec.ExternalName)},

			http.StatusServiceUnavailable
	}
	number, isNumber := port.Number()
	if p := FindServicePort(svc, port); p != nil {
		res.port, number, isNumber = p, p.Port, true
	}
	if !isNumber {
		return nil, &finding{reason: bhv1.ReasonPortNotFound, message: fmt.Sprintf("port %q not found on ExternalName Service %s/%s; name a port number or declare the port", string(port), svc.Namespace, svc.Name)}, http.StatusServiceUnavailable
	}
	host := strings.TrimSuffix(svc.Spec.ExternalName, ".")
	res.endpoints = []snapshot.Endpoint{{Address: net.JoinHostPort(host, strconv.Itoa(int(number))), Name: host}}
	return res, nil, 0
}

// FindServicePort returns the Service port a route names, by number or by name.
func FindServicePort(svc *corev1.Service, port bhv1.Port) *corev1.ServicePort {
	n, isNumber := port.Number()
	for i := range svc.Spec.Ports {
		p := &svc.Spec.Ports[i]
		if (isNumber && p.Port == n) || (!isNumber && p.Name == string(port)) {
			return p
		}
	}
	return nil
}

// DescribeServicePorts lists a Service's ports as name/number, for messages.
func DescribeServicePorts(svc *corev1.Service) string {
	if len(svc.Spec.Ports) == 0 {
		return "no ports"
	}
	var out []string
	for i := range svc.Spec.Ports {
		out = append(out, ServicePortLabel(&svc.Spec.Ports[i]))
	}
	return strings.Join(out, ", ")
}

// ServicePortLabel is name/number (or the number alone) of a Service port.
func ServicePortLabel(p *corev1.ServicePort) string {
	if p.Name == "" {
		return strconv.Itoa(int(p.Port))
	}
	return p.Name + "/" + strconv.Itoa(int(p.Port))
}

// readyEndpoints returns the ready, non-terminating addresses of a Service port, sorted
// and de-duplicated across EndpointSlices.
func (t *translator) readyEndpoints(ns, svc string, port *corev1.ServicePort) []snapshot.Endpoint {
	// Every route to a Service port gets the same list, made once per build: nothing
	// writes to a snapshot's endpoint lists. At 10,000 routes to one Service it was made
	// 10,000 times.
	key := endpointsKey{ns, svc, port.Name, protocolOf(&port.Protocol)}
	if out, ok := t.endpoints[key]; ok {
		return out
	}
	out := t.listEndpoints(ns, svc, port)
	if t.endpoints == nil {
		hint := len(t.services)
		if t.memo != nil && (t.memo.usable || t.memo.partial) {
			hint = 0 // the routes of unchanged Services replay: few lists are made
		}
		t.endpoints = make(map[endpointsKey][]snapshot.Endpoint, hint)
	}
	t.endpoints[key] = out
	return out
}

// endpointsKey names a Service port's endpoint list.
type endpointsKey struct {
	namespace, service, port string
	protocol                 corev1.Protocol
}

func (t *translator) listEndpoints(ns, svc string, port *corev1.ServicePort) []snapshot.Endpoint {
	var out []snapshot.Endpoint
	for _, es := range t.slices[nsName{ns, svc}] {
		if es.AddressType == discoveryv1.AddressTypeFQDN {
			continue
		}
		var target *int32
		for _, p := range es.Ports {
			if p.Port != nil && ptrString(p.Name) == port.Name && protocolOf(p.Protocol) == protocolOf(&port.Protocol) {
				target = p.Port
				break
			}
		}
		if target == nil {
			continue
		}
		for _, ep := range es.Endpoints {
			if (ep.Conditions.Ready != nil && !*ep.Conditions.Ready) || (ep.Conditions.Terminating != nil && *ep.Conditions.Terminating) {
				continue
			}
			name := ""
			if ep.TargetRef != nil {
				name = ep.TargetRef.Name
			}
			for _, addr := range ep.Addresses {
				out = append(out, snapshot.Endpoint{Address: net.JoinHostPort(addr, strconv.Itoa(int(*target))), Name: name})
			}
		}
	}
	// Sorted stably, then de-duplicated: an address in several slices keeps the name of its
	// first appearance. (Sorting first spares a set per list, made for every Service port.)
	slices.SortStableFunc(out, func(a, b snapshot.Endpoint) int { return strings.Compare(a.Address, b.Address) })
	return slices.CompactFunc(out, func(a, b snapshot.Endpoint) bool { return a.Address == b.Address })
}

// protocolOf is a port's protocol; unset means TCP, as in Kubernetes.
func protocolOf(p *corev1.Protocol) corev1.Protocol {
	if p == nil || *p == "" {
		return corev1.ProtocolTCP
	}
	return *p
}

func ptrString(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// backendScheme applies the scheme rule: explicit wins; else https when the port is 443
// or its name starts with "https"; else http.
func backendScheme(explicit bhv1.Scheme, port *corev1.ServicePort, written bhv1.Port) string {
	if explicit != "" {
		return string(explicit)
	}
	if n, ok := written.Number(); ok && n == 443 {
		return "https"
	}
	if port != nil && (port.Port == 443 || strings.HasPrefix(port.Name, "https")) {
		return "https"
	}
	if strings.HasPrefix(string(written), "https") {
		return "https"
	}
	return "http"
}

// serviceNames are the names a backend certificate may carry when no serverName is set:
// the SNI sent is the first in-cluster form, <svc>.<ns>.svc.
func (t *translator) serviceNames(ns, svc string) (sni string, verify []string) {
	sni = svc + "." + ns + ".svc"
	return sni, []string{svc, svc + "." + ns, sni, sni + "." + t.opts.ClusterDomain}
}
