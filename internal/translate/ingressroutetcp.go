package translate

import (
	"fmt"
	"net/http"

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
	rep := t.reportFor(KindIngressRouteTCP, &ir.ObjectMeta)
	src := snapshot.Ref{Kind: KindIngressRouteTCP, Namespace: ir.Namespace, Name: ir.Name}
	obj := "IngressRouteTCP " + ir.Namespace + "/" + ir.Name
	if t.refuseUnsupported(rep, obj) {
		rep.total = len(ir.Spec.Routes)
		return
	}
	spec := ir.Spec.TLS
	passthrough := spec != nil && spec.Passthrough
	var front *edge
	if spec != nil && !passthrough {
		front = t.edgeTLS(rep, obj, ir.Namespace, spec.SecretName, spec.Options, spec.Domains)
	}
	for i, r := range ir.Spec.Routes {
		field := fmt.Sprintf("spec.routes[%d]", i)
		rep.total++
		parsed, err := rule.Parse(r.Match, rule.TCP)
		if err != nil {
			rep.invalidf(bhv1.ReasonInvalid, fmt.Sprintf("%s.match: %v", field, err))
			continue
		}
		hosts, anyHost := parsed.Hosts()
		tr := &snapshot.TCPRoute{
			ID:          fmt.Sprintf("%s/%s/%d", ir.Namespace, ir.Name, i),
			Source:      src,
			RouteIndex:  i,
			Match:       r.Match,
			Priority:    r.Priority,
			EntryPoints: ir.Spec.EntryPoints,
			Passthrough: passthrough,
			Terminate:   front != nil,
		}
		if !anyHost {
			tr.Hosts = hosts
		}
		if tr.Priority == 0 {
			tr.Priority = parsed.Len()
		}
		for j, ref := range r.Middlewares {
			m, problem := t.middlewareTCP(ir.Namespace, ref)
			if problem != nil {
				// Never serve without a filter the route asks for: its connections are closed.
				msg := fmt.Sprintf("%s.middlewares[%d]: %s; connections on this route are closed until it is fixed", field, j, problem.message)
				rep.refError(problem.reason, msg)
				if tr.Failure == nil {
					tr.Failure = &snapshot.Failure{Reason: string(problem.reason), Status: http.StatusServiceUnavailable, Message: obj + " " + msg}
				}
				continue
			}
			tr.Middlewares = append(tr.Middlewares, m)
		}
		for j, s := range r.Services {
			tr.Backends = append(tr.Backends, t.tcpBackend(rep, obj, fmt.Sprintf("%s.services[%d]", field, j), ir.Namespace, s))
		}
		if front != nil {
			tr.Policy = front.policy
			if front.failure != nil && tr.Failure == nil {
				tr.Failure = front.failure
			}
			t.claimHosts(rep, src, tr.ID, append(append([]string(nil), hosts...), front.domains...), front)
		}
		serves := tr.Failure == nil && anyTCPBackendServes(tr.Backends)
		if serves {
			rep.served++
		}
		t.snap.TCPRoutes = append(t.snap.TCPRoutes, tr)
		slot := ruleSlot{match: parsed.String(), entryPoints: entryPointsKey(ir.Spec.EntryPoints), priority: tr.Priority, tcp: true}
		slots[slot] = append(slots[slot], slotEntry{created: ir.CreationTimestamp, id: tr.ID, rep: rep, field: field, served: serves,
			remove: func() { t.removeTCPRoute(tr.ID) }})
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
