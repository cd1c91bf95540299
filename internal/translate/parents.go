package translate

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	bhv1 "github.com/bridgehead/bridgehead/api/v1alpha1"
	"github.com/bridgehead/bridgehead/internal/snapshot"
)

// Multi-layer routing (IngressRoute spec.parentRefs, Traefik v3.5+). A child IngressRoute
// names parent IngressRoutes; every route of every parent becomes a parent of every route
// of the child (snapshot.HTTPRoute.Parents), and the proxy evaluates the child's routes
// only for requests a parent route matched, after the parent's middlewares. As in Traefik:
//
//   - a child sets neither entryPoints nor tls: it is served on its parents' entry points
//     with their TLS;
//   - a parent's routes have no services (Traefik disables a route that has both), and a
//     route without services that no served child evaluates under answers nothing;
//   - a parent in another namespace needs cross-namespace references enabled;
//   - a missing parent, or a cycle, leaves the child unserved.
//
// Where Traefik logs and drops, each of these makes the child (or the dead-end route) not
// Ready with a message naming the reference. A child never takes its parent down: a parent
// with services keeps serving them, and the child that names it is the one refused.

// parentage is the parent/child structure of the IngressRoutes, worked out before any of
// them is built.
type parentage struct {
	// of lists, per child whose references all resolve, its parent IngressRoutes and the
	// number of routes each has.
	of map[nsName][]parentRef
	// refused says why a child is not served.
	refused map[nsName]finding
	// own marks refusals about the child's own spec (entryPoints, tls), as opposed to a
	// reference: only those refuse the object's newest generation.
	own map[nsName]bool
	// parents are the IngressRoutes at least one served child names.
	parents map[nsName]bool
	// parentRoutes are the IDs of the routes without services built for a parent.
	parentRoutes map[string]bool
}

type parentRef struct {
	key    nsName
	routes int
}

// parentage resolves every IngressRoute's spec.parentRefs.
func (t *translator) parentage(irs []*bhv1.IngressRoute) *parentage {
	p := &parentage{of: map[nsName][]parentRef{}, refused: map[nsName]finding{}, own: map[nsName]bool{},
		parents: map[nsName]bool{}, parentRoutes: map[string]bool{}}
	// The routes by name, for the children to find their parents: made only when there
	// are children (most folders and clusters have none, and it was a map of every route).
	var byKey map[nsName]*bhv1.IngressRoute
	if slices.ContainsFunc(irs, func(ir *bhv1.IngressRoute) bool { return len(ir.Spec.ParentRefs) > 0 }) {
		byKey = make(map[nsName]*bhv1.IngressRoute, len(irs))
		for _, ir := range irs {
			byKey[nsName{ir.Namespace, ir.Name}] = ir
		}
	}
	refuse := func(k nsName, reason bhv1.ConditionReason, own bool, format string, args ...any) {
		if _, done := p.refused[k]; !done {
			p.refused[k] = finding{reason: reason, message: fmt.Sprintf(format, args...)}
			p.own[k] = own
		}
	}
	for _, ir := range irs {
		if len(ir.Spec.ParentRefs) == 0 {
			continue
		}
		k := nsName{ir.Namespace, ir.Name}
		if len(ir.Spec.EntryPoints) > 0 {
			refuse(k, bhv1.ReasonInvalid, true, "spec.entryPoints: a child IngressRoute (spec.parentRefs) is served on its parents' entry points and cannot name its own (Traefik refuses it too); remove spec.entryPoints")
		}
		if ir.Spec.TLS != nil {
			refuse(k, bhv1.ReasonInvalid, true, "spec.tls: a child IngressRoute (spec.parentRefs) is served with its parents' TLS and cannot set its own (Traefik refuses it too); remove spec.tls and set it on the parent")
		}
		var refs []parentRef
		for i, ref := range ir.Spec.ParentRefs {
			field := fmt.Sprintf("spec.parentRefs[%d]", i)
			pk := nsName{ref.Namespace, ref.Name}
			if pk.namespace == "" {
				pk.namespace = ir.Namespace
			}
			parent, found := byKey[pk]
			switch {
			case !t.permitted(ir.Namespace, pk.namespace):
				refuse(k, bhv1.ReasonRefNotPermitted, false, "%s: parent IngressRoute %s is in another namespace and cross-namespace references are not enabled; move this IngressRoute to namespace %s, or start the gateway with --allow-cross-namespace",
					field, pk, pk.namespace)
			case !found:
				refuse(k, bhv1.ReasonNotFound, false, "%s: parent IngressRoute %s not found; this IngressRoute's routes are not served until it exists", field, pk)
			case pk == k:
				refuse(k, bhv1.ReasonInvalidRef, false, "%s: names this IngressRoute itself as its parent (a cycle); name another IngressRoute", field)
			case t.in.Unsupported[Key{Kind: KindIngressRoute, Namespace: pk.namespace, Name: pk.name}] != nil:
				refuse(k, bhv1.ReasonInvalidRef, false, "%s: parent IngressRoute %s is not served (it sets fields Bridgehead does not implement; its status names them), so this IngressRoute's routes are not either", field, pk)
			default:
				for j, r := range parent.Spec.Routes {
					if len(r.Services) > 0 {
						refuse(k, bhv1.ReasonInvalidRef, false, "%s: parent IngressRoute %s has services on spec.routes[%d]; a parent's routes have none, since its children choose the services (Traefik disables a route that has both); remove them from the parent, or move them into a child route",
							field, pk, j)
						break
					}
				}
				refs = append(refs, parentRef{key: pk, routes: len(parent.Spec.Routes)})
			}
		}
		if _, bad := p.refused[k]; !bad {
			p.of[k] = refs
		}
	}
	p.refuseCycles()
	p.refuseOrphans()
	for k, refs := range p.of {
		if _, bad := p.refused[k]; bad {
			continue
		}
		for _, r := range refs {
			p.parents[r.key] = true
		}
	}
	return p
}

