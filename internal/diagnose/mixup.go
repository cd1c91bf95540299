package diagnose

import (
	"crypto/x509"
	"fmt"
	"sort"
	"strings"

	bhv1 "github.com/bridgehead/bridgehead/api/v1alpha1"
	"github.com/bridgehead/bridgehead/internal/translate"
)

// The most common end-to-end TLS mistake: to make the gateway trust a backend, a user
// names the backend's certificate Secret in a TLSOption's clientAuth.secretNames. That
// field is about clients: the gateway then demands client certificates from browsers,
// and still does not trust the backend. Trust in a backend is a ServersTransport's
// rootCAs. We recognise the mistake when the Secret a TLSOption trusts holds a serving
// certificate (a leaf with server names, not a CA), or is also some ServersTransport's
// rootCAs.

// mixup is one clientAuth.secretNames entry that looks like upstream trust.
type mixup struct {
	option  nsName
	index   int
	secret  nsName
	mode    bhv1.ClientAuthType
	key     string            // the Secret key the client CAs are read from
	serving *x509.Certificate // a serving certificate found there, if any
	usedBy  []string          // transports that use the Secret as rootCAs
}

// caKeys are the keys translate reads client CAs from, in order (tls.crt last: a client CA
// may be published as a TLS Secret).
var caKeys = []string{"ca.crt", "tls.ca", "tls.crt"}

// findMixups returns, per TLSOption, its clientAuth.secretNames entries that look like
// upstream trust.
func findMixups(in *translate.Inputs) map[nsName][]mixup {
	roots := map[nsName][]string{} // Secret -> "ServersTransport ns/name (spec.rootCAs[0])"
	addRoots := func(kind, ns, name, prefix string, spec *bhv1.UpstreamTLS) {
		for i, r := range spec.RootCAs {
			if r.Secret != nil {
				k := nsName{ns, string(*r.Secret)}
				roots[k] = append(roots[k], fmt.Sprintf("%s %s/%s (%srootCAs[%d])", kind, ns, name, prefix, i))
			}
		}
		for i, s := range spec.RootCAsSecrets { //nolint:staticcheck // Traefik manifests still use the deprecated alias
			k := nsName{ns, string(s)}
			roots[k] = append(roots[k], fmt.Sprintf("%s %s/%s (%srootCAsSecrets[%d])", kind, ns, name, prefix, i))
		}
	}
	for _, st := range in.ServersTransports {
		addRoots(translate.KindServersTransport, st.Namespace, st.Name, "spec.", &st.Spec.UpstreamTLS)
	}
	for _, st := range in.ServersTransportTCPs {
		if st.Spec.TLS != nil {
			addRoots(translate.KindServersTransportTCP, st.Namespace, st.Name, "spec.tls.", st.Spec.TLS)
		}
	}
	secrets := map[nsName]map[string][]byte{}
	for _, s := range in.Secrets {
		secrets[nsName{s.Namespace, s.Name}] = s.Data
	}

	out := map[nsName][]mixup{}
	for _, o := range in.TLSOptions {
		for i, name := range o.Spec.ClientAuth.SecretNames {
			k := nsName{o.Namespace, string(name)}
			data, ok := secrets[k]
			if !ok {
				continue // translate reports it NotFound
			}
			m := mixup{option: nsName{o.Namespace, o.Name}, index: i, secret: k, mode: o.Spec.ClientAuth.ClientAuthType, usedBy: roots[k]}
			for _, key := range caKeys {
				if len(data[key]) == 0 {
					continue
				}
				m.key = key
				certs := parsePEM(data[key])
				if len(certs) > 0 && !anyCA(certs) && isServingCertificate(certs[0]) {
					m.serving = certs[0]
				}
				break
			}
			if m.serving != nil || len(m.usedBy) > 0 {
				sort.Strings(m.usedBy)
				out[m.option] = append(out[m.option], m)
			}
		}
	}
	return out
}

func anyCA(certs []*x509.Certificate) bool {
	for _, c := range certs {
		if c.IsCA {
			return true
		}
	}
	return false
}

// verdict: demanding a certificate from every client breaks the route for browsers;
// asking without requiring only fails to do what was meant.
func (m mixup) verdict() Verdict {
	if m.mode == bhv1.RequireAndVerifyClientCert || m.mode == bhv1.RequireAnyClientCert {
		return Fail
	}
	return Warn
}

func (m mixup) what() string {
	var parts []string
	if c := m.serving; c != nil {
		sans := append([]string(nil), c.DNSNames...)
		for _, ip := range c.IPAddresses {
			sans = append(sans, ip.String())
		}
		parts = append(parts, fmt.Sprintf("holds a serving certificate, not a CA (%s: %q, valid for %s)", m.key, c.Subject.String(), names(sans)))
	}
	if len(m.usedBy) > 0 {
		parts = append(parts, "is the backend trust of "+strings.Join(m.usedBy, " and "))
	}
	return strings.Join(parts, ", and ")
}

func (m mixup) message() string {
	effect := "with clientAuthType " + string(m.mode) + " the gateway demands a client certificate signed by it from every browser and API client, and refuses the TLS handshake of those without one"
	switch m.mode {
	case "", bhv1.NoClientCert:
		effect = "with clientAuthType " + string(orNone(m.mode)) + " it has no effect at all"
	case bhv1.RequestClientCert, bhv1.VerifyClientCertIfGiven:
		effect = "with clientAuthType " + string(m.mode) + " the gateway asks every client for a certificate signed by it"
	}
	return fmt.Sprintf("TLSOption %s: spec.clientAuth.secretNames[%d] names Secret %s, which %s. clientAuth is about clients (mTLS at the edge): %s; it does nothing to make the gateway trust the backend",
		m.option, m.index, m.secret, m.what(), effect)
}

func orNone(t bhv1.ClientAuthType) bhv1.ClientAuthType {
	if t == "" {
		return bhv1.NoClientCert
	}
	return t
}

func (m mixup) fix() string {
	return fmt.Sprintf("to trust the backend, put the CA that signed its certificate in a ServersTransport's spec.rootCAs (a Secret with the CA at key ca.crt) and set serversTransport on the route's service; then remove spec.clientAuth from TLSOption %s, unless you do mean to demand client certificates (then name the Secret of the CA that issues them)",
		m.option)
}

func (m mixup) hop() Hop {
	return Hop{Kind: "TLSOption", Object: m.option.String(), Verdict: m.verdict(), Reason: ReasonClientAuthTrustsServingCertificate,
		Message: m.message(), Fix: m.fix()}
}
