package translate

import (
	"crypto/tls"
	"fmt"
	"net/http"
	"strings"

	bhv1 "github.com/bridgehead/bridgehead/api/v1alpha1"
	"github.com/bridgehead/bridgehead/internal/snapshot"
)

// defaultElsewhere applies Traefik's rule for a TLSOption named "default" when the
// gateway's namespace has none: Traefik makes such an object the default of every route
// that names no TLSOption, wherever it is (manifests written for Traefik rely on it). It
// reports the policy to use as the default, or false for the built-in one.
//
//   - One TLSOption named default in another namespace: it is the default.
//   - Several: none is chosen over the others. If any of them asks for client
//     certificates, routes without a TLSOption fail closed (TLS handshakes for their hosts
//     are refused): serving them with weaker client authentication than one of the
//     defaults demands could let in clients it means to keep out. Otherwise the built-in
//     default applies. Either way each of them carries a warning naming the others.
func (t *translator) defaultElsewhere() (string, bool) {
	var ids []string
	for _, o := range sortedByName(t.in.TLSOptions) {
		if o.Name == DefaultTLSOptionName && o.Namespace != t.opts.GatewayNamespace {
			ids = append(ids, nsName{o.Namespace, o.Name}.String())
		}
	}
	switch len(ids) {
	case 0:
		return "", false
	case 1:
		return ids[0], true
	}
	var strict []string
	for _, id := range ids {
		if p := t.policies[id]; p != nil && p.ClientAuth != tls.NoClientCert {
			strict = append(strict, id)
		}
	}
	fix := fmt.Sprintf("keep one TLSOption named default, in the gateway's namespace %s (it wins), or rename the others and name them in spec.tls.options", t.opts.GatewayNamespace)
	builtin := t.builtinPolicy()
	var msg string
	if len(strict) > 0 {
		msg = fmt.Sprintf("several TLSOptions are named default outside the gateway's namespace (%s) and %s asks for client certificates: Traefik would use one of them, Bridgehead cannot tell which, so TLS handshakes for every host without spec.tls.options are refused rather than served with weaker client authentication; %s",
			strings.Join(ids, ", "), strings.Join(strict, " and "), fix)
		builtin.Failure = &snapshot.Failure{Reason: string(bhv1.ReasonTLSOptionConflict), Status: http.StatusMisdirectedRequest, Message: "TLSOption: " + msg}
	} else {
		msg = fmt.Sprintf("several TLSOptions are named default outside the gateway's namespace (%s): Traefik would use one of them, Bridgehead cannot tell which, so routes without spec.tls.options get the built-in default (TLS 1.2 and 1.3, no client certificate); %s",
			strings.Join(ids, ", "), fix)
	}
	for _, o := range t.in.TLSOptions {
		if o.Name == DefaultTLSOptionName && o.Namespace != t.opts.GatewayNamespace {
			t.reportFor(KindTLSOption, &o.ObjectMeta).warn(bhv1.ReasonTLSOptionConflict, msg)
		}
	}
	t.policies[snapshot.BuiltinPolicyID] = builtin
	return snapshot.BuiltinPolicyID, true
}
