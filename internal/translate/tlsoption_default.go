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
//     default applies, as in Traefik (which drops its default options when several
//     namespaces define one). Either way none of them is the default, and each is not
//     Ready, naming the others.
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
		msg = fmt.Sprintf("several TLSOptions are named default outside the gateway's namespace (%s) and %s asks for client certificates: Traefik would then use none of them (its built-in default, without client certificates), so TLS handshakes for every host without spec.tls.options are refused rather than served with weaker client authentication than one of them asks for; %s",
			strings.Join(ids, ", "), strings.Join(strict, " and "), fix)
		builtin.Failure = &snapshot.Failure{Reason: string(bhv1.ReasonTLSOptionConflict), Status: http.StatusMisdirectedRequest, Message: "TLSOption: " + msg}
	} else {
		msg = fmt.Sprintf("several TLSOptions are named default outside the gateway's namespace (%s): as in Traefik, none of them is the default, so routes without spec.tls.options get the built-in default (TLS 1.2 and 1.3, no client certificate); %s",
			strings.Join(ids, ", "), fix)
	}
	for _, o := range t.in.TLSOptions {
		if o.Name == DefaultTLSOptionName && o.Namespace != t.opts.GatewayNamespace {
			// None of them is the default: each is not Ready as one, naming the others.
			t.reportFor(KindTLSOption, &o.ObjectMeta).notReadyf(bhv1.ReasonTLSOptionConflict, msg)
		}
	}
	t.policies[snapshot.BuiltinPolicyID] = builtin
	return snapshot.BuiltinPolicyID, true
}

// defaultsOutvoted reports every TLSOption named default outside the gateway's namespace
// when the gateway's namespace has one (winner): that one is the default, and each of the
// others is not Ready as a default, naming it. A route that names one of them in
// spec.tls.options still gets it.
func (t *translator) defaultsOutvoted(winner string) {
	for _, o := range sortedByName(t.in.TLSOptions) {
		if o.Name != DefaultTLSOptionName || o.Namespace == t.opts.GatewayNamespace {
			continue
		}
		t.reportFor(KindTLSOption, &o.ObjectMeta).notReadyf(bhv1.ReasonTLSOptionConflict, fmt.Sprintf(
			"TLSOption %s/%s is not the default: TLSOption %s, in the gateway's namespace, is, and wins over every other TLSOption named default (routes without spec.tls.options get it); routes that name %s/%s in spec.tls.options still get this one; rename it, or merge it into %s",
			o.Namespace, o.Name, winner, o.Namespace, o.Name, winner))
	}
}
