package translate

import (
	"fmt"
	"net/http"
	"slices"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	bhv1 "github.com/bridgehead/bridgehead/api/v1alpha1"
	"github.com/bridgehead/bridgehead/internal/snapshot"
)

// UDP routes have no rule: a route takes every datagram of its entry points, so one route
// serves an entry point (Traefik picks one of several at random; here the oldest wins and
// the others are told).

// udpClaim is a route's claim on one UDP entry point.
type udpClaim struct {
	created metav1.Time
	route   *snapshot.UDPRoute
	rep     *report
	field   string
}

func (t *translator) buildIngressRouteUDPs() {
	claims := map[string][]udpClaim{}
	for _, ir := range sortedByName(t.in.IngressRouteUDPs) {
		t.buildIngressRouteUDP(ir, claims)
	}
	t.resolveUDPClaims(claims)
	sort.Slice(t.snap.UDPRoutes, func(i, j int) bool { return t.snap.UDPRoutes[i].ID < t.snap.UDPRoutes[j].ID })
}

func (t *translator) buildIngressRouteUDP(ir *bhv1.IngressRouteUDP, claims map[string][]udpClaim) {
	rep := t.reportFor(KindIngressRouteUDP, &ir.ObjectMeta)
	obj := KindIngressRouteUDP + " " + ir.Namespace + "/" + ir.Name
	if t.refuseUnsupported(rep, obj) {
		rep.total = len(ir.Spec.Routes)
		return
	}
	eps := t.udpEntryPoints(rep, obj, ir.Spec.EntryPoints)
	for i, r := range ir.Spec.Routes {
		field := fmt.Sprintf("spec.routes[%d]", i)
		rep.total++
		ur := &snapshot.UDPRoute{ID: fmt.Sprintf("%s/%s/%d", ir.Namespace, ir.Name, i),
			Source: snapshot.Ref{Kind: KindIngressRouteUDP, Namespace: ir.Namespace, Name: ir.Name}, RouteIndex: i, EntryPoints: eps}
		for j, s := range r.Services {
			ur.Backends = append(ur.Backends, t.udpBackend(rep, obj, fmt.Sprintf("%s.services[%d]", field, j), ir.Namespace, s))
		}
		if t.opts.EntryPoints != nil && len(eps) == 0 {
			// Known entry points, none of them for this route: it serves nowhere (an empty
			// list in the snapshot would read as "every UDP entry point").
			ur.Failure = &snapshot.Failure{Reason: string(bhv1.ReasonUnknownEntryPoint), Status: http.StatusServiceUnavailable, Message: obj + " has no UDP entry point of the gateway to serve on"}
		}
		serves := anyUDPBackendServes(ur.Backends) && ur.Failure == nil
		if !serves {
			// A route that cannot serve does not take its entry points from one that can.
			t.snap.UDPRoutes = append(t.snap.UDPRoutes, ur)
			continue
		}
		rep.served++
		keys := eps
		if t.opts.EntryPoints == nil && len(keys) == 0 {
			keys = []string{"*"} // every UDP entry point, whichever the gateway has
		}
		for _, ep := range keys {
			claims[ep] = append(claims[ep], udpClaim{created: ir.CreationTimestamp, route: ur, rep: rep, field: field})
		}
		t.snap.UDPRoutes = append(t.snap.UDPRoutes, ur)
	}
}

