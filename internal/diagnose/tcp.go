package diagnose

import (
	"fmt"
	"strings"

	bhv1 "github.com/bridgehead/bridgehead/api/v1alpha1"
	"github.com/bridgehead/bridgehead/internal/snapshot"
	"github.com/bridgehead/bridgehead/internal/translate"
)

func (e *env) ingressRouteTCP(ir *bhv1.IngressRouteTCP) Section {
	key := translate.Key{Kind: translate.KindIngressRouteTCP, Namespace: ir.Namespace, Name: ir.Name}
	ref := snapshot.Ref{Kind: key.Kind, Namespace: key.Namespace, Name: key.Name}
	obj := "IngressRouteTCP " + ir.Namespace + "/" + ir.Name
	sec := Section{Title: obj, Origin: e.opts.Origin.Of(key)}
	e.conditionHops(&sec, key, "accepted, every reference resolves, serving")

	routes := map[int]*snapshot.TCPRoute{}
	for _, r := range e.snap.TCPRoutes {
		if r.Source == ref {
			routes[r.RouteIndex] = r
		}
	}
	switch t := ir.Spec.TLS; {
	case t != nil && t.Passthrough:
		var hosts []string
		for _, r := range routes {
			hosts = append(hosts, r.Hosts...)
		}
		sec.add(Hop{Kind: "TLS", Object: "passthrough", Message: fmt.Sprintf(
			"connections for %s are passed to the backend untouched, chosen by SNI: clients see the backend's own certificate, and no TLSOption or ServersTransport applies",
			orAny(hosts))})
	case t != nil:
		spec := tlsSpec{secretName: t.SecretName, options: t.Options, domains: t.Domains}
		e.edge(&sec, ref, ir.Namespace, spec, nil, true)
	default:
		sec.add(Hop{Kind: "TLS", Object: "(none)", Message: "no spec.tls: plain TCP on the entry points"})
	}
	for i, r := range ir.Spec.Routes {
		field := fmt.Sprintf("spec.routes[%d]", i)
		tr := routes[i]
		if !e.routeHops(&sec, key, field, r.Match, tr) {
			continue
		}
		for j, s := range r.Services {
			if j >= len(tr.Backends) {
				break
			}
			ref := svcRef{obj: obj, field: fmt.Sprintf("%s.services[%d]", field, j), routeNS: ir.Namespace, name: s.Name, ns: s.Namespace,
				port: s.Port, transport: s.ServersTransport}
			if ref.ns == "" {
				ref.ns = ir.Namespace
			}
			e.backend(&sec, ref, viewTCP(tr.Backends[j]))
		}
	}
	return sec
}

func orAny(hosts []string) string {
	if len(hosts) == 0 {
		return "any SNI"
	}
	return strings.Join(hosts, ", ")
}
