package upstream

import (
	"bufio"
	"context"
	"crypto/tls"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/bridgehead/bridgehead/internal/pki"
	"github.com/bridgehead/bridgehead/internal/snapshot"
	"github.com/bridgehead/bridgehead/proxy/opensslrsa"
)

// tlsAlertRecord is a fatal protocol_version alert: what many TLS servers answer to bytes
// that are not a ClientHello.
var tlsAlertRecord = []byte{0x15, 0x03, 0x01, 0x00, 0x02, 0x02, 0x46}

func TestPlainHTTPBackendOnAnHTTPSBackendIsBackendNotTLS(t *testing.T) {
	srv, _ := startBackend(t, nil, false)
	d := mustFail(t, NewPool(Options{}), nil, backend("https", addrOf(srv), "backend.example"), BackendNotTLS, http.StatusBadGateway)
	if d.Endpoint != addrOf(srv) || !strings.Contains(d.Message, "scheme http") {
		t.Errorf("detail %+v", d)
	}
}

func TestTLSBackendReachedWithPlainHTTPIsBackendExpectsTLS(t *testing.T) {
	ca := pki.MustCA("Backend CA")
	srv, _ := startBackend(t, serving(ca.MustIssue("backend", pki.Options{DNSNames: []string{"backend.example"}})), false)

	t.Run("Go TLS server's 400 page, through the pool", func(t *testing.T) {
		d := mustFail(t, NewPool(Options{}), nil, backend("http", addrOf(srv), ""), BackendExpectsTLS, http.StatusBadGateway)
		if !strings.Contains(d.Message, "scheme https") || d.Endpoint != addrOf(srv) {
			t.Errorf("detail %+v", d)
		}
	})
	t.Run("Go TLS server's 400 page, through CheckResponse", func(t *testing.T) {
		resp := plainGet(t, addrOf(srv))
		defer func() { _ = resp.Body.Close() }()
		if r, status, _ := Classify(CheckResponse(resp)); r != BackendExpectsTLS || status != http.StatusBadGateway {
			t.Fatalf("got %s %d", r, status)
		}
	})
	t.Run("raw listener answering a TLS alert record", func(t *testing.T) {
		addr := rawListener(t, func(c net.Conn) {
			_, _ = bufio.NewReader(c).ReadString('\n') // the request line
			_, _ = c.Write(tlsAlertRecord)
			_ = c.Close()
		})
		mustFail(t, NewPool(Options{}), nil, backend("http", addr, ""), BackendExpectsTLS, http.StatusBadGateway)
		mustFail(t, NewPool(Options{}), nil, backend("h2c", addr, ""), BackendExpectsTLS, http.StatusBadGateway)
	})
	t.Run("nginx's page", func(t *testing.T) {
		nginx := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			w.WriteHeader(http.StatusBadRequest)
			_, _ = io.WriteString(w, "<html><head><title>400 The plain HTTP request was sent to HTTPS port</title></head></html>")
		}))
		t.Cleanup(nginx.Close)
		mustFail(t, NewPool(Options{}), nil, backend("http", addrOf(nginx), ""), BackendExpectsTLS, http.StatusBadGateway)
	})
}

func TestCheckResponseGivesTheBackendsOwn400BodyBackWhole(t *testing.T) {
	page := strings.Repeat("your request was bad; ", 100) // longer than the peek
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusBadRequest)
		_, _ = io.WriteString(w, page)
	}))
	t.Cleanup(srv.Close)
	b := backend("http", addrOf(srv), "")
	resp, err := roundTrip(t.Context(), NewPool(Options{}).For(nil, b), b)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }()
	body, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusBadRequest || string(body) != page {
		t.Fatalf("got %d, %d bytes (%v); want the 400 page intact", resp.StatusCode, len(body), err)
	}
}

