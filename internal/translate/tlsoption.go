package translate

import (
	"crypto/tls"
	"fmt"
	"net/http"

	bhv1 "github.com/bridgehead/bridgehead/api/v1alpha1"
	"github.com/bridgehead/bridgehead/internal/snapshot"
)

// DefaultTLSOptionName is the TLSOption (in the gateway's namespace) that applies to routes
// naming none, as in Traefik.
const DefaultTLSOptionName = "default"

var tlsVersions = map[bhv1.TLSVersion]uint16{
	bhv1.VersionTLS10: tls.VersionTLS10,
	bhv1.VersionTLS11: tls.VersionTLS11,
	bhv1.VersionTLS12: tls.VersionTLS12,
	bhv1.VersionTLS13: tls.VersionTLS13,
}

var clientAuthTypes = map[bhv1.ClientAuthType]tls.ClientAuthType{
	"":                              tls.NoClientCert,
	bhv1.NoClientCert:               tls.NoClientCert,
	bhv1.RequestClientCert:          tls.RequestClientCert,
	bhv1.RequireAnyClientCert:       tls.RequireAnyClientCert,
	bhv1.VerifyClientCertIfGiven:    tls.VerifyClientCertIfGiven,
	bhv1.RequireAndVerifyClientCert: tls.RequireAndVerifyClientCert,
}

var curves = map[bhv1.Curve]tls.CurveID{
	"CurveP256": tls.CurveP256, "secp256r1": tls.CurveP256,
	"CurveP384": tls.CurveP384, "secp384r1": tls.CurveP384,
	"CurveP521": tls.CurveP521, "secp521r1": tls.CurveP521,
	"X25519": tls.X25519, "x25519": tls.X25519,
	"X25519MLKEM768": tls.X25519MLKEM768,
}

// cipherSuiteIDs maps Go's cipher suite names (and the legacy CHACHA20 aliases Traefik
// accepts) to their IDs. TLS 1.3 suites map to 0: Go does not make them configurable.
var cipherSuiteIDs = func() map[bhv1.CipherSuite]uint16 {
	m := map[bhv1.CipherSuite]uint16{}
	for _, s := range append(tls.CipherSuites(), tls.InsecureCipherSuites()...) {
		m[bhv1.CipherSuite(s.Name)] = s.ID
		for _, v := range s.SupportedVersions {
			if v == tls.VersionTLS13 {
				m[bhv1.CipherSuite(s.Name)] = 0
			}
		}
	}
	m["TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305"] = tls.TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256
	m["TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305"] = tls.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256
	return m
}()

// versionRange returns the crypto/tls versions, with defaults min 1.2 and max 1.3.
func versionRange(lo, hi bhv1.TLSVersion) (uint16, uint16) {
	minV, maxV := uint16(tls.VersionTLS12), uint16(tls.VersionTLS13)
	if v, ok := tlsVersions[lo]; ok {
		minV = v
	}
	if v, ok := tlsVersions[hi]; ok {
		maxV = v
	}
	return minV, maxV
}

// cipherSuites converts names to IDs; unknown names (the schema prevents them) are reported.
func cipherSuites(names []bhv1.CipherSuite) ([]uint16, []string) {
	var ids []uint16
	var unknown []string
	for _, n := range names {
		id, ok := cipherSuiteIDs[n]
		switch {
		case !ok:
			unknown = append(unknown, string(n))
		case id != 0:
			ids = append(ids, id)
		}
	}
	return ids, unknown
}

// TLSProfile names the TLS 1.2 cipher suites of policies that list none.
type TLSProfile string

const (
	// TLSProfileIntermediate is Mozilla's intermediate profile: ECDHE with AES-GCM or
	// CHACHA20-POLY1305 only (snapshot.IntermediateCipherSuites). TLS 1.3 is Go's.
	TLSProfileIntermediate TLSProfile = "intermediate"
	// TLSProfileLegacy adds ECDHE with AES-CBC and SHA-1 (what Go offers by default), for
	// TLS 1.2 clients that have no AEAD suite. testssl flags these as LUCKY13-prone.
	TLSProfileLegacy TLSProfile = "legacy"
)

