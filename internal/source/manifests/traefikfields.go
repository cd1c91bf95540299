package manifests

import (
	"reflect"
	"regexp"
	"strconv"
	"strings"

	"github.com/bridgehead/bridgehead/internal/translate"
)

// traefikField is a field of Traefik's CRDs (traefik.io, traefik.containo.us) that
// Bridgehead's own schema lacks. A Traefik manifest that sets it is not served — it is
// not Ready (UnsupportedField) with the hint — unless its value is one of accept: a value
// that asks for exactly what Bridgehead does anyway (nativeLB: false, syntax: v3), which
// is served as written. The table covers every such field of the Traefik versions in
// testdata/traefik-*.txt (a test checks it); a field missing from it is refused too, with
// a generic hint, so a newer Traefik field never slips through.
type traefikField struct {
	kind string
	// path is the field's path with list indices elided: spec.routes[].services[].nativeLB.
	// It covers the fields below it.
	path string
	// accept are the values that are served as written.
	accept []any
	// hint says what the field does in Traefik and what to do with Bridgehead instead.
	hint string
}

const (
	kindIngressRoute    = translate.KindIngressRoute
	kindIngressRouteTCP = translate.KindIngressRouteTCP
	kindMiddleware      = translate.KindMiddleware
)

// Hints shared by several fields.
const (
	hintStickyDomain       = "the cookie's Domain attribute is not implemented (the sticky cookie is host-only): remove the field"
	hintFlushInterval      = "responseForwarding.flushInterval is not configurable: remove the field"
	hintStrategy           = "only wrr (weighted round robin, Traefik's default) is implemented: remove the field or set it to wrr"
	hintServiceMiddlewares = "per-service middlewares are not implemented: list the middlewares on the route (spec.routes[].middlewares)"
	hintPassiveHealth      = "passive health checks are not implemented: use healthCheck (active probes); a failing endpoint is also reported in the route's BackendTLSReady condition"
	hintHealthMode         = "only http health checks are implemented, not gRPC: remove the field or set it to http"
	hintFollowRedirects    = "only false is implemented: Bridgehead's probes do not follow redirects (a 3xx answer counts as healthy unless healthCheck.status is set); set it to false, or probe a path that does not redirect"
	hintIPv6SubnetAllow    = "ipv6Subnet is not implemented: list the IPv6 ranges to allow in sourceRange, and remove the field"
	hintIngressClass       = "IngressRoute classes are not implemented: Bridgehead serves every object it reads (the folder, or every Traefik object with --watch-traefik-crds); remove the field from the objects it should serve"
	hintSyntax             = "only syntax v3 is implemented (every rule is read in Traefik v3 syntax): rewrite the rule in v3 syntax and remove the field or set it to v3"
	hintNativeLB           = "only false is implemented: Bridgehead balances over the Service's ready endpoints itself, never through its cluster IP or a node port; remove the field or set it to false"
	hintCertResolver       = "ACME is not built in: issue the certificate with cert-manager (its http-01 solver works through the web entry point) and name its Secret in tls.secretName"
	hintTLSStore           = "TLSStore references are not implemented: the TLSStore named default (in any namespace, as in Traefik; the gateway's namespace's one wins) applies to every route; remove the field"
	hintSSLRedirect        = "Traefik v3 ignores its deprecated SSL redirect options, and Bridgehead refuses them rather than ignore them: use a redirectScheme Middleware (scheme: https) on the plain-HTTP route"
)

// middlewareType is the hint for a middleware type Bridgehead lacks, with what to use instead.
func middlewareType(name, instead string) string {
	h := "the " + name + " middleware is not implemented yet, so the routes that list this Middleware answer 503 until it is removed from them"
	if instead != "" {
		h += "; " + instead
	}
	return h
}

