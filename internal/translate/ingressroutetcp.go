package translate

import (
	"fmt"

	bhv1 "github.com/bridgehead/bridgehead/api/v1alpha1"
	"github.com/bridgehead/bridgehead/internal/rule"
	"github.com/bridgehead/bridgehead/internal/snapshot"
)

func (t *translator) buildIngressRouteTCPs() {
	slots := map[ruleSlot][]slotEntry{}
	for _, ir := range sortedByName(t.in.IngressRouteTCPs) {
		t.buildIngressRouteTCP(ir, slots)
	}
	t.resolveConflicts(slots)
}

func (t *translator) buildIngressRouteTCP(ir *bhv1.IngressRouteTCP, slots map[ruleSlot][]slotEntry) {
	ro, ok := t.newRouteObject(KindIngressRouteTCP, &ir.ObjectMeta, ir.Spec.EntryPoints, len(ir.Spec.Routes), slots, true)
	if !ok {
		return
	}
	spec := ir.Spec.TLS
	passthrough := spec != nil && spec.Passthrough
	var front *edge
	if spec != nil && !passthrough {
		front = t.edgeTLS(ro.rep, ro.obj, ir.Namespace, spec.SecretName, spec.Options, spec.Domains)
	}
	for i, r := range ir.Spec.Routes {
		head, parsed, field, ok := ro.head(i, r.Match, r.Priority, rule.TCP)
		if !ok {
			continue
		}
		hosts, anyHost := parsed.Hosts()
		tr := &snapshot.TCPRoute{RouteHead: head, Passthrough: passthrough, Terminate: front != nil}
		if !anyHost {
			tr.Hosts = hosts
		}
		tr.Middlewares = middlewares(ro, field, r.Middlewares, t.middlewareTCP, "connections on this route are closed", &tr.Failure)
		for j, s := range r.Services {
			tr.Backends = append(tr.Backends, t.tcpBackend(ro.rep, ro.obj, fmt.Sprintf("%s.services[%d]", field, j), ir.Namespace, s))
		}
		if front != nil {
			ro.edge(front, tr.ID, append(append([]string(nil), hosts...), front.domains...), &tr.Policy, &tr.Failure)
		}
		t.snap.TCPRoutes = append(t.snap.TCPRoutes, tr)
		ro.claim(parsed, head, field, tr.Failure == nil && anyTCPBackendServes(tr.Backends), t.removeTCP)
	}
}

func anyTCPBackendServes(bs []*snapshot.TCPBackend) bool {
	for _, b := range bs {
		if b.Failure == nil && b.Weight > 0 {
			return true
		}
	}
	return false
}

func (t *translator) tcpBackend(rep *report, obj, field, ns string, s bhv1.ServiceTCP) *snapshot.TCPBackend {
	svcNS := s.Namespace
	if svcNS == "" {
		svcNS = ns
	}
	b := &snapshot.TCPBackend{Service: snapshot.Ref{Kind: "Service", Namespace: svcNS, Name: s.Name}, Port: string(s.Port), Weight: 1, TLS: s.TLS}
	if s.Weight != nil {
		b.Weight = *s.Weight
	}
	if s.ProxyProtocol != nil {
		b.ProxyProtocol = s.ProxyProtocol.Version
		if b.ProxyProtocol == 0 {
			b.ProxyProtocol = 2
		}
	}
	res, problem, status := t.resolveService(ns, svcNS, s.Name, s.Port)
	if res != nil {
		b.Endpoints = res.endpoints
	}
	if problem != nil {
		msg := fmt.Sprintf("%s: %s", field, problem.message)
		if problem.reason == bhv1.ReasonNoEndpoints {
			rep.notReadyf(problem.reason, msg)
		} else {
			rep.refError(problem.reason, msg+"; connections on this route are closed until it is fixed")
		}
		b.Failure = &snapshot.Failure{Reason: string(problem.reason), Status: status, Message: obj + " " + msg}
	}
	if b.TLS {
		b.ServerName, b.VerifyNames = t.upstreamNames(res, svcNS, s.Name)
	}
	if s.ServersTransport != "" {
		t.useTransport(rep, obj, field, KindServersTransportTCP, ns, svcNS, s.ServersTransport, b.TLS, "connections on this route are closed",
			func(tr *snapshot.Transport) {
				b.Transport = tr.ID
				if tr.ServerName != "" && b.TLS {
					b.ServerName, b.VerifyNames = tr.ServerName, []string{tr.ServerName}
				}
				if b.ProxyProtocol == 0 {
					b.ProxyProtocol = tr.ProxyProtocol
				}
			},
			func(f *snapshot.Failure) {
				if b.Failure == nil {
					b.Failure = f
				}
			})
		if st := t.transportsT[nsName{ns, s.ServersTransport}]; st != nil && st.Spec.TLS != nil && !b.TLS {
			// As in Traefik: a transport's tls applies to services that dial with TLS.
			rep.warn(bhv1.ReasonIneffectiveSetting, fmt.Sprintf("%s.serversTransport: ServersTransportTCP %s/%s sets tls, but this service has no tls: true, so the gateway connects to it in plain TCP and the tls settings are not used; set tls: true on the service to verify the backend",
				field, ns, s.ServersTransport))
		}
	}
	return b
}

func (t *translator) removeTCPRoute(id string) {
	routes := t.snap.TCPRoutes[:0]
	for _, r := range t.snap.TCPRoutes {
		if r.ID != id {
			routes = append(routes, r)
		}
	}
	t.snap.TCPRoutes = routes
}
