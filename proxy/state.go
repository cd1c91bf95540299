package proxy

import (
	"net/http"
	"net/http/httputil"
	"slices"

	"github.com/bridgehead/bridgehead/internal/rule"
	"github.com/bridgehead/bridgehead/internal/snapshot"
	"github.com/bridgehead/bridgehead/proxy/edge"
	"github.com/bridgehead/bridgehead/proxy/health"
	"github.com/bridgehead/bridgehead/proxy/metrics"
	"github.com/bridgehead/bridgehead/proxy/middleware"
	"github.com/bridgehead/bridgehead/proxy/upstream"
)

// state is one snapshot compiled for serving. It is immutable once built.
type state struct {
	snap    *snapshot.Snapshot
	edge    *edge.Configs
	routers map[string]*router     // by entry point name
	tcp     map[string][]*tcpRoute // by entry point name, in priority order
	udp     map[string]*udpRoute   // by UDP entry point name
}

// route is a compiled HTTP route.
type route struct {
	snap    *snapshot.HTTPRoute
	rule    *rule.Rule
	policy  string
	handler http.Handler
	stats   *metrics.Route
	// children is set on a parent route: the router of its child routes.
	children *childRouter
	// holds is what the route holds in the server's registries (kept.go).
	holds holds
}

// compile builds the serving state of a snapshot, and says which of its HTTP routes the
// last compiled snapshot had. It runs on every swap, off the hot path; a route whose rule
// does not compile fails closed with 502 rather than vanishing. The caller holds swapMu.
func (s *Server) compile(snap *snapshot.Snapshot) (*state, snapshot.RouteChanges) {
	st := &state{snap: snap, routers: map[string]*router{}}
	st.edge = s.edge.Compile(snap)

	used := map[*health.Endpoint]bool{}
	transports := snap.TransportsByID()
	env := &middleware.Env{Upstreams: s.pool, Transports: transports, Fail: s.fail, Log: s.log}
	routes := make([]*route, 0, len(snap.HTTPRoutes))
	children := childRoutes(snap.HTTPRoutes)

	changes := snapshot.MatchRoutes(s.kept.before, snap.HTTPRoutes)
	// A route is kept unless a transport it calls a backend through changed: with a
	// BackendTLSPolicy per Service, a new application adds transports at every change,
	// and compiling every route again for them was most of such a change at 10,000 routes.
	changedTransports := snapshot.ChangedTransports(s.kept.transports, transports)
	changes.Transports, changes.ChangedTransports = transports, changedTransports
	keep := s.kept.next(len(snap.HTTPRoutes))
	var edits routerEdits // what the routers gain and lose, to patch them
	for j, hr := range snap.HTTPRoutes {
		old := s.kept.previous(changes.From[j])
		r, kept := old, true
		if r == nil || len(children[hr.ID]) > 0 || hr.UsesTransport(changedTransports) {
			if r, kept = s.compileRoute(hr, children[hr.ID], env, transports), false; r != nil {
				edits.add(r)
			}
			if old != nil {
				edits.remove(old)
			}
			if r == nil {
				continue
			}
		}
		s.hold(r, used, kept)
		if keepable(r) {
			keep[j] = r
		}
		routes = append(routes, r)
	}
	for _, i := range changes.Gone {
		if old := s.kept.previous(i); old != nil {
			edits.remove(old)
		}
	}
	s.kept.remember(transports, snap.HTTPRoutes, keep)
	linkChildren(routes)
	s.compileTCP(st, transports, used)
	s.compileUDP(st)
	s.health.Retain(used)
	s.healthChecks.Sweep()
	s.middlewares.Sweep()

	// A router the last compile built is patched for the routes that changed; otherwise
	// one is built for every route of its entry point.
	var last map[string]*router
	if prev := s.state.Load(); prev != nil {
		last = prev.routers
	}
	var unpatched []int
	for i, ep := range s.entryPoints {
		if rt := edits.patch(last[ep.Name], ep); rt != nil {
			st.routers[ep.Name] = rt
		} else {
			unpatched = append(unpatched, i)
		}
	}
	if len(unpatched) > 0 {
		// One pass over the routes for all entry points: at 10,000 routes, a pass per
		// entry point fetched every route's snapshot from memory once per entry point.
		mine := s.kept.entryPointRoutes(len(s.entryPoints))
		for _, r := range routes {
			for _, i := range unpatched {
				if onEntryPoint(r, s.entryPoints[i]) {
					mine[i] = append(mine[i], r)
				}
			}
		}
		for _, i := range unpatched {
			st.routers[s.entryPoints[i].Name] = buildRouterWith(mine[i], &s.kept.indexed)
			clear(mine[i]) // the lists are used again by the next compile: keep no route alive
			mine[i] = mine[i][:0]
		}
	}
	s.metrics.RecordCertificates(snap)
	return st, changes
}