// ParseTLSProfile checks a --tls-default-profile value.
func ParseTLSProfile(s string) (TLSProfile, error) {
	switch p := TLSProfile(s); p {
	case TLSProfileIntermediate, TLSProfileLegacy:
		return p, nil
	}
	return "", fmt.Errorf("%q is neither %s nor %s", s, TLSProfileIntermediate, TLSProfileLegacy)
}

// defaultCipherSuites is what a policy listing no TLS 1.2 suite gets: nothing for the
// intermediate profile, which the proxy applies to every empty list (so no snapshot
// that leaves the list empty can fall back to Go's defaults), the full list for legacy.
func (o Options) defaultCipherSuites() []uint16 {
	if o.TLSDefaultProfile != TLSProfileLegacy {
		return nil
	}
	return append(snapshot.IntermediateCipherSuites(),
		tls.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA, tls.TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA,
		tls.TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA, tls.TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA)
}

func (t *translator) builtinPolicy() *snapshot.Policy {
	return &snapshot.Policy{
		ID:            snapshot.BuiltinPolicyID,
		Source:        snapshot.Ref{Kind: "Builtin", Namespace: "bridgehead", Name: "builtin-default"},
		MinVersion:    tls.VersionTLS12,
		MaxVersion:    tls.VersionTLS13,
		ClientAuth:    tls.NoClientCert,
		ALPNProtocols: []string{"h2", "http/1.1"},
		CipherSuites:  t.opts.defaultCipherSuites(),
	}
}

// buildPolicies compiles every TLSOption and picks the default policy.
func (t *translator) buildPolicies() {
	for _, o := range sortedByName(t.in.TLSOptions) {
		t.policies[nsName{o.Namespace, o.Name}.String()] = t.buildPolicy(o)
	}
	def := nsName{t.opts.GatewayNamespace, DefaultTLSOptionName}.String()
	if _, ok := t.policies[def]; ok {
		t.snap.TLS.DefaultPolicy = def
		t.defaultsOutvoted(def)
		return
	}
	if id, ok := t.defaultElsewhere(); ok {
		t.snap.TLS.DefaultPolicy = id
		return
	}
	t.policies[snapshot.BuiltinPolicyID] = t.builtinPolicy()
	t.snap.TLS.DefaultPolicy = snapshot.BuiltinPolicyID
}

func (t *translator) buildPolicy(o *bhv1.TLSOption) *snapshot.Policy {
	rep := t.reportFor(KindTLSOption, &o.ObjectMeta)
	id := nsName{o.Namespace, o.Name}
	if t.refuseUnsupported(rep, "TLSOption "+id.String()) {
		// Handshakes under it are refused: never a weaker policy in its place.
		p := &snapshot.Policy{ID: id.String(), Source: snapshot.Ref{Kind: KindTLSOption, Namespace: o.Namespace, Name: o.Name}, ALPNProtocols: []string{"h2", "http/1.1"}}
		p.MinVersion, p.MaxVersion = versionRange("", "")
		p.Failure = &snapshot.Failure{Reason: string(bhv1.ReasonUnsupportedField), Status: http.StatusMisdirectedRequest, Message: rep.invalid[0].message}
		rep.total = 1
		return p
	}
	p := t.policyFromSpec(rep, policyOrigin{
		id: id.String(), source: snapshot.Ref{Kind: KindTLSOption, Namespace: o.Namespace, Name: o.Name},
		namespace: o.Namespace, obj: "TLSOption " + id.String(), field: func(f string) string { return "spec." + f },
	}, &o.Spec)
	rep.total, rep.served = 1, 1
	return p
}

// policyOrigin says where a TLSOptionSpec comes from (a TLSOption, or an Ingress's
// annotations), for the policy's ID and for messages.
type policyOrigin struct {
	id        string
	source    snapshot.Ref
	namespace string // of the client CA Secrets
	obj       string
	field     func(string) string
}

