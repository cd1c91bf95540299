package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

const edgeName = "edge.test"

// The peer is a yardstick only if it does the bench's work: it must re-encrypt to the
// origin and verify it by name, as the other proxies do.
func TestForwardsToAVerifiedOrigin(t *testing.T) {
	origin := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, "origin saw "+r.Host+" over TLS "+tls.VersionName(r.TLS.Version))
	}))
	t.Cleanup(origin.Close)
	dir := t.TempDir()
	originCA := writePEM(t, dir, "origin-ca.crt", "CERTIFICATE", origin.Certificate().Raw)
	edgeCert, edgeKey, edgePool := edgeCertificate(t, dir)

	// httptest's certificate names example.com.
	client := serve(t, config{certFile: edgeCert, keyFile: edgeKey,
		origin: origin.Listener.Addr().String(), originCA: originCA, originName: "example.com"}, edgePool)
	status, body := get(t, client)
	if status != http.StatusOK || body != "origin saw "+edgeName+" over TLS TLS 1.3" {
		t.Fatalf("through the peer: %d %q, want 200 and the origin's answer for %s", status, body, edgeName)
	}

	client = serve(t, config{certFile: edgeCert, keyFile: edgeKey,
		origin: origin.Listener.Addr().String(), originCA: originCA, originName: "other.example"}, edgePool)
	if status, body := get(t, client); status != http.StatusBadGateway {
		t.Fatalf("an origin whose certificate does not carry the name: %d %q, want 502", status, body)
	}
}

func TestRefusesAnIncompleteCommandLine(t *testing.T) {
	err := run([]string{"-listen", "127.0.0.1:0"})
	if err == nil || !strings.Contains(err.Error(), "-origin-name") {
		t.Fatalf("run with -listen alone: %v, want the required flags named", err)
	}
}

// serve starts the peer on a loopback port and returns a client that trusts its edge
// certificate and connects to it whatever the URL's host.
func serve(t *testing.T, c config, edgePool *x509.CertPool) *http.Client {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	c.listen = ln.Addr().String()
	server, err := newServer(c)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- server.ServeTLS(ln, "", "") }()
	t.Cleanup(func() {
		_ = server.Close()
		if err := <-done; !errors.Is(err, http.ErrServerClosed) {
			t.Errorf("serving: %v", err)
		}
	})
	dial := &net.Dialer{Timeout: 5 * time.Second}
	transport := &http.Transport{
		TLSClientConfig: &tls.Config{RootCAs: edgePool},
		DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
			return dial.DialContext(ctx, network, c.listen)
		},
	}
	t.Cleanup(transport.CloseIdleConnections)
	return &http.Client{Transport: transport, Timeout: 10 * time.Second}
}

func get(t *testing.T, client *http.Client) (int, string) {
	t.Helper()
	resp, err := client.Get("https://" + edgeName + "/")
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(body)
}

// edgeCertificate writes a self-signed certificate and key for edgeName.
func edgeCertificate(t *testing.T, dir string) (certFile, keyFile string, pool *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: edgeName},
		DNSNames:              []string{edgeName},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	pool = x509.NewCertPool()
	pool.AddCert(cert)
	return writePEM(t, dir, "edge.crt", "CERTIFICATE", der), writePEM(t, dir, "edge.key", "PRIVATE KEY", keyDER), pool
}

func writePEM(t *testing.T, dir, name, kind string, der []byte) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: kind, Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}
