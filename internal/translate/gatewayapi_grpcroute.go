package translate

import (
	"fmt"
	"net/http"
	"regexp"
	"strings"

	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	bhv1 "github.com/bridgehead/bridgehead/api/v1alpha1"
	"github.com/bridgehead/bridgehead/internal/rule"
	"github.com/bridgehead/bridgehead/internal/snapshot"
)

// GRPCRoute onto the same snapshot HTTP routes as HTTPRoute. A gRPC call is an HTTP/2
// POST to /<service>/<method>, so a method match is a path match, and every rule x match
// x listener x host name becomes one snapshot route, ranked with the HTTPRoutes'
// (rankGatewayRoutes) by the GRPCRoute's own precedence (grpcRank).
//
// Backends are spoken to in HTTP/2: h2c to plain Service ports (the route's kind says
// the protocol, as the spec allows; the conformance backends also say so with appProtocol
// kubernetes.io/h2c), h2 over TLS when something (a BackendTLSPolicy) made the backend
// https: the upstream transport negotiates h2 by ALPN there.

func (t *translator) buildGRPCRoutes() {
	for _, gr := range sortedByAge(t.in.GRPCRoutes) {
		t.buildGRPCRoute(gr)
	}
	t.resolveHTTPGRPCConflicts() // gatewayapi_grpcconflict.go
}

func (t *translator) buildGRPCRoute(route *gwv1.GRPCRoute) {
	r := t.attachRoute(KindGRPCRoute, &route.ObjectMeta, route.Spec.ParentRefs, route.Spec.Hostnames)
	if len(r.parents) == 0 {
		delete(t.reports, r.rep.key) // not ours: no status, no findings
		return
	}
	listeners := r.listeners()
	src := snapshot.Ref{Kind: KindGRPCRoute, Namespace: route.Namespace, Name: route.Name}
	for i, rule := range route.Spec.Rules {
		field := fmt.Sprintf("spec.rules[%d]", i)
		mws, problem := t.grpcRouteFilters(r, src, field, rule.Filters)
		backends := t.grpcRouteBackends(r, field, rule.BackendRefs)
		matches := rule.Matches
		if len(matches) == 0 {
			matches = []gwv1.GRPCRouteMatch{{}}
		}
		for j, m := range matches {
			cond, rank, err := grpcMatchRule(m)
			if err != nil {
				msg := fmt.Sprintf("%s.matches[%d]%s", field, j, err)
				r.rep.invalidf(bhv1.ReasonInvalid, msg)
				r.unsupported(msg)
				continue
			}
			t.emitHTTPRoutes(&route.ObjectMeta, src, i, j, cond, rank, listeners, func(_ gwAttachment, snap *snapshot.HTTPRoute) {
				snap.Middlewares, snap.Backends = mws, backends
				if problem != nil {
					snap.Failure = problem
				} else if len(backends) == 0 || !anyBackendWeighted(backends) {
					// The spec: a rule with no valid backend answers UNAVAILABLE, which
					// gRPC clients read from HTTP 503.
					snap.Failure = &snapshot.Failure{Reason: "NoBackends", Status: http.StatusServiceUnavailable,
						Message: fmt.Sprintf("%s %s: the rule has no backend to send requests to (no backendRefs, or every weight is 0)", r.obj, field)}
				}
			})
		}
	}
	t.finishRoute(r)
}

// grpcRouteBackends resolves a rule's backends and makes them speak HTTP/2. A backend that
// cannot be used answers 503 (gRPC's UNAVAILABLE, as the spec asks) for its share.
func (t *translator) grpcRouteBackends(r *gwRoute, field string, refs []gwv1.GRPCBackendRef) []*snapshot.Backend {
	var out []*snapshot.Backend
	for k, ref := range refs {
		f, b := t.gwBackendRef(r, field, k, ref.BackendObjectReference, ref.Weight)
		if len(ref.Filters) > 0 && b.Failure == nil {
			// Served without its filters, this backend would fail open.
			r.refuseBackend(b, f+".filters: filters on one backend are not served by Bridgehead yet; move them to the rule's filters (this backend's share of the requests gets UNAVAILABLE meanwhile)", http.StatusServiceUnavailable)
		}
		if b.Failure == nil || b.Failure.Reason == string(bhv1.ReasonNoEndpoints) {
			t.grpcBackendProtocol(r, f, b) // a port that cannot carry gRPC is wrong with or without endpoints
		}
		if b.Failure != nil && b.Failure.Status != http.StatusServiceUnavailable {
			b.Failure.Status = http.StatusServiceUnavailable
		}
		out = append(out, b)
	}
	return out
}

