package translate

import (
	"slices"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	bhv1 "github.com/bridgehead/bridgehead/api/v1alpha1"
	"github.com/bridgehead/bridgehead/internal/snapshot"
)

// inventory lists the certificates a route depends on, for its status: the edge
// certificate and, per ServersTransport it uses, the roots and client certificates.
type inventory struct {
	items []bhv1.CertificateInfo
}

func (inv *inventory) add(use bhv1.CertificateUse, source snapshot.Ref, subject, fp string, notAfter metav1.Time) {
	if fp == "" {
		return
	}
	// A route lists a handful of certificates: a scan is cheaper than a set per route.
	for _, c := range inv.items {
		if c.Use == use && c.SHA256 == fp {
			return
		}
	}
	inv.items = append(inv.items, bhv1.CertificateInfo{Use: use, Source: source.Kind + "/" + source.Namespace + "/" + source.Name,
		Subject: subject, SHA256: fp, NotAfter: notAfter})
}

func (inv *inventory) certificate(use bhv1.CertificateUse, c *snapshot.Certificate) {
	if c != nil {
		inv.add(use, c.Source, c.Subject, c.Fingerprint, metav1.NewTime(c.NotAfter))
	}
}

func (inv *inventory) transport(t *snapshot.Transport) {
	if t == nil {
		return
	}
	if p := t.RootCAs; p != nil {
		for i, fp := range p.Fingerprints {
			src := p.Sources[0]
			if len(p.Sources) == len(p.Fingerprints) {
				src = p.Sources[i]
			}
			var na metav1.Time
			if i < len(p.NotAfters) {
				na = metav1.NewTime(p.NotAfters[i])
			}
			inv.add(bhv1.CertificateUseUpstreamRoot, src, p.Subjects[i], fp, na)
		}
	}
	for _, c := range t.ClientCertificates {
		inv.certificate(bhv1.CertificateUseUpstreamClient, c)
	}
}

// result is the inventory in a stable order.
func (inv *inventory) result() []bhv1.CertificateInfo {
	slices.SortStableFunc(inv.items, func(a, b bhv1.CertificateInfo) int {
		if c := strings.Compare(string(a.Use), string(b.Use)); c != 0 {
			return c
		}
		return strings.Compare(a.SHA256, b.SHA256)
	})
	return inv.items
}