var traefikFields = []traefikField{
	// IngressRoute.
	{kind: kindIngressRoute, path: "spec.ingressClassName", hint: hintIngressClass},
	{kind: kindIngressRoute, path: "spec.routes[].observability", hint: "per-route switches for access logs, metrics and tracing are not implemented (Bridgehead logs and counts every route, and does not trace): remove the field"},
	{kind: kindIngressRoute, path: "spec.routes[].syntax", accept: []any{"v3"}, hint: hintSyntax},
	{kind: kindIngressRoute, path: "spec.routes[].services[].healthCheck.followRedirects", accept: []any{false}, hint: hintFollowRedirects},
	{kind: kindIngressRoute, path: "spec.routes[].services[].healthCheck.mode", accept: []any{"http"}, hint: hintHealthMode},
	{kind: kindIngressRoute, path: "spec.routes[].services[].middlewares", hint: hintServiceMiddlewares},
	{kind: kindIngressRoute, path: "spec.routes[].services[].nativeLB", accept: []any{false}, hint: hintNativeLB},
	{kind: kindIngressRoute, path: "spec.routes[].services[].nodePortLB", accept: []any{false}, hint: hintNativeLB},
	{kind: kindIngressRoute, path: "spec.routes[].services[].passiveHealthCheck", hint: hintPassiveHealth},
	{kind: kindIngressRoute, path: "spec.routes[].services[].responseForwarding", hint: hintFlushInterval},
	{kind: kindIngressRoute, path: "spec.routes[].services[].sticky.cookie.domain", hint: hintStickyDomain},
	{kind: kindIngressRoute, path: "spec.routes[].services[].strategy", accept: []any{"wrr", "RoundRobin"}, hint: hintStrategy},
	{kind: kindIngressRoute, path: "spec.tls.certResolver", hint: hintCertResolver},
	{kind: translate.KindTraefikService, path: "spec.weighted.services[].healthCheck.mode", accept: []any{"http"}, hint: hintHealthMode},
	{kind: translate.KindTraefikService, path: "spec.weighted.services[].middlewares", hint: hintServiceMiddlewares},
	{kind: translate.KindTraefikService, path: "spec.weighted.services[].nodePortLB", accept: []any{false}, hint: hintNativeLB},
	{kind: translate.KindTraefikService, path: "spec.weighted.services[].passiveHealthCheck", hint: hintPassiveHealth},
	{kind: translate.KindTraefikService, path: "spec.weighted.services[].responseForwarding", hint: hintFlushInterval},
	{kind: translate.KindTraefikService, path: "spec.weighted.services[].sticky.cookie.domain", hint: hintStickyDomain},
	{kind: translate.KindTraefikService, path: "spec.weighted.services[].strategy", accept: []any{"wrr", "RoundRobin"}, hint: hintStrategy},
	{kind: translate.KindTraefikService, path: "spec.weighted.sticky.cookie.domain", hint: hintStickyDomain},
	{kind: translate.KindTraefikService, path: "spec.mirroring.healthCheck.mode", accept: []any{"http"}, hint: hintHealthMode},
	{kind: translate.KindTraefikService, path: "spec.mirroring.middlewares", hint: hintServiceMiddlewares},
	{kind: translate.KindTraefikService, path: "spec.mirroring.nodePortLB", accept: []any{false}, hint: hintNativeLB},
	{kind: translate.KindTraefikService, path: "spec.mirroring.passiveHealthCheck", hint: hintPassiveHealth},
	{kind: translate.KindTraefikService, path: "spec.mirroring.responseForwarding", hint: hintFlushInterval},
	{kind: translate.KindTraefikService, path: "spec.mirroring.sticky.cookie.domain", hint: hintStickyDomain},
	{kind: translate.KindTraefikService, path: "spec.mirroring.strategy", accept: []any{"wrr", "RoundRobin"}, hint: hintStrategy},
	{kind: translate.KindTraefikService, path: "spec.mirroring.healthCheck.followRedirects", accept: []any{false}, hint: hintFollowRedirects},
	{kind: translate.KindTraefikService, path: "spec.mirroring.nativeLB", accept: []any{false}, hint: hintNativeLB},
	{kind: translate.KindTraefikService, path: "spec.mirroring.mirrors[].healthCheck.mode", accept: []any{"http"}, hint: hintHealthMode},
	{kind: translate.KindTraefikService, path: "spec.mirroring.mirrors[].middlewares", hint: hintServiceMiddlewares},
	{kind: translate.KindTraefikService, path: "spec.mirroring.mirrors[].nodePortLB", accept: []any{false}, hint: hintNativeLB},
	{kind: translate.KindTraefikService, path: "spec.mirroring.mirrors[].passiveHealthCheck", hint: hintPassiveHealth},
	{kind: translate.KindTraefikService, path: "spec.mirroring.mirrors[].responseForwarding", hint: hintFlushInterval},
	{kind: translate.KindTraefikService, path: "spec.mirroring.mirrors[].sticky.cookie.domain", hint: hintStickyDomain},
	{kind: translate.KindTraefikService, path: "spec.mirroring.mirrors[].strategy", accept: []any{"wrr", "RoundRobin"}, hint: hintStrategy},
	{kind: translate.KindTraefikService, path: "spec.mirroring.mirrors[].healthCheck.followRedirects", accept: []any{false}, hint: hintFollowRedirects},
	{kind: translate.KindTraefikService, path: "spec.mirroring.mirrors[].nativeLB", accept: []any{false}, hint: hintNativeLB},
	{kind: translate.KindTraefikService, path: "spec.failover.service.healthCheck.mode", accept: []any{"http"}, hint: hintHealthMode},
	{kind: translate.KindTraefikService, path: "spec.failover.service.middlewares", hint: hintServiceMiddlewares},
	{kind: translate.KindTraefikService, path: "spec.failover.service.nodePortLB", accept: []any{false}, hint: hintNativeLB},
	{kind: translate.KindTraefikService, path: "spec.failover.service.passiveHealthCheck", hint: hintPassiveHealth},
	{kind: translate.KindTraefikService, path: "spec.failover.service.responseForwarding", hint: hintFlushInterval},
	{kind: translate.KindTraefikService, path: "spec.failover.service.sticky.cookie.domain", hint: hintStickyDomain},
	{kind: translate.KindTraefikService, path: "spec.failover.service.strategy", accept: []any{"wrr", "RoundRobin"}, hint: hintStrategy},
	{kind: translate.KindTraefikService, path: "spec.failover.service.healthCheck.followRedirects", accept: []any{false}, hint: hintFollowRedirects},
	{kind: translate.KindTraefikService, path: "spec.failover.service.nativeLB", accept: []any{false}, hint: hintNativeLB},
	{kind: translate.KindTraefikService, path: "spec.failover.fallback.healthCheck.mode", accept: []any{"http"}, hint: hintHealthMode},
	{kind: translate.KindTraefikService, path: "spec.failover.fallback.middlewares", hint: hintServiceMiddlewares},
	{kind: translate.KindTraefikService, path: "spec.failover.fallback.nodePortLB", accept: []any{false}, hint: hintNativeLB},
	{kind: translate.KindTraefikService, path: "spec.failover.fallback.passiveHealthCheck", hint: hintPassiveHealth},
	{kind: translate.KindTraefikService, path: "spec.failover.fallback.responseForwarding", hint: hintFlushInterval},
	{kind: translate.KindTraefikService, path: "spec.failover.fallback.sticky.cookie.domain", hint: hintStickyDomain},
	{kind: translate.KindTraefikService, path: "spec.failover.fallback.strategy", accept: []any{"wrr", "RoundRobin"}, hint: hintStrategy},
	{kind: translate.KindTraefikService, path: "spec.failover.fallback.healthCheck.followRedirects", accept: []any{false}, hint: hintFollowRedirects},
	{kind: translate.KindTraefikService, path: "spec.failover.fallback.nativeLB", accept: []any{false}, hint: hintNativeLB},
	{kind: translate.KindTraefikService, path: "spec.failover.errors", hint: "failing over on the main service's answer status (errors) is not implemented: Bridgehead fails over when the service has no available endpoint (give it a healthCheck); remove the field"},
	{kind: translate.KindTraefikService, path: "spec.highestRandomWeight.services[].healthCheck.mode", accept: []any{"http"}, hint: hintHealthMode},
	{kind: translate.KindTraefikService, path: "spec.highestRandomWeight.services[].middlewares", hint: hintServiceMiddlewares},
	{kind: translate.KindTraefikService, path: "spec.highestRandomWeight.services[].nodePortLB", accept: []any{false}, hint: hintNativeLB},
	{kind: translate.KindTraefikService, path: "spec.highestRandomWeight.services[].passiveHealthCheck", hint: hintPassiveHealth},
	{kind: translate.KindTraefikService, path: "spec.highestRandomWeight.services[].responseForwarding", hint: hintFlushInterval},
	{kind: translate.KindTraefikService, path: "spec.highestRandomWeight.services[].sticky.cookie.domain", hint: hintStickyDomain},
	{kind: translate.KindTraefikService, path: "spec.highestRandomWeight.services[].strategy", accept: []any{"wrr", "RoundRobin"}, hint: hintStrategy},
	{kind: translate.KindTraefikService, path: "spec.highestRandomWeight.services[].healthCheck.followRedirects", accept: []any{false}, hint: hintFollowRedirects},
	{kind: translate.KindTraefikService, path: "spec.highestRandomWeight.services[].nativeLB", accept: []any{false}, hint: hintNativeLB},
	{kind: translate.KindTraefikService, path: "spec.weighted.services[].healthCheck.followRedirects", accept: []any{false}, hint: hintFollowRedirects},
	{kind: translate.KindTraefikService, path: "spec.weighted.services[].nativeLB", accept: []any{false}, hint: hintNativeLB},
	{kind: kindIngressRoute, path: "spec.tls.store", hint: hintTLSStore},

	// IngressRouteTCP.
	{kind: kindIngressRouteTCP, path: "spec.ingressClassName", hint: hintIngressClass},
	{kind: kindIngressRouteTCP, path: "spec.routes[].syntax", accept: []any{"v3"}, hint: hintSyntax},
	{kind: kindIngressRouteTCP, path: "spec.routes[].services[].nativeLB", accept: []any{false}, hint: hintNativeLB},
	{kind: kindIngressRouteTCP, path: "spec.routes[].services[].nodePortLB", accept: []any{false}, hint: hintNativeLB},
	{kind: kindIngressRouteTCP, path: "spec.routes[].services[].terminationDelay", hint: "the per-service terminationDelay is not implemented (Traefik deprecates it): set terminationDelay on a ServersTransportTCP and name it in serversTransport"},
	{kind: kindIngressRouteTCP, path: "spec.tls.certResolver", hint: hintCertResolver},
	{kind: kindIngressRouteTCP, path: "spec.tls.store", hint: hintTLSStore},

	// IngressRouteUDP.
	{kind: translate.KindIngressRouteUDP, path: "spec.ingressClassName", hint: hintIngressClass},
	{kind: translate.KindIngressRouteUDP, path: "spec.routes[].services[].nativeLB", accept: []any{false}, hint: hintNativeLB},
	{kind: translate.KindIngressRouteUDP, path: "spec.routes[].services[].nodePortLB", accept: []any{false}, hint: hintNativeLB},

	// Middleware types.
	{kind: kindMiddleware, path: "spec.encodedCharacters", hint: middlewareType("encodedCharacters", "")},
	{kind: kindMiddleware, path: "spec.forwardAuth.headerField", hint: "headerField (the access log's user name, read from an auth server's answer header) is not implemented: Bridgehead's access log has no user field; remove it, and pass the user to the backend with authResponseHeaders"},
	{kind: kindMiddleware, path: "spec.errors.service.healthCheck", hint: "health checks of the errors Service are not implemented: remove the field (a page that cannot be fetched still leaves the client its status)"},
	{kind: kindMiddleware, path: "spec.errors.service.kind", accept: []any{"Service"}, hint: "the errors pages come from a Service: a TraefikService is not implemented there; name a Service, and remove the field or set it to Service"},
	{kind: kindMiddleware, path: "spec.errors.service.middlewares", hint: "per-service middlewares are not implemented: remove the field"},
	{kind: kindMiddleware, path: "spec.errors.service.nativeLB", accept: []any{false}, hint: hintNativeLB},
	{kind: kindMiddleware, path: "spec.errors.service.nodePortLB", accept: []any{false}, hint: hintNativeLB},
	{kind: kindMiddleware, path: "spec.errors.service.passiveHealthCheck", hint: "passive health checks are not implemented: remove the field"},
	{kind: kindMiddleware, path: "spec.errors.service.responseForwarding", hint: hintFlushInterval},
	{kind: kindMiddleware, path: "spec.errors.service.sticky", hint: "sticky sessions to the errors Service are not implemented: remove the field"},
	{kind: kindMiddleware, path: "spec.errors.service.strategy", accept: []any{"wrr", "RoundRobin"}, hint: hintStrategy},
	{kind: kindMiddleware, path: "spec.errors.service.weight", hint: "weight has no meaning for the one errors Service: remove the field"},
	{kind: kindMiddleware, path: "spec.inFlightReq.sourceCriterion.ipStrategy.ipv6Subnet", hint: "ipv6Subnet is not implemented: IPv6 clients are counted by their own address; remove the field"},
	{kind: kindMiddleware, path: "spec.ipWhiteList.ipStrategy.ipv6Subnet", hint: hintIPv6SubnetAllow},
	{kind: kindMiddleware, path: "spec.ipAllowList.ipStrategy.ipv6Subnet", hint: hintIPv6SubnetAllow},
	{kind: kindMiddleware, path: "spec.plugin", hint: "Traefik plugins are not supported"},
	{kind: kindMiddleware, path: "spec.rateLimit.redis", hint: "a rate limit shared through Redis is not implemented: each gateway replica counts on its own, so divide average by the number of replicas, and remove the field"},
	{kind: kindMiddleware, path: "spec.rateLimit.sourceCriterion.ipStrategy.ipv6Subnet", hint: "ipv6Subnet is not implemented: IPv6 clients are counted by their own address; remove the field"},

	// Middleware headers: the fields Traefik v3 deprecated and ignores.
	{kind: kindMiddleware, path: "spec.headers.featurePolicy", hint: "featurePolicy is deprecated, and Traefik v3 ignores it: browsers read Permissions-Policy instead; write the policy in permissionsPolicy"},
	{kind: kindMiddleware, path: "spec.headers.sslForceHost", hint: hintSSLRedirect},
	{kind: kindMiddleware, path: "spec.headers.sslHost", hint: hintSSLRedirect},
	{kind: kindMiddleware, path: "spec.headers.sslRedirect", hint: hintSSLRedirect},
	{kind: kindMiddleware, path: "spec.headers.sslTemporaryRedirect", hint: hintSSLRedirect},

	// The other kinds.
	{kind: translate.KindServersTransport, path: "spec.spiffe", hint: "SPIFFE is not implemented: verify the backend with rootCAs and serverName (or peerCertURI)"},
	{kind: translate.KindServersTransportTCP, path: "spec.tls.spiffe", hint: "SPIFFE is not implemented: verify the backend with tls.rootCAs and tls.serverName (or tls.peerCertURI)"},
	{kind: translate.KindTLSOption, path: "spec.preferServerCipherSuites", accept: []any{true, false},
		hint: "has no effect in Traefik either (Go's TLS stack chooses the cipher suite): accepted as written"},
	{kind: translate.KindTLSStore, path: "spec.defaultGeneratedCert", hint: "a default certificate generated by an ACME resolver is not implemented: put the certificate in a Secret and name it in spec.defaultCertificate.secretName"},
}

