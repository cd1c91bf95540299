package diagnose

import (
	"crypto/tls"
	"fmt"
	"strings"

	bhv1 "github.com/bridgehead/bridgehead/api/v1alpha1"
	"github.com/bridgehead/bridgehead/internal/rule"
	"github.com/bridgehead/bridgehead/internal/snapshot"
	"github.com/bridgehead/bridgehead/internal/translate"
)

// Reasons of hops that no condition carries: what diagnose finds beyond translate.
const (
	// ReasonGeneratedCertificate: no certificate covers a host, so the gateway's generated
	// self-signed one is served.
	ReasonGeneratedCertificate = "GeneratedCertificate"
	// ReasonCertificateNotServed: spec.tls.secretName is set but the route claims no host,
	// so the certificate is never chosen.
	ReasonCertificateNotServed = "CertificateNotServed"
	// ReasonCertificateNotYetValid: the edge certificate's notBefore is in the future.
	ReasonCertificateNotYetValid = "CertificateNotYetValid"
	// ReasonClientAuthWithoutHost: a TLSOption with client authentication on a route that
	// pins no host, so the policy can never be negotiated for it.
	ReasonClientAuthWithoutHost = "ClientAuthWithoutHost"
	// ReasonClientAuthTrustsServingCertificate: the mix-up of client mTLS with upstream
	// trust (see mixup.go).
	ReasonClientAuthTrustsServingCertificate = "ClientAuthTrustsServingCertificate"
	// ReasonTransportNotUsed: a serversTransport on a backend spoken to in clear text.
	ReasonTransportNotUsed = "TransportNotUsed"
)

// edge adds the client-facing hops of a route: one per host it serves over TLS, then its
// TLSOption.
func (e *env) edge(sec *Section, ref snapshot.Ref, ns string, spec tlsSpec, matches []string, tcp bool) {
	var hosts []*snapshot.HostTLS
	for _, h := range e.snap.TLS.Hosts {
		for _, r := range h.Routes {
			if r == ref {
				hosts = append(hosts, h)
				break
			}
		}
	}
	if len(hosts) == 0 {
		matcher := "Host()"
		if tcp {
			matcher = "HostSNI() with a name"
		}
		h := Hop{Kind: "TLS host", Object: "(none)",
			Message: fmt.Sprintf("the match has no %s and spec.tls.domains is empty: clients reach the route with any SNI and get the certificate the TLSStore has for it", matcher)}
		if spec.secretName != "" {
			h.Verdict, h.Reason = Warn, ReasonCertificateNotServed
			h.Message = fmt.Sprintf("spec.tls.secretName %q is set, but the match has no %s and spec.tls.domains is empty: certificates are chosen by SNI among the hosts routes claim, so this one is never served", spec.secretName, matcher)
			h.Fix = fmt.Sprintf("add %s to the match, or list the names in spec.tls.domains", matcher)
		}
		sec.add(h)
	}
	fromStore := false
	for _, h := range hosts {
		fromStore = e.edgeHost(sec, h, ns, spec) || fromStore
	}
	if fromStore {
		// A TLSStore named default in any namespace is a default store (as in Traefik).
		for _, k := range e.statuses.Keys() {
			if k.Kind == translate.KindTLSStore && k.Name == translate.DefaultTLSStoreName {
				e.conditionWarnings(sec, k, false)
			}
		}
	}
	e.policyHop(sec, ns, spec, matches, tcp)
}

// servedCertificate is the certificate a client gets for a host, chosen as the proxy
// does: the route's, else the TLSStore's that covers the name, else the first of them.
func (e *env) servedCertificate(h *snapshot.HostTLS) (*snapshot.Certificate, string) {
	if h.Certificate != nil {
		return h.Certificate, ""
	}
	var candidates []*snapshot.Certificate
	candidates = append(candidates, e.snap.TLS.StoreCertificates...)
	if d := e.snap.TLS.DefaultCertificate; d != nil {
		candidates = append(candidates, d)
	}
	for _, c := range candidates {
		if certificateCovers(c.DNSNames, c.IPAddresses, h.Name) {
			return c, " (from the TLSStore)"
		}
	}
	if len(candidates) > 0 {
		return candidates[0], " (from the TLSStore)"
	}
	return nil, ""
}

