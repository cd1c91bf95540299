package translate

import (
	"crypto/tls"
	"fmt"
	"net/http"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	bhv1 "github.com/bridgehead/bridgehead/api/v1alpha1"
	"github.com/bridgehead/bridgehead/internal/snapshot"
)

// A Gateway's spec.tls.frontend (client certificate validation) onto the client-facing
// TLS policies, and the policy identity that makes HTTPS listeners of one port isolated
// from each other (GEP-3567, 421 Misdirected Request).
//
// The proxy picks a TLS policy by SNI and serves a request only from a route of the
// policy its connection was negotiated under (421 otherwise). So:
//   - an HTTPS listener whose port has validation gets a policy of its own, the global
//     default policy's settings with the Gateway's client CAs and mode;
//   - an HTTPS listener with a hostname gets a policy ID of its own (its port's policy
//     "@" the hostname), so that a connection negotiated for one listener's names never
//     serves a request whose Host belongs to another listener (or to no listener's
//     names, as the catch-all listener's names are the default policy's);
//   - the names of routes attached to an HTTPS listener are claimed with that listener's
//     policy and certificate, so the SNI negotiates under it.
// A hostname-less HTTPS listener with validation cannot own the names nobody claims (the
// default policy is global): its routes without hostnames answer 421 for names no route
// lists, never serving them without a client certificate; the route gets a warning.

// frontendPolicyResult is one Gateway frontend TLSConfig compiled (default or a port's).
type frontendPolicyResult struct {
	id string // the policy's ID; "" when the config does not validate
	// problems are the invalid caCertificateRefs, first first; all says every one is.
	reason, message string
	all             bool
	insecure        bool
}

// frontendConfig is the frontend TLSConfig that applies to a port of gw, and its field.
func frontendConfig(gw *gwv1.Gateway, port gwv1.PortNumber) (*gwv1.TLSConfig, string) {
	if gw.Spec.TLS == nil || gw.Spec.TLS.Frontend == nil {
		return nil, ""
	}
	f := gw.Spec.TLS.Frontend
	for i := range f.PerPort {
		if f.PerPort[i].Port == port {
			return &f.PerPort[i].TLS, fmt.Sprintf("spec.tls.frontend.perPort[%d].tls", i)
		}
	}
	return &f.Default, "spec.tls.frontend.default"
}

// listenerFrontend sets the policy of an HTTPS listener from its Gateway's frontend TLS,
// and marks the listener when the client CAs cannot be used (the spec's reasons). A
// listener whose CAs are all unusable is not Accepted: it is never served without the
// validation it asks for.
func (t *translator) listenerFrontend(rep *report, l *gwListener) {
	if l.l.Protocol != gwv1.HTTPSProtocolType || tlsMode(l.l) != gwv1.TLSModeTerminate {
		return
	}
	cfg, field := frontendConfig(l.gw, l.l.Port)
	policy := t.snap.TLS.DefaultPolicy
	if cfg != nil && cfg.Validation != nil {
		res := t.frontendPolicy(l.gw, field, cfg.Validation)
		if res.message != "" {
			if l.resolved {
				l.resolved, l.resolvedReason, l.resolvedMsg = false, res.reason, res.message
			}
			if res.all && l.accepted {
				l.accepted, l.acceptedReason = false, string(gwv1.ListenerReasonNoValidCACertificate)
				l.acceptedMsg = field + ".validation.caCertificateRefs: no CA certificate can be used, so client certificates cannot be validated and the listener is not served: " + res.message
			}
			rep.refError(bhv1.ConditionReason(res.reason), l.field+": "+res.message)
		}
		policy = res.id
	}
	if h := l.hostname(); h != "" {
		policy = t.listenerPolicy(policy, h)
	}
	l.policy = policy
}

