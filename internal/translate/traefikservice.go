package translate

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math/big"
	"net/http"
	"strings"

	bhv1 "github.com/bridgehead/bridgehead/api/v1alpha1"
	"github.com/bridgehead/bridgehead/internal/snapshot"
)

// A route's services and the TraefikServices they name form a tree (tsnode). A tree
// that only weighs is compiled away: the route gets the Services at its leaves as
// backends of its own, each weighted by its exact share (the product of the fractions on
// its path), so the data plane balances one flat list with the same proportions as
// Traefik's nested round robins. A tree with a mirroring TraefikService, or a weighted
// one with sticky, keeps its shape in the snapshot (snapshot.Balance): a flat list
// cannot say either.

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
		if t.traefikServiceTree(rep, obj, "spec", ts, []nsName{k}).serves() {
			rep.served = 1
		}
	}
}

// traefikServiceFault is what is wrong with a TraefikService's own spec, if anything.
func (t *translator) traefikServiceFault(ts *bhv1.TraefikService) *finding {
	obj := "TraefikService " + ts.Namespace + "/" + ts.Name
	invalid := func(format string, args ...any) *finding {
		return &finding{reason: bhv1.ReasonInvalid, message: obj + ": " + fmt.Sprintf(format, args...)}
	}
	needsPort := func(field string, s bhv1.Service) *finding {
		if s.Kind != bhv1.ServiceKindTraefikService && s.Port == "" {
			return invalid("%s: port is required for Service %q; name the Service port, or set kind: TraefikService", field, s.Name)
		}
		return nil
	}
	spec := ts.Spec
	variants := 0
	for _, set := range []bool{spec.Weighted != nil, spec.Mirroring != nil, spec.Failover != nil, spec.HighestRandomWeight != nil} {
		if set {
			variants++
		}
	}
	switch {
	case variants > 1:
		return invalid("set only one of spec.weighted, spec.mirroring, spec.failover and spec.highestRandomWeight")
	case spec.HighestRandomWeight != nil:
		for i, s := range spec.HighestRandomWeight.Services {
			if f := needsPort(fmt.Sprintf("spec.highestRandomWeight.services[%d]", i), s); f != nil {
				return f
			}
		}
	case spec.Failover != nil:
		if f := needsPort("spec.failover.service", spec.Failover.Service); f != nil {
			return f
		}
		if f := needsPort("spec.failover.fallback", spec.Failover.Fallback); f != nil {
			return f
		}
	case spec.Weighted != nil:
		for i, s := range spec.Weighted.Services {
			if f := needsPort(fmt.Sprintf("spec.weighted.services[%d]", i), s); f != nil {
				return f
			}
		}
	case spec.Mirroring != nil:
		m := spec.Mirroring
		if m.Name == "" {
			return invalid("spec.mirroring.name: name the main service (a Service with its port, or kind: TraefikService)")
		}
		if f := needsPort("spec.mirroring", m.Service); f != nil {
			return f
		}
		for i, mr := range m.Mirrors {
			field := fmt.Sprintf("spec.mirroring.mirrors[%d]", i)
			if f := needsPort(field, mr.Service); f != nil {
				return f
			}
			if mr.Percent < 0 || mr.Percent > 100 {
				return invalid("%s.percent: %d is not a percentage; set 0 to 100", field, mr.Percent)
			}
		}
	default:
		// A folder is checked against the schema, which requires one; Traefik's other
		// variants (failover, highestRandomWeight) are refused by the loader before this.
		return invalid("set spec.weighted (the weighted services and their weights), spec.mirroring (a main service and its mirrors) or spec.failover (a service and its fallback)")
	}
	return nil
}