// edgeHost adds the hop of one host; it reports whether the certificate served comes
// from the TLSStore.
func (e *env) edgeHost(sec *Section, h *snapshot.HostTLS, ns string, spec tlsSpec) bool {
	hop := Hop{Kind: "TLS host", Object: h.Name}
	policy := h.Policy
	if policy == snapshot.BuiltinPolicyID {
		policy = "the built-in default"
	}
	hop.Facts = append(hop.Facts, "TLS policy: "+policy)
	served, from := e.servedCertificate(h)
	if served != nil {
		hop.Facts = append(hop.Facts, "serves "+describeCertificate(served)+from)
	}
	if h.Failure != nil {
		hop.Verdict, hop.Reason, hop.Message = Fail, h.Failure.Reason, "TLS handshakes for "+h.Name+" are refused: "+h.Failure.Message
		hop.Fix = conditionFix(h.Failure.Reason)
		sec.add(hop)
		return from != ""
	}
	own := "spec.tls.secretName"
	if spec.secretName != "" {
		own = fmt.Sprintf("Secret %s/%s (spec.tls.secretName)", ns, spec.secretName)
	}
	now := e.opts.Translate.Now
	switch leaf := leafOf(served); {
	case served == nil:
		hop.Verdict, hop.Reason = Warn, ReasonGeneratedCertificate
		hop.Message = "no certificate covers " + h.Name + ": the gateway serves its generated self-signed certificate, which clients refuse unless told not to verify"
		hop.Fix = "set spec.tls.secretName to a kubernetes.io/tls Secret whose certificate covers " + h.Name
	case !certificateCovers(served.DNSNames, served.IPAddresses, h.Name):
		hop.Verdict, hop.Reason = Fail, string(bhv1.ReasonCertificateHostMismatch)
		hop.Message = fmt.Sprintf("the certificate served for %s is valid for %s, not for %s: clients refuse it",
			h.Name, names(append(append([]string(nil), served.DNSNames...), served.IPAddresses...)), h.Name)
		hop.Fix = fmt.Sprintf("issue a certificate whose SANs include %s and put it in %s", h.Name, own)
	case leaf != nil && now.Before(leaf.NotBefore):
		hop.Verdict, hop.Reason = Fail, ReasonCertificateNotYetValid
		hop.Message = fmt.Sprintf("the certificate served for %s is not valid before %s: clients refuse it", h.Name, stamp(leaf.NotBefore))
		hop.Fix = "check the certificate's notBefore and the clocks, or serve a certificate valid now from " + own
	case !now.Before(served.NotAfter):
		hop.Verdict, hop.Reason = Fail, string(bhv1.ReasonCertificateExpired)
		hop.Message = fmt.Sprintf("the certificate served for %s expired at %s: clients refuse it", h.Name, stamp(served.NotAfter))
		hop.Fix = fmt.Sprintf("renew the certificate in Secret %s/%s", served.Source.Namespace, served.Source.Name)
	case e.opts.Translate.ExpiryWarning > 0 && served.NotAfter.Sub(now) < e.opts.Translate.ExpiryWarning:
		hop.Verdict, hop.Reason = Warn, string(bhv1.ReasonCertificateExpiringSoon)
		hop.Message = fmt.Sprintf("the certificate served for %s expires at %s (in %d days)", h.Name, stamp(served.NotAfter), int(served.NotAfter.Sub(now)/day))
		hop.Fix = fmt.Sprintf("renew the certificate in Secret %s/%s before then", served.Source.Namespace, served.Source.Name)
	case spec.secretName != "" && (served.Source.Namespace != ns || served.Source.Name != string(spec.secretName)):
		hop.Verdict, hop.Reason = Warn, string(bhv1.ReasonIneffectiveSetting)
		hop.Message = fmt.Sprintf("%s is served with the certificate of another route; %s is not served for it", h.Name, own)
		hop.Fix = "use one Secret for the host in every route that serves it"
	default:
		hop.Message = fmt.Sprintf("the certificate covers %s and is valid until %s", h.Name, stamp(served.NotAfter))
	}
	sec.add(hop)
	return from != ""
}

