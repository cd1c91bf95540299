package dataplane

import (
	"bufio"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	bhv1 "github.com/bridgehead/bridgehead/api/v1alpha1"
	"github.com/bridgehead/bridgehead/internal/pki"
	"github.com/bridgehead/bridgehead/internal/translate"
	"github.com/bridgehead/bridgehead/proxy"
)

// countingListener counts the TCP connections a backend accepts: a refused client must
// not cost the backend even one.
type countingListener struct {
	net.Listener
	n atomic.Int64
}

func (l *countingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err == nil {
		l.n.Add(1)
	}
	return c, err
}

// countingBackend starts a backend that answers "backend:<SNI>" over TLS with leaf, or
// plain HTTP when leaf is nil, and counts the connections it accepts.
func countingBackend(t *testing.T, leaf *pki.Leaf) (string, *atomic.Int64) {
	t.Helper()
	s := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sni := ""
		if r.TLS != nil {
			sni = r.TLS.ServerName
		}
		_, _ = w.Write([]byte("backend:" + sni))
	}))
	cl := &countingListener{Listener: s.Listener}
	s.Listener = cl
	if leaf != nil {
		s.TLS = &tls.Config{Certificates: []tls.Certificate{leaf.TLS}}
		s.StartTLS()
	} else {
		s.Start()
	}
	t.Cleanup(s.Close)
	return s.Listener.Addr().String(), &cl.n
}

func middlewareTCP(name string, spec bhv1.MiddlewareTCPSpec) *bhv1.MiddlewareTCP {
	return &bhv1.MiddlewareTCP{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}, Spec: spec}
}

func allowList(name string, ranges ...string) *bhv1.MiddlewareTCP {
	return middlewareTCP(name, bhv1.MiddlewareTCPSpec{IPAllowList: &bhv1.TCPIPAllowList{SourceRange: ranges}})
}

func withMiddlewares(names ...string) func(*bhv1.IngressRouteTCP) {
	return func(r *bhv1.IngressRouteTCP) {
		for _, n := range names {
			r.Spec.Routes[0].Middlewares = append(r.Spec.Routes[0].Middlewares, bhv1.ObjectReference{Name: n})
		}
	}
}

// dialTLS connects to the gateway's websecure entry point (after writing prefix, a PROXY
// header for instance) and completes a TLS handshake for sni.
func dialTLS(g *gateway, sni string, roots *pki.CA, prefix string) (*tls.Conn, error) {
	raw, err := net.DialTimeout("tcp", g.secure, 5*time.Second)
	if err != nil {
		return nil, err
	}
	if prefix != "" {
		if _, err := io.WriteString(raw, prefix); err != nil {
			_ = raw.Close()
			return nil, err
		}
	}
	_ = raw.SetDeadline(time.Now().Add(5 * time.Second))
	c := tls.Client(raw, &tls.Config{ServerName: sni, RootCAs: roots.Pool(), NextProtos: []string{"http/1.1"}})
	if err := c.Handshake(); err != nil {
		_ = raw.Close()
		return nil, err
	}
	_ = raw.SetDeadline(time.Time{})
	return c, nil
}

// askOver sends one HTTP/1.1 request over an established connection.
func askOver(t *testing.T, c net.Conn, host string) string {
	t.Helper()
	_ = c.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.WriteString(c, "GET / HTTP/1.1\r\nHost: "+host+"\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }()
	body, _ := io.ReadAll(resp.Body)
	return string(body)
}

// refusedBeforeHandshake asserts that the gateway closed the connection without a
// ServerHello: the client never saw a certificate, from the gateway or a backend.
func refusedBeforeHandshake(t *testing.T, c *tls.Conn, err error) {
	t.Helper()
	if err == nil {
		_ = c.Close()
		t.Fatal("the handshake succeeded: the client was served")
	}
	if errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("handshake: %v; want the connection closed at once, not left hanging", err)
	}
}

