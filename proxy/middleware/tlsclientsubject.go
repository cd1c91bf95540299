package middleware

import (
	"net/http"
	"regexp"

	"github.com/bridgehead/bridgehead/internal/snapshot"
)

var forbiddenSubjectBody = []byte("Forbidden: client certificate not allowed\n")

type tlsClientSubject struct {
	next    http.Handler
	pattern *regexp.Regexp // nil: the pattern did not compile, so nobody is admitted
}

func newTLSClientSubject(c *snapshot.TLSClientSubject, next http.Handler) http.Handler {
	re, err := regexp.Compile(c.Pattern)
	if err != nil {
		re = nil // translate validates the pattern; if one slips through, fail closed
	}
	return &tlsClientSubject{next: next, pattern: re}
}

// ServeHTTP admits a request whose verified client certificate's subject matches. The
// certificate is the one the TLS handshake verified (a policy requiring or verifying
// client certificates); without one, or on plain HTTP, the answer is 403.
func (m *tlsClientSubject) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if m.pattern == nil || r.TLS == nil || len(r.TLS.VerifiedChains) == 0 || len(r.TLS.PeerCertificates) == 0 ||
		!m.pattern.MatchString(r.TLS.PeerCertificates[0].Subject.String()) {
		writeText(w, http.StatusForbidden, forbiddenSubjectBody)
		return
	}
	m.next.ServeHTTP(w, r)
}