// refuseCycles refuses every child on a cycle of parent references: none of them would
// ever be reached from a root route.
func (p *parentage) refuseCycles() {
	const (
		visiting = 1
		done     = 2
	)
	state := map[nsName]int{}
	var path []nsName
	var visit func(k nsName)
	visit = func(k nsName) {
		state[k] = visiting
		path = append(path, k)
		for _, r := range p.of[k] {
			switch state[r.key] {
			case visiting:
				start := 0
				for i, n := range path {
					if n == r.key {
						start = i
					}
				}
				cycle := append(append([]nsName(nil), path[start:]...), r.key)
				names := make([]string, len(cycle))
				for i, n := range cycle {
					names[i] = n.String()
				}
				for _, n := range cycle[:len(cycle)-1] {
					if _, done := p.refused[n]; !done {
						p.refused[n] = finding{reason: bhv1.ReasonInvalidRef, message: fmt.Sprintf(
							"spec.parentRefs: the IngressRoutes name each other as parents in a cycle (%s), so none of them is ever reached; remove one of these parentRefs", strings.Join(names, " -> "))}
					}
				}
			case 0:
				visit(r.key)
			}
		}
		path = path[:len(path)-1]
		state[k] = done
	}
	for _, k := range sortedNsNames(p.of) {
		if state[k] == 0 {
			visit(k)
		}
	}
}

// refuseOrphans refuses every child one of whose parents is itself a refused child, until
// nothing changes (each round refuses one more level, so it ends).
func (p *parentage) refuseOrphans() {
	keys := sortedNsNames(p.of)
	for changed := true; changed; {
		changed = false
		for _, k := range keys {
			if _, bad := p.refused[k]; bad {
				continue
			}
			for i, r := range p.of[k] {
				if why, bad := p.refused[r.key]; bad {
					p.refused[k] = finding{reason: bhv1.ReasonInvalidRef, message: fmt.Sprintf(
						"spec.parentRefs[%d]: parent IngressRoute %s is not served (%s: its status says why), so this IngressRoute's routes are not either", i, r.key, why.reason)}
					changed = true
					break
				}
			}
		}
	}
}

func sortedNsNames[V any](m map[nsName]V) []nsName {
	keys := make([]nsName, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return keys[i].String() < keys[j].String() })
	return keys
}

// refuse reports why a child is not served, if it is not; true means do not build it.
func (p *parentage) refuse(k nsName, rep *report) bool {
	why, bad := p.refused[k]
	if !bad {
		return false
	}
	if p.own[k] {
		rep.invalidf(why.reason, why.message)
	} else {
		rep.refError(why.reason, why.message)
	}
	return true
}

