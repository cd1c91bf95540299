package snapshot

import "time"

// Transport is how the gateway connects to backends: a compiled ServersTransport or
// ServersTransportTCP. The proxy caches one client per (ID, Hash), so a snapshot that
// leaves a transport unchanged keeps its warm connections.
type Transport struct {
	// ID is Kind/namespace/name of the source object.
	ID     string `json:"id"`
	Source Ref    `json:"source"`
	// Hash covers every field and the fingerprints of the roots and client certificates.
	Hash string `json:"hash"`

	InsecureSkipVerify bool `json:"insecureSkipVerify,omitempty"`
	// RootCAs verify the backend; nil means the system roots.
	RootCAs *CertPool `json:"rootCAs,omitempty"`
	// ClientCertificates are presented to backends that ask for one.
	ClientCertificates []*Certificate `json:"clientCertificates,omitempty"`
	// ServerName, when set, overrides every backend's default server name.
	ServerName  string `json:"serverName,omitempty"`
	PeerCertURI string `json:"peerCertURI,omitempty"`
	// PeerCertSANs, PeerCertDNSNames and PeerCertURIs pin the backend's identity: when any
	// is set, its certificate must match at least one entry of one of them. PeerCertSANs
	// are DNS names or IP addresses one SAN must equal exactly; PeerCertDNSNames match as
	// hostname verification does (wildcard SANs included); PeerCertURIs equal a URI SAN,
	// case-insensitively (Traefik's {type: DNSName|URI, value} entries).
	PeerCertSANs     []string `json:"peerCertSANs,omitempty"`
	PeerCertDNSNames []string `json:"peerCertDNSNames,omitempty"`
	PeerCertURIs     []string `json:"peerCertURIs,omitempty"`
	// PinsReplaceNames: when pins are set, the certificate is checked against them only,
	// not against the backend's names (a BackendTLSPolicy's subjectAltNames replace its
	// hostname in the check; the hostname stays the SNI).
	PinsReplaceNames bool     `json:"pinsReplaceNames,omitempty"`
	MinVersion       uint16   `json:"minVersion,omitempty"`
	MaxVersion       uint16   `json:"maxVersion,omitempty"`
	CipherSuites     []uint16 `json:"cipherSuites,omitempty"`

	MaxIdleConnsPerHost   int           `json:"maxIdleConnsPerHost,omitempty"`
	DialTimeout           time.Duration `json:"dialTimeout,omitempty"`
	ResponseHeaderTimeout time.Duration `json:"responseHeaderTimeout,omitempty"`
	IdleConnTimeout       time.Duration `json:"idleConnTimeout,omitempty"`
	ReadIdleTimeout       time.Duration `json:"readIdleTimeout,omitempty"`
	PingTimeout           time.Duration `json:"pingTimeout,omitempty"`
	DisableHTTP2          bool          `json:"disableHTTP2,omitempty"`

	// TCP transports only.
	DialKeepAlive    time.Duration `json:"dialKeepAlive,omitempty"`
	TerminationDelay time.Duration `json:"terminationDelay,omitempty"`
	ProxyProtocol    int           `json:"proxyProtocol,omitempty"`

	// VerifyHint, when set, is added to backend certificate verification failures: the
	// transport comes from annotations whose old controller did not verify, and the hint
	// says so and how to fix it.
	VerifyHint string `json:"verifyHint,omitempty"`

	// Failure makes every backend using the transport fail closed (502): a trust or
	// identity reference that cannot be read never falls back to weaker verification.
	Failure *Failure `json:"failure,omitempty"`
}

// TransportsByID indexes the snapshot's transports by ID.
func (s *Snapshot) TransportsByID() map[string]*Transport {
	m := make(map[string]*Transport, len(s.Transports))
	for _, t := range s.Transports {
		m[t.ID] = t
	}
	return m
}

// ChangedTransports returns the IDs of the transports that differ between two snapshots'
// transports, by ID (one has it and the other not, or another hash); nil when none do. A
// route that calls no backend through one of them (UsesTransport) is compiled or probed
// through the ones as through the others.
func ChangedTransports(a, b map[string]*Transport) map[string]bool {
	var changed map[string]bool
	note := func(id string) {
		if changed == nil {
			changed = map[string]bool{}
		}
		changed[id] = true
	}
	inBoth := 0
	for id, t := range b {
		old, ok := a[id]
		if ok {
			inBoth++
		}
		if !ok || old.Hash != t.Hash {
			note(id)
		}
	}
	if inBoth < len(a) { // some of a's are gone
		for id := range a {
			if _, ok := b[id]; !ok {
				note(id)
			}
		}
	}
	return changed
}

// UsesTransport reports whether r calls a backend through one of the transports of ids:
// one of its backends, or one its middlewares call (MiddlewareBackends).
func (r *HTTPRoute) UsesTransport(ids map[string]bool) bool {
	if len(ids) == 0 {
		return false
	}
	for _, b := range r.Backends {
		if ids[b.Transport] {
			return true
		}
	}
	for _, b := range MiddlewareBackends(r.Middlewares) {
		if ids[b.Transport] {
			return true
		}
	}
	return false
}