// grpcBackendProtocol sets how a resolved backend is spoken to: gRPC needs HTTP/2, so a
// plain port gets h2c (with prior knowledge) and an https one (a BackendTLSPolicy's) h2
// by ALPN. A port whose appProtocol names a protocol that cannot carry gRPC makes the
// backend invalid (the spec's ResolvedRefs UnsupportedProtocol).
func (t *translator) grpcBackendProtocol(r *gwRoute, field string, b *snapshot.Backend) {
	if b.Scheme == "https" {
		return // h2 over TLS: the transport offers h2 by ALPN
	}
	app := ""
	if res, _, _ := t.resolveService(b.Service.Namespace, b.Service.Namespace, b.Service.Name, bhv1.Port(b.Port)); res != nil && res.port != nil && res.port.AppProtocol != nil {
		app = *res.port.AppProtocol
	}
	switch strings.ToLower(app) {
	case "", "kubernetes.io/h2c", "h2c", "grpc", "http2":
		b.Scheme = "h2c"
	default:
		msg := fmt.Sprintf("%s: port %s of Service %s/%s has appProtocol %q, which cannot carry gRPC (HTTP/2); set appProtocol kubernetes.io/h2c or remove it", field, b.Port, b.Service.Namespace, b.Service.Name, app)
		if r.resolvedReason == "" {
			r.resolvedReason, r.resolvedMsg = string(gwv1.RouteReasonUnsupportedProtocol), msg
		}
		r.rep.refError(bhv1.ConditionReason(gwv1.RouteReasonUnsupportedProtocol), msg)
		b.Failure = &snapshot.Failure{Reason: string(gwv1.RouteReasonUnsupportedProtocol), Status: http.StatusServiceUnavailable, Message: r.obj + " " + msg}
	}
}

// grpcRouteFilters compiles a rule's filters. The header modifiers are served; a filter
// Bridgehead does not serve fails the rule closed and makes the route not Accepted,
// naming the field.
func (t *translator) grpcRouteFilters(r *gwRoute, src snapshot.Ref, field string, filters []gwv1.GRPCRouteFilter) ([]*snapshot.Middleware, *snapshot.Failure) {
	var out []*snapshot.Middleware
	refuse := func(msg string) ([]*snapshot.Middleware, *snapshot.Failure) {
		r.rep.invalidf(bhv1.ReasonUnsupportedField, msg)
		r.unsupported(msg)
		return nil, &snapshot.Failure{Reason: string(gwv1.RouteReasonUnsupportedValue), Status: http.StatusInternalServerError,
			Message: r.obj + " " + msg + "; requests matching this rule get an error until it is fixed"}
	}
	once := map[gwv1.GRPCRouteFilterType]bool{}
	for k, f := range filters {
		ff := fmt.Sprintf("%s.filters[%d]", field, k)
		switch f.Type {
		case gwv1.GRPCRouteFilterRequestHeaderModifier, gwv1.GRPCRouteFilterResponseHeaderModifier:
			if once[f.Type] {
				return refuse(fmt.Sprintf("%s: a rule may have one %s filter; merge them", ff, f.Type))
			}
			once[f.Type] = true
			hm := f.RequestHeaderModifier
			if f.Type == gwv1.GRPCRouteFilterResponseHeaderModifier {
				hm = f.ResponseHeaderModifier
			}
			if hm == nil {
				return refuse(fmt.Sprintf("%s: type %s needs its %s%s field", ff, f.Type, strings.ToLower(string(f.Type[:1])), f.Type[1:]))
			}
			mw := &snapshot.Middleware{Source: src}
			if f.Type == gwv1.GRPCRouteFilterRequestHeaderModifier {
				mw.RequestHeaderModifier = headerModifier(hm)
			} else {
				mw.ResponseHeaderModifier = headerModifier(hm)
			}
			out = append(out, mw)
		case gwv1.GRPCRouteFilterRequestMirror:
			return refuse(ff + ".requestMirror: RequestMirror is not served for GRPCRoute yet; remove the filter")
		case gwv1.GRPCRouteFilterExtensionRef:
			return refuse(ff + ".extensionRef: Bridgehead serves no extension filter kind; remove the filter")
		default:
			return refuse(fmt.Sprintf("%s.type: filter type %s is not served by Bridgehead", ff, f.Type))
		}
	}
	return out, nil
}

