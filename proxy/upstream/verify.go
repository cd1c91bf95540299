package upstream

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"strings"
	"time"

	"github.com/bridgehead/bridgehead/internal/snapshot"
)

// verifier checks a backend's certificate the way the ServersTransport asks. crypto/tls
// alone checks one name (ServerName); a backend may legitimately be reached by any of its
// Service's names, so we verify in VerifyConnection, which also runs on resumed sessions.
type verifier struct {
	roots     *x509.CertPool // nil: the system roots
	rootNames []string
	names     []string // accepted names; empty means the server name of the connection
	peerSANs  []string // exact DNS or IP pins
	peerDNS   []string // DNS pins matched as hostname verification does
	peerURIs  []string // URI pins, case-insensitive
	peerURI   string
	// pinsOnly: the pins replace the name check (Transport.PinsReplaceNames).
	pinsOnly bool
}

func newVerifier(t *snapshot.Transport, names []string) *verifier {
	v := &verifier{names: names, rootNames: describeRoots(t)}
	if t != nil {
		if t.RootCAs != nil {
			v.roots = t.RootCAs.Pool
		}
		v.peerSANs, v.peerURI = t.PeerCertSANs, t.PeerCertURI
		v.peerDNS, v.peerURIs = t.PeerCertDNSNames, t.PeerCertURIs
		v.pinsOnly = t.PinsReplaceNames && len(v.pins()) > 0
	}
	return v
}

// describeRoots lists the trusted roots for a status message.
func describeRoots(t *snapshot.Transport) []string {
	if t == nil || t.RootCAs == nil {
		return []string{"system roots"}
	}
	return t.RootCAs.Describe()
}

// verify is the tls.Config.VerifyConnection hook. It returns *Error with the reason and
// what the backend presented, so the status can show the certificate next to our trust.
func (v *verifier) verify(cs tls.ConnectionState) error {
	names := v.names
	if len(names) == 0 && cs.ServerName != "" {
		names = []string{cs.ServerName}
	}
	fail := func(r Reason, d Detail, err error) error {
		return &Error{Reason: r, Detail: d, Err: err}
	}
	if len(cs.PeerCertificates) == 0 {
		d := Detail{NamesChecked: names, Roots: v.rootNames,
			Message: "the backend presented no certificate; configure a serving certificate on the backend"}
		return fail(UnknownAuthority, d, errors.New("no peer certificate"))
	}
	leaf := cs.PeerCertificates[0]
	d := Detail{
		Subject: leaf.Subject.String(), Issuer: leaf.Issuer.String(), SANs: sans(leaf),
		NotAfter: leaf.NotAfter, NamesChecked: names, Roots: v.rootNames,
	}

	inter := x509.NewCertPool()
	for _, c := range cs.PeerCertificates[1:] {
		inter.AddCert(c)
	}
	_, err := leaf.Verify(x509.VerifyOptions{Roots: v.roots, Intermediates: inter})
	var invErr x509.CertificateInvalidError
	switch {
	case errors.As(err, &invErr) && invErr.Reason == x509.Expired:
		now := time.Now()
		c := invErr.Cert
		if now.Before(c.NotBefore) {
			d.Message = fmt.Sprintf("the backend's certificate %s is not valid before %s; check the backend's certificate and the clocks",
				c.Subject, c.NotBefore.UTC().Format(time.RFC3339))
		} else {
			d.Message = fmt.Sprintf("the backend's certificate %s expired at %s; renew it",
				c.Subject, c.NotAfter.UTC().Format(time.RFC3339))
		}
		return fail(CertificateExpired, d, err)
	case err != nil:
		d.Message = v.authorityMessage(d, err)
		return fail(UnknownAuthority, d, err)
	}

	if !v.pinsOnly && !anyName(leaf, names) {
		d.Message = fmt.Sprintf("the backend's certificate is valid for %s, not for any of the names checked (%s); set serverName on the ServersTransport to one of the certificate's names, or fix the certificate",
			bracketed(d.SANs), bracketed(names))
		return fail(NameMismatch, d, x509.HostnameError{Certificate: leaf, Host: strings.Join(names, ",")})
	}
	if pins := v.pins(); len(pins) > 0 && !anyPinnedSAN(leaf, v.peerSANs) && !anyName(leaf, v.peerDNS) && !anyURI(leaf, v.peerURIs) {
		d.Message = fmt.Sprintf("the backend's certificate (SANs %s) has none of the SANs pinned by peerCertSANs (%s)",
			bracketed(d.SANs), bracketed(pins))
		if v.pinsOnly {
			// Only a BackendTLSPolicy's subjectAltNames set pinsOnly.
			d.Message = fmt.Sprintf("the backend's certificate (SANs %s) has none of the subjectAltNames the BackendTLSPolicy requires (%s); fix the certificate or the policy's subjectAltNames",
				bracketed(d.SANs), bracketed(pins))
		}
		return fail(NameMismatch, d, errors.New("no pinned SAN"))
	}
	if v.peerURI != "" && !hasURI(leaf, v.peerURI) {
		d.Message = fmt.Sprintf("the backend's certificate (SANs %s) does not carry the URI SAN %s required by peerCertURI",
			bracketed(d.SANs), v.peerURI)
		return fail(NameMismatch, d, errors.New("pinned URI SAN missing"))
	}
	return nil
}

