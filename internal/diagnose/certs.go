package diagnose

import (
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"net"
	"strings"
	"time"

	"github.com/bridgehead/bridgehead/internal/snapshot"
)

const day = 24 * time.Hour

// stamp formats a certificate time the way conditions do.
func stamp(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// names lists names for a message, or says there are none.
func names(ns []string) string {
	if len(ns) == 0 {
		return "no names"
	}
	return "[" + strings.Join(ns, ", ") + "]"
}

// sanList lists a certificate's SANs for a fact line.
func sanList(sans []string) string {
	if len(sans) == 0 {
		return "none"
	}
	return "[" + strings.Join(sans, ", ") + "]"
}

// describeCertificate is a certificate from a Secret as a fact line.
func describeCertificate(c *snapshot.Certificate) string {
	sans := append(append([]string(nil), c.DNSNames...), c.IPAddresses...)
	return fmt.Sprintf("certificate %q from Secret %s/%s: SANs %s, not after %s",
		c.Subject, c.Source.Namespace, c.Source.Name, sanList(sans), stamp(c.NotAfter))
}

// certificateCovers reports whether a certificate's SANs cover a host (wildcards one label
// deep, as TLS clients apply them; a wildcard host is covered by the same wildcard).
func certificateCovers(dnsNames, ips []string, host string) bool {
	host = strings.TrimSuffix(strings.ToLower(host), ".")
	for _, ip := range ips {
		if ip == host {
			return true
		}
	}
	for _, san := range dnsNames {
		san = strings.TrimSuffix(strings.ToLower(san), ".")
		if san == host {
			return true
		}
		if suffix, ok := strings.CutPrefix(san, "*."); ok && !strings.HasPrefix(host, "*.") {
			if i := strings.IndexByte(host, '.'); i > 0 && host[i+1:] == suffix {
				return true
			}
		}
	}
	return false
}

// sansAccept reports whether presented SANs (DNS names, IPs and URIs as strings) are valid
// for one of the names checked.
func sansAccept(sans, checked []string) bool {
	var dns, ips []string
	for _, s := range sans {
		if net.ParseIP(s) != nil {
			ips = append(ips, s)
		} else if !strings.Contains(s, "://") {
			dns = append(dns, s)
		}
	}
	for _, n := range checked {
		if certificateCovers(dns, ips, n) {
			return true
		}
	}
	return false
}

// serverNameFor suggests the serverName to set for a certificate: its first DNS SAN that
// is not a wildcard, or an IP SAN. Empty when there is none.
func serverNameFor(sans []string) string {
	for _, s := range sans {
		if !strings.HasPrefix(s, "*.") && !strings.Contains(s, "://") && net.ParseIP(s) == nil {
			return s
		}
	}
	for _, s := range sans {
		if net.ParseIP(s) != nil {
			return s
		}
	}
	return ""
}

// leafOf returns the parsed leaf of a snapshot certificate, when it has one.
func leafOf(c *snapshot.Certificate) *x509.Certificate {
	if c == nil || c.Cert == nil {
		return nil
	}
	if c.Cert.Leaf != nil {
		return c.Cert.Leaf
	}
	if len(c.Cert.Certificate) == 0 {
		return nil
	}
	leaf, err := x509.ParseCertificate(c.Cert.Certificate[0])
	if err != nil {
		return nil
	}
	return leaf
}

// parsePEM returns the certificates in a PEM bundle, skipping what does not parse.
func parsePEM(data []byte) []*x509.Certificate {
	var out []*x509.Certificate
	for rest := data; ; {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			return out
		}
		if block.Type != "CERTIFICATE" {
			continue
		}
		if c, err := x509.ParseCertificate(block.Bytes); err == nil {
			out = append(out, c)
		}
	}
}

// isServingCertificate reports a certificate made to identify a server: not a CA, and
// carrying DNS or IP names or the serverAuth usage.
func isServingCertificate(c *x509.Certificate) bool {
	if c.IsCA {
		return false
	}
	if len(c.DNSNames) > 0 || len(c.IPAddresses) > 0 {
		return true
	}
	for _, u := range c.ExtKeyUsage {
		if u == x509.ExtKeyUsageServerAuth {
			return true
		}
	}
	return false
}

// describeRoots lists a transport's roots with the object each came from.
func describeRoots(p *snapshot.CertPool) []string {
	if p == nil {
		return []string{"the system roots"}
	}
	return p.Describe()
}
