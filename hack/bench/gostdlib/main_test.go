package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bridgehead/bridgehead/internal/pki"
)

const edgeName = "edge.test"

// The peer is a yardstick only if it does the bench's work: it must re-encrypt to the
// origin and verify it by name, as the other proxies do.
func TestForwardsToAVerifiedOrigin(t *testing.T) {
	ca := pki.MustCA("gostdlib test CA")
	dir := t.TempDir()
	originCA := writeFile(t, dir, "origin-ca.crt", ca.PEM)
	edge := ca.MustIssue(edgeName, pki.Options{DNSNames: []string{edgeName}})
	edgeCert := writeFile(t, dir, "edge.crt", edge.CertPEM)
	edgeKey := writeFile(t, dir, "edge.key", edge.KeyPEM)

	origin := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, "origin saw "+r.Host+" over "+tls.VersionName(r.TLS.Version))
	}))
	origin.TLS = &tls.Config{Certificates: []tls.Certificate{
		ca.MustIssue("origin.test", pki.Options{DNSNames: []string{"origin.test"}}).TLS,
	}}
	origin.StartTLS()
	t.Cleanup(origin.Close)
	peer := config{certFile: edgeCert, keyFile: edgeKey, origin: origin.Listener.Addr().String(), originCA: originCA}

	peer.originName = "origin.test"
	status, body := get(t, serve(t, peer, ca.Pool()))
	if status != http.StatusOK || body != "origin saw "+edgeName+" over TLS 1.3" {
		t.Fatalf("through the peer: %d %q, want 200 and the origin's answer for %s", status, body, edgeName)
	}

	peer.originName = "other.test"
	if status, body := get(t, serve(t, peer, ca.Pool())); status != http.StatusBadGateway {
		t.Fatalf("an origin whose certificate does not carry the name: %d %q, want 502", status, body)
	}
}

// The bench's handshake scenario counts full handshakes: the peer must not resume.
func TestEveryConnectionIsAFullHandshake(t *testing.T) {
	ca := pki.MustCA("gostdlib test CA")
	dir := t.TempDir()
	edge := ca.MustIssue(edgeName, pki.Options{DNSNames: []string{edgeName}})
	// Only the edge's handshakes matter here: the peer answers 502 for this origin, whose
	// certificate the CA did not sign.
	origin := httptest.NewTLSServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	t.Cleanup(origin.Close)
	client := serve(t, config{certFile: writeFile(t, dir, "edge.crt", edge.CertPEM),
		keyFile: writeFile(t, dir, "edge.key", edge.KeyPEM), origin: origin.Listener.Addr().String(),
		originCA: writeFile(t, dir, "ca.crt", ca.PEM), originName: "example.com"}, ca.Pool())
	transport := client.Transport.(*http.Transport)
	transport.TLSClientConfig.ClientSessionCache = tls.NewLRUClientSessionCache(4)
	for i := range 2 {
		resp, err := client.Get("https://" + edgeName + "/")
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		_ = resp.Body.Close()
		if resp.TLS.DidResume {
			t.Fatalf("connection %d resumed a TLS session: the bench's handshakes would not all be full", i+1)
		}
		transport.CloseIdleConnections()
	}
}

func TestRefusesAnIncompleteCommandLine(t *testing.T) {
	err := run([]string{"-listen", "127.0.0.1:0"})
	if err == nil || !strings.Contains(err.Error(), "-origin-name") {
		t.Fatalf("run with -listen alone: %v, want the required flags named", err)
	}
}

// serve starts the peer on a loopback port and returns a client that trusts roots and
// connects to the peer whatever the URL's host.
func serve(t *testing.T, c config, roots *x509.CertPool) *http.Client {
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
		TLSClientConfig: &tls.Config{RootCAs: roots},
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

func writeFile(t *testing.T, dir, name string, data []byte) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}