func (v *verifier) authorityMessage(d Detail, err error) string {
	var ua x509.UnknownAuthorityError
	if !errors.As(err, &ua) {
		return fmt.Sprintf("the backend's certificate chain is not valid (%v); fix the chain the backend serves", err)
	}
	if v.roots == nil {
		return fmt.Sprintf("the backend's certificate is signed by %s, which is not among the system roots; set rootCAs on a ServersTransport to trust a private CA", d.Issuer)
	}
	return fmt.Sprintf("the backend's certificate is signed by %s, which is not among the trusted roots (%s); add its CA to the ServersTransport's rootCAs",
		d.Issuer, strings.Join(d.Roots, ", "))
}

// anyName accepts the certificate when it is valid for one of names (wildcards and IP
// SANs included, as VerifyHostname applies them).
func anyName(leaf *x509.Certificate, names []string) bool {
	for _, n := range names {
		if leaf.VerifyHostname(n) == nil {
			return true
		}
	}
	return false
}

// anyPinnedSAN is an exact match: a pin names an identity, so wildcards do not stretch it.
func anyPinnedSAN(leaf *x509.Certificate, pins []string) bool {
	for _, p := range pins {
		if ip := net.ParseIP(p); ip != nil {
			for _, have := range leaf.IPAddresses {
				if have.Equal(ip) {
					return true
				}
			}
			continue
		}
		for _, have := range leaf.DNSNames {
			if strings.EqualFold(strings.TrimSuffix(p, "."), have) {
				return true
			}
		}
	}
	return false
}

// pins lists every peerCertSANs entry, for messages.
func (v *verifier) pins() []string {
	out := append([]string(nil), v.peerSANs...)
	for _, d := range v.peerDNS {
		out = append(out, "DNSName "+d)
	}
	for _, u := range v.peerURIs {
		out = append(out, "URI "+u)
	}
	return out
}

// anyURI is Traefik's URI pin: a URI SAN equal to one of uris, ignoring case.
func anyURI(leaf *x509.Certificate, uris []string) bool {
	for _, want := range uris {
		for _, u := range leaf.URIs {
			if strings.EqualFold(u.String(), want) {
				return true
			}
		}
	}
	return false
}

func hasURI(leaf *x509.Certificate, uri string) bool {
	for _, u := range leaf.URIs {
		if u.String() == uri {
			return true
		}
	}
	return false
}

func sans(c *x509.Certificate) []string {
	out := append([]string(nil), c.DNSNames...)
	for _, ip := range c.IPAddresses {
		out = append(out, ip.String())
	}
	for _, u := range c.URIs {
		out = append(out, u.String())
	}
	return out
}

func bracketed(s []string) string {
	if len(s) == 0 {
		return "no names"
	}
	return "[" + strings.Join(s, ", ") + "]"
}