// policyHop describes the TLSOption a route's connections are negotiated under (its
// spec.tls.options, else the default), with its client authentication, and the mistakes
// around it.
func (e *env) policyHop(sec *Section, ns string, spec tlsSpec, matches []string, tcp bool) {
	hop := Hop{Kind: "TLSOption"}
	policyID := e.snap.TLS.DefaultPolicy
	if o := spec.options; o != nil {
		optNS := o.Namespace
		if optNS == "" {
			optNS = ns
		}
		policyID = optNS + "/" + o.Name
		hop.Object = policyID
		switch {
		case optNS != ns && !e.opts.Translate.AllowCrossNamespace:
			hop.Verdict, hop.Reason = Fail, string(bhv1.ReasonRefNotPermitted)
			hop.Message = fmt.Sprintf("spec.tls.options names TLSOption %s in another namespace, and cross-namespace references are off: TLS handshakes for the route's hosts are refused", policyID)
			hop.Fix = fmt.Sprintf("use a TLSOption in namespace %s, or run the gateway (and diagnose) with --allow-cross-namespace", ns)
			sec.add(hop)
			return
		case e.policies[policyID] == nil:
			hop.Verdict, hop.Reason = Fail, string(bhv1.ReasonNotFound)
			hop.Message = fmt.Sprintf("spec.tls.options names TLSOption %q, which does not exist in namespace %s: TLS handshakes for the route's hosts are refused (never served under a weaker policy)", o.Name, optNS)
			hop.Fix = fmt.Sprintf("create TLSOption %s, or correct spec.tls.options (or remove it to use the default)", policyID)
			sec.add(hop)
			return
		}
	}
	p := e.policies[policyID]
	if p == nil {
		return
	}
	hop.Object = p.ID
	if p.ID == snapshot.BuiltinPolicyID {
		hop.Object = "(built-in default)"
	}
	hop.Facts = policyFacts(p)
	hop.Message = "negotiates " + versionRange(p.MinVersion, p.MaxVersion) + "; " + clientAuthSummary(p)
	if p.Failure != nil {
		hop.Verdict, hop.Reason, hop.Message, hop.Fix = Fail, p.Failure.Reason, p.Failure.Message, conditionFix(p.Failure.Reason)
	}
	sec.add(hop)
	if p.Source.Kind == translate.KindTLSOption {
		key := translate.Key{Kind: translate.KindTLSOption, Namespace: p.Source.Namespace, Name: p.Source.Name}
		e.conditionWarnings(sec, key, p.Failure != nil)
		for _, m := range e.mixups[nsName{p.Source.Namespace, p.Source.Name}] {
			sec.add(m.hop())
		}
	}
	if !tcp {
		e.hostlessClientAuth(sec, p, spec, matches)
	}
}

// conditionWarnings adds a referenced object's Warnings (and, unless already shown, its
// Ready=False) as hops.
func (e *env) conditionWarnings(sec *Section, key translate.Key, readyShown bool) {
	st := e.statuses[key]
	if st == nil {
		return
	}
	obj := key.Namespace + "/" + key.Name
	if c := st.Condition(bhv1.ConditionReady); c != nil && c.Status != "True" && !readyShown {
		sec.add(Hop{Kind: key.Kind, Object: obj, Verdict: Fail, Reason: c.Reason, Message: c.Message, Fix: conditionFix(c.Reason)})
	}
	if c := st.Condition(bhv1.ConditionWarnings); c != nil && c.Status == "True" {
		sec.add(Hop{Kind: key.Kind, Object: obj, Verdict: Warn, Reason: c.Reason, Message: c.Message, Fix: conditionFix(c.Reason)})
	}
}

