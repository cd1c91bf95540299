package translate

import (
	"fmt"
	"sort"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	bhv1 "github.com/bridgehead/bridgehead/api/v1alpha1"
	"github.com/bridgehead/bridgehead/internal/snapshot"
)

// An HTTPRoute and a GRPCRoute on one listener whose hostnames intersect: the spec
// (GRPCRouteSpec.Hostnames) accepts exactly one of them, the oldest, then the first by
// namespace/name, and the other's parent status says Accepted False. The loser's snapshot
// routes on that parent's listeners are removed, so it never shadows part of the
// winner's traffic silently.

// mixedRoute is one HTTPRoute or GRPCRoute with the listeners each of its parents (the
// entries of its status, in order) attaches it to.
type mixedRoute struct {
	kind    string
	meta    *metav1.ObjectMeta
	parents [][]gwAttachment
}

// routeAttachments replays attachRoute's parent walk without side effects: the
// attachments per status entry, in the same order.
func (t *translator) routeAttachments(routeKind string, meta *metav1.ObjectMeta, refs []gwv1.ParentReference, hostnames []gwv1.Hostname) [][]gwAttachment {
	var out [][]gwAttachment
	for _, ref := range refs {
		group, kind := gatewayGroup, KindGateway
		if ref.Group != nil {
			group = string(*ref.Group)
		}
		if ref.Kind != nil {
			kind = string(*ref.Kind)
		}
		ns := meta.Namespace
		if ref.Namespace != nil {
			ns = string(*ref.Namespace)
		}
		parent, listeners, ok := t.parentListeners(group, kind, ns, string(ref.Name))
		if !ok {
			continue
		}
		atts, _, _, _ := t.attachToListeners(routeKind, meta, parent, listeners, ref, hostnames)
		out = append(out, atts)
	}
	return out
}

// resolveHTTPGRPCConflicts runs once every HTTPRoute and GRPCRoute is built.
func (t *translator) resolveHTTPGRPCConflicts() {
	if len(t.in.HTTPRoutes) == 0 || len(t.in.GRPCRoutes) == 0 {
		return
	}
	var routes []mixedRoute
	for _, r := range t.in.HTTPRoutes {
		routes = append(routes, mixedRoute{KindHTTPRoute, &r.ObjectMeta, t.routeAttachments(KindHTTPRoute, &r.ObjectMeta, r.Spec.ParentRefs, r.Spec.Hostnames)})
	}
	for _, r := range t.in.GRPCRoutes {
		routes = append(routes, mixedRoute{KindGRPCRoute, &r.ObjectMeta, t.routeAttachments(KindGRPCRoute, &r.ObjectMeta, r.Spec.ParentRefs, r.Spec.Hostnames)})
	}
	sort.SliceStable(routes, func(i, j int) bool {
		a, b := routes[i].meta, routes[j].meta
		if !a.CreationTimestamp.Equal(&b.CreationTimestamp) {
			return a.CreationTimestamp.Before(&b.CreationTimestamp)
		}
		return a.Namespace+"/"+a.Name < b.Namespace+"/"+b.Name
	})
	type claim struct {
		kind, obj string
		hosts     []string
	}
	// The claims on each listener, by kind: a route is checked against the other kind's
	// only (10,000 HTTPRoutes beside one GRPCRoute on a listener walked 50 million claims
	// of their own kind at every build).
	type onListener struct {
		l    *gwListener
		kind string
	}
	claims := map[onListener][]claim{}
	for _, r := range routes {
		obj := r.kind + " " + r.meta.Namespace + "/" + r.meta.Name
		other := KindGRPCRoute
		if r.kind == KindGRPCRoute {
			other = KindHTTPRoute
		}
		for p, atts := range r.parents {
			var winner *claim
			var on *gwListener
			for _, a := range atts {
				theirs := claims[onListener{a.l, other}]
				for i, c := range theirs {
					if hostsIntersect(c.hosts, a.hosts) {
						winner, on = &theirs[i], a.l
						break
					}
				}
				if winner != nil {
					break
				}
			}
			if winner == nil {
				for _, a := range atts {
					k := onListener{a.l, r.kind}
					claims[k] = append(claims[k], claim{kind: r.kind, obj: obj, hosts: a.hosts})
				}
				continue
			}
			msg := fmt.Sprintf("%s, older, serves host names in common on listener %s of %s %s/%s; an HTTPRoute and a GRPCRoute may not share host names on a listener, and the oldest is accepted: give this route other hostnames, or attach it to another listener",
				winner.obj, on.l.Name, on.owner.Kind, on.owner.Namespace, on.owner.Name)
			t.rejectParent(r, p, atts, msg)
		}
	}
}

// rejectParent marks one parent of a route not Accepted (Conflicted) and takes the
// route's snapshot routes on that parent's listeners out.
func (t *translator) rejectParent(r mixedRoute, parent int, atts []gwAttachment, msg string) {
	key := Key{Kind: r.kind, Namespace: r.meta.Namespace, Name: r.meta.Name}
	st := t.gw.status[key]
	if st == nil || parent >= len(st.Parents) {
		return
	}
	for j := range st.Parents[parent].Conditions {
		c := &st.Parents[parent].Conditions[j]
		if c.Type == string(gwv1.RouteConditionAccepted) {
			c.Status, c.Reason, c.Message = metav1.ConditionFalse, string(bhv1.ReasonConflicted), msg
		}
	}
	rep := t.reportFor(r.kind, r.meta)
	rep.notReadyf(bhv1.ReasonConflicted, fmt.Sprintf("spec.parentRefs: %s", msg))
	if !anyParentAccepted(st.Parents) {
		rep.served = 0
	}
	// Snapshot route IDs end in "@<owner ns>/<owner name>/<listener>/<host>" (both
	// builders write them so).
	drop := map[*snapshot.HTTPRoute]bool{}
	for _, a := range atts {
		a.l.attached--
		suffix := fmt.Sprintf("@%s/%s/%s/", a.l.owner.Namespace, a.l.owner.Name, a.l.l.Name)
		for _, hr := range t.snap.HTTPRoutes {
			if hr.Source.Kind == r.kind && hr.Source.Namespace == r.meta.Namespace && hr.Source.Name == r.meta.Name && strings.Contains(hr.ID, suffix) {
				drop[hr] = true
			}
		}
	}
	kept := t.snap.HTTPRoutes[:0]
	for _, hr := range t.snap.HTTPRoutes {
		if !drop[hr] {
			kept = append(kept, hr)
		}
	}
	t.snap.HTTPRoutes = kept
	ranked := t.gw.ranked[:0]
	for _, rr := range t.gw.ranked {
		if !drop[rr.hr] {
			ranked = append(ranked, rr)
		}
	}
	t.gw.ranked = ranked
}

// hostsIntersect: two routes' names on one listener (nil: every name the listener takes)
// have a name in common.
func hostsIntersect(a, b []string) bool {
	if a == nil || b == nil {
		return true
	}
	for _, x := range a {
		for _, y := range b {
			if x == y || gwWildcardCovers(x, y) || gwWildcardCovers(y, x) {
				return true
			}
		}
	}
	return false
}

func anyParentAccepted(ps []gwv1.RouteParentStatus) bool {
	for _, p := range ps {
		for _, c := range p.Conditions {
			if c.Type == string(gwv1.RouteConditionAccepted) && c.Status == metav1.ConditionTrue {
				return true
			}
		}
	}
	return false
}
