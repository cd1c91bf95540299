package middleware

import (
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/base64"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/bridgehead/bridgehead/internal/snapshot"
)

const (
	xForwardedTLSClientCert     = "X-Forwarded-Tls-Client-Cert"
	xForwardedTLSClientCertInfo = "X-Forwarded-Tls-Client-Cert-Info"
)

// oidDomainComponent is DC (RFC 4519), which pkix.Name keeps only in Names.
var oidDomainComponent = asn1.ObjectIdentifier{0, 9, 2342, 19200300, 100, 1, 25}

// dnFields selects distinguished-name attributes.
type dnFields struct {
	country, province, locality, organization, organizationalUnit bool
	commonName, serialNumber, domainComponent                     bool
}

func (d *dnFields) set(field string) {
	switch field {
	case "country":
		d.country = true
	case "province":
		d.province = true
	case "locality":
		d.locality = true
	case "organization":
		d.organization = true
	case "organizationalUnit":
		d.organizationalUnit = true
	case "commonName":
		d.commonName = true
	case "serialNumber":
		d.serialNumber = true
	case "domainComponent":
		d.domainComponent = true
	}
}

type passTLSClientCert struct {
	next http.Handler
	pem  bool
	info bool // any Info field selected

	notAfter, notBefore, sans, serialNumber bool
	subject, issuer                         dnFields
}

func newPassTLSClientCert(c *snapshot.PassTLSClientCert, next http.Handler) http.Handler {
	m := &passTLSClientCert{next: next, pem: c.PEM, info: len(c.Info) > 0}
	for _, f := range c.Info {
		switch {
		case f == "notAfter":
			m.notAfter = true
		case f == "notBefore":
			m.notBefore = true
		case f == "sans":
			m.sans = true
		case f == "serialNumber":
			m.serialNumber = true
		case strings.HasPrefix(f, "subject."):
			m.subject.set(f[len("subject."):])
		case strings.HasPrefix(f, "issuer."):
			m.issuer.set(f[len("issuer."):])
		}
	}
	// No early return when nothing is selected: the middleware still strips the headers.
	return m
}

func (m *passTLSClientCert) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	// Whatever the client sent under these names goes, certificate or not: backends
	// trust them as our word. Traefik keeps a client's header when there is no cert.
	stripClientCertHeaders(r.Header)
	if r.TLS != nil && len(r.TLS.PeerCertificates) > 0 {
		if r.Header == nil {
			r.Header = make(http.Header)
		}
		certs := r.TLS.PeerCertificates
		if m.pem {
			r.Header[xForwardedTLSClientCert] = []string{pemValue(certs)}
		}
		if m.info {
			r.Header[xForwardedTLSClientCertInfo] = []string{url.QueryEscape(m.infoValue(certs))}
		}
	}
	m.next.ServeHTTP(w, r)
}

// stripClientCertHeaders deletes our two headers under any spelling a backend might fold
// into the same name: CGI-style stacks (PHP, Django, Rack) map '_' and '-' alike, so
// X_Forwarded_Tls_Client_Cert would otherwise arrive as ours. Only keys of the right
// length are compared, so this costs a map walk and no allocation.
func stripClientCertHeaders(h http.Header) {
	for k := range h {
		if (len(k) == len(xForwardedTLSClientCert) && sameHeaderName(k, xForwardedTLSClientCert)) ||
			(len(k) == len(xForwardedTLSClientCertInfo) && sameHeaderName(k, xForwardedTLSClientCertInfo)) {
			delete(h, k)
		}
	}
}