func TestTCPAllowListOnPassthrough(t *testing.T) {
	dbCA := pki.MustCA("db CA")
	allowedAddr, allowedConns := countingBackend(t, dbCA.MustIssue("db.example.com", pki.Options{DNSNames: []string{"db.example.com"}}))
	deniedAddr, deniedConns := countingBackend(t, dbCA.MustIssue("office.example.com", pki.Options{DNSNames: []string{"office.example.com"}}))
	objs := []client.Object{
		allowList("loopback", "127.0.0.0/8", "::1"),
		allowList("office", "192.0.2.0/24"),
		tcpRoute("db", "HostSNI(`db.example.com`)", "db", true, withMiddlewares("loopback")),
		tcpRoute("office", "HostSNI(`office.example.com`)", "office", true, withMiddlewares("office")),
	}
	objs = append(objs, service("db", "https", allowedAddr)...)
	objs = append(objs, service("office", "https", deniedAddr)...)
	g := startGateway(t, objs)

	c, err := dialTLS(g, "db.example.com", dbCA, "")
	if err != nil {
		t.Fatalf("an allowed client: %v", err)
	}
	if got := askOver(t, c, "db.example.com"); got != "backend:db.example.com" {
		t.Fatalf("allowed client got %q", got)
	}
	_ = c.Close()
	if allowedConns.Load() != 1 {
		t.Fatalf("the allowed route's backend saw %d connections, want 1", allowedConns.Load())
	}

	c, err = dialTLS(g, "office.example.com", dbCA, "")
	refusedBeforeHandshake(t, c, err)
	// The refusal happens before any dial, on the connection's own goroutine: once the
	// client has seen the close, no backend connection can follow it.
	if n := deniedConns.Load(); n != 0 {
		t.Fatalf("the denied client cost the backend %d connections, want 0", n)
	}
}

func TestTCPAllowListBeforeTermination(t *testing.T) {
	p := newPKI()
	mqttCert := p.edgeCA.MustIssue("mqtt.example.com", pki.Options{DNSNames: []string{"mqtt.example.com"}})
	addr, conns := countingBackend(t, nil)
	route := func(allow string) []client.Object {
		return append([]client.Object{
			tlsSecret("mqtt-tls", mqttCert), allowList("allow", allow),
			tcpRoute("mqtt", "HostSNI(`mqtt.example.com`)", "mqtt", false, withMiddlewares("allow"), func(r *bhv1.IngressRouteTCP) {
				r.Spec.TLS = &bhv1.TLSTCP{SecretName: "mqtt-tls"}
			}),
		}, service("mqtt", "mqtt", addr)...)
	}
	g := startGateway(t, route("198.51.100.0/24"))

	c, err := dialTLS(g, "mqtt.example.com", p.edgeCA, "")
	refusedBeforeHandshake(t, c, err)
	if n := conns.Load(); n != 0 {
		t.Fatalf("the denied client cost the backend %d connections, want 0", n)
	}

	g.apply(route("127.0.0.1/32")...)
	c, err = dialTLS(g, "mqtt.example.com", p.edgeCA, "")
	if err != nil {
		t.Fatalf("once allowed, the gateway terminates TLS: %v", err)
	}
	defer func() { _ = c.Close() }()
	if got := askOver(t, c, "mqtt.example.com"); got != "backend:" {
		t.Fatalf("allowed client got %q from the plain backend", got)
	}
}

func TestTCPAllowListJudgesTheAddressFromTheProxyHeader(t *testing.T) {
	dbCA := pki.MustCA("db CA")
	addr, conns := countingBackend(t, dbCA.MustIssue("db.example.com", pki.Options{DNSNames: []string{"db.example.com"}}))
	objs := append([]client.Object{
		allowList("office", "203.0.113.0/24"),
		tcpRoute("db", "HostSNI(`db.example.com`)", "db", true, withMiddlewares("office")),
	}, service("db", "https", addr)...)
	g := startGateway(t, objs, func(c *proxy.Config) {
		for i := range c.EntryPoints {
			c.EntryPoints[i].TrustedProxies = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}
		}
	})

	// The load balancer (127.0.0.1, not in the list) relays a client from the office.
	c, err := dialTLS(g, "db.example.com", dbCA, "PROXY TCP4 203.0.113.9 127.0.0.1 40000 443\r\n")
	if err != nil {
		t.Fatalf("a client from the office, behind the load balancer: %v", err)
	}
	if got := askOver(t, c, "db.example.com"); got != "backend:db.example.com" {
		t.Fatalf("got %q", got)
	}
	_ = c.Close()

	// The same load balancer relays a client from elsewhere.
	c, err = dialTLS(g, "db.example.com", dbCA, "PROXY TCP4 198.51.100.7 127.0.0.1 40001 443\r\n")
	refusedBeforeHandshake(t, c, err)
	if n := conns.Load(); n != 1 {
		t.Fatalf("the backend saw %d connections, want only the office client's", n)
	}
}

