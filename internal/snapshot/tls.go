package snapshot

import "crypto/tls"

// TLS is the edge configuration: which certificate and which policy each SNI gets.
type TLS struct {
	// Policies are the client-facing TLS policies (from TLSOptions), by ID.
	Policies []*Policy `json:"policies,omitempty"`
	// DefaultPolicy is the ID of the policy for names no route claims.
	DefaultPolicy string `json:"defaultPolicy"`
	// Hosts are the names routes serve over TLS, sorted; wildcards are "*.example.com".
	Hosts []*HostTLS `json:"hosts,omitempty"`
	// DefaultCertificate is the TLSStore default; nil means the proxy's generated one.
	DefaultCertificate *Certificate `json:"defaultCertificate,omitempty"`
	// StoreCertificates are served for the names they cover when no route's certificate does.
	StoreCertificates []*Certificate `json:"storeCertificates,omitempty"`
}

// Policy is a compiled TLSOption.
type Policy struct {
	// ID is namespace/name of the TLSOption, or BuiltinPolicyID.
	ID     string `json:"id"`
	Source Ref    `json:"source"`
	// MinVersion and MaxVersion are crypto/tls version constants.
	MinVersion uint16 `json:"minVersion"`
	MaxVersion uint16 `json:"maxVersion"`
	// CipherSuites are the TLS 1.2 suites offered, as crypto/tls IDs; empty means
	// IntermediateCipherSuites. TLS 1.3 suites are Go's, not configurable.
	CipherSuites     []uint16      `json:"cipherSuites,omitempty"`
	CurvePreferences []tls.CurveID `json:"curvePreferences,omitempty"`
	// ClientAuth is the client certificate mode.
	ClientAuth tls.ClientAuthType `json:"clientAuth"`
	// ClientCAs verify client certificates when ClientAuth verifies.
	ClientCAs             *CertPool `json:"clientCAs,omitempty"`
	SNIStrict             bool      `json:"sniStrict,omitempty"`
	ALPNProtocols         []string  `json:"alpnProtocols"`
	DisableSessionTickets bool      `json:"disableSessionTickets,omitempty"`
	// Failure refuses handshakes under this policy (e.g. its client CA is missing): a
	// policy that asks for mTLS is never served without it.
	Failure *Failure `json:"failure,omitempty"`
}

// IntermediateCipherSuites are the TLS 1.2 suites of a policy that lists none: Mozilla's
// "intermediate" profile, ECDHE key exchange with AEAD ciphers only. Go's own defaults add
// AES-CBC with SHA-1 MACs, which testssl reports as potentially vulnerable to LUCKY13;
// translate lists those explicitly when the legacy profile is asked for.
func IntermediateCipherSuites() []uint16 {
	return []uint16{
		tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
		tls.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384, tls.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
		tls.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256, tls.TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
	}
}

// BuiltinPolicyID is the policy used when no TLSOption named "default" exists.
const BuiltinPolicyID = "bridgehead/builtin-default"

// HostTLS is one name served over TLS.
type HostTLS struct {
	// Name is lower case without a trailing dot; "*.example.com" for a wildcard.
	Name string `json:"name"`
	// Certificate served for the name; nil means the default certificate.
	Certificate *Certificate `json:"certificate,omitempty"`
	// Policy is the ID of the TLS policy negotiated for the name.
	Policy string `json:"policy"`
	// Routes are the objects serving this name over TLS.
	Routes []Ref `json:"routes"`
	// Failure refuses the name (e.g. two routes ask for different policies): it is never
	// served under the weaker one.
	Failure *Failure `json:"failure,omitempty"`
}

// What a certificate in use is for (CertificateInUse.Use).
const (
	UseEdge           = "edge"            // served to clients
	UseUpstreamClient = "upstream-client" // presented to backends
)

// CertificateInUse is a certificate the snapshot uses, and what for.
type CertificateInUse struct {
	*Certificate
	Use string
}

// CertificatesInUse lists every certificate the snapshot serves or presents, once per use:
// the hosts', the default, the TLSStore's, and the client certificates to backends. The
// expiry gauges and the status page read the same list.
func (s *Snapshot) CertificatesInUse() []CertificateInUse {
	var out []CertificateInUse
	seen := map[string]bool{}
	add := func(c *Certificate, use string) {
		if c == nil || seen[c.Fingerprint+use] {
			return
		}
		seen[c.Fingerprint+use] = true
		out = append(out, CertificateInUse{Certificate: c, Use: use})
	}
	for _, h := range s.TLS.Hosts {
		add(h.Certificate, UseEdge)
	}
	add(s.TLS.DefaultCertificate, UseEdge)
	for _, c := range s.TLS.StoreCertificates {
		add(c, UseEdge)
	}
	for _, t := range s.Transports {
		for _, c := range t.ClientCertificates {
			add(c, UseUpstreamClient)
		}
	}
	return out
}
