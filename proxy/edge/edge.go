package edge

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"strings"

	"github.com/bridgehead/bridgehead/internal/snapshot"
)

// Configs is the compiled client-facing TLS of one snapshot.
type Configs struct {
	exact         map[string]*hostConfig // lower-case SNI -> config
	wildcard      map[string]*hostConfig // "example.com" for "*.example.com"
	defaultPolicy *policyConfig
	// fallback serves names no route claims: store certificates, then the default one.
	fallback *tls.Config
}

// hostConfig is a prebuilt TLS config for one host name, or the reason it is refused.
type hostConfig struct {
	config  *tls.Config
	policy  string
	refusal error
}

// policyConfig is a TLS policy compiled into a template config.
type policyConfig struct {
	id       string
	template *tls.Config
	refusal  error
	strict   bool
}

// ticketKeys derives session-ticket keys per policy from a process secret: a ticket
// issued under one policy can never resume a session under another (stricter) one, and
// tickets stay valid across snapshot swaps.
type ticketKeys struct{ secret [32]byte }

func newTicketKeys() *ticketKeys {
	k := &ticketKeys{}
	if _, err := rand.Read(k.secret[:]); err != nil {
		panic("proxy/edge: no randomness for session-ticket keys: " + err.Error())
	}
	return k
}

func (k *ticketKeys) forPolicy(id string) [32]byte {
	mac := hmac.New(sha256.New, k.secret[:])
	mac.Write([]byte("bridgehead session tickets\x00" + id))
	var out [32]byte
	copy(out[:], mac.Sum(nil))
	return out
}

// compile builds every TLS config of a snapshot. defaultCert is served when the
// snapshot names no default certificate.
func compile(s *snapshot.Snapshot, defaultCert *tls.Certificate, served *servedCerts, keys *ticketKeys, debug func(tls.ConnectionState)) *Configs {
	policies := map[string]*policyConfig{}
	for _, p := range s.TLS.Policies {
		policies[p.ID] = compilePolicy(p, keys, debug)
	}
	e := &Configs{exact: map[string]*hostConfig{}, wildcard: map[string]*hostConfig{}, defaultPolicy: policies[s.TLS.DefaultPolicy]}

	gen := served.begin()
	defer gen.done()
	store := make([]tls.Certificate, 0, len(s.TLS.StoreCertificates)+1)
	for _, c := range s.TLS.StoreCertificates {
		store = append(store, gen.get(c))
	}
	if c := s.TLS.DefaultCertificate; c != nil {
		store = append(store, gen.get(c))
	} else {
		store = append(store, *defaultCert)
	}
	e.fallback = withCertificates(e.defaultPolicy.template, store)

	for _, h := range s.TLS.Hosts {
		p := policies[h.Policy]
		hc := &hostConfig{policy: h.Policy}
		switch {
		case h.Failure != nil:
			hc.refusal = fmt.Errorf("host %s is refused: %s", h.Name, h.Failure.Message)
		case p.refusal != nil:
			hc.refusal = p.refusal
		default:
			certs := store
			if h.Certificate != nil {
				certs = []tls.Certificate{gen.get(h.Certificate)}
			}
			hc.config = withCertificates(p.template, certs)
		}
		if suffix, ok := strings.CutPrefix(h.Name, "*."); ok {
			e.wildcard[suffix] = hc
		} else {
			e.exact[h.Name] = hc
		}
	}
	return e
}

// withCertificates clones a policy template with the certificates to serve. With several,
// crypto/tls picks the one that matches the SNI.
func withCertificates(template *tls.Config, certs []tls.Certificate) *tls.Config {
	c := template.Clone()
	c.Certificates = certs
	return c
}