func TestTCPInFlightConnCapsConnectionsPerClient(t *testing.T) {
	dbCA := pki.MustCA("db CA")
	addr, conns := countingBackend(t, dbCA.MustIssue("db.example.com", pki.Options{DNSNames: []string{"db.example.com"}}))
	objs := append([]client.Object{
		middlewareTCP("two", bhv1.MiddlewareTCPSpec{InFlightConn: &bhv1.InFlightConn{Amount: 2}}),
		tcpRoute("db", "HostSNI(`db.example.com`)", "db", true, withMiddlewares("two")),
	}, service("db", "https", addr)...)
	g := startGateway(t, objs)

	var open []*tls.Conn
	defer func() {
		for _, c := range open {
			_ = c.Close()
		}
	}()
	for i := range 2 {
		c, err := dialTLS(g, "db.example.com", dbCA, "")
		if err != nil {
			t.Fatalf("connection %d of 2: %v", i+1, err)
		}
		open = append(open, c)
	}
	c, err := dialTLS(g, "db.example.com", dbCA, "")
	refusedBeforeHandshake(t, c, err)
	if n := conns.Load(); n != 2 {
		t.Fatalf("the backend saw %d connections, want 2: the third must not reach it", n)
	}

	// A snapshot swap neither resets the count nor forgets the open connections.
	g.apply(append(g.objects, allowList("unrelated", "10.0.0.0/8"))...)
	c, err = dialTLS(g, "db.example.com", dbCA, "")
	refusedBeforeHandshake(t, c, err)

	// Both open connections still work; once one closes, a new one is admitted.
	for _, c := range open {
		if got := askOver(t, c, "db.example.com"); got != "backend:db.example.com" {
			t.Fatalf("open connection got %q", got)
		}
	}
	_ = open[0].Close()
	open = open[1:]
	deadline := time.Now().Add(5 * time.Second)
	for {
		c, err := dialTLS(g, "db.example.com", dbCA, "")
		if err == nil {
			open = append(open, c)
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("a slot was not freed after a connection closed: %v", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestTCPRouteWithABrokenMiddlewareFailsClosed(t *testing.T) {
	dbCA := pki.MustCA("db CA")
	addr, conns := countingBackend(t, dbCA.MustIssue("db.example.com", pki.Options{DNSNames: []string{"db.example.com"}}))
	objs := append([]client.Object{
		tcpRoute("db", "HostSNI(`db.example.com`)", "db", true, withMiddlewares("office")), // office does not exist
	}, service("db", "https", addr)...)
	g := startGateway(t, objs)
	st := g.apply(objs...)[translate.Key{Kind: "IngressRouteTCP", Namespace: ns, Name: "db"}]
	if c := st.Condition(bhv1.ConditionReady); c == nil || c.Status != metav1.ConditionFalse || c.Reason != "NotFound" ||
		!strings.Contains(c.Message, `spec.routes[0].middlewares[0]: MiddlewareTCP "office" not found`) {
		t.Fatalf("Ready = %+v, want False NotFound naming the field and the MiddlewareTCP", c)
	}

	c, err := dialTLS(g, "db.example.com", dbCA, "")
	refusedBeforeHandshake(t, c, err)
	if n := conns.Load(); n != 0 {
		t.Fatalf("the backend saw %d connections: a route whose filter is missing must not serve", n)
	}
}