// udpEntryPoints are the UDP entry points a route serves on: the ones it names that the
// gateway has as UDP entry points, or all of them when it names none. Every other name
// makes the route not Ready, naming it.
func (t *translator) udpEntryPoints(rep *report, obj string, named []string) []string {
	known := t.opts.EntryPoints
	if known == nil {
		return append([]string(nil), named...)
	}
	var udp []string
	for name, proto := range known {
		if proto == "udp" {
			udp = append(udp, name)
		}
	}
	sort.Strings(udp)
	if len(named) == 0 {
		if len(udp) == 0 {
			rep.notReadyf(bhv1.ReasonUnknownEntryPoint, fmt.Sprintf("%s: spec.entryPoints is empty (every UDP entry point) and the gateway has no UDP entry point; start it with --entrypoint NAME=:PORT/udp (Helm: entryPoints) and name it in spec.entryPoints", obj))
		}
		return udp
	}
	var out []string
	for i, name := range named {
		proto, ok := known[name]
		switch {
		case !ok:
			rep.notReadyf(bhv1.ReasonUnknownEntryPoint, fmt.Sprintf("%s: spec.entryPoints[%d] %q is not an entry point of the gateway (it has %s); start the gateway with --entrypoint %s=:PORT/udp, or name one of its UDP entry points", obj, i, name, describeEntryPoints(known), name))
		case proto != "udp":
			rep.notReadyf(bhv1.ReasonUnknownEntryPoint, fmt.Sprintf("%s: spec.entryPoints[%d] %q is a %s entry point; an IngressRouteUDP needs a UDP entry point (--entrypoint NAME=:PORT/udp)", obj, i, name, strings.ToUpper(proto)))
		case !slices.Contains(out, name):
			out = append(out, name)
		}
	}
	return out
}

// describeEntryPoints lists entry points as name/protocol, for messages.
func describeEntryPoints(eps map[string]string) string {
	names := make([]string, 0, len(eps))
	for name, proto := range eps {
		names = append(names, name+"/"+proto)
	}
	sort.Strings(names)
	if len(names) == 0 {
		return "none"
	}
	return strings.Join(names, ", ")
}

func anyUDPBackendServes(bs []*snapshot.UDPBackend) bool {
	for _, b := range bs {
		if b.Failure == nil && b.Weight > 0 && len(b.Endpoints) > 0 {
			return true
		}
	}
	return false
}

func (t *translator) udpBackend(rep *report, obj, field, ns string, s bhv1.ServiceUDP) *snapshot.UDPBackend {
	svcNS := orNamespace(s.Namespace, ns)
	b := &snapshot.UDPBackend{Service: snapshot.Ref{Kind: "Service", Namespace: svcNS, Name: s.Name}, Port: string(s.Port), Weight: 1}
	if s.Weight != nil {
		b.Weight = *s.Weight
	}
	endpoints, problem := t.resolveUDPService(ns, svcNS, s.Name, s.Port)
	b.Endpoints = endpoints
	if problem != nil {
		msg := fmt.Sprintf("%s: %s", field, problem.message)
		if problem.reason == bhv1.ReasonNoEndpoints {
			rep.notReadyf(problem.reason, msg)
		} else {
			rep.refError(problem.reason, msg+"; datagrams for this Service are dropped until it is fixed")
		}
		b.Failure = &snapshot.Failure{Reason: string(problem.reason), Status: http.StatusServiceUnavailable, Message: obj + " " + msg}
	}
	return b
}

