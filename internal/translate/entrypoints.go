package translate

import (
	"fmt"
	"strings"

	bhv1 "github.com/bridgehead/bridgehead/api/v1alpha1"
)

// Entry point kinds as Options.EntryPoints gives them: a plain TCP entry point (web, and
// --entrypoint NAME=:PORT), one that terminates TLS (websecure, and --entrypoint
// NAME=:PORT/tls), and a UDP one.
const (
	entryPointPlain = "tcp"
	entryPointUDP   = "udp"
)

// entryPointFlagFor is the flag that adds an entry point of kind (a ListenerEntryPoint
// kind) on port (0: any), for messages that tell the user how to get one.
func entryPointFlagFor(kind string, port int32) string {
	p := "PORT"
	if port > 0 {
		p = fmt.Sprint(port)
	}
	switch kind {
	case EntryPointTLS:
		return "--entrypoint NAME=:" + p + "/tls"
	case entryPointUDP:
		return "--entrypoint NAME=:" + p + "/udp"
	}
	// A plain TCP entry point serves TCP listeners and, as web does, HTTP ones.
	return "--entrypoint NAME=:" + p
}

// httpEntryPoints checks the entry points an IngressRoute names against the gateway's
// (Options.EntryPoints; nil: not known, nothing is checked). The proxy serves a route
// without tls only on plain entry points and one with tls only on TLS entry points
// (websecure, --entrypoint NAME=:PORT/tls), so a named entry point of the other kind, or
// one the gateway does not have, would drop the route there without a word. Each such
// name gets a warning while another named entry point serves the route; when none does,
// the IngressRoute is not Ready and serves reports false (its routes count as not
// served). An empty spec.entryPoints means every entry point of the route's kind.
func (ro *routeObject) httpEntryPoints(withTLS bool) (serves bool) {
	known := ro.t.opts.EntryPoints
	if known == nil || len(ro.entryPoints) == 0 {
		return true
	}
	want, flagKind := "plain", entryPointPlain
	if withTLS {
		want, flagKind = "TLS", EntryPointTLS
	}
	var problems []string
	served := 0
	for i, name := range ro.entryPoints {
		field := fmt.Sprintf("spec.entryPoints[%d] %q", i, name)
		proto, ok := known[name]
		switch {
		case !ok:
			problems = append(problems, fmt.Sprintf("%s is not an entry point of the gateway (it has %s); name one of those, or start the gateway with %s (Helm: entryPoints)",
				field, describeEntryPoints(known), strings.Replace(entryPointFlagFor(flagKind, 0), "NAME", name, 1)))
		case proto == entryPointUDP:
			problems = append(problems, fmt.Sprintf("%s is a UDP entry point, which serves IngressRouteUDPs only; name a %s entry point", field, want))
		case withTLS && proto != EntryPointTLS:
			problems = append(problems, fmt.Sprintf("%s is a plain entry point and %s has tls, so its routes are not served there (routes with tls are served on TLS entry points: websecure, or one started with --entrypoint NAME=:PORT/tls); name a TLS entry point, or remove spec.tls to serve plain HTTP there", field, ro.obj))
		case !withTLS && proto == EntryPointTLS:
			problems = append(problems, fmt.Sprintf("%s is a TLS entry point and %s has no spec.tls, so its routes are not served there (a TLS entry point serves only routes with tls); add tls: {} (the default certificate) or tls.secretName to serve HTTPS there, or name a plain entry point such as web", field, ro.obj))
		default:
			served++
		}
	}
	for _, p := range problems {
		if served == 0 {
			ro.rep.notReadyf(bhv1.ReasonUnknownEntryPoint, p)
		} else {
			ro.rep.warn(bhv1.ReasonUnknownEntryPoint, p+"; the routes are served on the other entry points named")
		}
	}
	return served > 0
}
