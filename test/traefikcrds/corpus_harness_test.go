package traefikcrds

import (
	"context"
	"crypto/md5" //nolint:gosec // htdigest files are MD5 by definition
	"crypto/tls"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/bridgehead/bridgehead/internal/htpasswd"
	"github.com/bridgehead/bridgehead/internal/pki"
)

// The harness: what every case may name without creating it (namespace default) —
// backends on loopback with their Services and EndpointSlices, and the Secrets.

// corpusNS is the namespace of every case and of the harness's objects.
const corpusNS = "default"

// Names of the harness's backends, as the Services name them and as they say who answered.
const (
	backendWhoami    = "whoami"
	backendWhoamiB   = "whoami-b"
	backendWhoamiTLS = "whoami-tls"
	backendTCPEcho   = "tcp-echo"
	backendUDPEcho   = "udp-echo"
)

// answeredByHeader is the response header each HTTP backend sets to its name, so that the
// runner knows who answered any response (JSON or not): no header, the gateway answered.
const answeredByHeader = "X-Corpus-Backend"

// corpusPKI is the certificates of the harness.
type corpusPKI struct {
	edgeCA, backendCA, clientCA, rogueCA *pki.CA
	edge, whoamiTLS, gatewayClient       *pki.Leaf
	goodClient, badClient                *pki.Leaf
}

func newCorpusPKI() *corpusPKI {
	p := &corpusPKI{edgeCA: pki.MustCA("corpus edge CA"), backendCA: pki.MustCA("corpus backend CA"),
		clientCA: pki.MustCA("corpus client CA"), rogueCA: pki.MustCA("corpus rogue CA")}
	p.edge = p.edgeCA.MustIssue("example.test", pki.Options{DNSNames: []string{"*.example.test", "example.test"}})
	p.whoamiTLS = p.backendCA.MustIssue("whoami-tls.default.svc", pki.Options{DNSNames: []string{"whoami-tls.default.svc"}})
	p.gatewayClient = p.backendCA.MustIssue("bridgehead-gateway", pki.Options{})
	p.goodClient = p.clientCA.MustIssue("alice", pki.Options{})
	p.badClient = p.rogueCA.MustIssue("mallory", pki.Options{})
	return p
}

// harness is the backends and the PKI, shared by every case of a run.
type harness struct {
	pki *corpusPKI
	// addrs are the backends' loopback addresses by name.
	addrs map[string]string
	// objects is the YAML stream of the harness's Secrets, Services and EndpointSlices, with
	// the backends' loopback addresses in the EndpointSlices (folder mode).
	objects []byte
	// clusterObjects is the same with the addresses of clusterAddrs (an API server refuses
	// loopback addresses in EndpointSlices); clusterDial maps them back to loopback.
	clusterObjects []byte
	clusterDial    map[string]string
}

// clusterAddrs are the addresses the EndpointSlices name in API server mode: TEST-NET-1
// (RFC 5737), never dialed — the gateway's dialer maps each to its loopback backend and
// refuses any other.
var clusterAddrs = map[string]string{
	backendWhoami: "192.0.2.10", backendWhoamiB: "192.0.2.11", backendWhoamiTLS: "192.0.2.12",
	backendTCPEcho: "192.0.2.13", backendUDPEcho: "192.0.2.14",
}

// startHarness starts the backends; they stop when the test ends.
func startHarness(t *testing.T) *harness {
	t.Helper()
	h := &harness{pki: newCorpusPKI(), addrs: map[string]string{}}
	h.addrs[backendWhoami] = serveHTTPBackend(t, backendWhoami, nil)
	h.addrs[backendWhoamiB] = serveHTTPBackend(t, backendWhoamiB, nil)
	h.addrs[backendWhoamiTLS] = serveHTTPBackend(t, backendWhoamiTLS, &tls.Config{
		Certificates: []tls.Certificate{h.pki.whoamiTLS.TLS},
		// It asks for a client certificate and verifies one that is given.
		ClientAuth: tls.VerifyClientCertIfGiven, ClientCAs: h.pki.backendCA.Pool(),
	})
	h.addrs[backendTCPEcho] = serveTCPEcho(t)
	h.addrs[backendUDPEcho] = serveUDPEcho(t)
	h.objects = []byte(h.objectsYAML(t, func(name string) string { return h.addrs[name] }))
	h.clusterDial = map[string]string{}
	h.clusterObjects = []byte(h.objectsYAML(t, func(name string) string {
		_, port, _ := net.SplitHostPort(h.addrs[name])
		a := net.JoinHostPort(clusterAddrs[name], port)
		h.clusterDial[a] = h.addrs[name]
		return a
	}))
	return h
}

