package translate

import (
	"fmt"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	bhv1 "github.com/bridgehead/bridgehead/api/v1alpha1"
	"github.com/bridgehead/bridgehead/internal/snapshot"
)

// ListenerSets (gateway.networking.k8s.io/v1 ListenerSet): listeners written outside a
// Gateway, joining it when its spec.allowedListeners admits the ListenerSet's namespace.
// Their listeners are served like the Gateway's own, on the entry point of their port;
// a route attaches to them only through a parentRef of kind ListenerSet (a parentRef to
// the Gateway reaches only the Gateway's own listeners). Conflicts are settled by the
// spec's precedence: the Gateway's listeners first, then ListenerSets oldest first, then
// by namespace/name; the listener that loses is not accepted.

// gwListenerSet is a ListenerSet whose parent is a Gateway of ours.
type gwListenerSet struct {
	ls *gwv1.ListenerSet
	gw *gwv1.Gateway
	// refusedReason is why the Gateway does not take the ListenerSet ("" when it does).
	refusedReason, refusedMsg string
	listeners                 []*gwListener
}

// attachable are the listeners routes may attach to: none while the Gateway refuses the
// ListenerSet.
func (s *gwListenerSet) attachable() []*gwListener {
	if s.refusedReason != "" {
		return nil
	}
	return s.listeners
}

// valid: at least one listener is served, so the ListenerSet is attached (one whose
// only listener's certificate is not granted is not: conformance ListenerSetReferenceGrant).
func (s *gwListenerSet) valid() bool {
	for _, l := range s.listeners {
		if l.ready() {
			return true
		}
	}
	return false
}

// ownerSuffix names b's owner in a message about a, when they differ.
func (b *gwListener) ownerSuffix(a *gwListener) string {
	if a.owner == b.owner {
		return ""
	}
	return fmt.Sprintf(" of %s %s/%s", b.owner.Kind, b.owner.Namespace, b.owner.Name)
}

func (t *translator) buildListenerSets() {
	t.gw.listenerSets = map[nsName]*gwListenerSet{}
	// taken are, per Gateway, the listeners already served: a later listener that
	// conflicts with one of them loses.
	taken := map[nsName][]*gwListener{}
	for key, ls := range t.gw.listeners {
		for _, l := range ls {
			if l.conflictReason == "" {
				taken[key] = append(taken[key], l)
			}
		}
	}
	for _, ls := range sortedByAge(t.in.ListenerSets) {
		ref := ls.Spec.ParentRef
		if (ref.Group != nil && string(*ref.Group) != gatewayGroup) || (ref.Kind != nil && string(*ref.Kind) != KindGateway) {
			continue // not a Gateway: not ours to judge
		}
		gwKey := nsName{ls.Namespace, string(ref.Name)}
		if ref.Namespace != nil {
			gwKey.namespace = string(*ref.Namespace)
		}
		gw, ok := t.gw.gateways[gwKey]
		if !ok {
			continue // a Gateway of another controller's, or none
		}
		rep := t.reportFor(KindListenerSet, &ls.ObjectMeta)
		rep.total = 1
		s := &gwListenerSet{ls: ls, gw: gw}
		t.gw.listenerSets[nsName{ls.Namespace, ls.Name}] = s
		if reason, msg := t.listenerSetRefused(gw, ls.Namespace); reason != "" {
			s.refusedReason, s.refusedMsg = reason, msg
			rep.notReadyf(bhv1.ReasonInvalid, "spec.parentRef: "+msg)
			continue
		}
		owner := snapshot.Ref{Kind: KindListenerSet, Namespace: ls.Namespace, Name: ls.Name}
		for i, e := range ls.Spec.Listeners {
			l := t.listener(rep, gw, owner, gwv1.Listener(e), fmt.Sprintf("spec.listeners[%d]", i))
			// Against what is served already: the Gateway's listeners, older
			// ListenerSets' and this one's earlier listeners (a listener that lost a
			// conflict is not served, so it blocks nothing).
			for _, b := range taken[gwKey] {
				if reason, msg := listenerConflict(l, b); reason != "" {
					l.conflictReason, l.conflictMsg = reason, msg
					l.accepted, l.acceptedReason, l.acceptedMsg = false, reason, msg
					rep.notReadyf(bhv1.ReasonInvalid, fmt.Sprintf("spec.listeners[%d]: %s", i, msg))
					break
				}
			}
			if l.conflictReason == "" {
				taken[gwKey] = append(taken[gwKey], l)
			}
			s.listeners = append(s.listeners, l)
		}
		for _, l := range s.listeners {
			if l.ready() {
				t.listenerTLS(rep, l)
			}
		}
	}
}

