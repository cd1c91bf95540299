package translate

import (
	"fmt"
	"net/http"
	"regexp"
	"time"

	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	bhv1 "github.com/bridgehead/bridgehead/api/v1alpha1"
	"github.com/bridgehead/bridgehead/internal/snapshot"
)

// HTTPRoute rule filters and timeouts. A rule's filters are checked once (statuses and
// findings), then compiled for every snapshot route the rule becomes: a redirect's
// ListenerPort and a ReplacePrefixMatch's MatchedPrefix differ per listener and match.

// httpRule is what a rule's filters and timeouts compile to, before the per-route parts.
type httpRule struct {
	filters []gwv1.HTTPRouteFilter // the ones Bridgehead serves, in the rule's order
	// failure, when set, answers every request of the rule (a filter not served).
	failure *snapshot.Failure
	// redirects: the rule answers with a redirect, so it needs no backend.
	redirects bool
	mirrors   []gwMirror
	timeouts  *snapshot.Timeouts
}

// gwMirror is one RequestMirror whose backend resolved.
type gwMirror struct {
	backend  *snapshot.Backend
	percent  int
	fraction *snapshot.Fraction
}

// checkHTTPRule checks a rule's filters and timeouts. A filter Bridgehead does not serve
// fails the rule closed (500), as the spec asks, and says so on the route.
func (t *translator) checkHTTPRule(r *gwRoute, field string, rule gwv1.HTTPRouteRule) *httpRule {
	out := &httpRule{}
	refuse := func(msg string) *httpRule {
		r.rep.invalidf(bhv1.ReasonUnsupportedField, msg)
		r.unsupported(msg)
		return &httpRule{failure: &snapshot.Failure{Reason: string(gwv1.RouteReasonUnsupportedValue), Status: http.StatusInternalServerError,
			Message: r.obj + " " + msg + "; requests matching this rule get 500 until it is fixed"}}
	}
	// The spec allows each of these once per rule (its CEL rules say so at the API
	// server; a folder's YAML has no such check).
	once := map[gwv1.HTTPRouteFilterType]bool{}
	var redirect, rewrite bool
	for k, f := range rule.Filters {
		ff := fmt.Sprintf("%s.filters[%d]", field, k)
		switch f.Type {
		case gwv1.HTTPRouteFilterRequestHeaderModifier, gwv1.HTTPRouteFilterResponseHeaderModifier,
			gwv1.HTTPRouteFilterRequestRedirect, gwv1.HTTPRouteFilterURLRewrite:
			if once[f.Type] {
				return refuse(fmt.Sprintf("%s: a rule may have one %s filter; merge them", ff, f.Type))
			}
			once[f.Type] = true
		}
		switch f.Type {
		case gwv1.HTTPRouteFilterRequestHeaderModifier, gwv1.HTTPRouteFilterResponseHeaderModifier:
			hm := f.RequestHeaderModifier
			if f.Type == gwv1.HTTPRouteFilterResponseHeaderModifier {
				hm = f.ResponseHeaderModifier
			}
			if hm == nil {
				return refuse(fmt.Sprintf("%s: type %s needs its %s field", ff, f.Type, lowerFirst(string(f.Type))))
			}
		case gwv1.HTTPRouteFilterRequestRedirect:
			rr := f.RequestRedirect
			if rr == nil {
				return refuse(ff + ": type RequestRedirect needs its requestRedirect field")
			}
			if rr.Scheme != nil && *rr.Scheme != "http" && *rr.Scheme != "https" {
				return refuse(fmt.Sprintf("%s.requestRedirect.scheme: %q is neither http nor https", ff, *rr.Scheme))
			}
			if rr.StatusCode != nil {
				switch *rr.StatusCode {
				case 301, 302, 303, 307, 308:
				default:
					return refuse(fmt.Sprintf("%s.requestRedirect.statusCode: %d is not one of 301, 302, 303, 307, 308", ff, *rr.StatusCode))
				}
			}
			if msg := checkPathModifier(ff+".requestRedirect.path", rr.Path, rule.Matches); msg != "" {
				return refuse(msg)
			}
			redirect = true
		case gwv1.HTTPRouteFilterURLRewrite:
			uw := f.URLRewrite
			if uw == nil {
				return refuse(ff + ": type URLRewrite needs its urlRewrite field")
			}
			if msg := checkPathModifier(ff+".urlRewrite.path", uw.Path, rule.Matches); msg != "" {
				return refuse(msg)
			}
			rewrite = true
		case gwv1.HTTPRouteFilterRequestMirror:
			rm := f.RequestMirror
			if rm == nil {
				return refuse(ff + ": type RequestMirror needs its requestMirror field")
			}
			m, msg := mirrorShare(ff+".requestMirror", rm)
			if msg != "" {
				return refuse(msg)
			}
			// A mirror whose backend does not resolve is dropped, and the route's
			// ResolvedRefs says why (gwBackend); the main traffic is unaffected.
			b := t.gwBackend(r, ff+".requestMirror.backendRef", rm.BackendRef, 1)
			if b.Failure != nil {
				continue
			}
			m.backend = b
			out.mirrors = append(out.mirrors, m)
			continue
		case gwv1.HTTPRouteFilterExtensionRef:
			// No extension kind is served: the spec's unresolvable filter reference,
			// requests that would have gone through it get an error.
			kind := "(none)"
			if e := f.ExtensionRef; e != nil {
				kind = groupKind(string(e.Group), string(e.Kind)) + " " + string(e.Name)
			}
			msg := fmt.Sprintf("%s.extensionRef: %s is not a filter kind Bridgehead serves (it serves none); remove the filter", ff, kind)
			r.rep.refError(bhv1.ConditionReason(gwv1.RouteReasonInvalidKind), msg)
			if r.resolvedReason == "" {
				r.resolvedReason, r.resolvedMsg = string(gwv1.RouteReasonInvalidKind), msg
			}
			return &httpRule{failure: &snapshot.Failure{Reason: string(gwv1.RouteReasonInvalidKind), Status: http.StatusInternalServerError,
				Message: r.obj + " " + msg + "; requests matching this rule get 500 until it is removed"}}
		default:
			// CORS among them: the spec's CORS (wildcard origins, the credentials rules,
			// Max-Age 5 by default) is not the headers middleware's.
			return refuse(fmt.Sprintf("%s: filter type %s is not served by Bridgehead yet", ff, f.Type))
		}
		out.filters = append(out.filters, f)
	}
	if redirect && rewrite {
		return refuse(field + ".filters: a rule may not have both RequestRedirect and URLRewrite (the spec forbids it); keep one")
	}
	out.redirects = redirect
	if rule.Timeouts != nil {
		tm, msg := ruleTimeouts(field+".timeouts", rule.Timeouts)
		if msg != "" {
			return refuse(msg)
		}
		out.timeouts = tm
	}
	return out
}

