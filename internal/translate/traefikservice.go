package translate

import (
	"fmt"
	"math/big"
	"net/http"
	"strings"

	bhv1 "github.com/bridgehead/bridgehead/api/v1alpha1"
	"github.com/bridgehead/bridgehead/internal/snapshot"
)

// A TraefikService is compiled away: a route that names one gets the Services at the
// leaves of its weighted tree as backends of its own, each weighted by its exact share
// (the product of the fractions on its path), so the data plane balances one flat list
// with the same proportions as Traefik's nested round robins.

// maxTraefikServiceDepth bounds nesting (a cycle is refused before it is reached).
const maxTraefikServiceDepth = 16

// buildTraefikServices reports on every TraefikService: its own spec, and whether the
// tree below it resolves (missing or cyclic references, Services without endpoints).
func (t *translator) buildTraefikServices() {
	for _, ts := range sortedByName(t.in.TraefikServices) {
		rep := t.reportFor(KindTraefikService, &ts.ObjectMeta)
		rep.total = 1
		k := nsName{ts.Namespace, ts.Name}
		obj := "TraefikService " + k.String()
		if t.refuseUnsupported(rep, obj) {
			continue
		}
		if f := t.traefikServiceFault(ts); f != nil {
			rep.invalidf(f.reason, f.message)
			continue
		}
		leaves := t.expandWeighted(rep, obj, "spec.weighted", ts, big.NewRat(1, 1), []nsName{k})
		if anyServes(leaves) {
			rep.served = 1
		}
	}
}

// traefikServiceFault is what is wrong with a TraefikService's own spec, if anything.
func (t *translator) traefikServiceFault(ts *bhv1.TraefikService) *finding {
	obj := "TraefikService " + ts.Namespace + "/" + ts.Name
	if ts.Spec.Weighted == nil {
		// A folder is checked against the schema, which requires it; Traefik's own
		// variants (mirroring, failover) are refused by the loader before this.
		return &finding{reason: bhv1.ReasonInvalid, message: fmt.Sprintf("%s: set spec.weighted (the weighted services and their weights)", obj)}
	}
	for i, s := range ts.Spec.Weighted.Services {
		if s.Kind != bhv1.ServiceKindTraefikService && s.Port == "" {
			return &finding{reason: bhv1.ReasonInvalid, message: fmt.Sprintf(
				"%s: spec.weighted.services[%d]: port is required for Service %q; name the Service port, or set kind: TraefikService", obj, i, s.Name)}
		}
	}
	return nil
}

// leaf is a backend at the end of a TraefikService tree and its share of the requests
// that reach the tree.
type leaf struct {
	backend *snapshot.Backend
	share   *big.Rat
}

func anyServes(ls []leaf) bool {
	for _, l := range ls {
		if l.backend.Failure == nil && l.share.Sign() > 0 {
			return true
		}
	}
	return false
}

// traefikServiceBackends expands a route's kind: TraefikService entry into leaves; each
// problem is a finding on rep (the route's report, or the TraefikService's own).
func (t *translator) traefikServiceBackends(rep *report, obj, field, fromNS string, s bhv1.Service, share *big.Rat, stack []nsName) []leaf {
	ns := orNamespace(s.Namespace, fromNS)
	k := nsName{ns, s.Name}
	fail := func(reason bhv1.ConditionReason, status int, msg string) []leaf {
		msg = field + ": " + msg
		rep.refError(reason, fmt.Sprintf("%s; requests sent to it get %d until it is fixed", msg, status))
		return []leaf{{share: share, backend: &snapshot.Backend{
			Service: snapshot.Ref{Kind: KindTraefikService, Namespace: ns, Name: s.Name},
			Failure: &snapshot.Failure{Reason: string(reason), Status: status, Message: obj + " " + msg},
		}}}
	}
	for _, name := range unusedOnTraefikService(s) {
		rep.warn(bhv1.ReasonIneffectiveSetting, fmt.Sprintf("%s.%s has no effect on kind TraefikService (the TraefikService's own entries say how each Service is reached); remove it", field, name))
	}
	if !t.permitted(fromNS, ns) {
		return fail(bhv1.ReasonRefNotPermitted, http.StatusServiceUnavailable, fmt.Sprintf(
			"TraefikService %s is in another namespace; cross-namespace references are off (start the gateway with --allow-cross-namespace, or use a TraefikService in namespace %s)", k, fromNS))
	}
	ts, ok := t.traefikSvcs[k]
	if !ok {
		return fail(bhv1.ReasonNotFound, http.StatusServiceUnavailable, fmt.Sprintf("TraefikService %q not found in namespace %s", s.Name, ns))
	}
	for i, seen := range stack {
		if seen == k {
			var path []string
			for _, p := range append(stack[i:], k) {
				path = append(path, p.String())
			}
			return fail(bhv1.ReasonInvalidRef, http.StatusServiceUnavailable, fmt.Sprintf(
				"TraefikServices form a cycle (%s); remove one of these references", strings.Join(path, " -> ")))
		}
	}
	if len(stack) >= maxTraefikServiceDepth {
		return fail(bhv1.ReasonInvalidRef, http.StatusServiceUnavailable, fmt.Sprintf(
			"TraefikService %s is nested more than %d deep; flatten the tree", k, maxTraefikServiceDepth))
	}
	if len(t.in.Unsupported[Key{Kind: KindTraefikService, Namespace: ns, Name: s.Name}]) > 0 {
		return fail(bhv1.ReasonUnsupportedField, http.StatusServiceUnavailable, fmt.Sprintf(
			"TraefikService %s sets fields Bridgehead does not implement (see its status)", k))
	}
	if f := t.traefikServiceFault(ts); f != nil {
		return fail(f.reason, http.StatusServiceUnavailable, f.message)
	}
	return t.expandWeighted(rep, obj, fmt.Sprintf("%s (TraefikService %s).spec.weighted", field, k), ts, share, append(append([]nsName(nil), stack...), k))
}

