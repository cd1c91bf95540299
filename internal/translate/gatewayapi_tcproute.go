package translate

import (
	"fmt"

	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	bhv1 "github.com/bridgehead/bridgehead/api/v1alpha1"
	"github.com/bridgehead/bridgehead/internal/snapshot"
)

// TCPRoute: its one rule forwards every connection of a TCP listener (a "tcp" entry point)
// to weighted backends. When several TCPRoutes attach to one listener, all are Accepted
// and counted, and the oldest takes the connections (the conformance suite's
// TCPRouteMultipleRoutesAttachment); the others say so in Bridgehead's own report.

func (t *translator) buildTCPRoutes() {
	taken := map[*gwListener]string{} // listener -> the route that takes its connections
	for _, route := range sortedByAge(t.in.TCPRoutes) {
		t.buildTCPRoute(route, taken)
	}
}

func (t *translator) buildTCPRoute(route *gwv1.TCPRoute, taken map[*gwListener]string) {
	r := t.attachRoute(KindTCPRoute, &route.ObjectMeta, route.Spec.ParentRefs, nil)
	if len(r.parents) == 0 {
		delete(t.reports, r.rep.key) // not ours: no status, no findings
		return
	}
	backends, failure := t.gwTCPRule(r, len(route.Spec.Rules), func(i int) []gwv1.BackendRef { return route.Spec.Rules[i].BackendRefs })
	for _, a := range uniqueAttachments(r) {
		if older, ok := taken[a.l]; ok {
			r.rep.warn(bhv1.ReasonIneffectiveSetting, fmt.Sprintf("listener %s of %s %s/%s: TCPRoute %s is older and takes every connection of the listener, so this route gets none; attach it to another TCP listener (parentRefs sectionName or port)",
				a.l.l.Name, a.l.owner.Kind, a.l.owner.Namespace, a.l.owner.Name, older))
		} else {
			taken[a.l] = route.Namespace + "/" + route.Name
		}
		tr := &snapshot.TCPRoute{
			RouteHead: snapshot.RouteHead{ID: fmt.Sprintf("%s/%s/0@%s/%s/%s", route.Namespace, route.Name, a.l.owner.Namespace, a.l.owner.Name, a.l.l.Name),
				Source: snapshot.Ref{Kind: KindTCPRoute, Namespace: route.Namespace, Name: route.Name},
				Match:  sniRule(""), EntryPoints: []string{a.l.entry}},
			Backends: backends,
			Failure:  failure,
		}
		t.snap.TCPRoutes = append(t.snap.TCPRoutes, tr)
		t.gw.rankedTCP = append(t.gw.rankedTCP, gwRankedTCP{tr: tr, created: route.CreationTimestamp, src: route.Namespace + "/" + route.Name})
	}
	t.finishRoute(r)
}