func lowerFirst(s string) string {
	if s == "" {
		return s
	}
	return string(s[0]+'a'-'A') + s[1:]
}

// checkPathModifier refuses a ReplacePrefixMatch on a rule with a match that is not a
// PathPrefix (the spec: "only compatible with a PathPrefix HTTPRouteMatch").
func checkPathModifier(field string, p *gwv1.HTTPPathModifier, matches []gwv1.HTTPRouteMatch) string {
	if p == nil {
		return ""
	}
	switch p.Type {
	case gwv1.FullPathHTTPPathModifier:
		if p.ReplaceFullPath == nil {
			return field + ": type ReplaceFullPath needs replaceFullPath"
		}
	case gwv1.PrefixMatchHTTPPathModifier:
		if p.ReplacePrefixMatch == nil {
			return field + ": type ReplacePrefixMatch needs replacePrefixMatch"
		}
		for j, m := range matches {
			if m.Path != nil && m.Path.Type != nil && *m.Path.Type != gwv1.PathMatchPathPrefix {
				return fmt.Sprintf("%s: ReplacePrefixMatch needs PathPrefix matches, and matches[%d] is %s", field, j, *m.Path.Type)
			}
		}
	default:
		return fmt.Sprintf("%s.type: %q is neither ReplaceFullPath nor ReplacePrefixMatch", field, p.Type)
	}
	return ""
}