// onEntryPoint reports whether a router of ep indexes r: a child route is reached only
// through its parents.
func onEntryPoint(r *route, ep *entryPoint) bool {
	return len(r.snap.Parents) == 0 && r.snap.TLS == ep.TLS && (len(r.snap.EntryPoints) == 0 || slices.Contains(r.snap.EntryPoints, ep.Name))
}

// routerEdits are the compiled routes a compile added and the ones it dropped, up to
// patchedRouteLimit of them.
type routerEdits struct {
	added, gone []*route
	tooMany     bool
}

func (e *routerEdits) add(r *route)    { e.note(&e.added, r) }
func (e *routerEdits) remove(r *route) { e.note(&e.gone, r) }

func (e *routerEdits) note(list *[]*route, r *route) {
	if e.tooMany = e.tooMany || len(e.added)+len(e.gone) >= patchedRouteLimit; !e.tooMany {
		*list = append(*list, r)
	}
}

// patch returns last (ep's router of the last compile) patched with the edits, or nil
// when it must be built afresh.
func (e *routerEdits) patch(last *router, ep *entryPoint) *router {
	if last == nil || e.tooMany {
		return nil
	}
	mine := func(l []*route) []*route {
		var out []*route
		for _, r := range l {
			if onEntryPoint(r, ep) {
				out = append(out, r)
			}
		}
		return out
	}
	return last.patched(mine(e.gone), mine(e.added))
}

// compileRoute builds one HTTP route, or returns nil when its rule does not parse.
// children are the IDs of its child routes, if it is a parent.
func (s *Server) compileRoute(hr *snapshot.HTTPRoute, children []string, env *middleware.Env, transports map[string]*snapshot.Transport) *route {
	r := &route{snap: hr, policy: hr.Policy, stats: s.metrics.Route(hr.ID)}
	parsed, err := rule.Parse(hr.Match, rule.HTTP)
	if err != nil {
		// translate parsed it already; this only guards against a version skew.
		s.log.Error("route rule does not compile", "route", hr.ID, "error", err)
		return nil
	}
	r.rule = parsed
	switch {
	case hr.Failure != nil:
		r.handler = failureHandler(s, r, hr.Failure.Header(), hr.Failure.Status)
	case len(children) > 0:
		// A parent route: its middlewares, then the child routes decide (see children.go).
		r.children = &childRouter{srv: s, ids: children}
		r.handler = s.middlewares.Chain(hr.Middlewares, r.children) // never kept (keepable)
	default:
		// The Service of an errors page is forwarded to as the route's backends are,
		// on the route's behalf (its failures show on the route).
		routeEnv := *env
		routeEnv.Backends = func(b *snapshot.Backend) http.Handler {
			return s.forwarder(r, []*snapshot.Backend{b}, transports)
		}
		r.handler, r.holds.memory = s.middlewares.BuildHolding(&routeEnv, hr.Middlewares, s.forwarder(r, hr.Backends, transports))
	}
	if t := hr.Timeouts; t != nil && t.Request > 0 && hr.Failure == nil {
		r.handler = &requestTimeout{next: r.handler, d: t.Request}
	}
	return r
}

