package snapshot

import (
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"
)

// routeIDSets are Validate's sets of HTTP route IDs, emptied after use: every swap
// validates, and at 10,000 routes a set made per swap was 0.4 MB of every rebuild's garbage.
var routeIDSets = sync.Pool{New: func() any { return map[string]bool{} }}

// Validate checks the invariants the proxy relies on. A snapshot that fails is a bug in
// the translator, not in user input (user mistakes become Failures and conditions), so
// the message is for developers; the Store refuses such a snapshot and keeps the last one.
func (s *Snapshot) Validate() error {
	if s == nil {
		return errors.New("snapshot: nil")
	}
	var errs []string
	add := func(format string, args ...any) { errs = append(errs, fmt.Sprintf(format, args...)) }

	policies := map[string]bool{}
	for _, p := range s.TLS.Policies {
		if policies[p.ID] {
			add("policy %q appears twice", p.ID)
		}
		policies[p.ID] = true
		if p.MinVersion != 0 && p.MaxVersion != 0 && p.MinVersion > p.MaxVersion {
			add("policy %q: minVersion above maxVersion", p.ID)
		}
	}
	if !policies[s.TLS.DefaultPolicy] {
		add("default policy %q is not among the policies", s.TLS.DefaultPolicy)
	}
	if !sort.SliceIsSorted(s.TLS.Hosts, func(i, j int) bool { return s.TLS.Hosts[i].Name < s.TLS.Hosts[j].Name }) {
		add("TLS hosts are not sorted")
	}
	for i, h := range s.TLS.Hosts {
		if i > 0 && s.TLS.Hosts[i-1].Name == h.Name {
			add("TLS host %q appears twice", h.Name)
		}
		if h.Name == "" || h.Name != strings.ToLower(h.Name) || strings.HasSuffix(h.Name, ".") {
			add("TLS host %q is not normalised", h.Name)
		}
		if !policies[h.Policy] {
			add("TLS host %q uses unknown policy %q", h.Name, h.Policy)
		}
		if h.Certificate != nil && h.Certificate.Cert == nil {
			add("TLS host %q has a certificate without key material", h.Name)
		}
	}
	for _, c := range append([]*Certificate{s.TLS.DefaultCertificate}, s.TLS.StoreCertificates...) {
		if c != nil && c.Cert == nil {
			add("store certificate from %s has no key material", c.Source)
		}
	}

	// In order of ID, a transport that appears twice is next to its twin, and the ones
	// routes name are found by binary search: no set of IDs is made (at 20,000
	// transports, 1.5 MB of every rebuild's garbage).
	sorted := true
	for i, t := range s.Transports {
		if i > 0 {
			switch prev := s.Transports[i-1].ID; {
			case prev == t.ID:
				add("transport %q appears twice", t.ID)
			case prev > t.ID:
				add("transports are not sorted by ID (%q before %q)", prev, t.ID)
				sorted = false
			}
		}
		if t.Hash == "" {
			add("transport %q has no hash", t.ID)
		}
	}
	known := func(id string) bool {
		_, ok := slices.BinarySearchFunc(s.Transports, id, func(t *Transport, id string) int { return strings.Compare(t.ID, id) })
		return ok
	}
	if !sorted { // refused already: a set, so the routes' references are not reported missing too
		set := make(map[string]bool, len(s.Transports))
		for _, t := range s.Transports {
			set[t.ID] = true
		}
		known = func(id string) bool { return set[id] }
	}

	ids := routeIDSets.Get().(map[string]bool)
	defer func() {
		clear(ids)
		routeIDSets.Put(ids)
	}()
	hasChildren := map[string]bool{}
	for _, r := range s.HTTPRoutes {
		for _, p := range r.Parents {
			hasChildren[p] = true
		}
	}
	// The label is built only for a bad failure: building it for every route and backend
	// was a third of validating 10,000 routes.
	badFailure := func(f *Failure) bool { return f != nil && (f.Status < 400 || f.Status > 599 || f.Reason == "") }
	const failureNeeds = "%s: failure needs a 4xx/5xx status and a reason"
	for i, r := range s.HTTPRoutes {
		n := len(ids)
		ids[r.ID] = true // one hash per route: a route seen before leaves the set's size as it was
		if len(ids) == n {
			add("route %q appears twice", r.ID)
		}
		if r.Match == "" {
			add("route %q has no match rule", r.ID)
		}
		if i > 0 && s.HTTPRoutes[i-1].Priority < r.Priority {
			add("HTTP routes are not in priority order at %q", r.ID)
		}
		if r.TLS && !policies[r.Policy] {
			add("TLS route %q uses unknown policy %q", r.ID, r.Policy)
		}
		if badFailure(r.Failure) {
			add(failureNeeds, "route "+r.ID)
		}
		if r.Failure == nil && len(r.Backends) == 0 && !redirectsOnly(r) && !hasChildren[r.ID] {
			add("route %q has neither backends nor a failure nor child routes", r.ID)
		}
		if hasChildren[r.ID] && len(r.Backends) > 0 {
			add("route %q has both backends and child routes", r.ID)
		}
		EachForwardAuth(r.Middlewares, func(m *Middleware) {
			switch fa := m.ForwardAuth; {
			case fa.Server == nil:
				add("route %q: forwardAuth %s has no server", r.ID, m.Source)
			case fa.Server.Transport != "" && !known(fa.Server.Transport):
				add("route %q: forwardAuth %s uses unknown transport %q", r.ID, m.Source, fa.Server.Transport)
			}
		})
		for _, e := range checkGatewayFilters(r.Middlewares) {
			add("route %q: %s", r.ID, e)
		}
		if t := r.Timeouts; t != nil && (t.Request < 0 || t.BackendRequest < 0) {
			add("route %q: negative timeout", r.ID)
		}
		for _, b := range r.Backends {
			if b.Transport != "" && !known(b.Transport) {
				add("route %q: backend %s uses unknown transport %q", r.ID, b.Service, b.Transport)
			}
			if b.Weight < 0 {
				add("route %q: backend %s has a negative weight", r.ID, b.Service)
			}
			if badFailure(b.Failure) {
				add(failureNeeds, "route "+r.ID+" backend "+b.Service.String())
			}
		}
		if r.Balance != nil {
			for _, e := range r.Balance.check(len(r.Backends)) {
				add("route %q: %s", r.ID, e)
			}
		}
	}
	for _, msg := range checkRouteTree(s.HTTPRoutes, ids) {
		add("%s", msg)
	}
	// Route IDs are namespace/name/index of the route's object: unique within a kind, and
	// an IngressRoute, an IngressRouteTCP and an IngressRouteUDP may share a name.
	tcpIDs := map[string]bool{}
	for i, r := range s.TCPRoutes {
		if tcpIDs[r.ID] {
			add("TCP route %q appears twice", r.ID)
		}
		tcpIDs[r.ID] = true
		if i > 0 && s.TCPRoutes[i-1].Priority < r.Priority {
			add("TCP routes are not in priority order at %q", r.ID)
		}
		if r.Terminate && !policies[r.Policy] {
			add("TCP route %q uses unknown policy %q", r.ID, r.Policy)
		}
		for _, b := range r.Backends {
			if b.Transport != "" && !known(b.Transport) {
				add("TCP route %q: backend %s uses unknown transport %q", r.ID, b.Service, b.Transport)
			}
		}
		for _, m := range r.Middlewares {
			// A middleware that filters nothing would serve every client: refuse the snapshot.
			switch {
			case (m.IPAllowList == nil) == (m.InFlightConn == nil):
				add("TCP route %q: middleware %s must set exactly one of ipAllowList and inFlightConn", r.ID, m.Source)
			case m.InFlightConn != nil && m.InFlightConn.Amount < 1:
				add("TCP route %q: middleware %s: inFlightConn.amount must be at least 1", r.ID, m.Source)
			}
		}
	}
	udpIDs := map[string]bool{}
	for i, r := range s.UDPRoutes {
		if udpIDs[r.ID] {
			add("UDP route %q appears twice", r.ID)
		}
		udpIDs[r.ID] = true
		if i > 0 && s.UDPRoutes[i-1].ID > r.ID {
			add("UDP routes are not sorted by ID at %q", r.ID)
		}
		for _, b := range r.Backends {
			if b.Weight < 0 {
				add("UDP route %q: backend %s has a negative weight", r.ID, b.Service)
			}
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("snapshot is inconsistent: %s", strings.Join(errs, "; "))
	}
	return nil
}

// redirectsOnly is true for a route that answers from a middleware without a backend.
func redirectsOnly(r *HTTPRoute) bool {
	for _, m := range r.Middlewares {
		if m.RedirectScheme != nil || m.RequestRedirect != nil {
			return true
		}
	}
	return false
}

// checkRouteTree checks what the proxy's walk from root routes to their children relies
// on: every parent exists, and no route is its own ancestor.
func checkRouteTree(routes []*HTTPRoute, ids map[string]bool) []string {
	// Most snapshots have no child routes: no tree to walk.
	if !slices.ContainsFunc(routes, func(r *HTTPRoute) bool { return len(r.Parents) > 0 }) {
		return nil
	}
	var errs []string
	parents := map[string][]string{}
	for _, r := range routes {
		for _, p := range r.Parents {
			if !ids[p] {
				errs = append(errs, fmt.Sprintf("route %q names parent %q, which is not a route", r.ID, p))
			}
		}
		parents[r.ID] = r.Parents
	}
	const (
		visiting = 1
		done     = 2
	)
	state := map[string]int{}
	var visit func(id string) bool
	visit = func(id string) bool {
		switch state[id] {
		case visiting:
			return false
		case done:
			return true
		}
		state[id] = visiting
		for _, p := range parents[id] {
			if !visit(p) {
				return false
			}
		}
		state[id] = done
		return true
	}
	for _, r := range routes {
		if !visit(r.ID) {
			errs = append(errs, fmt.Sprintf("route %q is its own ancestor", r.ID))
			break
		}
	}
	return errs
}

// EachForwardAuth calls fn for every forwardAuth middleware in mws, chains included.
func EachForwardAuth(mws []*Middleware, fn func(*Middleware)) {
	for _, m := range mws {
		switch {
		case m == nil:
		case m.ForwardAuth != nil:
			fn(m)
		case m.Chain != nil:
			EachForwardAuth(m.Chain.Middlewares, fn)
		}
	}
}
