// Package verdict turns what the data plane observed of real handshakes and requests into
// status conditions: BackendTLSReady on each route and ServersTransport, with the cause,
// the endpoint, what the backend presented, the names checked and the roots trusted.
package verdict

import (
	"fmt"
	"maps"
	"sort"
	"strings"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	bhv1 "github.com/bridgehead/bridgehead/api/v1alpha1"
	"github.com/bridgehead/bridgehead/internal/snapshot"
	"github.com/bridgehead/bridgehead/internal/translate"
	"github.com/bridgehead/bridgehead/proxy/upstream"
)

// Conditions are runtime conditions per object, merged into translate's statuses.
type Conditions map[translate.Key][]metav1.Condition

// target is one object whose backends are judged: a route source or a transport.
type target struct {
	key       translate.Key
	endpoints map[string]bool // route-or-transport-scoped keys "routeID|endpoint" in use
}

// Compute judges every route and ServersTransport of snap from the latest observations.
// Observations of endpoints the snapshot no longer uses are ignored.
func Compute(snap *snapshot.Snapshot, obs []upstream.Observation, now time.Time, expiryWarning time.Duration) Conditions {
	if snap == nil {
		return nil
	}
	byKey := map[string]upstream.Observation{}
	for _, o := range obs {
		byKey[o.RouteID+"|"+o.Endpoint] = o
	}
	targets := map[translate.Key]*target{}
	add := func(k translate.Key, routeID, endpoint string) {
		t, ok := targets[k]
		if !ok {
			t = &target{key: k, endpoints: map[string]bool{}}
			targets[k] = t
		}
		t.endpoints[routeID+"|"+endpoint] = true
	}
	for _, r := range snap.HTTPRoutes {
		src := keyOf(r.Source)
		for _, b := range r.Backends {
			for _, ep := range b.Endpoints {
				add(src, r.ID, ep.Address)
				if b.Transport != "" {
					add(transportKey(b.Transport), r.ID, ep.Address)
				}
			}
		}
	}
	for _, r := range snap.TCPRoutes {
		src := keyOf(r.Source)
		for _, b := range r.Backends {
			for _, ep := range b.Endpoints {
				add(src, r.ID, ep.Address)
				if b.Transport != "" {
					add(transportKey(b.Transport), r.ID, ep.Address)
				}
			}
		}
	}
	out := Conditions{}
	for k, t := range targets {
		var failed, ok []upstream.Observation
		for ek := range t.endpoints {
			o, seen := byKey[ek]
			switch {
			case !seen:
			case o.OK:
				ok = append(ok, o)
			default:
				failed = append(failed, o)
			}
		}
		out[k] = []metav1.Condition{judge(failed, ok, len(t.endpoints))}
		if w := expiring(ok, now, expiryWarning); w != "" {
			out[k] = append(out[k], metav1.Condition{Type: string(bhv1.ConditionWarnings), Status: metav1.ConditionTrue,
				Reason: string(bhv1.ReasonCertificateExpiringSoon), Message: w})
		}
	}
	return out
}

func keyOf(r snapshot.Ref) translate.Key {
	return translate.Key{Kind: r.Kind, Namespace: r.Namespace, Name: r.Name}
}

// transportKey turns a transport ID ("Kind/ns/name") into its object key.
func transportKey(id string) translate.Key {
	// A BackendTLSPolicy's transport with a Gateway's client certificate is
	// "BackendTLSPolicy/ns/name@gwns/gwname": the object is the policy.
	id, _, _ = strings.Cut(id, "@")
	parts := strings.SplitN(id, "/", 3)
	if len(parts) != 3 {
		return translate.Key{Kind: "ServersTransport", Name: id}
	}
	return translate.Key{Kind: parts[0], Namespace: parts[1], Name: parts[2]}
}

func sortObs(os []upstream.Observation) {
	sort.Slice(os, func(i, j int) bool {
		if os[i].RouteID != os[j].RouteID {
			return os[i].RouteID < os[j].RouteID
		}
		return os[i].Endpoint < os[j].Endpoint
	})
}

// conditionReason is the API's name of each reason an observed failure can carry
// (a client that went away is never recorded against a backend).
var conditionReason = map[upstream.Reason]bhv1.ConditionReason{
	upstream.UnknownAuthority:           bhv1.ReasonUnknownAuthority,
	upstream.NameMismatch:               bhv1.ReasonNameMismatch,
	upstream.CertificateExpired:         bhv1.ReasonCertificateExpired,
	upstream.BackendNotTLS:              bhv1.ReasonBackendNotTLS,
	upstream.BackendExpectsTLS:          bhv1.ReasonBackendExpectsTLS,
	upstream.ClientCertificateRequired:  bhv1.ReasonClientCertificateRequired,
	upstream.TLSVersionOrCipherMismatch: bhv1.ReasonTLSVersionOrCipherMismatch,
	upstream.ConnectionRefused:          bhv1.ReasonConnectionRefused,
	upstream.Timeout:                    bhv1.ReasonTimeout,
	upstream.ConnectionReset:            bhv1.ReasonConnectionReset,
	upstream.NoEndpoints:                bhv1.ReasonNoEndpoints,
	upstream.Unknown:                    bhv1.ReasonUnknownFailure,
}