// hintUnknown is the hint for a field that is in no schema Bridgehead knows of.
const hintUnknown = "Bridgehead does not know this field (it is in no Traefik version it was checked against): remove it"

// traefikKinds are the Traefik kinds Bridgehead does not read, with what to do instead.
// Every Traefik v3 kind is read today; the map stays for a kind Traefik adds.
var unreadTraefikKinds = map[string]string{}

var listIndex = regexp.MustCompile(`\[\d+\]`)

// normalizePath elides list indices: spec.routes[0].parentRefs -> spec.routes[].parentRefs.
func normalizePath(p string) string { return listIndex.ReplaceAllString(p, "[]") }

// lookupTraefikField finds the entry of kind that covers the field at path (concrete or
// normalized): the field itself or the nearest of its parents.
func lookupTraefikField(kind, path string) *traefikField {
	p := normalizePath(path)
	var best *traefikField
	for i := range traefikFields {
		f := &traefikFields[i]
		if f.kind != kind {
			continue
		}
		if p == f.path || strings.HasPrefix(p, f.path+".") || strings.HasPrefix(p, f.path+"[") {
			if best == nil || len(f.path) > len(best.path) {
				best = f
			}
		}
	}
	return best
}

// unsupportedField decides about one field of a Traefik manifest that Bridgehead's schema
// does not have: nil when its value asks for what Bridgehead does anyway, else the field
// with its hint. original is the manifest before pruning.
func unsupportedField(kind, path string, original map[string]any) *translate.UnsupportedField {
	f := lookupTraefikField(kind, path)
	if f == nil {
		return &translate.UnsupportedField{Path: path, Hint: hintUnknown}
	}
	if normalizePath(path) == f.path && len(f.accept) > 0 {
		if v, ok := valueAt(original, path); ok {
			for _, a := range f.accept {
				if reflect.DeepEqual(v, a) {
					return nil
				}
			}
		}
	}
	return &translate.UnsupportedField{Path: path, Hint: f.hint}
}

// valueAt reads the value at a field path such as spec.routes[0].services[1].nativeLB.
func valueAt(obj map[string]any, path string) (any, bool) {
	var cur any = obj
	for _, part := range strings.Split(path, ".") {
		name, rest, _ := strings.Cut(part, "[")
		m, ok := cur.(map[string]any)
		if !ok {
			return nil, false
		}
		if cur, ok = m[name]; !ok {
			return nil, false
		}
		for rest != "" {
			idx, after, _ := strings.Cut(rest, "]")
			i, err := strconv.Atoi(idx)
			list, ok := cur.([]any)
			if err != nil || !ok || i < 0 || i >= len(list) {
				return nil, false
			}
			cur = list[i]
			rest = strings.TrimPrefix(after, "[")
		}
	}
	return cur, true
}