// matchedPrefix is the PathPrefix value of a match ("/" when it has no path).
func matchedPrefix(m gwv1.HTTPRouteMatch) string {
	if m.Path != nil && m.Path.Value != nil {
		return *m.Path.Value
	}
	return "/"
}

func mirrorShare(field string, rm *gwv1.HTTPRequestMirrorFilter) (gwMirror, string) {
	m := gwMirror{percent: 100}
	switch {
	case rm.Percent != nil && rm.Fraction != nil:
		return m, field + ": set percent or fraction, not both"
	case rm.Percent != nil:
		if *rm.Percent < 0 || *rm.Percent > 100 {
			return m, fmt.Sprintf("%s.percent: %d is not from 0 to 100", field, *rm.Percent)
		}
		m.percent = int(*rm.Percent)
	case rm.Fraction != nil:
		den := int32(100)
		if rm.Fraction.Denominator != nil {
			den = *rm.Fraction.Denominator
		}
		if den < 1 || rm.Fraction.Numerator < 0 || rm.Fraction.Numerator > den {
			return m, fmt.Sprintf("%s.fraction: %d/%d is not a fraction from 0 to 1", field, rm.Fraction.Numerator, den)
		}
		m.percent = 0 // the fraction says the share
		m.fraction = &snapshot.Fraction{Numerator: int(rm.Fraction.Numerator), Denominator: int(den)}
	}
	return m, ""
}

// gwDuration is the Gateway API's Duration (GEP-2257): a strict subset of Go's.
var gwDuration = regexp.MustCompile(`^([0-9]{1,5}(h|m|s|ms)){1,4}$`)

func parseGatewayDuration(field string, d gwv1.Duration) (time.Duration, string) {
	if !gwDuration.MatchString(string(d)) {
		return 0, fmt.Sprintf("%s: %q is not a Gateway API duration (like 10s, 1m30s, 500ms)", field, d)
	}
	v, err := time.ParseDuration(string(d))
	if err != nil {
		return 0, fmt.Sprintf("%s: %v", field, err)
	}
	return v, ""
}

func ruleTimeouts(field string, tm *gwv1.HTTPRouteTimeouts) (*snapshot.Timeouts, string) {
	out := &snapshot.Timeouts{}
	var msg string
	if tm.Request != nil {
		if out.Request, msg = parseGatewayDuration(field+".request", *tm.Request); msg != "" {
			return nil, msg
		}
	}
	if tm.BackendRequest != nil {
		if out.BackendRequest, msg = parseGatewayDuration(field+".backendRequest", *tm.BackendRequest); msg != "" {
			return nil, msg
		}
	}
	if out.Request != 0 && out.BackendRequest > out.Request {
		return nil, fmt.Sprintf("%s: backendRequest (%s) is longer than request (%s); the spec forbids it", field, *tm.BackendRequest, *tm.Request)
	}
	if out.Request == 0 && out.BackendRequest == 0 {
		return nil, ""
	}
	return out, ""
}

// middlewares compiles the rule's filters for one snapshot route: the listener's port
// (redirects) and the match's prefix (ReplacePrefixMatch) are this route's.
func (h *httpRule) middlewares(src snapshot.Ref, listenerPort int32, match gwv1.HTTPRouteMatch) []*snapshot.Middleware {
	var out []*snapshot.Middleware
	for _, f := range h.filters {
		mw := &snapshot.Middleware{Source: src}
		switch f.Type {
		case gwv1.HTTPRouteFilterRequestHeaderModifier:
			mw.RequestHeaderModifier = headerModifier(f.RequestHeaderModifier)
		case gwv1.HTTPRouteFilterResponseHeaderModifier:
			mw.ResponseHeaderModifier = headerModifier(f.ResponseHeaderModifier)
		case gwv1.HTTPRouteFilterRequestRedirect:
			rr := f.RequestRedirect
			red := &snapshot.RequestRedirect{ListenerPort: int(listenerPort), Path: pathModifier(rr.Path, match)}
			if rr.Scheme != nil {
				red.Scheme = *rr.Scheme
			}
			if rr.Hostname != nil {
				red.Hostname = string(*rr.Hostname)
			}
			if rr.Port != nil {
				red.Port = int(*rr.Port)
			}
			if rr.StatusCode != nil {
				red.StatusCode = *rr.StatusCode
			}
			mw.RequestRedirect = red
		case gwv1.HTTPRouteFilterURLRewrite:
			uw := &snapshot.URLRewrite{Path: pathModifier(f.URLRewrite.Path, match)}
			if f.URLRewrite.Hostname != nil {
				uw.Hostname = string(*f.URLRewrite.Hostname)
			}
			mw.URLRewrite = uw
		default:
			continue
		}
		out = append(out, mw)
	}
	return out
}