// hostlessClientAuth: the TLS policy is chosen by SNI among the hosts routes claim, so a
// rule that pins no host is reached under the default policy and answered 421, unless
// another route claims a host under the same policy.
func (e *env) hostlessClientAuth(sec *Section, p *snapshot.Policy, spec tlsSpec, matches []string) {
	if p.ID == e.snap.TLS.DefaultPolicy || p.ClientAuth == tls.NoClientCert {
		return
	}
	domains := spec.domainNames()
	var shared []string
	for _, h := range e.snap.TLS.Hosts {
		if h.Policy == p.ID && h.Failure == nil {
			shared = append(shared, h.Name)
		}
	}
	for i, m := range matches {
		parsed, err := rule.Parse(m, rule.HTTP)
		if err != nil {
			continue
		}
		hosts, anyHost := parsed.Hosts()
		if (len(hosts) > 0 || len(domains) > 0) && (!anyHost || len(domains) > 0) {
			continue
		}
		hop := Hop{Kind: "TLSOption", Object: p.ID, Verdict: Fail, Reason: ReasonClientAuthWithoutHost,
			Message: fmt.Sprintf("spec.routes[%d] (%s) pins no host, but TLSOption %s asks for client certificates (%s): the TLS policy is chosen by the SNI of the hosts routes claim, so clients reach this rule under the default policy and get 421 Misdirected Request; its client authentication can never apply",
				i, m, p.ID, clientAuthName(p.ClientAuth)),
			Fix: fmt.Sprintf("add Host(`...`) to spec.routes[%d].match, or list the names in spec.tls.domains", i)}
		if len(shared) > 0 {
			hop.Verdict = Warn
			hop.Message = fmt.Sprintf("spec.routes[%d] (%s) pins no host, but TLSOption %s asks for client certificates (%s): it is reached only on hosts other routes claim under that TLSOption (%s); on any other host clients get 421 Misdirected Request",
				i, m, p.ID, clientAuthName(p.ClientAuth), strings.Join(shared, ", "))
		}
		sec.add(hop)
	}
}

func policyFacts(p *snapshot.Policy) []string {
	facts := []string{"versions: " + versionRange(p.MinVersion, p.MaxVersion) + ", ALPN " + strings.Join(p.ALPNProtocols, ", ")}
	if p.SNIStrict {
		facts = append(facts, "sniStrict: clients without a known SNI are refused")
	}
	ca := "client certificates: " + clientAuthName(p.ClientAuth)
	if p.ClientCAs != nil {
		ca += ", verified against " + strings.Join(describeRoots(p.ClientCAs), "; ")
	}
	return append(facts, ca)
}

func clientAuthSummary(p *snapshot.Policy) string {
	switch p.ClientAuth {
	case tls.NoClientCert:
		return "asks clients for no certificate"
	case tls.RequestClientCert, tls.VerifyClientCertIfGiven:
		return "asks clients for a certificate (" + clientAuthName(p.ClientAuth) + ") but serves those without one"
	default:
		return "requires a client certificate from every client (" + clientAuthName(p.ClientAuth) + ")"
	}
}

func clientAuthName(c tls.ClientAuthType) string {
	switch c {
	case tls.RequestClientCert:
		return string(bhv1.RequestClientCert)
	case tls.RequireAnyClientCert:
		return string(bhv1.RequireAnyClientCert)
	case tls.VerifyClientCertIfGiven:
		return string(bhv1.VerifyClientCertIfGiven)
	case tls.RequireAndVerifyClientCert:
		return string(bhv1.RequireAndVerifyClientCert)
	}
	return string(bhv1.NoClientCert)
}

func versionRange(lo, hi uint16) string {
	name := tls.VersionName
	if lo == 0 {
		lo = tls.VersionTLS12
	}
	if hi == 0 {
		hi = tls.VersionTLS13
	}
	if lo == hi {
		return name(lo)
	}
	return name(lo) + " to " + name(hi)
}