// frontendPolicy compiles one frontend validation of a Gateway once per translation.
func (t *translator) frontendPolicy(gw *gwv1.Gateway, field string, v *gwv1.FrontendTLSValidation) *frontendPolicyResult {
	key := gw.Namespace + "/" + gw.Name + "/" + field
	if r, ok := t.gw.frontend[key]; ok {
		return r
	}
	if t.gw.frontend == nil {
		t.gw.frontend = map[string]*frontendPolicyResult{}
	}
	res := &frontendPolicyResult{insecure: v.Mode == gwv1.AllowInsecureFallback}
	t.gw.frontend[key] = res
	rep := t.reportFor(KindGateway, &gw.ObjectMeta)
	var bundles []caResult
	var problems []string
	for i, ref := range v.CACertificateRefs {
		f := fmt.Sprintf("%s.validation.caCertificateRefs[%d]", field, i)
		ns := gw.Namespace
		if ref.Namespace != nil {
			ns = string(*ref.Namespace)
		}
		var reason gwv1.ListenerConditionReason
		var msg string
		switch {
		case ref.Group != "" || (ref.Kind != KindConfigMap && ref.Kind != KindSecret):
			reason, msg = gwv1.ListenerReasonInvalidCACertificateKind, fmt.Sprintf("%s: %s is not a ConfigMap or a Secret; name a ConfigMap (or Secret) with the PEM CA certificates at key ca.crt", f, groupKind(string(ref.Group), string(ref.Kind)))
		case ns != gw.Namespace && !t.granted(KindGateway, gw.Namespace, "", string(ref.Kind), ns, string(ref.Name)):
			reason, msg = gwv1.ListenerReasonRefNotPermitted, fmt.Sprintf("%s: %s %s/%s is in another namespace and no ReferenceGrant in %s allows Gateways of namespace %s to use it; add one", f, ref.Kind, ns, ref.Name, ns, gw.Namespace)
		default:
			r := t.caBundle(rep, caSource{kind: string(ref.Kind), namespace: ns, name: string(ref.Name)}, false)
			if r.problem != nil {
				reason, msg = gwv1.ListenerReasonInvalidCACertificateRef, f+": "+r.problem.message
			} else {
				bundles = append(bundles, r)
			}
		}
		if msg != "" {
			if res.message == "" {
				res.reason, res.message = string(reason), msg
			}
			problems = append(problems, msg)
		}
	}
	if len(problems) > 1 {
		res.message = strings.Join(problems, "; ")
	}
	res.all = len(bundles) == 0
	base := t.policies[t.snap.TLS.DefaultPolicy]
	p := &snapshot.Policy{}
	if base != nil {
		*p = *base
	}
	p.ID = fmt.Sprintf("gateway/%s/%s/%s", gw.Namespace, gw.Name, strings.TrimPrefix(strings.TrimSuffix(field, ".tls"), "spec.tls.frontend."))
	p.Source = snapshot.Ref{Kind: KindGateway, Namespace: gw.Namespace, Name: gw.Name}
	p.ClientAuth = tls.RequireAndVerifyClientCert
	if res.insecure {
		// The spec's AllowInsecureFallback: connections are accepted without a certificate
		// and with one that fails validation; the CAs are still sent as the hint of which
		// certificate to present.
		p.ClientAuth = tls.RequestClientCert
		rep.warn(bhv1.ReasonInsecureFrontendValidation, field+".validation.mode: AllowInsecureFallback accepts clients without a valid certificate; the backends must authorize them (set mode: AllowValidOnly to validate at the gateway)")
	}
	p.ClientCAs = nil
	if len(bundles) > 0 {
		p.ClientCAs = mergePools(bundles)
	} else {
		// No CA to verify against: handshakes under this policy are refused (the listeners
		// using it are not Accepted either).
		p.Failure = &snapshot.Failure{Reason: res.reason, Status: http.StatusMisdirectedRequest, Message: "Gateway " + gw.Namespace + "/" + gw.Name + " " + res.message}
	}
	t.policies[p.ID] = p
	res.id = p.ID
	return res
}

// listenerPolicy is the policy of an HTTPS listener with a hostname: its port's policy
// under an ID of its own, so the proxy tells its connections from other listeners'.
// Listeners with the same hostname and port policy share it (on any Gateway).
func (t *translator) listenerPolicy(base, hostname string) string {
	id := base + "@" + hostname
	if _, ok := t.policies[id]; ok {
		return id
	}
	p := &snapshot.Policy{}
	if b := t.policies[base]; b != nil {
		*p = *b
	}
	p.ID = id
	t.policies[id] = p
	return id
}