// expandWeighted expands a weighted TraefikService's entries, each with its share.
func (t *translator) expandWeighted(rep *report, obj, field string, ts *bhv1.TraefikService, share *big.Rat, stack []nsName) []leaf {
	entries := ts.Spec.Weighted.Services
	total := 0
	for _, s := range entries {
		total += entryWeight(s)
	}
	var out []leaf
	for i, s := range entries {
		f := fmt.Sprintf("%s.services[%d]", field, i)
		w := entryWeight(s)
		sub := new(big.Rat)
		if total > 0 {
			sub.Mul(share, big.NewRat(int64(w), int64(total)))
		}
		if s.Kind == bhv1.ServiceKindTraefikService {
			out = append(out, t.traefikServiceBackends(rep, obj, f, ts.Namespace, s, sub, stack)...)
			continue
		}
		out = append(out, leaf{backend: t.httpBackend(rep, obj, f, ts.Namespace, s), share: sub})
	}
	return out
}

func entryWeight(s bhv1.Service) int {
	if s.Weight == nil {
		return 1
	}
	return *s.Weight
}

// unusedOnTraefikService lists the fields of a kind: TraefikService entry that only a
// Service entry reads.
func unusedOnTraefikService(s bhv1.Service) []string {
	var out []string
	add := func(set bool, name string) {
		if set {
			out = append(out, name)
		}
	}
	add(s.Port != "", "port")
	add(s.Scheme != "", "scheme")
	add(s.ServersTransport != "", "serversTransport")
	add(s.PassHostHeader != nil, "passHostHeader")
	add(s.Sticky != nil, "sticky")
	add(s.HealthCheck != nil, "healthCheck")
	return out
}

// maxBackendWeight bounds the integer weights of a flattened route; beyond it shares are
// rounded (to within one part in a million).
const maxBackendWeight = 1 << 40

// weighLeaves turns shares into integer backend weights with the same proportions: the
// shares times the least common multiple of their denominators, or, when that is too
// large, the shares rounded to millionths (never rounding a positive share to zero).
func weighLeaves(ls []leaf) []*snapshot.Backend {
	lcm := big.NewInt(1)
	for _, l := range ls {
		d := l.share.Denom()
		g := new(big.Int).GCD(nil, nil, lcm, d)
		lcm.Mul(lcm, new(big.Int).Div(d, g))
	}
	exact := true
	weights := make([]int64, len(ls))
	for i, l := range ls {
		n := new(big.Int).Mul(l.share.Num(), new(big.Int).Div(lcm, l.share.Denom()))
		if !n.IsInt64() || n.Int64() > maxBackendWeight {
			exact = false
			break
		}
		weights[i] = n.Int64()
	}
	out := make([]*snapshot.Backend, len(ls))
	for i, l := range ls {
		w := weights[i]
		if !exact {
			f, _ := l.share.Float64()
			w = int64(f*1e6 + 0.5)
			if w == 0 && l.share.Sign() > 0 {
				w = 1
			}
		}
		l.backend.Weight = int(w)
		out[i] = l.backend
	}
	return out
}