func headerModifier(f *gwv1.HTTPHeaderFilter) *snapshot.HeaderModifier {
	hm := &snapshot.HeaderModifier{Remove: f.Remove}
	for _, h := range f.Set {
		hm.Set = append(hm.Set, snapshot.HeaderValue{Name: string(h.Name), Value: h.Value})
	}
	for _, h := range f.Add {
		hm.Add = append(hm.Add, snapshot.HeaderValue{Name: string(h.Name), Value: h.Value})
	}
	return hm
}

func pathModifier(p *gwv1.HTTPPathModifier, match gwv1.HTTPRouteMatch) *snapshot.PathModifier {
	if p == nil {
		return nil
	}
	out := &snapshot.PathModifier{Type: snapshot.PathModifierType(p.Type)}
	if p.ReplaceFullPath != nil {
		out.ReplaceFullPath = *p.ReplaceFullPath
	}
	if p.ReplacePrefixMatch != nil {
		out.ReplacePrefixMatch = *p.ReplacePrefixMatch
		out.MatchedPrefix = matchedPrefix(match)
	}
	return out
}

// withMirrors adds the rule's mirrors to its backends: the main backends, by weight,
// answer; each mirror gets its share of copies.
func withMirrors(src snapshot.Ref, backends []*snapshot.Backend, mirrors []gwMirror) ([]*snapshot.Backend, *snapshot.Balance) {
	if len(mirrors) == 0 || len(backends) == 0 {
		return backends, nil
	}
	all := append([]*snapshot.Backend(nil), backends...)
	var main *snapshot.Balance
	if len(backends) == 1 {
		i := 0
		main = &snapshot.Balance{Backend: &i}
	} else {
		w := &snapshot.WeightedBalance{Source: src}
		for i, b := range backends {
			w.Children = append(w.Children, &snapshot.Balance{Backend: &i})
			w.Weights = append(w.Weights, b.Weight)
		}
		main = &snapshot.Balance{Weighted: w}
	}
	// The spec says nothing of bodies; mirrors get the whole request, as a copy should.
	m := &snapshot.MirroringBalance{Source: src, Main: main, MirrorBody: true, MaxBodySize: -1}
	for _, mr := range mirrors {
		b := *mr.backend
		all = append(all, &b)
		i := len(all) - 1
		m.Mirrors = append(m.Mirrors, &snapshot.Mirror{Balance: &snapshot.Balance{Backend: &i}, Percent: mr.percent, Fraction: mr.fraction})
	}
	return all, &snapshot.Balance{Mirroring: m}
}

// backendFilters compiles the filters of one backendRef onto its backend: a
// RequestHeaderModifier, which the proxy applies once it chose this backend. Other
// types are not served there; the message says so.
func backendFilters(b *snapshot.Backend, field string, filters []gwv1.HTTPRouteFilter) string {
	for k, f := range filters {
		ff := fmt.Sprintf("%s.filters[%d]", field, k)
		switch {
		case f.Type != gwv1.HTTPRouteFilterRequestHeaderModifier:
			return fmt.Sprintf("%s: filter type %s is not served on one backend by Bridgehead (RequestHeaderModifier is); move it to the rule's filters", ff, f.Type)
		case f.RequestHeaderModifier == nil:
			return ff + ": type RequestHeaderModifier needs its requestHeaderModifier field"
		case b.RequestHeaderModifier != nil:
			return ff + ": a backend may have one RequestHeaderModifier filter; merge them"
		}
		b.RequestHeaderModifier = headerModifier(f.RequestHeaderModifier)
	}
	return ""
}