// tsnode is one node of a route's service tree: a backend (a leaf), a weighted level, or
// a mirroring level.
type tsnode struct {
	backend *snapshot.Backend // a leaf

	source snapshot.Ref // the TraefikService (or route) of an inner node

	// Weighted.
	children []*tsnode
	weights  []int
	sticky   *snapshot.StickyCookie
	keys     []string // the sticky cookie's value (or the hash key) per child
	byClient bool     // highestRandomWeight

	// Mirroring (main and mirrors) or failover (main and fallback).
	main        *tsnode
	fallback    *tsnode
	mirrors     []*tsnode
	percents    []int
	mirrorBody  bool
	maxBodySize int64
}

func (n *tsnode) mirroring() bool { return n.main != nil && n.fallback == nil }

func (n *tsnode) failover() bool { return n.fallback != nil }

// structured reports whether the tree needs its shape in the snapshot: it mirrors, or a
// level of it is sticky.
func (n *tsnode) structured() bool {
	if n.main != nil || n.sticky != nil || n.byClient {
		return true
	}
	for _, c := range n.children {
		if c.structured() {
			return true
		}
	}
	return false
}

// serves reports whether a request that reaches the node can be answered by a backend.
func (n *tsnode) serves() bool {
	switch {
	case n.backend != nil:
		return n.backend.Failure == nil
	case n.failover():
		return n.main.serves() || n.fallback.serves()
	case n.mirroring():
		return n.main.serves()
	}
	for i, c := range n.children {
		if n.weights[i] > 0 && c.serves() {
			return true
		}
	}
	return false
}

// leaf is a backend at the end of a weighted tree and its share of the requests that
// reach the tree.
type leaf struct {
	backend *snapshot.Backend
	share   *big.Rat
}

// leaves flattens a tree that is not structured.
func (n *tsnode) leaves(share *big.Rat) []leaf {
	if n.backend != nil {
		return []leaf{{backend: n.backend, share: share}}
	}
	total := 0
	for _, w := range n.weights {
		total += w
	}
	var out []leaf
	for i, c := range n.children {
		sub := new(big.Rat)
		if total > 0 {
			sub.Mul(share, big.NewRat(int64(n.weights[i]), int64(total)))
		}
		out = append(out, c.leaves(sub)...)
	}
	return out
}

// compile turns a structured tree into the snapshot's Balance, appending its leaves to
// backends; weight is the leaf's weight in its parent (1 under a mirroring).
func (n *tsnode) compile(backends *[]*snapshot.Backend, weight int) *snapshot.Balance {
	if n.backend != nil {
		n.backend.Weight = weight
		*backends = append(*backends, n.backend)
		i := len(*backends) - 1
		return &snapshot.Balance{Backend: &i}
	}
	if n.failover() {
		return &snapshot.Balance{Failover: &snapshot.FailoverBalance{
			Source: n.source, Main: n.main.compile(backends, 1), Fallback: n.fallback.compile(backends, 1),
		}}
	}
	if n.mirroring() {
		m := &snapshot.MirroringBalance{Source: n.source, MirrorBody: n.mirrorBody, MaxBodySize: n.maxBodySize}
		m.Main = n.main.compile(backends, 1)
		for i, mr := range n.mirrors {
			m.Mirrors = append(m.Mirrors, &snapshot.Mirror{Balance: mr.compile(backends, 1), Percent: n.percents[i]})
		}
		return &snapshot.Balance{Mirroring: m}
	}
	w := &snapshot.WeightedBalance{Source: n.source, Weights: n.weights, Sticky: n.sticky, Keys: n.keys, ByClient: n.byClient}
	for i, c := range n.children {
		w.Children = append(w.Children, c.compile(backends, n.weights[i]))
	}
	return &snapshot.Balance{Weighted: w}
}

// routeBackends turns a route's tree into its backends: flat with exact shares, or with
// the tree's shape when it mirrors or pins.
func routeBackends(root *tsnode) ([]*snapshot.Backend, *snapshot.Balance) {
	if !root.structured() {
		return weighLeaves(root.leaves(big.NewRat(1, 1))), nil
	}
	if len(root.children) == 1 {
		// A route with one entry: its own level weighs nothing.
		root = root.children[0]
	}
	var backends []*snapshot.Backend
	b := root.compile(&backends, 1)
	return backends, b
}

