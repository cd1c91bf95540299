package translate

import (
	"fmt"
	"net/http"
	"net/netip"
	"net/url"
	"regexp"
	"slices"
	"strings"

	bhv1 "github.com/bridgehead/bridgehead/api/v1alpha1"
	"github.com/bridgehead/bridgehead/internal/rule"
	"github.com/bridgehead/bridgehead/internal/snapshot"
)

// Mixed worlds: an IngressRoute, an Ingress and an HTTPRoute may route the same host on
// the same entry point. Gateway API routes rank above the others (gatewayPriorityBase),
// so where an HTTPRoute's match and an IngressRoute's (or an Ingress path's) both take a
// request, the HTTPRoute serves it; the IngressRoute or Ingress keeps every request the
// HTTPRoute does not match (other paths of the host, other hosts). The loser is never
// shadowed silently: it gets a warning naming the HTTPRoute, the host, the path and the
// entry point (an IngressRoute's Warnings condition, an Ingress's Warning Event). An
// HTTPRoute never loses to the others, so it gets nothing. docs/gateway-api.md, "Mixed
// worlds", is the user's side of this.
//
// The overlap is found per host and path, by probe requests: for each host the legacy
// route names, GET requests for "/" and for every path its rule and the HTTPRoute's rule
// name; when both rules match one of them on a shared entry point, the legacy route
// loses those requests. A route without a host (a catch-all) is not reported: any
// host-specific route taking its host is what it is for. Overlaps that need a header, a
// method other than GET or a query parameter to show are not probed.

// pathLiteral finds the paths a rule names: Path(`/a`), PathPrefix(`/a`).
var pathLiteral = regexp.MustCompile("\\bPath(?:Prefix)?\\(\\s*`([^`]*)`")

type compiledRoute struct {
	r     *snapshot.HTTPRoute
	rule  *rule.Rule
	paths []string
}

func compileRoute(r *snapshot.HTTPRoute) *compiledRoute {
	parsed, err := rule.Parse(r.Match, rule.HTTP)
	if err != nil {
		return nil
	}
	c := &compiledRoute{r: r, rule: parsed}
	for _, m := range pathLiteral.FindAllStringSubmatch(r.Match, -1) {
		c.paths = append(c.paths, m[1])
	}
	return c
}

// sameEntryPoint: a legacy route (entry points empty: every one of its kind, TLS or
// plain) serves on the Gateway route's entry point.
func sameEntryPoint(legacy, gw *snapshot.HTTPRoute) bool {
	if len(gw.EntryPoints) == 0 {
		return false
	}
	if len(legacy.EntryPoints) == 0 {
		return legacy.TLS == gw.TLS
	}
	for _, e := range legacy.EntryPoints {
		if e == gw.EntryPoints[0] {
			return true
		}
	}
	return false
}