// claimGatewayRouteHosts claims the names a route serves on HTTPS listeners with each
// listener's policy and certificate, so the SNI negotiates under that listener's policy.
func (t *translator) claimGatewayRouteHosts(r *gwRoute, atts []gwAttachment) {
	src := snapshot.Ref{Kind: r.kind, Namespace: r.meta.Namespace, Name: r.meta.Name}
	for _, a := range atts {
		if a.l.l.Protocol != gwv1.HTTPSProtocolType || a.l.entry == "" {
			continue
		}
		if a.hosts == nil {
			if p := t.policies[a.l.policy]; p != nil && p.ClientAuth != tls.NoClientCert && a.l.policy != t.snap.TLS.DefaultPolicy {
				r.rep.warn(bhv1.ReasonIneffectiveSetting, fmt.Sprintf(
					"spec.hostnames: the route lists no hostname on listener %s of Gateway %s/%s, which has no hostname and validates client certificates (spec.tls.frontend); the TLS policy is chosen by SNI, so only names some route lists are negotiated with validation, and requests for other names get 421: list the names in spec.hostnames",
					a.l.l.Name, a.l.gw.Namespace, a.l.gw.Name))
			}
			continue
		}
		for _, h := range a.hosts {
			c := hostClaim{rep: r.rep, source: src,
				routeID: r.meta.Namespace + "/" + r.meta.Name + "@" + a.l.owner.Namespace + "/" + a.l.owner.Name + "/" + string(a.l.l.Name),
				policy:  a.l.policy, cert: listenerCertFor(a.l, h)}
			add(t.hostClaims, h, c, &t.claimLists)
			if t.hrec != nil {
				c.rep, c.cert = nil, nil // a build's: the replay sets them again
				t.hrec.claims = append(t.hrec.claims, gwClaimRecord{name: h, claim: c, listener: a.l.seq})
			}
		}
	}
}

// listenerCertFor is the listener certificate that covers a name, else its first.
func listenerCertFor(l *gwListener, host string) *snapshot.Certificate {
	for _, c := range l.certs {
		if covers(c, host) {
			return c
		}
	}
	if len(l.certs) > 0 && l.hostname() != "" {
		return l.certs[0]
	}
	return nil // a hostname-less listener's certificates are served for the names they cover
}

// frontendGatewayConditions are the Gateway conditions its frontend TLS adds: the spec's
// InsecureFrontendValidationMode while any validation allows insecure fallback.
func frontendGatewayConditions(gw *gwv1.Gateway) []metav1.Condition {
	if gw.Spec.TLS == nil || gw.Spec.TLS.Frontend == nil {
		return nil
	}
	f := gw.Spec.TLS.Frontend
	var fields []string
	if v := f.Default.Validation; v != nil && v.Mode == gwv1.AllowInsecureFallback {
		fields = append(fields, "spec.tls.frontend.default")
	}
	for i, p := range f.PerPort {
		if v := p.TLS.Validation; v != nil && v.Mode == gwv1.AllowInsecureFallback {
			fields = append(fields, fmt.Sprintf("spec.tls.frontend.perPort[%d] (port %d)", i, p.Port))
		}
	}
	if len(fields) == 0 {
		return nil
	}
	return []metav1.Condition{{Type: string(gwv1.GatewayConditionInsecureFrontendValidationMode), Status: metav1.ConditionTrue,
		Reason: string(gwv1.GatewayReasonConfigurationChanged), ObservedGeneration: gw.Generation,
		Message: strings.Join(fields, ", ") + ": validation.mode AllowInsecureFallback accepts clients without a valid certificate"}}
}

// frontendRefs are the ConfigMaps and Secrets a Gateway's frontend validation names, so
// that creating or fixing one re-translates the Gateway.
func frontendRefs(gw *gwv1.Gateway) []string {
	if gw.Spec.TLS == nil || gw.Spec.TLS.Frontend == nil {
		return nil
	}
	f := gw.Spec.TLS.Frontend
	cfgs := []gwv1.TLSConfig{f.Default}
	for _, p := range f.PerPort {
		cfgs = append(cfgs, p.TLS)
	}
	var out []string
	for _, c := range cfgs {
		if c.Validation == nil {
			continue
		}
		for _, ref := range c.Validation.CACertificateRefs {
			if ref.Group != "" || (ref.Kind != KindConfigMap && ref.Kind != KindSecret) {
				continue
			}
			ns := gw.Namespace
			if ref.Namespace != nil {
				ns = string(*ref.Namespace)
			}
			out = append(out, Reference(string(ref.Kind), ns, string(ref.Name)))
		}
	}
	return out
}