// failedLeaf is a leaf that answers status with reason: the entry cannot be resolved.
func failedLeaf(ns, name string, reason bhv1.ConditionReason, status int, message string) *tsnode {
	return &tsnode{backend: &snapshot.Backend{
		Service: snapshot.Ref{Kind: KindTraefikService, Namespace: ns, Name: name},
		Failure: &snapshot.Failure{Reason: string(reason), Status: status, Message: message},
	}}
}

// entryNode resolves one service entry (of a route or a TraefikService) into a node.
func (t *translator) entryNode(rep *report, obj, field, fromNS string, s bhv1.Service, stack []nsName) *tsnode {
	if s.Kind == bhv1.ServiceKindTraefikService {
		return t.traefikServiceNode(rep, obj, field, fromNS, s, stack)
	}
	return &tsnode{backend: t.httpBackend(rep, obj, field, fromNS, s)}
}

// traefikServiceNode expands a kind: TraefikService entry; each problem is a finding on
// rep (the route's report, or the TraefikService's own).
func (t *translator) traefikServiceNode(rep *report, obj, field, fromNS string, s bhv1.Service, stack []nsName) *tsnode {
	ns := orNamespace(s.Namespace, fromNS)
	k := nsName{ns, s.Name}
	fail := func(reason bhv1.ConditionReason, status int, msg string) *tsnode {
		msg = field + ": " + msg
		rep.refError(reason, fmt.Sprintf("%s; requests sent to it get %d until it is fixed", msg, status))
		return failedLeaf(ns, s.Name, reason, status, obj+" "+msg)
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
	return t.traefikServiceTree(rep, obj, fmt.Sprintf("%s (TraefikService %s).spec", field, k), ts, append(append([]nsName(nil), stack...), k))
}

// traefikServiceTree expands a TraefikService whose own spec is sound.
func (t *translator) traefikServiceTree(rep *report, obj, field string, ts *bhv1.TraefikService, stack []nsName) *tsnode {
	if ts.Spec.Mirroring != nil {
		return t.mirroringNode(rep, obj, field+".mirroring", ts, stack)
	}
	if ts.Spec.Failover != nil {
		return t.failoverNode(rep, obj, field+".failover", ts, stack)
	}
	if h := ts.Spec.HighestRandomWeight; h != nil {
		n := t.entriesNode(rep, obj, field+".highestRandomWeight", ts, h.Services, stack)
		n.byClient, n.keys = true, stickyKeys(ts, h.Services)
		return n
	}
	return t.weightedNode(rep, obj, field+".weighted", ts, stack)
}

// weightedNode expands a weighted TraefikService's entries, each with its weight.
func (t *translator) weightedNode(rep *report, obj, field string, ts *bhv1.TraefikService, stack []nsName) *tsnode {
	w := ts.Spec.Weighted
	n := t.entriesNode(rep, obj, field, ts, w.Services, stack)
	if w.Sticky != nil && w.Sticky.Cookie != nil {
		n.sticky = stickyCookie(Key{Kind: KindTraefikService, Namespace: ts.Namespace, Name: ts.Name}, "spec.weighted", w.Sticky.Cookie)
		n.keys = stickyKeys(ts, w.Services)
	}
	return n
}

// entriesNode is a level over a TraefikService's services, each with its weight.
func (t *translator) entriesNode(rep *report, obj, field string, ts *bhv1.TraefikService, entries []bhv1.Service, stack []nsName) *tsnode {
	n := &tsnode{source: snapshot.Ref{Kind: KindTraefikService, Namespace: ts.Namespace, Name: ts.Name}}
	for i, s := range entries {
		n.children = append(n.children, t.entryNode(rep, obj, fmt.Sprintf("%s.services[%d]", field, i), ts.Namespace, s, stack))
		n.weights = append(n.weights, entryWeight(s))
	}
	return n
}

// stickyKeys are the values of a weighted TraefikService's sticky cookie, one per entry:
// a hash of the TraefikService and the entry, so the cookie discloses no names and stays
// valid while entries are added, removed or reordered.
func stickyKeys(ts *bhv1.TraefikService, entries []bhv1.Service) []string {
	seen := map[string]bool{}
	var out []string
	for i, s := range entries {
		kind := s.Kind
		if kind == "" {
			kind = bhv1.ServiceKindService
		}
		id := fmt.Sprintf("%s/%s/%s\x00%s/%s/%s:%s", KindTraefikService, ts.Namespace, ts.Name, kind, orNamespace(s.Namespace, ts.Namespace), s.Name, s.Port)
		key := shortHash(id)
		if seen[key] {
			// The same entry twice: each still gets its own value.
			key = shortHash(fmt.Sprintf("%s\x00%d", id, i))
		}
		seen[key] = true
		out = append(out, key)
	}
	return out
}

// mirroringNode expands a mirroring TraefikService: its main service and its mirrors.
func (t *translator) mirroringNode(rep *report, obj, field string, ts *bhv1.TraefikService, stack []nsName) *tsnode {
	m := ts.Spec.Mirroring
	n := &tsnode{
		source:      snapshot.Ref{Kind: KindTraefikService, Namespace: ts.Namespace, Name: ts.Name},
		mirrorBody:  m.MirrorBody == nil || *m.MirrorBody,
		maxBodySize: -1,
	}
	if m.MaxBodySize != nil {
		n.maxBodySize = *m.MaxBodySize
	}
	warnWeight := func(f string, s bhv1.Service) {
		if s.Weight != nil {
			rep.warn(bhv1.ReasonIneffectiveSetting, fmt.Sprintf("%s.weight has no effect on a mirroring TraefikService (the main service gets every request, a mirror its percent); remove it", f))
		}
	}
	warnWeight(field, m.Service)
	n.main = t.entryNode(rep, obj, field, ts.Namespace, m.Service, stack)
	for i, mr := range m.Mirrors {
		f := fmt.Sprintf("%s.mirrors[%d]", field, i)
		warnWeight(f, mr.Service)
		if mr.Kind == bhv1.ServiceKindTraefikService {
			n.mirrors = append(n.mirrors, t.traefikServiceNode(rep, obj, f, ts.Namespace, mr.Service, stack))
		} else {
			n.mirrors = append(n.mirrors, &tsnode{backend: t.httpBackendFor(rep, obj, f, ts.Namespace, mr.Service,
				"the main service still answers, but this mirror's copies of requests get")})
		}
		n.percents = append(n.percents, mr.Percent)
	}
	return n
}

// failoverNode expands a failover TraefikService: its service and its fallback.
func (t *translator) failoverNode(rep *report, obj, field string, ts *bhv1.TraefikService, stack []nsName) *tsnode {
	f := ts.Spec.Failover
	n := &tsnode{source: snapshot.Ref{Kind: KindTraefikService, Namespace: ts.Namespace, Name: ts.Name}}
	for _, e := range []struct {
		name, consequence string
		s                 bhv1.Service
		dst               **tsnode
	}{
		{"service", "the fallback answers meanwhile; this service's requests would get", f.Service, &n.main},
		{"fallback", "the service answers while it can; when it cannot, requests get", f.Fallback, &n.fallback},
	} {
		sub := field + "." + e.name
		if e.s.Weight != nil {
			rep.warn(bhv1.ReasonIneffectiveSetting, fmt.Sprintf("%s.weight has no effect on a failover TraefikService (the service answers while it can, then the fallback); remove it", sub))
		}
		if e.s.Kind == bhv1.ServiceKindTraefikService {
			*e.dst = t.traefikServiceNode(rep, obj, sub, ts.Namespace, e.s, stack)
		} else {
			*e.dst = &tsnode{backend: t.httpBackendFor(rep, obj, sub, ts.Namespace, e.s, e.consequence)}
		}
	}
	return n
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

// shortHash is 16 hex digits of the SHA-256 of s.
func shortHash(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:8])
}