func judge(failed, ok []upstream.Observation, total int) metav1.Condition {
	c := metav1.Condition{Type: string(bhv1.ConditionBackendTLSReady)}
	sortObs(failed)
	sortObs(ok)
	switch {
	case len(failed) > 0:
		f := failed[0]
		c.Status, c.Reason = metav1.ConditionFalse, string(conditionReason[f.Reason])
		c.Message = fmt.Sprintf("%d of %d endpoints failing; %s", len(failed), total, describe(f))
	case len(ok) > 0:
		c.Status, c.Reason = metav1.ConditionTrue, string(bhv1.ReasonHandshakeSucceeded)
		c.Message = fmt.Sprintf("%d of %d endpoints answered", len(ok), total)
		if s := ok[0].Detail.Subject; s != "" {
			c.Message += fmt.Sprintf("; %s presented %q issued by %q", ok[0].Endpoint, s, ok[0].Detail.Issuer)
		}
	default:
		c.Status, c.Reason = metav1.ConditionUnknown, string(bhv1.ReasonNotYetProbed)
		c.Message = "no handshake with the backends yet"
	}
	return c
}

// describe is the message of one failure: cause and fix, then what was presented, the
// names checked and the roots trusted — never secret material.
func describe(o upstream.Observation) string {
	d := o.Detail
	parts := []string{fmt.Sprintf("endpoint %s of Service %s/%s: %s", o.Endpoint, o.Backend.Namespace, o.Backend.Name, d.Message)}
	if d.Subject != "" {
		parts = append(parts, fmt.Sprintf("the backend presented %q issued by %q", d.Subject, d.Issuer))
	}
	if len(d.SANs) > 0 {
		parts = append(parts, "valid for "+strings.Join(d.SANs, ", "))
	}
	if len(d.NamesChecked) > 0 {
		parts = append(parts, "names checked: "+strings.Join(d.NamesChecked, ", "))
	}
	if len(d.Roots) > 0 {
		parts = append(parts, "trusted roots: "+strings.Join(d.Roots, "; "))
	}
	return strings.Join(parts, "; ")
}

func expiring(ok []upstream.Observation, now time.Time, window time.Duration) string {
	if window <= 0 {
		return ""
	}
	for _, o := range ok {
		if na := o.Detail.NotAfter; !na.IsZero() && na.Sub(now) < window {
			return fmt.Sprintf("the backend at %s presents %q, which expires at %s; renew it before then",
				o.Endpoint, o.Detail.Subject, na.UTC().Format(time.RFC3339))
		}
	}
	return ""
}

// Merge adds the runtime conditions to translate's statuses. A route whose backends fail
// at runtime is not Ready, whatever its configuration says: the READY column of
// `kubectl get` must make the broken one obvious.
//
// The result may be st itself (when no runtime condition concerns it): callers read it
// and never modify it. Most builds at 10,000 routes have runtime verdicts for a few
// objects at most, so only those are looked at: the rest of st is cloned wholesale.
func Merge(st translate.Statuses, runtime Conditions) translate.Statuses {
	var out translate.Statuses
	for k, rc := range runtime {
		s, ok := st[k]
		if !ok {
			continue
		}
		if out == nil {
			out = maps.Clone(st)
		}
		// A copy keeps every field (the Gateway API status included); only conditions change.
		cp := *s
		merged := &cp
		merged.Conditions = append([]metav1.Condition(nil), s.Conditions...)
		merged.GatewayAPI = mergeGatewayAPI(s.GatewayAPI, rc, s.Generation) // gatewayapi.go
		for _, c := range rc {
			c.ObservedGeneration = s.Generation
			merged.Conditions = mergeCondition(merged.Conditions, c)
		}
		if b := merged.Condition(bhv1.ConditionBackendTLSReady); b != nil && b.Status == metav1.ConditionFalse {
			if r := merged.Condition(bhv1.ConditionReady); r != nil && r.Status == metav1.ConditionTrue {
				r.Status, r.Reason, r.Message = metav1.ConditionFalse, b.Reason, "requests fail at the backend: "+b.Message
			}
		}
		out[k] = merged
	}
	if out == nil {
		return st
	}
	return out
}

// mergeCondition adds c; a runtime warning joins translate's warnings instead of
// replacing them.
func mergeCondition(cs []metav1.Condition, c metav1.Condition) []metav1.Condition {
	for i := range cs {
		if cs[i].Type != c.Type {
			continue
		}
		if c.Type == string(bhv1.ConditionWarnings) && cs[i].Status == metav1.ConditionTrue {
			cs[i].Reason = string(bhv1.ReasonMultipleWarnings)
			cs[i].Message += "; " + c.Message
			return cs
		}
		cs[i] = c
		return cs
	}
	return append(cs, c)
}
