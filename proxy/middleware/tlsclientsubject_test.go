package middleware

import (
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/bridgehead/bridgehead/internal/snapshot"
)

func TestTLSClientSubject(t *testing.T) {
	alice := &x509.Certificate{Subject: pkix.Name{CommonName: "alice", Organization: []string{"Example"}}}
	for _, tc := range []struct {
		name    string
		pattern string
		state   *tls.ConnectionState
		want    int
	}{
		{"matching verified subject", "CN=(alice|bob)", &tls.ConnectionState{PeerCertificates: []*x509.Certificate{alice}, VerifiedChains: [][]*x509.Certificate{{alice}}}, http.StatusOK},
		{"other subject", "CN=bob", &tls.ConnectionState{PeerCertificates: []*x509.Certificate{alice}, VerifiedChains: [][]*x509.Certificate{{alice}}}, http.StatusForbidden},
		{"unverified certificate", "CN=alice", &tls.ConnectionState{PeerCertificates: []*x509.Certificate{alice}}, http.StatusForbidden},
		{"plain HTTP", "CN=alice", nil, http.StatusForbidden},
		{"pattern that does not compile", "CN=(", &tls.ConnectionState{PeerCertificates: []*x509.Certificate{alice}, VerifiedChains: [][]*x509.Certificate{{alice}}}, http.StatusForbidden},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := Chain([]*snapshot.Middleware{{TLSClientSubject: &snapshot.TLSClientSubject{Pattern: tc.pattern}}}, &capture{})
			r := newReq(http.MethodGet, "/", "example.com")
			r.TLS = tc.state
			w := httptest.NewRecorder()
			h.ServeHTTP(w, r)
			if w.Code != tc.want {
				t.Fatalf("status %d, want %d", w.Code, tc.want)
			}
		})
	}
}