func TestClientCertificates(t *testing.T) {
	serverCA, clientCA, strangerCA := pki.MustCA("Backend CA"), pki.MustCA("Client CA"), pki.MustCA("Stranger CA")
	leaf := serverCA.MustIssue("backend", pki.Options{DNSNames: []string{"backend.example"}})
	for _, version := range []uint16{tls.VersionTLS12, tls.VersionTLS13} {
		t.Run(tls.VersionName(version), func(t *testing.T) {
			cfg := serving(leaf)
			cfg.ClientAuth, cfg.ClientCAs, cfg.MaxVersion = tls.RequireAndVerifyClientCert, clientCA.Pool(), version
			srv, seen := startBackend(t, cfg, true)
			b := backend("https", addrOf(srv), "backend.example")

			t.Run("none configured", func(t *testing.T) {
				d := mustFail(t, NewPool(Options{}), trust(serverCA, "backend-ca"), b, ClientCertificateRequired, http.StatusBadGateway)
				if !strings.Contains(d.Message, "certificatesSecrets") {
					t.Errorf("message %q should say to set certificatesSecrets", d.Message)
				}
			})
			// In TLS 1.3 the alert that says so comes after the handshake, then the backend
			// closes: the HTTP/2 connection's failed write must not hide it.
			t.Run("none configured, on 300 new connections", func(t *testing.T) {
				for range 300 {
					resp, err := roundTrip(t.Context(), NewPool(Options{}).For(trust(serverCA, "backend-ca"), b), b)
					if err == nil {
						_ = resp.Body.Close()
					}
					if r, _, d := Classify(err); r != ClientCertificateRequired {
						t.Fatalf("want %s, got %s: %s (%v)", ClientCertificateRequired, r, d.Message, err)
					}
				}
			})
			t.Run("one the backend does not trust", func(t *testing.T) {
				tr := trust(serverCA, "backend-ca")
				tr.ClientCertificates = []*snapshot.Certificate{clientCert(strangerCA.MustIssue("gateway", pki.Options{}))}
				d := mustFail(t, NewPool(Options{}), tr, b, ClientCertificateRequired, http.StatusBadGateway)
				if !strings.Contains(d.Message, "rejected") {
					t.Errorf("message %q should say the certificate was rejected", d.Message)
				}
			})
			t.Run("configured", func(t *testing.T) {
				tr := trust(serverCA, "backend-ca")
				tr.ClientCertificates = []*snapshot.Certificate{clientCert(clientCA.MustIssue("gateway", pki.Options{}))}
				mustServe(t, NewPool(Options{}), tr, b)
				seen.mu.Lock()
				defer seen.mu.Unlock()
				if len(seen.clientCN) != 1 || seen.clientCN[0] != "gateway" {
					t.Fatalf("backend saw client certificates %q", seen.clientCN)
				}
			})
			// An RSA client key prepared by Options.ClientKey (the proxy hands it to
			// OpenSSL) signs the handshake the backend verifies.
			t.Run("RSA, signed through ClientKey", func(t *testing.T) {
				tr := trust(serverCA, "backend-ca")
				tr.ClientCertificates = []*snapshot.Certificate{clientCert(clientCA.MustIssue("gateway-rsa", pki.Options{Key: pki.RSA2048}))}
				var prepared atomic.Int32
				p := NewPool(Options{ClientKey: func(c tls.Certificate) tls.Certificate {
					prepared.Add(1)
					wrapped, err := opensslrsa.Wrap(c)
					if err != nil {
						t.Error(err)
					}
					return wrapped
				}})
				mustServe(t, p, tr, b)
				mustServe(t, p, tr, b)
				if n := prepared.Load(); n != 1 {
					t.Fatalf("ClientKey ran %d times for one transport, want once", n)
				}
				seen.mu.Lock()
				defer seen.mu.Unlock()
				if last := seen.clientCN[len(seen.clientCN)-1]; last != "gateway-rsa" {
					t.Fatalf("backend saw client certificate %q", last)
				}
			})
		})
	}
}

func TestNoCommonVersionOrCipherIsTLSVersionOrCipherMismatch(t *testing.T) {
	ca := pki.MustCA("Backend CA")
	leaf := ca.MustIssue("backend", pki.Options{DNSNames: []string{"backend.example"}})

	t.Run("version", func(t *testing.T) {
		cfg := serving(leaf)
		cfg.MaxVersion = tls.VersionTLS12
		srv, _ := startBackend(t, cfg, false)
		tr := trust(ca, "backend-ca")
		tr.MinVersion = tls.VersionTLS13
		mustFail(t, NewPool(Options{}), tr, backend("https", addrOf(srv), "backend.example"), TLSVersionOrCipherMismatch, http.StatusBadGateway)
	})
	t.Run("cipher suite", func(t *testing.T) {
		// A TLS 1.2 server answers handshake_failure here, as it does for a missing client
		// certificate; it asked for none, so this is the cipher.
		cfg := serving(leaf)
		cfg.MaxVersion, cfg.CipherSuites = tls.VersionTLS12, []uint16{tls.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256}
		srv, _ := startBackend(t, cfg, false)
		tr := trust(ca, "backend-ca")
		tr.CipherSuites = []uint16{tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256}
		mustFail(t, NewPool(Options{}), tr, backend("https", addrOf(srv), "backend.example"), TLSVersionOrCipherMismatch, http.StatusBadGateway)
	})
}

func TestClosedPortIsConnectionRefused(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	_ = ln.Close()
	for _, scheme := range []string{"http", "https", "h2c"} {
		d := mustFail(t, NewPool(Options{}), nil, backend(scheme, addr, "backend.example"), ConnectionRefused, http.StatusBadGateway)
		if d.Endpoint != addr {
			t.Errorf("%s: endpoint %q, want %q", scheme, d.Endpoint, addr)
		}
	}
}