// resolveUDPService finds a Service's UDP port and its ready endpoints. A port given by
// number may be shared by a TCP and a UDP port of the Service (DNS): the UDP one is meant.
func (t *translator) resolveUDPService(fromNS, ns, name string, port bhv1.Port) ([]snapshot.Endpoint, *finding) {
	if !t.permitted(fromNS, ns) {
		return nil, &finding{reason: bhv1.ReasonRefNotPermitted, message: fmt.Sprintf(
			"Service %s/%s is in another namespace; cross-namespace references are off (start the gateway with --allow-cross-namespace, or route to a Service in namespace %s)", ns, name, fromNS)}
	}
	svc, ok := t.services[nsName{ns, name}]
	if !ok {
		return nil, &finding{reason: bhv1.ReasonNotFound, message: fmt.Sprintf("Service %q not found in namespace %s", name, ns)}
	}
	if svc.Spec.Type == corev1.ServiceTypeExternalName {
		return nil, &finding{reason: bhv1.ReasonExternalNameNotAllowed, message: fmt.Sprintf(
			"Service %s/%s is an ExternalName Service, which UDP routes do not resolve; route to a Service with endpoints (a Service without selector and an EndpointSlice for an address outside the cluster)", ns, name)}
	}
	n, isNumber := port.Number()
	var sp, other *corev1.ServicePort
	for i := range svc.Spec.Ports {
		p := &svc.Spec.Ports[i]
		if (isNumber && p.Port == n) || (!isNumber && p.Name == string(port)) {
			if protocolOf(&p.Protocol) == corev1.ProtocolUDP {
				sp = p
				break
			}
			other = p
		}
	}
	switch {
	case sp == nil && other != nil:
		return nil, &finding{reason: bhv1.ReasonPortNotFound, message: fmt.Sprintf("port %s of Service %s/%s is a %s port; an IngressRouteUDP needs a port of protocol UDP (it has: %s)", ServicePortLabel(other), ns, name, protocolOf(&other.Protocol), describeProtocolPorts(svc))}
	case sp == nil:
		return nil, &finding{reason: bhv1.ReasonPortNotFound, message: fmt.Sprintf("port %q not found on Service %s/%s (it has: %s)", string(port), ns, name, describeProtocolPorts(svc))}
	}
	endpoints := t.readyEndpoints(ns, name, sp)
	if len(endpoints) == 0 {
		return nil, &finding{reason: bhv1.ReasonNoEndpoints, message: fmt.Sprintf("Service %s/%s port %s/UDP has no ready endpoints; datagrams are dropped until a pod is ready", ns, name, ServicePortLabel(sp))}
	}
	return endpoints, nil
}

// describeProtocolPorts lists a Service's ports as name/number/protocol.
func describeProtocolPorts(svc *corev1.Service) string {
	if len(svc.Spec.Ports) == 0 {
		return "no ports"
	}
	var out []string
	for i := range svc.Spec.Ports {
		out = append(out, ServicePortLabel(&svc.Spec.Ports[i])+"/"+string(protocolOf(&svc.Spec.Ports[i].Protocol)))
	}
	return strings.Join(out, ", ")
}

// resolveUDPClaims keeps one route per UDP entry point: the oldest object, then the first
// route by ID. A route that loses an entry point stops serving there, and is told which
// route serves it.
func (t *translator) resolveUDPClaims(claims map[string][]udpClaim) {
	eps := make([]string, 0, len(claims))
	for ep := range claims {
		eps = append(eps, ep)
	}
	sort.Strings(eps)
	for _, ep := range eps {
		cs := claims[ep]
		if len(cs) < 2 {
			continue
		}
		sort.SliceStable(cs, func(i, j int) bool {
			if !cs[i].created.Equal(&cs[j].created) {
				return cs[i].created.Before(&cs[j].created)
			}
			return cs[i].route.ID < cs[j].route.ID
		})
		winner := cs[0]
		for _, c := range cs[1:] {
			where := fmt.Sprintf("UDP entry point %q", ep)
			if ep == "*" {
				where = "every UDP entry point (neither names spec.entryPoints)"
			}
			c.rep.invalidf(bhv1.ReasonConflicted, fmt.Sprintf("%s: route %s and route %s both take %s, which has no rule to choose between them; %s wins (older, or first by name); give them different entry points",
				c.field, c.route.ID, winner.route.ID, where, winner.route.ID))
			before := len(c.route.EntryPoints) > 0 || ep == "*"
			c.route.EntryPoints = slices.DeleteFunc(c.route.EntryPoints, func(e string) bool { return e == ep })
			if before && len(c.route.EntryPoints) == 0 && c.route.Failure == nil {
				c.route.Failure = &snapshot.Failure{Reason: string(bhv1.ReasonConflicted), Status: http.StatusServiceUnavailable, Message: fmt.Sprintf("%s %s/%s %s: route %s takes its entry points", KindIngressRouteUDP, c.route.Source.Namespace, c.route.Source.Name, c.field, winner.route.ID)}
				c.rep.served--
			}
		}
	}
}
