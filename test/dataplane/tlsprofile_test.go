package dataplane

import (
	"crypto/tls"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	bhv1 "github.com/bridgehead/bridgehead/api/v1alpha1"
	"github.com/bridgehead/bridgehead/internal/pki"
	"github.com/bridgehead/bridgehead/internal/translate"
)

// handshake12 connects with TLS 1.2 offering only suite, and returns the suite agreed on.
func handshake12(addr, host string, ca *pki.CA, suite uint16) (uint16, error) {
	conn, err := tls.Dial("tcp", addr, &tls.Config{ServerName: host, RootCAs: ca.Pool(),
		MinVersion: tls.VersionTLS12, MaxVersion: tls.VersionTLS12, CipherSuites: []uint16{suite}})
	if err != nil {
		return 0, err
	}
	defer func() { _ = conn.Close() }()
	return conn.ConnectionState().CipherSuite, nil
}

// The default client-facing TLS policy offers no CBC suite (testssl: LUCKY13); a TLS 1.2
// client that has nothing else is served only with --tls-default-profile=legacy. A
// TLSOption that lists cipherSuites gets exactly those, whatever the profile.
func TestDefaultTLSProfileIsIntermediate(t *testing.T) {
	edgeCA := pki.MustCA("edge CA")
	// RSA, as in the report: the suites at stake are ECDHE-RSA-AES{128,256}-SHA.
	edge := edgeCA.MustIssue("app.example.com", pki.Options{DNSNames: []string{"app.example.com", "cbc.example.com"}, Key: pki.RSA2048})
	b := startHTTPBackend(t)
	cbcOnly := &bhv1.TLSOption{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "cbc-only"},
		Spec: bhv1.TLSOptionSpec{CipherSuites: []bhv1.CipherSuite{"TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA"}}}
	objs := []client.Object{tlsSecret("app-tls", edge), cbcOnly,
		ingressRoute(routeSpec{name: "app", match: "Host(`app.example.com`)", svc: "plain", scheme: "http", secret: "app-tls"}),
		ingressRoute(routeSpec{name: "cbc", match: "Host(`cbc.example.com`)", svc: "plain", scheme: "http", secret: "app-tls", option: "cbc-only"}),
	}
	objs = append(objs, service("plain", "http", addrOf(b))...)
	g := startGateway(t, objs)
	ca := writePEM(t, "ca.pem", edgeCA.PEM)
	openssl := func(host, cipher string) (string, error) {
		return run(t, "Q\n", "openssl", "s_client", "-connect", g.secure, "-servername", host, "-CAfile", ca,
			"-verify_return_error", "-brief", "-tls1_2", "-cipher", cipher)
	}
	const cbc, gcm = tls.TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA, tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256

	if got, err := handshake12(g.secure, "app.example.com", edgeCA, gcm); err != nil || got != gcm {
		t.Fatalf("an AES-GCM TLS 1.2 client: %v, suite %s", err, tls.CipherSuiteName(got))
	}
	if got, err := handshake12(g.secure, "app.example.com", edgeCA, cbc); err == nil {
		t.Fatalf("a CBC-only TLS 1.2 client was served by default, with %s", tls.CipherSuiteName(got))
	}
	if out, err := openssl("app.example.com", "ECDHE-RSA-AES128-SHA:ECDHE-RSA-AES256-SHA"); err == nil {
		t.Fatalf("openssl offering only CBC-SHA1 suites was served by default:\n%s", out)
	}
	// The TLSOption's own list stands, CBC included, and nothing else is added to it.
	if got, err := handshake12(g.secure, "cbc.example.com", edgeCA, tls.TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA); err != nil {
		t.Fatalf("the CBC suite a TLSOption lists was refused: %v (%s)", err, tls.CipherSuiteName(got))
	}
	if _, err := handshake12(g.secure, "cbc.example.com", edgeCA, gcm); err == nil {
		t.Fatal("a suite the TLSOption does not list was accepted")
	}

	g.opts.TLSDefaultProfile = translate.TLSProfileLegacy
	g.apply(objs...)
	if got, err := handshake12(g.secure, "app.example.com", edgeCA, cbc); err != nil || got != cbc {
		t.Fatalf("with the legacy profile, a CBC-only TLS 1.2 client: %v, suite %s", err, tls.CipherSuiteName(got))
	}
	if out, err := openssl("app.example.com", "ECDHE-RSA-AES256-SHA"); err != nil || !strings.Contains(out, "Ciphersuite: ECDHE-RSA-AES256-SHA") {
		t.Fatalf("with the legacy profile, openssl offering ECDHE-RSA-AES256-SHA: %v\n%s", err, out)
	}
	if _, err := handshake12(g.secure, "cbc.example.com", edgeCA, gcm); err == nil {
		t.Fatal("with the legacy profile, a suite the TLSOption does not list was accepted")
	}
}