func TestSilentBackendIsTimeout(t *testing.T) {
	addr := rawListener(t, func(c net.Conn) { _, _ = io.Copy(io.Discard, c) }) // reads, never answers

	t.Run("response headers", func(t *testing.T) {
		tr := &snapshot.Transport{ID: "ServersTransport/web/slow", Hash: "h", ResponseHeaderTimeout: 200 * time.Millisecond}
		start := time.Now()
		mustFail(t, NewPool(Options{}), tr, backend("http", addr, ""), Timeout, http.StatusGatewayTimeout)
		if time.Since(start) > 5*time.Second {
			t.Fatalf("took %v", time.Since(start))
		}
	})
	t.Run("handshake", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(t.Context(), 300*time.Millisecond)
		defer cancel()
		mustFailCtx(t, ctx, NewPool(Options{}), nil, backend("https", addr, "backend.example"), Timeout, http.StatusGatewayTimeout)
	})
}

func TestBackendClosingTheConnectionIsConnectionReset(t *testing.T) {
	closing := rawListener(t, func(c net.Conn) { _ = c.Close() })
	resetting := rawListener(t, func(c net.Conn) {
		_ = c.(*net.TCPConn).SetLinger(0) // close with RST
		_, _ = c.Read(make([]byte, 1))
		_ = c.Close()
	})
	for _, addr := range []string{closing, resetting} {
		for _, scheme := range []string{"http", "https"} {
			mustFail(t, NewPool(Options{}), nil, backend(scheme, addr, "backend.example"), ConnectionReset, http.StatusBadGateway)
		}
	}
}

func TestHTTP2(t *testing.T) {
	ca := pki.MustCA("Backend CA")
	leaf := ca.MustIssue("backend", pki.Options{DNSNames: []string{"backend.example"}})
	srv, _ := startBackend(t, serving(leaf), true)
	b := backend("https", addrOf(srv), "backend.example")

	if proto := mustServe(t, NewPool(Options{}), trust(ca, "backend-ca"), b); proto != 2 {
		t.Errorf("HTTP/%d with an h2 backend, want HTTP/2", proto)
	}
	noH2 := trust(ca, "backend-ca")
	noH2.DisableHTTP2, noH2.ReadIdleTimeout, noH2.PingTimeout = true, time.Second, time.Second
	if proto := mustServe(t, NewPool(Options{}), noH2, b); proto != 1 {
		t.Errorf("HTTP/%d with disableHTTP2, want HTTP/1.1", proto)
	}

	t.Run("h2c", func(t *testing.T) {
		s := &seen{}
		h2c := httptest.NewUnstartedServer(http.HandlerFunc(s.handler))
		h2c.Config.Protocols = new(http.Protocols)
		h2c.Config.Protocols.SetHTTP1(true)
		h2c.Config.Protocols.SetUnencryptedHTTP2(true)
		h2c.Start()
		t.Cleanup(h2c.Close)
		tr := &snapshot.Transport{ID: "ServersTransport/web/h2c", Hash: "h", ReadIdleTimeout: time.Second, PingTimeout: time.Second}
		if proto := mustServe(t, NewPool(Options{}), tr, backend("h2c", addrOf(h2c), "")); proto != 2 {
			t.Errorf("h2c answered HTTP/%d", proto)
		}
		s.mu.Lock()
		defer s.mu.Unlock()
		if len(s.proto) != 1 || s.proto[0] != 2 {
			t.Errorf("backend saw %v, want one HTTP/2 request", s.proto)
		}
	})
}

func TestTransportFailureFailsClosedWithoutDialling(t *testing.T) {
	srv, seen := startBackend(t, nil, false)
	var dials atomic.Int32
	p := NewPool(Options{DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
		dials.Add(1)
		return (&net.Dialer{}).DialContext(ctx, network, addr)
	}})
	tr := &snapshot.Transport{ID: "ServersTransport/web/backend", Hash: "h", Failure: &snapshot.Failure{
		Reason: "RootCAsNotFound", Status: http.StatusBadGateway,
		Message: "Secret web/backend-ca does not exist; create it or fix rootCAs",
	}}
	for _, scheme := range []string{"https", "http", "h2c"} {
		for range 3 {
			d := mustFail(t, p, tr, backend(scheme, addrOf(srv), "backend.example"), "RootCAsNotFound", http.StatusBadGateway)
			if d.Message != tr.Failure.Message {
				t.Fatalf("message %q", d.Message)
			}
		}
	}
	if dials.Load() != 0 || seen.newConns.Load() != 0 {
		t.Fatalf("%d dials, %d connections reached the backend; want none", dials.Load(), seen.newConns.Load())
	}
}

// plainGet sends GET http://addr/ with a bare transport, for CheckResponse alone.
func plainGet(t *testing.T, addr string) *http.Response {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, "http://"+addr+"/", nil)
	if err != nil {
		t.Fatal(err)
	}
	tr := &http.Transport{}
	t.Cleanup(tr.CloseIdleConnections)
	resp, err := tr.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	return resp
}