// reportMixedWorlds warns every IngressRoute route and Ingress path that an HTTPRoute
// takes requests from.
func (t *translator) reportMixedWorlds() {
	// Only a gateway with both worlds has anything to say: without an IngressRoute or an
	// Ingress, compiling every Gateway API route's rule was a quarter of a rebuild of
	// 10,000 HTTPRoutes.
	if !slices.ContainsFunc(t.snap.HTTPRoutes, isLegacyRoot) {
		return
	}
	// The HTTPRoutes' snapshot routes by the host each serves ("" for any host, "*.suffix"
	// for a wildcard listener's names): a legacy host is probed against the routes that can
	// take it, not against every one (with 1,000 routes of each world, probing every pair
	// was 1.2 s and 1.1 GB of garbage a build). t.gw.ranked is in priority order, highest
	// first, and so are the candidates: the HTTPRoute named is the one that serves the
	// request. A route's rule is compiled when it is first a candidate.
	byHost := map[string][]int{}
	for i, g := range t.gw.ranked {
		if g.hr.Source.Kind == KindHTTPRoute {
			byHost[g.host] = append(byHost[g.host], i)
		}
	}
	if len(byHost) == 0 {
		return
	}
	compiled := map[int]*compiledRoute{}
	gwRoute := func(i int) *compiledRoute {
		c, ok := compiled[i]
		if !ok {
			c = compileRoute(t.gw.ranked[i].hr)
			compiled[i] = c
		}
		return c
	}
	var candidates []int
	for _, r := range t.snap.HTTPRoutes {
		if !isLegacyRoot(r) {
			continue
		}
		kind := r.Source.Kind
		rep := t.reports[Key{Kind: kind, Namespace: r.Source.Namespace, Name: r.Source.Name}]
		legacy := compileRoute(r)
		if rep == nil || legacy == nil {
			continue
		}
		hosts, _ := legacy.rule.Hosts()
		reported := map[string]bool{}
		for _, h := range hosts {
			probeHost := h
			if strings.HasPrefix(h, "*.") {
				probeHost = "any" + h[1:]
			}
			candidates = gatewayRoutesFor(byHost, probeHost, candidates[:0])
			for _, i := range candidates {
				g := gwRoute(i)
				if g == nil || !sameEntryPoint(r, g.r) || reported[g.r.Source.Namespace+"/"+g.r.Source.Name+"/"+h] {
					continue
				}
				if p, ok := overlap(legacy, g, probeHost); ok {
					reported[g.r.Source.Namespace+"/"+g.r.Source.Name+"/"+h] = true
					rep.warn(bhv1.ReasonIneffectiveSetting, fmt.Sprintf("%s: requests for %s%s on entry point %s are served by HTTPRoute %s/%s (Gateway API routes rank above %s), not by this %s; change the path or host of one of them, or remove one",
						legacyField(r), h, p, g.r.EntryPoints[0], g.r.Source.Namespace, g.r.Source.Name, plural(kind), kind))
				}
			}
		}
	}
}

// gatewayRoutesFor appends to out, in increasing order, the routes of byHost that can serve
// host: the ones for host itself, for a wildcard of one of its parent domains (a
// wildcard takes one label or more), and for any host.
func gatewayRoutesFor(byHost map[string][]int, host string, out []int) []int {
	out = append(out, byHost[host]...)
	for rest := host; ; {
		dot := strings.IndexByte(rest, '.')
		if dot < 0 {
			break
		}
		rest = rest[dot+1:]
		out = append(out, byHost["*."+rest]...)
	}
	out = append(out, byHost[""]...)
	// The ranking puts exact names before wildcards, longer before shorter, and those
	// before any host, so out is in order already; sorted, it does not rest on that.
	slices.Sort(out)
	return out
}

// isLegacyRoot: an IngressRoute's or an Ingress's route that is matched on its own (not a
// child of another).
func isLegacyRoot(r *snapshot.HTTPRoute) bool {
	kind := r.Source.Kind
	return (kind == KindIngressRoute || kind == KindIngress) && len(r.Parents) == 0
}

// legacyField names the loser's part: an IngressRoute's route, an Ingress's path (from
// the route ID, "ns/name/ingress/rules[0].paths[1]/web").
func legacyField(r *snapshot.HTTPRoute) string {
	if r.Source.Kind == KindIngressRoute {
		return fmt.Sprintf("spec.routes[%d]", r.RouteIndex)
	}
	parts := strings.Split(r.ID, "/")
	if len(parts) >= 4 && parts[2] == "ingress" && strings.HasPrefix(parts[3], "rules[") {
		return "spec." + strings.Replace(parts[3], ".paths", ".http.paths", 1)
	}
	return "spec.rules"
}

// plural is a kind's plural as the API spells it.
func plural(kind string) string {
	if strings.HasSuffix(kind, "s") {
		return kind + "es"
	}
	return kind + "s"
}

// overlap probes both rules with the same GET requests and returns the first path that
// both match.
func overlap(legacy, gw *compiledRoute, host string) (string, bool) {
	paths := append([]string{"/"}, legacy.paths...)
	paths = append(paths, gw.paths...)
	seen := map[string]bool{}
	for _, p := range paths {
		if p == "" || p[0] != '/' || seen[p] {
			continue
		}
		seen[p] = true
		req := &http.Request{Method: http.MethodGet, Host: host, URL: &url.URL{Path: p}, Header: http.Header{}}
		ip := netip.MustParseAddr("127.0.0.1")
		if legacy.rule.MatchHTTP(req, ip) && gw.rule.MatchHTTP(req, ip) {
			return p, true
		}
	}
	return "", false
}