// backendAnswer is the JSON every HTTP backend answers with.
type backendAnswer struct {
	Backend    string            `json:"backend"`
	Method     string            `json:"method"`
	URI        string            `json:"uri"`
	Host       string            `json:"host"`
	Proto      string            `json:"proto"`
	TLS        bool              `json:"tls"`
	ClientCert string            `json:"clientCert,omitempty"`
	Headers    map[string]string `json:"headers"`
	Body       string            `json:"body"`
}

// whoami is the handler of an HTTP backend named name.
func whoami(name string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set(answeredByHeader, name)
		body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		switch p := r.URL.Path; {
		case strings.HasPrefix(p, "/status/"):
			code, err := strconv.Atoi(strings.TrimPrefix(p, "/status/"))
			if err != nil || code < 100 || code > 599 {
				http.Error(w, "bad status", http.StatusBadRequest)
				return
			}
			w.Header().Set("Content-Type", "text/plain; charset=utf-8")
			w.WriteHeader(code)
			_, _ = fmt.Fprintf(w, "status %d", code)
			return
		case p == "/auth":
			if r.Header.Get("Authorization") == "Bearer good" {
				w.Header().Set("X-Auth-User", "alice")
				_, _ = io.WriteString(w, "authorized")
				return
			}
			w.Header().Set("WWW-Authenticate", "Bearer")
			w.WriteHeader(http.StatusUnauthorized)
			_, _ = io.WriteString(w, "unauthorized")
			return
		case p == "/big":
			w.Header().Set("Content-Type", "text/plain")
			line := strings.Repeat("bridgehead corpus ", 3) + "\n" // 55 bytes
			var b strings.Builder
			for b.Len() < 20<<10 {
				b.WriteString(line)
			}
			_, _ = io.WriteString(w, b.String()[:20<<10])
			return
		case p == "/slow":
			select {
			case <-time.After(300 * time.Millisecond):
			case <-r.Context().Done():
				return
			}
		}
		a := backendAnswer{Backend: name, Method: r.Method, URI: r.RequestURI, Host: r.Host, Proto: r.Proto,
			TLS: r.TLS != nil, Headers: map[string]string{}, Body: string(body)}
		if r.TLS != nil && len(r.TLS.PeerCertificates) > 0 {
			a.ClientCert = r.TLS.PeerCertificates[0].Subject.CommonName
		}
		for k, v := range r.Header {
			a.Headers[k] = strings.Join(v, ", ")
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(a)
	})
}

// serveHTTPBackend serves whoami on 127.0.0.1: with TLS (HTTP/1.1 and HTTP/2) when cfg is
// set, else plain HTTP/1.1 and h2c.
func serveHTTPBackend(t *testing.T, name string, cfg *tls.Config) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: whoami(name), ReadHeaderTimeout: 10 * time.Second,
		ErrorLog: log.New(io.Discard, "", 0)} // refused handshakes are the point of some cases
	srv.Protocols = new(http.Protocols)
	srv.Protocols.SetHTTP1(true)
	if cfg != nil {
		srv.Protocols.SetHTTP2(true)
		cfg = cfg.Clone()
		cfg.NextProtos = []string{"h2", "http/1.1"}
		ln = tls.NewListener(ln, cfg)
	} else {
		srv.Protocols.SetUnencryptedHTTP2(true)
	}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	return ln.Addr().String()
}

// serveTCPEcho echoes every byte of every connection.
func serveTCPEcho(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	t.Cleanup(func() { _ = ln.Close(); wg.Wait() })
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer func() { _ = c.Close() }()
				_ = c.SetDeadline(time.Now().Add(30 * time.Second))
				_, _ = io.Copy(c, c)
			}()
		}
	}()
	return ln.Addr().String()
}

// serveUDPEcho sends every datagram back to its sender.
func serveUDPEcho(t *testing.T) string {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	t.Cleanup(func() { _ = pc.Close(); <-done })
	go func() {
		defer close(done)
		buf := make([]byte, 64<<10)
		for {
			n, from, err := pc.ReadFrom(buf)
			if err != nil {
				if errors.Is(err, net.ErrClosed) {
					return
				}
				continue
			}
			_, _ = pc.WriteTo(buf[:n], from)
		}
	}()
	return pc.LocalAddr().String()
}