// policyFromSpec compiles a client-facing TLS policy; problems go on rep.
func (t *translator) policyFromSpec(rep *report, o policyOrigin, spec *bhv1.TLSOptionSpec) *snapshot.Policy {
	p := &snapshot.Policy{
		ID:                    o.id,
		Source:                o.source,
		ClientAuth:            clientAuthTypes[spec.ClientAuth.ClientAuthType],
		SNIStrict:             spec.SniStrict,
		ALPNProtocols:         spec.ALPNProtocols,
		DisableSessionTickets: spec.DisableSessionTickets,
	}
	p.MinVersion, p.MaxVersion = versionRange(spec.MinVersion, spec.MaxVersion)
	if len(p.ALPNProtocols) == 0 {
		p.ALPNProtocols = []string{"h2", "http/1.1"}
	}
	var unknown []string
	p.CipherSuites, unknown = cipherSuites(spec.CipherSuites)
	if len(p.CipherSuites) == 0 {
		// None listed, or only TLS 1.3 ones (which Go does not let us choose).
		p.CipherSuites = t.opts.defaultCipherSuites()
	}
	if len(unknown) > 0 {
		rep.invalidf(bhv1.ReasonUnsupportedValue, fmt.Sprintf("%s: %s %v are not supported by Go's crypto/tls; remove them", o.obj, o.field("cipherSuites"), unknown))
	}
	for _, c := range spec.CurvePreferences {
		p.CurvePreferences = append(p.CurvePreferences, curves[c])
	}
	if p.MinVersion > p.MaxVersion {
		msg := fmt.Sprintf("%s: %s %s is newer than %s %s, so no version can be negotiated", o.obj, o.field("minVersion"), spec.MinVersion, o.field("maxVersion"), spec.MaxVersion)
		rep.invalidf(bhv1.ReasonInvalid, msg)
		// Keep the policy well-formed; the Failure refuses handshakes under it anyway.
		p.MinVersion, p.MaxVersion = versionRange("", "")
		p.Failure = &snapshot.Failure{Reason: string(bhv1.ReasonInvalid), Status: http.StatusMisdirectedRequest, Message: msg}
	}

	var bundles []caResult
	for i, name := range spec.ClientAuth.SecretNames {
		r := t.caBundle(rep, caSource{kind: "Secret", namespace: o.namespace, name: string(name)}, true)
		if r.problem != nil {
			rep.refError(r.problem.reason, fmt.Sprintf("%s: %s: %s", o.obj, o.field(fmt.Sprintf("clientAuth.secretNames[%d]", i)), r.problem.message))
			continue
		}
		bundles = append(bundles, r)
	}
	verifies := p.ClientAuth == tls.VerifyClientCertIfGiven || p.ClientAuth == tls.RequireAndVerifyClientCert
	switch {
	case len(rep.refs) > 0 && verifies:
		// Never serve a policy that asks for verified client certificates without its CAs.
		p.Failure = &snapshot.Failure{Reason: string(rep.refs[0].reason), Status: http.StatusMisdirectedRequest,
			Message: rep.refs[0].message + "; it cannot verify client certificates, so TLS handshakes for its hosts are refused until it is fixed"}
	case len(bundles) > 0:
		p.ClientCAs = mergePools(bundles)
	}
	if verifies && len(spec.ClientAuth.SecretNames) == 0 {
		rep.invalidf(bhv1.ReasonInvalid, fmt.Sprintf("%s: %s %s needs %s with the client CA", o.obj, o.field("clientAuth.clientAuthType"), spec.ClientAuth.ClientAuthType, o.field("clientAuth.secretNames")))
		p.Failure = &snapshot.Failure{Reason: string(bhv1.ReasonInvalid), Status: http.StatusMisdirectedRequest, Message: o.obj + " has no client CA"}
	}
	if !verifies && len(spec.ClientAuth.SecretNames) > 0 {
		rep.warn(bhv1.ReasonIneffectiveSetting, fmt.Sprintf("%s: %s are set but clientAuthType %q does not verify client certificates; set clientAuthType: RequireAndVerifyClientCert, or remove secretNames", o.obj, o.field("clientAuth.secretNames"), spec.ClientAuth.ClientAuthType))
	}
	return p
}
