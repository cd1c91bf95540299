package translate

import (
	"fmt"
	"net/http"
	"strconv"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	bhv1 "github.com/bridgehead/bridgehead/api/v1alpha1"
	"github.com/bridgehead/bridgehead/internal/rule"
	"github.com/bridgehead/bridgehead/internal/snapshot"
)

// The part of building a route object that does not depend on its protocol, shared by
// IngressRoute and IngressRouteTCP (and the next route kind): the report, the route heads,
// the middleware references that fail a route closed, the edge TLS claims, and the rule
// slots where conflicting routes are resolved.

// routeObject is one route object being translated.
type routeObject struct {
	t           *translator
	rep         *report
	src         snapshot.Ref
	obj         string // "IngressRoute ns/name", for messages
	meta        *metav1.ObjectMeta
	entryPoints []string
	slots       map[ruleSlot][]slotEntry
	tcp         bool
	// parents keys the rule slot of a child IngressRoute's routes: they compete only with
	// routes under the same parents (spec.parentRefs), never with root routes.
	parents string
}

// newRouteObject starts translating an object of kind with routes routes; ok is false
// when the object is refused for a field Bridgehead does not implement.
func (t *translator) newRouteObject(kind string, meta *metav1.ObjectMeta, entryPoints []string, routes int, slots map[ruleSlot][]slotEntry, tcp bool) (*routeObject, bool) {
	ro := &routeObject{t: t, rep: t.reportFor(kind, meta), src: snapshot.Ref{Kind: kind, Namespace: meta.Namespace, Name: meta.Name},
		obj: kind + " " + meta.Namespace + "/" + meta.Name, meta: meta, entryPoints: entryPoints, slots: slots, tcp: tcp}
	if t.refuseUnsupported(ro.rep, ro.obj) {
		ro.rep.total = routes
		return nil, false
	}
	return ro, true
}

// head parses route i's match in the route kind's language and returns the route's head;
// ok is false (and the route reported) when the match does not parse.
func (ro *routeObject) head(i int, match string, priority int, lang rule.Kind) (h snapshot.RouteHead, parsed *rule.Rule, field string, ok bool) {
	field = "spec.routes[" + strconv.Itoa(i) + "]"
	ro.rep.total++
	parsed, err := rule.Parse(match, lang)
	if err != nil {
		ro.rep.invalidf(bhv1.ReasonInvalid, fmt.Sprintf("%s.match: %v", field, err))
		return h, nil, field, false
	}
	h = snapshot.RouteHead{ID: ro.meta.Namespace + "/" + ro.meta.Name + "/" + strconv.Itoa(i), Source: ro.src, RouteIndex: i,
		Match: match, Priority: priority, EntryPoints: ro.entryPoints}
	if h.Priority == 0 {
		h.Priority = parsed.Len()
	}
	return h, parsed, field, true
}

// middlewares resolves a route's middleware references with resolve; a reference that
// cannot be used fails the route closed (what fails says what the client gets).
func middlewares[M any](ro *routeObject, field string, refs []bhv1.ObjectReference, resolve func(ns string, ref bhv1.ObjectReference) (M, *finding), fails string, failure **snapshot.Failure) []M {
	var out []M
	for j, ref := range refs {
		m, p := resolve(ro.meta.Namespace, ref)
		if p != nil {
			// Never serve without a middleware the route asks for.
			msg := fmt.Sprintf("%s.middlewares[%d]: %s; %s until it is fixed", field, j, p.message, fails)
			ro.rep.refError(p.reason, msg)
			if *failure == nil {
				*failure = &snapshot.Failure{Reason: string(p.reason), Status: http.StatusServiceUnavailable, Message: ro.obj + " " + msg}
			}
			continue
		}
		out = append(out, m)
	}
	return out
}

// edge applies the object's terminated TLS to one route: its policy, a failure of the TLS
// setup, and the claim on the names it serves.
func (ro *routeObject) edge(front *edge, id string, names []string, policy *string, failure **snapshot.Failure) {
	*policy = front.policy
	if front.failure != nil && *failure == nil {
		*failure = front.failure
	}
	ro.t.claimHosts(ro.rep, ro.src, id, names, front)
}

// claim counts the route as served or not, and enters it in its rule slot.
func (ro *routeObject) claim(parsed *rule.Rule, h snapshot.RouteHead, field string, serves bool, remove func(string)) {
	if serves {
		ro.rep.served++
	}
	slot := ruleSlot{match: parsed.String(), entryPoints: entryPointsKey(ro.entryPoints), priority: h.Priority, tcp: ro.tcp, parents: ro.parents}
	add(ro.slots, slot, slotEntry{created: ro.meta.CreationTimestamp, id: h.ID, rep: ro.rep, field: field, served: serves,
		remove: remove}, &ro.t.slotLists)
	if ro.t.rec != nil {
		ro.t.rec.slots = append(ro.t.rec.slots, slotRecord{slot: slot, id: h.ID, field: field, served: serves})
	}
}
