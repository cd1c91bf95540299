package translate

import (
	"fmt"
	"strings"

	bhv1 "github.com/bridgehead/bridgehead/api/v1alpha1"
	"github.com/bridgehead/bridgehead/internal/snapshot"
)

// peerCertSANs compiles spec.peerCertSANs: Traefik's {type, value} entries and Bridgehead's
// plain strings. The backend's certificate must match at least one entry of either form.
// An entry that cannot be read makes the transport not Accepted, and sealTransport then
// fails it closed: a pin is never dropped.
func (t *translator) peerCertSANs(rep *report, o tlsOrigin, sans []bhv1.PeerCertSAN, tr *snapshot.Transport) {
	var plain []string
	for i, san := range sans {
		field := o.field(fmt.Sprintf("peerCertSANs[%d]", i))
		value := strings.TrimSpace(san.Value)
		bad := func(why string) {
			rep.invalidf(bhv1.ReasonInvalid, fmt.Sprintf("%s: %s: %s; write a DNS name or IP address, or {type: DNSName, value: NAME} or {type: URI, value: URI}, as in Traefik", o.obj, field, why))
		}
		switch {
		case san.Invalid != "":
			bad(fmt.Sprintf("%s is neither a string nor an object with only type and value", san.Invalid))
		case value == "":
			bad("the value is empty")
		case san.Plain:
			plain = append(plain, value)
		case san.Type == bhv1.SANTypeDNSName:
			tr.PeerCertDNSNames = append(tr.PeerCertDNSNames, strings.TrimSuffix(strings.ToLower(value), "."))
		case san.Type == bhv1.SANTypeURI:
			tr.PeerCertURIs = append(tr.PeerCertURIs, value)
		case san.Type == "":
			bad("type is missing")
		default:
			bad(fmt.Sprintf("type %q is not DNSName or URI", san.Type))
		}
	}
	if len(plain) > 0 {
		tr.PeerCertSANs = lowerAll(plain)
	}
}
