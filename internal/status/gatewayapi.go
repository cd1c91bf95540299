package status

import (
	"context"
	"fmt"
	"reflect"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/util/retry"
	"sigs.k8s.io/controller-runtime/pkg/client"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/bridgehead/bridgehead/internal/translate"
)

// Gateway API statuses are written in the spec's shape. A Gateway or GatewayClass of ours
// is ours alone; a route's or a policy's status is shared with other controllers, so only
// the entries whose controllerName is ours are replaced.

// applyGatewayAPI writes a Gateway API object's status, keeping each condition's
// lastTransitionTime while its status is unchanged.
func (w *Writer) applyGatewayAPI(ctx context.Context, k translate.Key, st *translate.GatewayAPIStatus) error {
	kind, ok := translate.KindNamed(k.Kind)
	if !ok || !kind.GatewayAPI() {
		return fmt.Errorf("status: %s is not a Gateway API kind", k.Kind)
	}
	obj := kind.NewObject()
	err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		if err := w.Client.Get(ctx, types.NamespacedName{Namespace: k.Namespace, Name: k.Name}, obj); err != nil {
			return err
		}
		now := metav1.NewTime(w.Clock())
		changed := false
		switch o := obj.(type) {
		case *gwv1.GatewayClass:
			if st.Class == nil {
				return nil
			}
			next := o.Status.DeepCopy()
			next.Conditions = mergeConditions(o.Status.Conditions, st.Class.Conditions, now)
			next.SupportedFeatures = st.Class.SupportedFeatures
			changed = !reflect.DeepEqual(next, &o.Status)
			o.Status = *next
		case *gwv1.Gateway:
			if st.Gateway == nil {
				return nil
			}
			next := o.Status.DeepCopy()
			next.Conditions = mergeConditions(o.Status.Conditions, st.Gateway.Conditions, now)
			next.Addresses = st.Gateway.Addresses
			next.AttachedListenerSets = st.Gateway.AttachedListenerSets // gatewayapi_listenerset.go
			next.Listeners = mergeListeners(o.Status.Listeners, st.Gateway.Listeners, now)
			changed = !reflect.DeepEqual(next, &o.Status)
			o.Status = *next
		case *gwv1.ListenerSet:
			if st.ListenerSet == nil {
				return nil
			}
			next := o.Status.DeepCopy()
			next.Conditions = mergeConditions(o.Status.Conditions, st.ListenerSet.Conditions, now)
			next.Listeners = mergeListeners(o.Status.Listeners, st.ListenerSet.Listeners, now)
			changed = !reflect.DeepEqual(next, &o.Status)
			o.Status = *next
		case *gwv1.BackendTLSPolicy:
			next := mergeAncestors(o.Status.Ancestors, st.Ancestors, now)
			changed = !reflect.DeepEqual(next, o.Status.Ancestors)
			o.Status.Ancestors = next
		default:
			parents, set := routeParents(obj)
			if set == nil {
				return fmt.Errorf("status: no route status on %T", obj)
			}
			next := mergeParents(parents, st.Parents, now)
			changed = !reflect.DeepEqual(next, parents)
			set(next)
		}
		if !changed {
			return nil
		}
		return w.Client.Status().Update(ctx, obj)
	})
	if apierrors.IsNotFound(err) {
		return nil
	}
	return err
}

// clearGatewayAPI removes our entries from a route's or a policy's status once the build
// no longer has a status for it (its Gateway was deleted, or its parentRefs changed to
// Gateways that are not ours): an Accepted=True of ours must not outlive the attachment.
// Gateways and GatewayClasses are left alone: one that left our class is another
// controller's to report on.
func (w *Writer) clearGatewayAPI(ctx context.Context, k translate.Key) {
	kind, ok := translate.KindNamed(k.Kind)
	if !ok || !kind.GatewayAPI() || k.Kind == translate.KindGateway || k.Kind == translate.KindGatewayClass || k.Kind == translate.KindListenerSet {
		return
	}
	if err := w.applyGatewayAPI(ctx, k, &translate.GatewayAPIStatus{}); err != nil {
		w.Log.Error(err, "clearing the status entries of ours", "object", k.String())
	}
}