// parentRouteIDs are the IDs of every route of every parent of k (nil for a root).
func (p *parentage) parentRouteIDs(k nsName) []string {
	var ids []string
	for _, r := range p.of[k] {
		for i := 0; i < r.routes; i++ {
			ids = append(ids, fmt.Sprintf("%s/%s/%d", r.key.namespace, r.key.name, i))
		}
	}
	return ids
}

// slotKey is what a child's routes share with the routes they compete with.
func (p *parentage) slotKey(k nsName) string {
	var keys []string
	for _, r := range p.of[k] {
		keys = append(keys, r.key.String())
	}
	sort.Strings(keys)
	return strings.Join(keys, ",")
}

// pruneRouteTree takes out of the snapshot what can no longer be reached once routes
// were refused or lost a conflict: a child route none of whose parent routes serves, and
// a parent route none of whose children serves. Each round removes at least one route, so
// it ends.
func (t *translator) pruneRouteTree(slots map[ruleSlot][]slotEntry, tree *parentage) {
	if len(tree.of) == 0 && len(tree.parentRoutes) == 0 {
		return
	}
	entries := map[string]slotEntry{}
	for _, es := range slots {
		for _, e := range es {
			entries[e.id] = e
		}
	}
	drop := func(r *snapshot.HTTPRoute, reason bhv1.ConditionReason, msg string) {
		t.removeHTTPRoute(r.ID)
		e, ok := entries[r.ID]
		if !ok {
			return
		}
		if e.served {
			e.rep.served--
		}
		e.rep.notReadyf(reason, e.field+": "+msg)
	}
	for changed := true; changed; {
		changed = false
		present := map[string]bool{}
		for _, r := range t.snap.HTTPRoutes {
			present[r.ID] = true
		}
		children := map[string]int{}
		for _, r := range t.snap.HTTPRoutes {
			for _, p := range r.Parents {
				if present[p] {
					children[p]++
				}
			}
		}
		for _, r := range append([]*snapshot.HTTPRoute(nil), t.snap.HTTPRoutes...) {
			switch {
			case len(r.Parents) > 0:
				var keep []string
				for _, p := range r.Parents {
					if present[p] {
						keep = append(keep, p)
					}
				}
				if len(keep) == 0 {
					drop(r, bhv1.ReasonInvalidRef, fmt.Sprintf("none of its parent routes (%s) is served, so it is never reached; see the parents' status", strings.Join(r.Parents, ", ")))
					changed = true
					continue
				}
				r.Parents = keep
			case tree.parentRoutes[r.ID] && children[r.ID] == 0:
				drop(r, bhv1.ReasonNoChildRoutes, "has no services, and none of the routes of the child IngressRoutes that name this one in spec.parentRefs is served, so it answers nothing; see the children's status")
				changed = true
			}
		}
	}
	t.reportBlockedChildren(entries)
}

// reportBlockedChildren: a child route whose every parent route fails closed (a missing
// TLS Secret or middleware on the parent, or the same above it) stays in the snapshot but
// is never reached, so its object is not Ready for it, pointing at the parents.
func (t *translator) reportBlockedChildren(entries map[string]slotEntry) {
	byID := map[string]*snapshot.HTTPRoute{}
	for _, r := range t.snap.HTTPRoutes {
		byID[r.ID] = r
	}
	blocked := map[string]bool{}
	var isBlocked func(r *snapshot.HTTPRoute, depth int) bool
	isBlocked = func(r *snapshot.HTTPRoute, depth int) bool {
		if r.Failure != nil {
			return true
		}
		if len(r.Parents) == 0 || depth > len(byID) {
			return false
		}
		for _, p := range r.Parents {
			if pr := byID[p]; pr == nil || !isBlocked(pr, depth+1) {
				return false
			}
		}
		return true
	}
	for _, r := range t.snap.HTTPRoutes {
		if len(r.Parents) == 0 || r.Failure != nil || !isBlocked(r, 0) || blocked[r.ID] {
			continue
		}
		blocked[r.ID] = true
		e, ok := entries[r.ID]
		if !ok {
			continue
		}
		if e.served {
			e.rep.served--
		}
		e.rep.notReadyf(bhv1.ReasonInvalidRef, fmt.Sprintf("%s: every parent route (%s) fails closed, so requests never reach it; see the parents' status",
			e.field, strings.Join(r.Parents, ", ")))
	}
}