// listenerSetRefused is why Gateway gw does not take ListenerSets of namespace ns
// (spec.allowedListeners; none by default), or that the Gateway itself is not accepted.
func (t *translator) listenerSetRefused(gw *gwv1.Gateway, ns string) (reason, msg string) {
	if gwRep := t.reportFor(KindGateway, &gw.ObjectMeta); len(gwRep.invalid) > 0 {
		return string(gwv1.ListenerSetReasonParentNotAccepted), fmt.Sprintf("Gateway %s/%s is not accepted: %s", gw.Namespace, gw.Name, gwRep.invalid[0].message)
	}
	from := gwv1.NamespacesFromNone
	var sel *metav1.LabelSelector
	if al := gw.Spec.AllowedListeners; al != nil && al.Namespaces != nil {
		if al.Namespaces.From != nil {
			from = *al.Namespaces.From
		}
		sel = al.Namespaces.Selector
	}
	notAllowed := func(why string) (string, string) {
		return string(gwv1.ListenerSetReasonNotAllowed), fmt.Sprintf("Gateway %s/%s does not take ListenerSets %s (its spec.allowedListeners.namespaces); change that, or attach the listeners elsewhere", gw.Namespace, gw.Name, why)
	}
	switch from {
	case gwv1.NamespacesFromAll:
		return "", ""
	case gwv1.NamespacesFromSame:
		if ns == gw.Namespace {
			return "", ""
		}
		return notAllowed("from other namespaces (from: Same)")
	case gwv1.NamespacesFromSelector:
		if sel == nil {
			return notAllowed("(from: Selector without a selector selects no namespace)")
		}
		s, err := metav1.LabelSelectorAsSelector(sel)
		if err != nil {
			return notAllowed(fmt.Sprintf("(its selector is not valid: %v)", err))
		}
		if s.Matches(t.namespaceLabels(ns)) {
			return "", ""
		}
		return notAllowed(fmt.Sprintf("from namespace %s (its labels do not match the selector)", ns))
	}
	return notAllowed("(from: None, the default)")
}

// finishListenerSets writes the ListenerSets' statuses and the Gateways' count of the
// ListenerSets attached to them.
func (t *translator) finishListenerSets() {
	attached := map[nsName]int32{}
	for key, s := range t.gw.listenerSets {
		gen := s.ls.Generation
		st := &gwv1.ListenerSetStatus{}
		cond := func(typ gwv1.ListenerSetConditionType, reason gwv1.ListenerSetConditionReason, ok bool, msg string) metav1.Condition {
			c := metav1.Condition{Type: string(typ), Status: metav1.ConditionTrue, Reason: string(reason), Message: msg, ObservedGeneration: gen}
			if !ok {
				c.Status = metav1.ConditionFalse
			}
			return c
		}
		switch {
		case s.refusedReason != "":
			r := gwv1.ListenerSetConditionReason(s.refusedReason)
			st.Conditions = []metav1.Condition{cond(gwv1.ListenerSetConditionAccepted, r, false, s.refusedMsg),
				cond(gwv1.ListenerSetConditionProgrammed, r, false, s.refusedMsg)}
		case !s.valid():
			msg := "no listener is valid: see status.listeners"
			st.Conditions = []metav1.Condition{cond(gwv1.ListenerSetConditionAccepted, gwv1.ListenerSetReasonListenersNotValid, false, msg),
				cond(gwv1.ListenerSetConditionProgrammed, gwv1.ListenerSetReasonListenersNotValid, false, msg)}
		default:
			attached[nsName{s.gw.Namespace, s.gw.Name}]++
			accepted := cond(gwv1.ListenerSetConditionAccepted, gwv1.ListenerSetReasonAccepted, true, fmt.Sprintf("attached to Gateway %s/%s", s.gw.Namespace, s.gw.Name))
			if n := invalidListeners(s.listeners); n > 0 {
				accepted.Reason, accepted.Message = string(gwv1.ListenerSetReasonListenersNotValid), fmt.Sprintf("%d of %d listeners are not valid: see status.listeners", n, len(s.listeners))
			}
			st.Conditions = []metav1.Condition{accepted,
				cond(gwv1.ListenerSetConditionProgrammed, gwv1.ListenerSetReasonProgrammed, true, "the gateway serves its valid listeners")}
		}
		if s.refusedReason == "" {
			for _, l := range s.listeners {
				es := gwv1.ListenerEntryStatus{Name: l.l.Name, SupportedKinds: l.kinds, AttachedRoutes: l.attached, Conditions: listenerConditions(l, gen)}
				if es.SupportedKinds == nil {
					es.SupportedKinds = []gwv1.RouteGroupKind{}
				}
				if l.conflictReason != "" {
					// A listener that lost a conflict is not programmed for that reason
					// (conformance ListenerSetHostnameConflict / ProtocolConflict).
					for i := range es.Conditions {
						if es.Conditions[i].Type == string(gwv1.ListenerConditionProgrammed) {
							es.Conditions[i].Reason, es.Conditions[i].Message = l.conflictReason, l.conflictMsg
						}
					}
				}
				st.Listeners = append(st.Listeners, es)
			}
		}
		t.gw.status[Key{Kind: KindListenerSet, Namespace: key.namespace, Name: key.name}] = &GatewayAPIStatus{ListenerSet: st}
	}
	for key := range t.gw.gateways {
		if gs := t.gw.status[Key{Kind: KindGateway, Namespace: key.namespace, Name: key.name}]; gs != nil && gs.Gateway != nil {
			gs.Gateway.AttachedListenerSets = ptr.To(attached[key])
		}
	}
}

func invalidListeners(ls []*gwListener) int {
	n := 0
	for _, l := range ls {
		if !l.ready() {
			n++
		}
	}
	return n
}