func compilePolicy(p *snapshot.Policy, keys *ticketKeys, debug func(tls.ConnectionState)) *policyConfig {
	pc := &policyConfig{id: p.ID, strict: p.SNIStrict}
	if p.Failure != nil {
		pc.refusal = errors.New(p.Failure.Message)
	}
	suites := p.CipherSuites
	if len(suites) == 0 {
		// Never Go's defaults: they include CBC-SHA1 suites (see IntermediateCipherSuites).
		suites = snapshot.IntermediateCipherSuites()
	}
	c := &tls.Config{
		MinVersion:             p.MinVersion,
		MaxVersion:             p.MaxVersion,
		CipherSuites:           suites,
		CurvePreferences:       p.CurvePreferences,
		NextProtos:             p.ALPNProtocols,
		ClientAuth:             p.ClientAuth,
		SessionTicketsDisabled: p.DisableSessionTickets,
	}
	if p.ClientCAs != nil {
		c.ClientCAs = p.ClientCAs.Pool
	}
	c.SetSessionTicketKeys([][32]byte{keys.forPolicy(p.ID)})
	c.VerifyConnection = verifyClient(p, c.ClientCAs, debug)
	pc.template = c
	return pc
}

// verifyClient enforces the policy's client-certificate mode on every handshake,
// including resumed ones (crypto/tls skips its own checks when it resumes a session).
func verifyClient(p *snapshot.Policy, roots *x509.CertPool, debug func(tls.ConnectionState)) func(tls.ConnectionState) error {
	mode := p.ClientAuth
	return func(cs tls.ConnectionState) error {
		if debug != nil {
			debug(cs)
		}
		certs := cs.PeerCertificates
		if len(certs) == 0 {
			if mode == tls.RequireAnyClientCert || mode == tls.RequireAndVerifyClientCert {
				return fmt.Errorf("client certificate required by TLSOption %s", p.ID)
			}
			return nil
		}
		if mode != tls.VerifyClientCertIfGiven && mode != tls.RequireAndVerifyClientCert {
			return nil
		}
		if roots == nil {
			return fmt.Errorf("TLSOption %s has no client CA to verify against", p.ID)
		}
		inter := x509.NewCertPool()
		for _, c := range certs[1:] {
			inter.AddCert(c)
		}
		_, err := certs[0].Verify(x509.VerifyOptions{Roots: roots, Intermediates: inter, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}})
		if err != nil {
			return fmt.Errorf("client certificate %q rejected by TLSOption %s: %w", certs[0].Subject, p.ID, err)
		}
		return nil
	}
}

// For picks the TLS config for a ClientHello's SNI, and the ID of the TLS policy it was
// built from: exact host, then wildcard, then the default policy with store and default
// certificates (unless that policy is SNI-strict).
func (e *Configs) For(sni string) (*tls.Config, string, error) {
	name := NormalizeHost(sni)
	if hc, ok := e.exact[name]; ok {
		return hc.config, hc.policy, hc.refusal
	}
	if i := strings.IndexByte(name, '.'); i > 0 {
		if hc, ok := e.wildcard[name[i+1:]]; ok {
			return hc.config, hc.policy, hc.refusal
		}
	}
	dp := e.defaultPolicy
	if dp.refusal != nil {
		return nil, dp.id, dp.refusal
	}
	if dp.strict {
		if name == "" {
			return nil, dp.id, errors.New("no SNI and the default TLSOption is sniStrict")
		}
		return nil, dp.id, fmt.Errorf("unknown SNI %q and the default TLSOption is sniStrict", name)
	}
	return e.fallback, dp.id, nil
}

// PolicyFor is the ID of the TLS policy a connection for a host name is negotiated
// under (whether or not that handshake would succeed).
func (e *Configs) PolicyFor(host string) string {
	_, id, _ := e.For(host)
	return id
}

// NormalizeHost lower-cases a host name and drops a trailing dot, without allocating
// when it is already in that form. SNI and the router's Host matching both use it, so the
// two agree on what a name is.
func NormalizeHost(h string) string {
	h = strings.TrimSuffix(h, ".")
	for i := 0; i < len(h); i++ {
		if c := h[i]; c >= 'A' && c <= 'Z' {
			return strings.ToLower(h)
		}
	}
	return h
}