// routeParents gives access to the parents of every route kind's status.
func routeParents(obj client.Object) ([]gwv1.RouteParentStatus, func([]gwv1.RouteParentStatus)) {
	switch o := obj.(type) {
	case *gwv1.HTTPRoute:
		return o.Status.Parents, func(p []gwv1.RouteParentStatus) { o.Status.Parents = p }
	case *gwv1.TLSRoute:
		return o.Status.Parents, func(p []gwv1.RouteParentStatus) { o.Status.Parents = p }
	case *gwv1.TCPRoute:
		return o.Status.Parents, func(p []gwv1.RouteParentStatus) { o.Status.Parents = p }
	case *gwv1.GRPCRoute:
		return o.Status.Parents, func(p []gwv1.RouteParentStatus) { o.Status.Parents = p }
	case *gwv1.UDPRoute:
		return o.Status.Parents, func(p []gwv1.RouteParentStatus) { o.Status.Parents = p }
	}
	return nil, nil
}

// mergeConditions returns want, each condition keeping its lastTransitionTime from have
// when its status did not change.
func mergeConditions(have, want []metav1.Condition, now metav1.Time) []metav1.Condition {
	out := make([]metav1.Condition, 0, len(want))
	for _, c := range want {
		c.LastTransitionTime = now
		if old := meta.FindStatusCondition(have, c.Type); old != nil && old.Status == c.Status {
			c.LastTransitionTime = old.LastTransitionTime
		}
		out = append(out, c)
	}
	return out
}

// mergeListeners returns want (a Gateway's or a ListenerSet's listener statuses), each
// condition keeping its lastTransitionTime from the listener of the same name in have.
func mergeListeners[L gwv1.ListenerStatus | gwv1.ListenerEntryStatus](have, want []L, now metav1.Time) []L {
	parts := func(l *L) (gwv1.SectionName, *[]metav1.Condition) {
		switch v := any(l).(type) {
		case *gwv1.ListenerStatus:
			return v.Name, &v.Conditions
		case *gwv1.ListenerEntryStatus:
			return v.Name, &v.Conditions
		}
		return "", nil
	}
	var out []L
	for _, l := range want {
		name, conds := parts(&l)
		var before []metav1.Condition
		for i := range have {
			if n, c := parts(&have[i]); n == name {
				before = *c
			}
		}
		*conds = mergeConditions(before, *conds, now)
		out = append(out, l)
	}
	return out
}

// mergeParents replaces the entries written by us with want, keeping other controllers'.
func mergeParents(have, want []gwv1.RouteParentStatus, now metav1.Time) []gwv1.RouteParentStatus {
	return mergeEntries(have, want, now, func(p *gwv1.RouteParentStatus) (gwv1.GatewayController, any, *[]metav1.Condition) {
		return p.ControllerName, p.ParentRef, &p.Conditions
	})
}

// mergeAncestors replaces the entries written by us with want, keeping other controllers'.
func mergeAncestors(have, want []gwv1.PolicyAncestorStatus, now metav1.Time) []gwv1.PolicyAncestorStatus {
	return mergeEntries(have, want, now, func(a *gwv1.PolicyAncestorStatus) (gwv1.GatewayController, any, *[]metav1.Condition) {
		return a.ControllerName, a.AncestorRef, &a.Conditions
	})
}

// mergeEntries is the merge of a status list shared by controllers (route parents, policy
// ancestors): entries of other controllers are kept as they are, ours replaced by want,
// each condition keeping its lastTransitionTime while its status is unchanged. The result
// is never nil: the CRDs require the list, an empty one included.
func mergeEntries[E any](have, want []E, now metav1.Time, parts func(*E) (controller gwv1.GatewayController, ref any, conds *[]metav1.Condition)) []E {
	out := []E{}
	for i := range have {
		if c, _, _ := parts(&have[i]); string(c) != translate.GatewayController {
			out = append(out, have[i])
		}
	}
	for _, e := range want {
		_, ref, conds := parts(&e)
		for i := range have {
			if c, oldRef, oldConds := parts(&have[i]); string(c) == translate.GatewayController && reflect.DeepEqual(oldRef, ref) {
				*conds = mergeConditions(*oldConds, *conds, now)
				break
			}
		}
		for i := range *conds {
			if (*conds)[i].LastTransitionTime.IsZero() {
				(*conds)[i].LastTransitionTime = now
			}
		}
		out = append(out, e)
	}
	return out
}
