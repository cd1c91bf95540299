package upstream

import (
	"context"
	"crypto/tls"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/bridgehead/bridgehead/internal/pki"
	"github.com/bridgehead/bridgehead/internal/snapshot"
)

// seen is what a test backend observed.
type seen struct {
	mu       sync.Mutex
	sni      []string
	proto    []int
	clientCN []string
	resumed  []bool
	newConns atomic.Int32
	closed   atomic.Int32
}

func (s *seen) handler(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.proto = append(s.proto, r.ProtoMajor)
	if r.TLS != nil {
		s.sni = append(s.sni, r.TLS.ServerName)
		s.resumed = append(s.resumed, r.TLS.DidResume)
		if len(r.TLS.PeerCertificates) > 0 {
			s.clientCN = append(s.clientCN, r.TLS.PeerCertificates[0].Subject.CommonName)
		}
	}
	s.mu.Unlock()
	_, _ = io.WriteString(w, "ok")
}

func (s *seen) connState(_ net.Conn, st http.ConnState) {
	switch st {
	case http.StateNew:
		s.newConns.Add(1)
	case http.StateClosed, http.StateHijacked:
		s.closed.Add(1)
	}
}

func (s *seen) lastSNI() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.sni) == 0 {
		return ""
	}
	return s.sni[len(s.sni)-1]
}

// startBackend starts a real backend: TLS with cfg (HTTP/2 offered when h2), or plain
// HTTP when cfg is nil.
func startBackend(t *testing.T, cfg *tls.Config, h2 bool) (*httptest.Server, *seen) {
	t.Helper()
	s := &seen{}
	srv := httptest.NewUnstartedServer(http.HandlerFunc(s.handler))
	srv.Config.ConnState = s.connState
	srv.Config.ErrorLog = discardLog()
	if cfg == nil {
		srv.Start()
	} else {
		srv.TLS = cfg
		srv.EnableHTTP2 = h2
		srv.StartTLS()
	}
	t.Cleanup(srv.Close)
	return srv, s
}

// serving is a TLS server config presenting leaf.
func serving(leaf *pki.Leaf) *tls.Config {
	return &tls.Config{Certificates: []tls.Certificate{leaf.TLS}}
}

// trust is a ServersTransport trusting ca, read from Secret web/<secret>.
func trust(ca *pki.CA, secret string) *snapshot.Transport {
	return &snapshot.Transport{
		ID: "ServersTransport/web/backend", Source: snapshot.Ref{Kind: "ServersTransport", Namespace: "web", Name: "backend"},
		Hash: "h1",
		RootCAs: &snapshot.CertPool{
			Sources:  []snapshot.Ref{{Kind: "Secret", Namespace: "web", Name: secret}},
			Subjects: []string{ca.Cert.Subject.String()},
			Pool:     ca.Pool(),
		},
	}
}

func clientCert(leaf *pki.Leaf) *snapshot.Certificate {
	return &snapshot.Certificate{
		Source:  snapshot.Ref{Kind: "Secret", Namespace: "web", Name: "client"},
		Subject: leaf.Cert.Subject.String(), Cert: &leaf.TLS,
	}
}

func backend(scheme, addr, serverName string, verifyNames ...string) *snapshot.Backend {
	return &snapshot.Backend{
		Service: snapshot.Ref{Kind: "Service", Namespace: "web", Name: "backend"}, Port: "443",
		Scheme: scheme, Weight: 1, Transport: "ServersTransport/web/backend",
		ServerName: serverName, VerifyNames: verifyNames,
		Endpoints: []snapshot.Endpoint{{Address: addr, Name: "backend-0"}},
	}
}

func addrOf(srv *httptest.Server) string { return srv.Listener.Addr().String() }

// roundTrip sends GET scheme://addr/ through rt, as the reverse proxy does.
func roundTrip(ctx context.Context, rt http.RoundTripper, b *snapshot.Backend) (*http.Response, error) {
	scheme := "http"
	if b.Scheme == "https" {
		scheme = "https"
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, scheme+"://"+b.Endpoints[0].Address+"/", nil)
	if err != nil {
		return nil, err
	}
	return rt.RoundTrip(req)
}

// mustServe asserts a 200 from the backend and returns the response's protocol major.
func mustServe(t *testing.T, p *Pool, tr *snapshot.Transport, b *snapshot.Backend) int {
	t.Helper()
	resp, err := roundTrip(t.Context(), p.For(tr, b), b)
	if err != nil {
		r, status, d := Classify(err)
		t.Fatalf("want 200, got %s %d: %s (%v)", r, status, d.Message, err)
	}
	defer func() { _ = resp.Body.Close() }()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK || string(body) != "ok" {
		t.Fatalf("want 200 ok, got %d %q", resp.StatusCode, body)
	}
	return resp.ProtoMajor
}

// mustFail asserts the request fails with reason and status, and returns the detail.
func mustFail(t *testing.T, p *Pool, tr *snapshot.Transport, b *snapshot.Backend, reason Reason, status int) Detail {
	t.Helper()
	return mustFailCtx(t, t.Context(), p, tr, b, reason, status)
}

func mustFailCtx(t *testing.T, ctx context.Context, p *Pool, tr *snapshot.Transport, b *snapshot.Backend, reason Reason, status int) Detail {
	t.Helper()
	resp, err := roundTrip(ctx, p.For(tr, b), b)
	if err == nil {
		_ = resp.Body.Close()
		t.Fatalf("want %s, got %d", reason, resp.StatusCode)
	}
	r, st, d := Classify(err)
	if r != reason || st != status {
		t.Fatalf("want %s %d, got %s %d: %s (%v)", reason, status, r, st, d.Message, err)
	}
	if d.Message == "" {
		t.Errorf("%s: empty message", r)
	}
	return d
}

// rawListener accepts connections and hands each to serve; it closes what it accepted
// when the test ends, so background handshakes finish.
func rawListener(t *testing.T, serve func(net.Conn)) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var conns []net.Conn
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
			go serve(c)
		}
	}()
	t.Cleanup(func() {
		_ = ln.Close()
		<-done
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			_ = c.Close()
		}
	})
	return ln.Addr().String()
}

func contains(list []string, want string) bool {
	for _, s := range list {
		if strings.Contains(s, want) {
			return true
		}
	}
	return false
}

// discardLog silences the backends' expected handshake errors.
func discardLog() *log.Logger { return log.New(io.Discard, "", 0) }
