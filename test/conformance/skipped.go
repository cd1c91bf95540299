package conformance

import (
	"fmt"
	"sort"
	"strings"
)

// Skipped are the upstream tests a published run skips, each with the reason a reader of
// the report gets (the README lists them from here). Every one needs each Gateway to have
// an address of its own: Bridgehead serves every Gateway of its class on the same Service
// address and entry points (as Traefik does), so two Gateways that take the same host on
// the same port cannot be told apart by a client. Giving each Gateway its own Service and
// ports is a design change, not a fix; until then these tests are skipped, never failed
// quietly, and the skip shows in the report (its core result is "partial").
var Skipped = map[string]string{
	"HTTPRouteMultipleGateways": "two Gateways with a route for / each must answer from different backends on their own addresses; " +
		"Bridgehead's Gateways share one address, so both Gateways answer / from the route the spec's precedence ranks first (the oldest)",
	"GatewayFrontendInvalidDefaultClientCertificateValidation": "the TLS handshake for example.org must fail on 443 because the test Gateway's only HTTPS listener there is refused (no valid CA); " +
		"Bridgehead's Gateways share one address, so the suite's base Gateway same-namespace-with-https-listener, whose hostname-less HTTPS listener on 443 has a certificate for example.org, completes it",
	"TLSRouteHostnameIntersection": "a TLS connection for a name that only another Gateway's TLSRoute takes must be refused on this Gateway's address; " +
		"Bridgehead's Gateways share one address, so the other Gateway's route answers it",
}

// SkippedNames is Skipped's keys, sorted, as the suite's -skip-tests takes them.
func SkippedNames() []string {
	out := make([]string, 0, len(Skipped))
	for n := range Skipped {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// SkippedSection is the README's list of the skipped tests and why.
func SkippedSection(names []string) string {
	if len(names) == 0 {
		return ""
	}
	var b strings.Builder
	b.WriteString("\nSkipped tests (they need one address per Gateway; see `test/conformance/skipped.go`):\n\n")
	for _, n := range names {
		why, ok := Skipped[n]
		if !ok {
			why = "skipped by the run that wrote this report (not in the published skip list)"
		}
		fmt.Fprintf(&b, "- %s: %s.\n", n, why)
	}
	return b.String()
}