// forwarder builds the handler that balances a route's requests over backends (the
// route's own, or the Service of an errors page).
// What it holds in the server's registries goes to r.holds.
func (s *Server) forwarder(r *route, backends []*snapshot.Backend, transports map[string]*snapshot.Transport) http.Handler {
	f := &forwarder{srv: s, route: r}
	if t := r.snap.Timeouts; t != nil {
		f.backendTimeout = t.BackendRequest
	}
	var weights []int
	for _, b := range backends {
		cb := &backend{snap: b, failure: b.Failure}
		for _, ep := range b.Endpoints {
			es := s.health.Get(b.Service.String()+"/"+b.Port+"/"+b.Scheme, ep.Address)
			r.holds.endpoints = append(r.holds.endpoints, es)
			cb.endpoints = append(cb.endpoints, es)
		}
		if b.Sticky != nil {
			cb.sticky = map[string]*health.Endpoint{}
			for _, es := range cb.endpoints {
				cb.sticky[stickyValue(es.Address)] = es
			}
		}
		if cb.failure == nil {
			rt := s.pool.For(transports[b.Transport], b)
			edits := middleware.CompileBackendRequestEdits(b.RequestHeaderModifier)
			cb.proxy, cb.direct = s.reverseProxy(f, cb, rt, edits), directFor(cb, rt, edits)
		}
		if b.HealthCheck != nil && cb.failure == nil && len(cb.endpoints) > 0 {
			s.healthChecks.Ensure(b, cb.proxy.Transport, cb.endpoints)
			r.holds.checks = append(r.holds.checks, heldCheck{backend: b, rt: cb.proxy.Transport, endpoints: cb.endpoints})
		}
		f.backends = append(f.backends, cb)
		w := b.Weight
		if cb.failure != nil || len(cb.endpoints) == 0 {
			w = 0
		}
		weights = append(weights, w)
	}
	f.schedule = newSchedule(weights)
	if r.snap.Balance != nil {
		f.tree = s.compileBalance(f, r.snap.Balance)
	}
	return f
}

// reverseProxy builds the proxy for one backend. Rewrite picks the endpoint, so no
// per-request context is needed to carry it.
func (s *Server) reverseProxy(f *forwarder, b *backend, rt http.RoundTripper, edits *middleware.BackendRequestEdits) *httputil.ReverseProxy {
	scheme := "http"
	if b.snap.Scheme == "https" {
		scheme = "https"
	}
	passHost := b.snap.PassHostHeader
	hostOverride := b.snap.ServerName
	return &httputil.ReverseProxy{
		Transport:  rt,
		BufferPool: s.buffers,
		Rewrite: func(pr *httputil.ProxyRequest) {
			ep := b.pick(pr.In)
			pr.Out.URL.Scheme = scheme
			pr.Out.URL.Host = ep.Address
			if !passHost {
				pr.Out.Host = hostOverride
			}
			setForwarded(pr)
			if edits != nil {
				edits.Apply(pr.Out) // last: it may edit the forwarded headers too
			}
		},
		ModifyResponse: func(resp *http.Response) error {
			return s.answered(f, b, scheme, resp)
		},
		ErrorHandler: func(w http.ResponseWriter, req *http.Request, err error) {
			s.upstreamError(w, req, f.route, b, err)
		},
		ErrorLog: s.errorLog,
	}
}

// answered looks at a backend's answer before it goes to the client: a plain-HTTP
// answer that shows a protocol mismatch becomes an error; otherwise the sticky cookie is
// set and the success observed.
func (s *Server) answered(f *forwarder, b *backend, scheme string, resp *http.Response) error {
	if scheme == "http" {
		if err := s.checkResponse(resp); err != nil {
			return err
		}
	}
	if b.sticky != nil {
		b.setStickyCookie(resp)
	}
	s.observeSuccess(f.route, b, resp.Request.URL.Host)
	return nil
}

// directFor is the direct way to b (proxy/direct.go) when its round tripper has one.
func directFor(b *backend, rt http.RoundTripper, edits *middleware.BackendRequestEdits) *directProxy {
	d, ok := rt.(upstream.Direct)
	if !ok {
		return nil
	}
	out := &directProxy{rt: d, scheme: "http", passHost: b.snap.PassHostHeader, host: b.snap.ServerName, edits: edits}
	if b.snap.Scheme == "https" {
		out.scheme = "https"
	}
	return out
}

// failureHandler answers a route or backend that fails closed.
func failureHandler(s *Server, r *route, reason string, status int) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		s.fail(w, status, reason)
	})
}
