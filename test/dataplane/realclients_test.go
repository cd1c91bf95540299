package dataplane

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bridgehead/bridgehead/internal/pki"
)

// tool finds a real client; `make test` installs the Debian packages when missing.
func tool(t *testing.T, name string) string {
	t.Helper()
	path, err := exec.LookPath(name)
	if err != nil {
		t.Fatalf("%s is not installed: run `make test-deps` (make test does it)", name)
	}
	return path
}

func run(t *testing.T, stdin string, name string, args ...string) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, tool(t, name), args...)
	cmd.Stdin = strings.NewReader(stdin)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	return out.String(), err
}

func writePEM(t *testing.T, name string, data []byte) string {
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestCurlThroughEndToEndTLS(t *testing.T) {
	p := newPKI()
	b := tlsBackend(t, p.backend("backend.web.svc"))
	g := startGateway(t, e2e(p, addrOf(b), serversTransport("backend", "backend.web.svc", []string{"backend-ca"}, nil),
		routeSpec{name: "app", match: "Host(`app.example.com`)", svc: "backend", transport: "backend", secret: "app-tls"}))
	_, port, _ := strings.Cut(g.secure, ":")
	ca := writePEM(t, "ca.pem", p.edgeCA.PEM)
	for _, proto := range []string{"--http1.1", "--http2"} {
		out, err := run(t, "", "curl", "-sS", proto, "--cacert", ca, "--resolve", "app.example.com:"+port+":127.0.0.1",
			"-w", "\n%{http_code} %{http_version}", "https://app.example.com:"+port+"/")
		if err != nil {
			t.Fatalf("curl %s: %v\n%s", proto, err, out)
		}
		want := "backend:backend.web.svc\n200 " + map[string]string{"--http1.1": "1.1", "--http2": "2"}[proto]
		if out != want {
			t.Fatalf("curl %s printed %q, want %q", proto, out, want)
		}
	}

	// A broken backend trust shows up as a 502 with the reason in a header curl can see.
	g.apply(e2e(p, addrOf(b), serversTransport("backend", "backend.web.svc", []string{"other-ca"}, nil),
		routeSpec{name: "app", match: "Host(`app.example.com`)", svc: "backend", transport: "backend", secret: "app-tls"})...)
	out, err := run(t, "", "curl", "-sS", "-i", "--cacert", ca, "--resolve", "app.example.com:"+port+":127.0.0.1", "https://app.example.com:"+port+"/")
	if err != nil {
		t.Fatalf("curl: %v\n%s", err, out)
	}
	if !strings.Contains(out, " 502") || !strings.Contains(strings.ToLower(out), "bridgehead-error: casecretnotfound web/other-ca") {
		t.Fatalf("want 502 with Bridgehead-Error CASecretNotFound web/other-ca (rootCAs secret other-ca missing), got:\n%s", out)
	}
}

func TestOpenSSLSeesTheRightCertificateAndMTLS(t *testing.T) {
	p := newPKI()
	clientCA := pki.MustCA("client CA")
	g := mtlsSetup(t, p, clientCA)
	ca := writePEM(t, "ca.pem", p.edgeCA.PEM)
	alice := clientCA.MustIssue("alice", pki.Options{})
	cert, key := writePEM(t, "alice.pem", alice.CertPEM), writePEM(t, "alice.key", alice.KeyPEM)

	out, err := run(t, "Q\n", "openssl", "s_client", "-connect", g.secure, "-servername", "app.example.com", "-CAfile", ca, "-verify_return_error", "-brief")
	if err != nil || !strings.Contains(out, "Verification: OK") || !strings.Contains(out, "Peer certificate: CN = app.example.com") {
		t.Fatalf("openssl s_client to app.example.com: %v\n%s", err, out)
	}

	req := "GET / HTTP/1.1\r\nHost: admin.example.com\r\nConnection: close\r\n\r\n"
	out, err = run(t, req, "openssl", "s_client", "-connect", g.secure, "-servername", "admin.example.com", "-CAfile", ca, "-quiet", "-ign_eof")
	if err == nil && strings.Contains(out, "200 OK") {
		t.Fatalf("admin.example.com answered without a client certificate:\n%s", out)
	}
	out, err = run(t, req, "openssl", "s_client", "-connect", g.secure, "-servername", "admin.example.com", "-CAfile", ca, "-cert", cert, "-key", key, "-quiet", "-ign_eof")
	if err != nil || !strings.Contains(out, "HTTP/1.1 200 OK") {
		t.Fatalf("admin.example.com with alice's certificate: %v\n%s", err, out)
	}
}

// An RSA edge certificate is signed for by OpenSSL's libcrypto (proxy/opensslrsa) when
// the gateway can load it: real openssl clients must accept every signature scheme it
// makes — PSS in TLS 1.3 and 1.2, PKCS #1 v1.5 in TLS 1.2 — and get the backend's answer.
func TestRSAEdgeCertificateSignaturesWithOpenSSLClients(t *testing.T) {
	p := newPKI()
	p.edge = p.edgeCA.MustIssue("app.example.com", pki.Options{DNSNames: []string{"app.example.com"}, Key: pki.RSA2048})
	b := tlsBackend(t, p.backend("backend.web.svc"))
	g := startGateway(t, e2e(p, addrOf(b), serversTransport("backend", "backend.web.svc", []string{"backend-ca"}, nil),
		routeSpec{name: "app", match: "Host(`app.example.com`)", svc: "backend", transport: "backend", secret: "app-tls"}))
	ca := writePEM(t, "ca.pem", p.edgeCA.PEM)
	req := "GET / HTTP/1.1\r\nHost: app.example.com\r\nConnection: close\r\n\r\n"
	for _, c := range []struct{ version, sigalgs string }{
		{"-tls1_3", "rsa_pss_rsae_sha256"},
		{"-tls1_3", "rsa_pss_rsae_sha512"},
		{"-tls1_2", "rsa_pss_rsae_sha384"},
		{"-tls1_2", "RSA+SHA256"},
		{"-tls1_2", "RSA+SHA512"},
	} {
		out, err := run(t, req, "openssl", "s_client", c.version, "-sigalgs", c.sigalgs, "-connect", g.secure,
			"-servername", "app.example.com", "-CAfile", ca, "-verify_return_error", "-ign_eof")
		if err != nil || !strings.Contains(out, "Verification: OK") || !strings.Contains(out, "backend:backend.web.svc") {
			t.Fatalf("openssl s_client %s -sigalgs %s: %v\n%s", c.version, c.sigalgs, err, out)
		}
	}
}

// TestCurlSeesWhyItsCertificateWasRefused: a client without the certificate an mTLS host
// requires is told so by the TLS alert. curl sends its request right behind its TLS 1.3
// Finished; a plain close answered that with a reset, and curl printed "Transport
// endpoint is not connected" or "Connection reset by peer" instead, most of the time.
func TestCurlSeesWhyItsCertificateWasRefused(t *testing.T) {
	p := newPKI()
	g := mtlsSetup(t, p, pki.MustCA("client CA"))
	_, port, _ := strings.Cut(g.secure, ":")
	ca := writePEM(t, "ca.pem", p.edgeCA.PEM)
	for _, proto := range []string{"--http2", "--http1.1"} {
		for range 10 {
			out, err := run(t, "", "curl", "-sS", proto, "--cacert", ca, "--resolve", "admin.example.com:"+port+":127.0.0.1", "https://admin.example.com:"+port+"/")
			if err == nil || !strings.Contains(out, "alert certificate required") {
				t.Fatalf("curl %s without a client certificate: %v\n%s\nwant the TLS alert \"certificate required\"", proto, err, out)
			}
		}
	}
}