// grpcMatchRule writes one GRPCRouteMatch in the rule language, with its precedence. The
// error, when set, reads after the field ("matches[0]" + ".method.type: ...").
//
// Precedence: the spec orders GRPCRoute rules by the characters of the service, then of
// the method, then the number of header matches. rankedRoute's path fields carry them:
// pathRank is the same for every gRPC match (2, as an HTTPRoute match without a path),
// pathLen packs the service length above the method length. HTTPRoutes and GRPCRoutes
// only compete on the same host and listener, where the spec accepts one kind only, so
// comparing the packed lengths with HTTP path lengths does not decide a real request.
func grpcMatchRule(m gwv1.GRPCRouteMatch) (string, rankedRoute, error) {
	var parts []string
	rank := rankedRoute{pathRank: 2}
	if mm := m.Method; mm != nil {
		typ := gwv1.GRPCMethodMatchExact
		if mm.Type != nil {
			typ = *mm.Type
		}
		service, method := deref(mm.Service), deref(mm.Method)
		if service == "" && method == "" {
			return "", rank, fmt.Errorf(".method: set service, method or both")
		}
		switch typ {
		case gwv1.GRPCMethodMatchExact:
			// The CRD's own character rules (a folder's YAML may not have met them).
			if service != "" && !grpcExactService.MatchString(service) {
				return "", rank, fmt.Errorf(".method.service: %q is not a gRPC service name (%s)", service, grpcExactService)
			}
			if method != "" && !grpcExactMethod.MatchString(method) {
				return "", rank, fmt.Errorf(".method.method: %q is not a gRPC method name (%s)", method, grpcExactMethod)
			}
			switch {
			case method == "":
				parts = append(parts, "PathPrefix("+quoteRule("/"+service+"/")+")")
			case service == "":
				parts = append(parts, "PathRegexp("+quoteRule("^/[^/]+/"+regexp.QuoteMeta(method)+"$")+")")
			default:
				parts = append(parts, "Path("+quoteRule("/"+service+"/"+method)+")")
			}
		case gwv1.GRPCMethodMatchRegularExpression:
			sre, mre := "[^/]+", "[^/]+"
			if service != "" {
				if _, err := regexp.Compile(service); err != nil {
					return "", rank, fmt.Errorf(".method.service: %q is not a regular expression (RE2): %w", service, err)
				}
				sre = "(?:" + service + ")"
			}
			if method != "" {
				if _, err := regexp.Compile(method); err != nil {
					return "", rank, fmt.Errorf(".method.method: %q is not a regular expression (RE2): %w", method, err)
				}
				mre = "(?:" + method + ")"
			}
			parts = append(parts, "PathRegexp("+quoteRule("^/"+sre+"/"+mre+"$")+")")
		default:
			return "", rank, fmt.Errorf(".method.type: %s is not a method match type (Exact, RegularExpression)", typ)
		}
		rank.pathLen = len(service)<<16 | len(method)
	}
	// Only the first entry of a header name counts (the spec; names are case-insensitive).
	seen := map[string]bool{}
	for k, h := range m.Headers {
		name := strings.ToLower(string(h.Name))
		if seen[name] {
			continue
		}
		seen[name] = true
		typ := gwv1.GRPCHeaderMatchExact
		if h.Type != nil {
			typ = *h.Type
		}
		switch typ {
		case gwv1.GRPCHeaderMatchExact:
			parts = append(parts, "Header("+quoteRule(string(h.Name))+", "+quoteRule(h.Value)+")")
		case gwv1.GRPCHeaderMatchRegularExpression:
			if _, err := regexp.Compile(h.Value); err != nil {
				return "", rank, fmt.Errorf(".headers[%d].value: %q is not a regular expression (RE2): %w", k, h.Value, err)
			}
			parts = append(parts, "HeaderRegexp("+quoteRule(string(h.Name))+", "+quoteRule(h.Value)+")")
		default:
			return "", rank, fmt.Errorf(".headers[%d].type: %s is not a header match type (Exact, RegularExpression)", k, typ)
		}
		rank.headers++
	}
	cond := strings.Join(parts, " && ")
	// A folder's YAML has no CRD to refuse what the rule language cannot carry (bytes
	// that are not UTF-8): such a match is refused here instead of failing the snapshot.
	if cond != "" {
		if _, err := rule.Parse(cond, rule.HTTP); err != nil {
			return "", rank, fmt.Errorf(": the method and header values cannot be matched (%w); use UTF-8 text", err)
		}
	}
	return cond, rank, nil
}

// The characters the GRPCRoute CRD allows in an Exact service and method.
var (
	grpcExactService = regexp.MustCompile(`^(?i)\.?[a-z_][a-z_0-9]*(\.[a-z_][a-z_0-9]*)*$`)
	grpcExactMethod  = regexp.MustCompile(`^[A-Za-z_][A-Za-z_0-9]*$`)
)

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
