package translate

import (
	"fmt"
	"strings"

	bhv1 "github.com/bridgehead/bridgehead/api/v1alpha1"
	"github.com/bridgehead/bridgehead/internal/snapshot"
)

// DefaultTLSStoreName is the only TLSStore name used, as in Traefik.
const DefaultTLSStoreName = "default"

// buildTLSStore reads the default TLSStore's certificates. As in Traefik, a TLSStore named
// default in any namespace is the default store; stores of other names are not used.
// Several defaults:
//
//   - one in the gateway's namespace wins (Bridgehead's rule, as for TLSOption): the others
//     are not used, and are not Ready naming it;
//   - otherwise none wins, as in Traefik, which drops the default store when several
//     namespaces define one: no defaultCertificate is used (the generated certificate
//     answers names no route covers), while every store's spec.certificates are served.
//     A store whose defaultCertificate is so dropped is not Ready naming the others.
func (t *translator) buildTLSStore() {
	var defaults []*bhv1.TLSStore
	for _, s := range sortedByName(t.in.TLSStores) {
		rep := t.reportFor(KindTLSStore, &s.ObjectMeta)
		rep.total = 1
		if t.refuseUnsupported(rep, "TLSStore "+s.Namespace+"/"+s.Name) {
			continue
		}
		if s.Name != DefaultTLSStoreName {
			rep.invalidf(bhv1.ReasonUnsupportedValue, fmt.Sprintf(
				"TLSStore %s/%s is not used: only a TLSStore named %q is (in any namespace, as in Traefik); rename it to %q or move its certificates to that store",
				s.Namespace, s.Name, DefaultTLSStoreName, DefaultTLSStoreName))
			continue
		}
		defaults = append(defaults, s)
	}
	var winner *bhv1.TLSStore
	for _, s := range defaults {
		if s.Namespace == t.opts.GatewayNamespace {
			winner = s
		}
	}
	if winner == nil && len(defaults) == 1 {
		winner = defaults[0]
	}
	var ids []string
	for _, s := range defaults {
		ids = append(ids, nsName{s.Namespace, s.Name}.String())
	}
	for _, s := range defaults {
		rep := t.reportFor(KindTLSStore, &s.ObjectMeta)
		switch {
		case winner == s:
			t.storeCertificates(rep, s, true)
		case winner != nil:
			rep.notReadyf(bhv1.ReasonTLSStoreConflict, fmt.Sprintf(
				"TLSStore %s/%s is not used: TLSStore %s, in the gateway's namespace, is the default store and wins over every other TLSStore named default; move this store's certificates into %s and delete it",
				s.Namespace, s.Name, nsName{winner.Namespace, winner.Name}, nsName{winner.Namespace, winner.Name}))
		default:
			t.storeCertificates(rep, s, false)
			msg := fmt.Sprintf("several TLSStores are named default (%s) and none is in the gateway's namespace %s: as in Traefik, no default store is chosen, so no spec.defaultCertificate is used (the generated certificate answers names no route covers), while every store's spec.certificates are served; keep one TLSStore named default, or put one in namespace %s (it wins)",
				strings.Join(ids, ", "), t.opts.GatewayNamespace, t.opts.GatewayNamespace)
			if s.Spec.DefaultCertificate != nil {
				rep.notReadyf(bhv1.ReasonTLSStoreConflict, "spec.defaultCertificate is not used: "+msg)
			} else {
				rep.warn(bhv1.ReasonTLSStoreConflict, msg)
			}
		}
	}
}

// storeCertificates serves a default TLSStore's certificates, and its defaultCertificate
// when withDefault is set.
func (t *translator) storeCertificates(rep *report, s *bhv1.TLSStore, withDefault bool) {
	if d := s.Spec.DefaultCertificate; d != nil && withDefault {
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

// checkExpiry warns about a certificate that has expired or expires within the warning window.
func (t *translator) checkExpiry(rep *report, field string, c *snapshot.Certificate) {
	if t.opts.Now.IsZero() {
		return
	}
	if t.rec != nil {
		t.rec.dependsOn(c.NotAfter, t.opts)
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