// objectsYAML is the harness's objects: the Secrets, and a selector-less Service with an
// EndpointSlice per backend, on the address addr gives.
func (h *harness) objectsYAML(t *testing.T, addr func(backend string) string) string {
	t.Helper()
	var b strings.Builder
	secret := func(name, typ string, data map[string]string) {
		fmt.Fprintf(&b, "---\napiVersion: v1\nkind: Secret\nmetadata: {name: %s, namespace: %s}\ntype: %s\nstringData:\n", name, corpusNS, typ)
		for _, k := range []string{"ca.crt", "tls.crt", "tls.key", "users"} {
			if v, ok := data[k]; ok {
				fmt.Fprintf(&b, "  %s: |\n    %s\n", k, strings.ReplaceAll(strings.TrimSpace(v), "\n", "\n    "))
			}
		}
	}
	p := h.pki
	secret("edge-tls", "kubernetes.io/tls", map[string]string{"tls.crt": string(p.edge.CertPEM), "tls.key": string(p.edge.KeyPEM)})
	secret("backend-ca", "Opaque", map[string]string{"ca.crt": string(p.backendCA.PEM)})
	secret("client-ca", "Opaque", map[string]string{"ca.crt": string(p.clientCA.PEM)})
	secret("gateway-client", "kubernetes.io/tls", map[string]string{"tls.crt": string(p.gatewayClient.CertPEM), "tls.key": string(p.gatewayClient.KeyPEM)})
	// htpasswd -B's default cost is 5; the corpus keeps it (bcrypt's cost is paid per request).
	aliceHash, err := bcrypt.GenerateFromPassword([]byte("secret"), 5)
	if err != nil {
		t.Fatal(err)
	}
	secret("htpasswd", "Opaque", map[string]string{"users": "alice:$2y$" + string(aliceHash[4:]) + "\nbob:" + htpasswd.SHA1Hash([]byte("secret"))})
	ha1 := md5.Sum([]byte("alice:traefik:secret")) //nolint:gosec // htdigest is MD5
	secret("htdigest", "Opaque", map[string]string{"users": "alice:traefik:" + hex.EncodeToString(ha1[:])})

	service := func(name, portName string, port int, protocol string) {
		host, p, err := net.SplitHostPort(addr(name))
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&b, `---
apiVersion: v1
kind: Service
metadata: {name: %[1]s, namespace: %[2]s}
spec:
  ports:
  - {name: %[3]s, port: %[4]d, protocol: %[5]s}
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata:
  name: %[1]s-loopback
  namespace: %[2]s
  labels: {kubernetes.io/service-name: %[1]s}
addressType: IPv4
ports:
- {name: %[3]s, port: %[6]s, protocol: %[5]s}
endpoints:
- addresses: [%[7]s]
  conditions: {ready: true}
`, name, corpusNS, portName, port, protocol, p, host)
	}
	service(backendWhoami, "http", 80, "TCP")
	service(backendWhoamiB, "http", 80, "TCP")
	service(backendWhoamiTLS, "https", 443, "TCP")
	service(backendTCPEcho, "tcp", 9000, "TCP")
	service(backendUDPEcho, "dns", 53, "UDP")
	return b.String()
}

// dialCluster is the gateway's upstream dialer in API server mode: an EndpointSlice
// address of the harness goes to its loopback backend; anything else is refused.
func (h *harness) dialCluster(ctx context.Context, network, addr string) (net.Conn, error) {
	local, ok := h.clusterDial[addr]
	if !ok {
		return nil, fmt.Errorf("corpus dialer: no harness backend at %s (only the harness's Services are reachable)", addr)
	}
	return (&net.Dialer{}).DialContext(ctx, network, local)
}

// waitFor polls cond every 25ms until it returns nil or limit passes, and returns its last
// error. Every wait of the runner is bounded this way.
func waitFor(ctx context.Context, limit time.Duration, cond func() error) error {
	deadline := time.Now().Add(limit)
	tick := time.NewTicker(25 * time.Millisecond)
	defer tick.Stop()
	for {
		err := cond()
		if err == nil || time.Now().After(deadline) || ctx.Err() != nil {
			return err
		}
		<-tick.C
	}
}
