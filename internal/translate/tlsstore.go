package translate

import (
	"fmt"

	bhv1 "github.com/bridgehead/bridgehead/api/v1alpha1"
	"github.com/bridgehead/bridgehead/internal/snapshot"
)

// DefaultTLSStoreName is the only TLSStore used, as in Traefik.
const DefaultTLSStoreName = "default"

// buildTLSStore reads the default TLSStore's certificates.
func (t *translator) buildTLSStore() {
	for _, s := range sortedByName(t.in.TLSStores) {
		rep := t.reportFor(KindTLSStore, &s.ObjectMeta)
		rep.total = 1
		if t.refuseUnsupported(rep, "TLSStore "+s.Namespace+"/"+s.Name) {
			continue
		}
		if s.Name != DefaultTLSStoreName || s.Namespace != t.opts.GatewayNamespace {
			rep.invalidf(bhv1.ReasonUnsupportedValue, fmt.Sprintf(
				"TLSStore %s/%s is not used: only the TLSStore named %q in the gateway's namespace %s is; move its certificates there",
				s.Namespace, s.Name, DefaultTLSStoreName, t.opts.GatewayNamespace))
			continue
		}
		if d := s.Spec.DefaultCertificate; d != nil {
			r := t.certificate(rep, s.Namespace, string(d.SecretName))
			if r.problem != nil {
				rep.refError(r.problem.reason, fmt.Sprintf("TLSStore %s/%s: spec.defaultCertificate: %s; a generated self-signed certificate is served meanwhile", s.Namespace, s.Name, r.problem.message))
			} else {
				t.snap.TLS.DefaultCertificate = r.cert
				t.checkExpiry(rep, "spec.defaultCertificate", r.cert)
			}
		}
		for i, c := range s.Spec.Certificates {
			r := t.certificate(rep, s.Namespace, string(c.SecretName))
			if r.problem != nil {
				rep.refError(r.problem.reason, fmt.Sprintf("TLSStore %s/%s: spec.certificates[%d]: %s", s.Namespace, s.Name, i, r.problem.message))
				continue
			}
			t.snap.TLS.StoreCertificates = append(t.snap.TLS.StoreCertificates, r.cert)
			t.checkExpiry(rep, fmt.Sprintf("spec.certificates[%d]", i), r.cert)
		}
		rep.served = 1
	}
}

// checkExpiry warns about a certificate that has expired or expires within the warning window.
func (t *translator) checkExpiry(rep *report, field string, c *snapshot.Certificate) {
	if t.opts.Now.IsZero() {
		return
	}
	switch left := c.NotAfter.Sub(t.opts.Now); {
	case left <= 0:
		rep.warn(bhv1.ReasonCertificateExpired, fmt.Sprintf("%s: certificate %q from %s expired at %s; clients will refuse it: renew the Secret",
			field, c.Subject, c.Source, c.NotAfter.Format("2006-01-02T15:04:05Z")))
	case t.opts.ExpiryWarning > 0 && left < t.opts.ExpiryWarning:
		rep.warn(bhv1.ReasonCertificateExpiringSoon, fmt.Sprintf("%s: certificate %q from %s expires at %s; renew it before then",
			field, c.Subject, c.Source, c.NotAfter.Format("2006-01-02T15:04:05Z")))
	}
}