func sameHeaderName(a, b string) bool {
	for i := 0; i < len(a); i++ {
		x, y := a[i], b[i]
		if x == '_' {
			x = '-'
		}
		if 'A' <= x && x <= 'Z' {
			x += 'a' - 'A'
		}
		if 'A' <= y && y <= 'Z' {
			y += 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}

// pemValue is Traefik v3's format: each certificate's PEM body with the BEGIN/END lines
// and newlines removed, which is exactly the standard base64 of its DER, certificates
// joined by ",". Traefik v2 also URL-escaped it; v3 does not, as base64 is header-safe.
func pemValue(certs []*x509.Certificate) string {
	n := len(certs) - 1
	for _, c := range certs {
		n += base64.StdEncoding.EncodedLen(len(c.Raw))
	}
	buf := make([]byte, 0, n)
	for i, c := range certs {
		if i > 0 {
			buf = append(buf, ',')
		}
		buf = base64.StdEncoding.AppendEncode(buf, c.Raw)
	}
	return string(buf)
}

// infoValue is Traefik's format before escaping: per certificate
// Subject="...";Issuer="...";SerialNumber="...";NB="...";NA="...";SAN="...", fields
// left out when empty, certificates joined by ",".
func (m *passTLSClientCert) infoValue(certs []*x509.Certificate) string {
	var w infoWriter
	for i, c := range certs {
		if i > 0 {
			w.b.WriteByte(',')
		}
		w.sep = false
		w.field("Subject", dnString(&m.subject, &c.Subject))
		w.field("Issuer", dnString(&m.issuer, &c.Issuer))
		if m.serialNumber && c.SerialNumber != nil {
			w.field("SerialNumber", c.SerialNumber.String())
		}
		if m.notBefore {
			w.field("NB", strconv.FormatInt(c.NotBefore.Unix(), 10))
		}
		if m.notAfter {
			w.field("NA", strconv.FormatInt(c.NotAfter.Unix(), 10))
		}
		if m.sans {
			w.field("SAN", sanString(c))
		}
	}
	return w.b.String()
}

type infoWriter struct {
	b   strings.Builder
	sep bool // a field was written for the current certificate
}

// field writes name="value"; an empty value is left out, as Traefik does.
func (w *infoWriter) field(name, value string) {
	if value == "" {
		return
	}
	if w.sep {
		w.b.WriteByte(';')
	}
	w.sep = true
	w.b.WriteString(name)
	w.b.WriteString(`="`)
	w.b.WriteString(value)
	w.b.WriteByte('"')
}

// dnString writes the selected attributes in Traefik's order: DC, C, ST, L, O, OU, SN, CN.
func dnString(sel *dnFields, n *pkix.Name) string {
	var b strings.Builder
	if sel.domainComponent {
		for _, a := range n.Names {
			if s, ok := a.Value.(string); ok && a.Type.Equal(oidDomainComponent) {
				attr(&b, "DC", s)
			}
		}
	}
	if sel.country {
		attrs(&b, "C", n.Country)
	}
	if sel.province {
		attrs(&b, "ST", n.Province)
	}
	if sel.locality {
		attrs(&b, "L", n.Locality)
	}
	if sel.organization {
		attrs(&b, "O", n.Organization)
	}
	if sel.organizationalUnit {
		attrs(&b, "OU", n.OrganizationalUnit)
	}
	if sel.serialNumber {
		attr(&b, "SN", n.SerialNumber)
	}
	if sel.commonName {
		attr(&b, "CN", n.CommonName)
	}
	return b.String()
}

func attrs(b *strings.Builder, key string, values []string) {
	for _, v := range values {
		attr(b, key, v)
	}
}

func attr(b *strings.Builder, key, value string) {
	if value == "" {
		return
	}
	if b.Len() > 0 {
		b.WriteByte(',')
	}
	b.WriteString(key)
	b.WriteByte('=')
	b.WriteString(value)
}

// sanString lists DNS names, e-mail addresses, IPs and URIs, in that order, as Traefik does.
func sanString(c *x509.Certificate) string {
	var b strings.Builder
	for _, s := range c.DNSNames {
		san(&b, s)
	}
	for _, s := range c.EmailAddresses {
		san(&b, s)
	}
	for _, ip := range c.IPAddresses {
		san(&b, ip.String())
	}
	for _, u := range c.URIs {
		san(&b, u.String())
	}
	return b.String()
}

func san(b *strings.Builder, s string) {
	if b.Len() > 0 {
		b.WriteByte(',')
	}
	b.WriteString(s)
}
