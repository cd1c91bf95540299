package dataplane

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"syscall"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/bridgehead/bridgehead/internal/pki"
	"github.com/bridgehead/bridgehead/internal/translate"
	"github.com/bridgehead/bridgehead/proxy"
)

// TLSRoute and TCPRoute through the real proxy on 127.0.0.1: one port (websecure, the
// Gateway's 443) carries a Passthrough listener, a Terminate listener and an HTTPS
// listener, told apart by SNI; a TCP listener has an entry point of its own.

const gwTCPPort = 9300

func withTCPEntryPoint(c *proxy.Config) {
	c.EntryPoints = append(c.EntryPoints, proxy.EntryPoint{Name: "tcp9300", Address: "127.0.0.1:0"})
}

// applyGatewayAPI translates Gateway API objects (with the core objects they use) and
// swaps the snapshot in, as the controllers do.
func (g *gateway) applyGatewayAPI(objs ...client.Object) translate.Statuses {
	g.t.Helper()
	in := &translate.Inputs{GatewayClasses: []*gwv1.GatewayClass{{ObjectMeta: metav1.ObjectMeta{Name: "bh"},
		Spec: gwv1.GatewayClassSpec{ControllerName: translate.GatewayController}}}}
	for _, o := range objs {
		switch v := o.(type) {
		case *gwv1.Gateway:
			in.Gateways = append(in.Gateways, v)
		case *gwv1.HTTPRoute:
			in.HTTPRoutes = append(in.HTTPRoutes, v)
		case *gwv1.TLSRoute:
			in.TLSRoutes = append(in.TLSRoutes, v)
		case *gwv1.TCPRoute:
			in.TCPRoutes = append(in.TCPRoutes, v)
		case *corev1.Secret:
			in.Secrets = append(in.Secrets, v)
		case *corev1.Service:
			in.Services = append(in.Services, v)
		case *discoveryv1.EndpointSlice:
			in.EndpointSlices = append(in.EndpointSlices, v)
		default:
			g.t.Fatalf("unsupported object %T", o)
		}
	}
	g.opts.Now = time.Now()
	g.opts.ListenerPorts = translate.DefaultListenerPorts()
	g.opts.ListenerPorts[gwTCPPort] = translate.ListenerEntryPoint{Name: "tcp9300", Kind: "tcp"}
	snap, statuses := translate.Translate(in, g.opts)
	if err := g.store.Swap(snap); err != nil {
		g.t.Fatalf("swap: %v", err)
	}
	return statuses
}

func gwRef(name string) gwv1.BackendRef {
	return gwv1.BackendRef{BackendObjectReference: gwv1.BackendObjectReference{Name: gwv1.ObjectName(name), Port: ptr.To[gwv1.PortNumber](443)}}
}

func gwTLSRoute(name, listener, host string, refs ...gwv1.BackendRef) *gwv1.TLSRoute {
	return &gwv1.TLSRoute{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec: gwv1.TLSRouteSpec{
			CommonRouteSpec: gwv1.CommonRouteSpec{ParentRefs: []gwv1.ParentReference{{Name: "gw", SectionName: ptr.To(gwv1.SectionName(listener))}}},
			Hostnames:       []gwv1.Hostname{gwv1.Hostname(host)},
			Rules:           []gwv1.TLSRouteRule{{BackendRefs: refs}},
		}}
}

// dialVia dials every address through the gateway's entry point at addr.
func dialVia(addr string) func(ctx context.Context, network, _ string) (net.Conn, error) {
	return func(ctx context.Context, network, _ string) (net.Conn, error) {
		return (&net.Dialer{}).DialContext(ctx, network, addr)
	}
}

func TestGatewayAPITLSRoutesPassthroughTerminateAndHTTPSOnOnePort(t *testing.T) {
	edgeCA, dbCA := pki.MustCA("edge CA"), pki.MustCA("db CA")
	edge := edgeCA.MustIssue("tls.example.com", pki.Options{DNSNames: []string{"tls.example.com", "www.example.com"}})
	db := tlsBackend(t, dbCA.MustIssue("db.example.com", pki.Options{DNSNames: []string{"db.example.com"}}))
	plain := startHTTPBackend(t)

	g := startGateway(t, nil, withTCPEntryPoint)
	listener := func(name string, host string, proto gwv1.ProtocolType, mode gwv1.TLSModeType, secret string) gwv1.Listener {
		l := gwv1.Listener{Name: gwv1.SectionName(name), Port: 443, Protocol: proto, TLS: &gwv1.ListenerTLSConfig{Mode: ptr.To(mode)}}
		if host != "" {
			l.Hostname = ptr.To(gwv1.Hostname(host))
		}
		if secret != "" {
			l.TLS.CertificateRefs = []gwv1.SecretObjectReference{{Name: gwv1.ObjectName(secret)}}
		}
		return l
	}
	objs := []client.Object{
		tlsSecret("edge", edge),
		&gwv1.Gateway{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "gw"}, Spec: gwv1.GatewaySpec{GatewayClassName: "bh", Listeners: []gwv1.Listener{
			listener("pass", "*.example.com", gwv1.TLSProtocolType, gwv1.TLSModePassthrough, ""),
			listener("term", "tls.example.com", gwv1.TLSProtocolType, gwv1.TLSModeTerminate, "edge"),
			listener("https", "www.example.com", gwv1.HTTPSProtocolType, gwv1.TLSModeTerminate, "edge"),
			{Name: "tcp", Port: gwTCPPort, Protocol: gwv1.TCPProtocolType},
		}}},
		gwTLSRoute("db", "pass", "*.example.com", gwRef("db")),
		gwTLSRoute("term", "term", "tls.example.com", gwRef("plain")),
		gwTLSRoute("gone", "pass", "gone.example.com", gwRef("missing")),
		&gwv1.HTTPRoute{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "www"}, Spec: gwv1.HTTPRouteSpec{
			CommonRouteSpec: gwv1.CommonRouteSpec{ParentRefs: []gwv1.ParentReference{{Name: "gw", SectionName: ptr.To(gwv1.SectionName("https"))}}},
			Rules:           []gwv1.HTTPRouteRule{{BackendRefs: []gwv1.HTTPBackendRef{{BackendRef: gwRef("plain")}}}}}},
		&gwv1.TCPRoute{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "raw"}, Spec: gwv1.TCPRouteSpec{
			CommonRouteSpec: gwv1.CommonRouteSpec{ParentRefs: []gwv1.ParentReference{{Name: "gw", SectionName: ptr.To(gwv1.SectionName("tcp"))}}},
			Rules:           []gwv1.TCPRouteRule{{BackendRefs: []gwv1.BackendRef{gwRef("plain")}}}}},
	}
	objs = append(objs, service("db", "https", addrOf(db))...)
	objs = append(objs, service("plain", "http", addrOf(plain))...)
	st := g.applyGatewayAPI(objs...)
	for _, k := range []translate.Key{{Kind: translate.KindTLSRoute, Namespace: ns, Name: "db"}, {Kind: translate.KindTLSRoute, Namespace: ns, Name: "term"}, {Kind: translate.KindTCPRoute, Namespace: ns, Name: "raw"}} {
		for _, c := range st[k].GatewayAPI.Parents[0].Conditions {
			if c.Status != metav1.ConditionTrue {
				t.Fatalf("%s: %s=%s %s: %s", k, c.Type, c.Status, c.Reason, c.Message)
			}
		}
	}

	// get answers what a client sees: the status, headers, body, and who issued the
	// certificate the TLS handshake presented ("" without TLS).
	type reply struct {
		status int
		header http.Header
		body   string
		issuer string
	}
	get := func(t *testing.T, addr string, cfg *tls.Config, url string) reply {
		t.Helper()
		c := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: cfg, DialContext: dialVia(addr)}}
		resp, err := c.Get(url)
		if err != nil {
			t.Fatal(err)
		}
		defer func() { _ = resp.Body.Close() }()
		body, _ := io.ReadAll(resp.Body)
		r := reply{status: resp.StatusCode, header: resp.Header, body: string(body)}
		if resp.TLS != nil {
			r.issuer = resp.TLS.PeerCertificates[0].Issuer.CommonName
		}
		return r
	}

	t.Run("passthrough: the client sees the backend's own certificate and the backend the client's SNI", func(t *testing.T) {
		r := get(t, g.secure, &tls.Config{RootCAs: dbCA.Pool()}, "https://db.example.com/")
		if r.issuer != "db CA" {
			t.Fatalf("client saw a certificate issued by %q: the gateway terminated a passthrough route", r.issuer)
		}
		if r.body != "backend:db.example.com" {
			t.Fatalf("backend answered %q", r.body)
		}
	})

	t.Run("explain names the TLSRoute that takes an SNI", func(t *testing.T) {
		d := g.srv.Explain("websecure", "db.example.com", nil)
		if d.Router != "tcp" || !strings.HasPrefix(d.Why, "TLSRoute web/db matches") {
			t.Fatalf("Explain = %+v", d)
		}
		if d := g.srv.Explain("websecure", "www.example.com", nil); d.Router != "https" {
			t.Fatalf("www.example.com: Explain = %+v, want the HTTPS router", d)
		}
	})

	t.Run("terminate: the client sees the listener's certificate and the backend gets plain TCP", func(t *testing.T) {
		r := get(t, g.secure, &tls.Config{RootCAs: edgeCA.Pool()}, "https://tls.example.com/x")
		if r.issuer != "edge CA" {
			t.Fatalf("client saw a certificate issued by %q, want the listener's (edge CA)", r.issuer)
		}
		// The plain-HTTP backend understood the request: it got the bytes in clear. As
		// raw TCP, nothing was added (an HTTP route would set X-Forwarded-For).
		if r.body != "plain backend" || r.header.Get("X-Seen-Path") != "/x" || r.header.Get("X-Seen-Forwarded-For") != "" {
			t.Fatalf("backend answered %q %v", r.body, r.header)
		}
	})

	t.Run("HTTPS on the same port: the HTTPS listener's name is terminated and routed as HTTP", func(t *testing.T) {
		r := get(t, g.secure, &tls.Config{RootCAs: edgeCA.Pool()}, "https://www.example.com/")
		if r.status != http.StatusOK || r.issuer != "edge CA" || r.body != "plain backend" || r.header.Get("X-Seen-Forwarded-Proto") != "https" {
			t.Fatalf("www.example.com: %+v", r)
		}
	})

	t.Run("a backend that does not exist: the connection is closed, not answered", func(t *testing.T) {
		conn, err := tls.DialWithDialer(&net.Dialer{Timeout: 5 * time.Second}, "tcp", g.secure, &tls.Config{ServerName: "gone.example.com", RootCAs: dbCA.Pool()})
		if err == nil {
			_ = conn.Close()
			t.Fatal("the TLS handshake succeeded for a route whose only backend does not exist")
		}
		if !errors.Is(err, io.EOF) && !errors.Is(err, syscall.ECONNRESET) && !strings.Contains(err.Error(), "connection reset") {
			t.Fatalf("want the connection closed (EOF or reset, what the conformance suite counts as rejected), got %v", err)
		}
	})

	t.Run("TCPRoute: the TCP listener's entry point forwards the bytes as they are", func(t *testing.T) {
		r := get(t, g.srv.Addrs()["tcp9300"], nil, "http://anything.example/raw")
		if r.body != "plain backend" || r.header.Get("X-Seen-Path") != "/raw" || r.header.Get("X-Seen-Forwarded-For") != "" {
			t.Fatalf("backend answered %q %v", r.body, r.header)
		}
	})
}

// startGreeter starts a TCP backend that speaks first, as the conformance suite's TCP
// backend does: it sends "WELCOME\n" (with its name, when it has one) on connect, then
// answers one line with "ECHO:<line>".
func startGreeter(t *testing.T, name string) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer func() { _ = c.Close() }()
				_ = c.SetDeadline(time.Now().Add(10 * time.Second))
				hello := "WELCOME\n"
				if name != "" {
					hello = "WELCOME " + name + "\n"
				}
				if _, err := io.WriteString(c, hello); err != nil {
					return
				}
				line, err := bufio.NewReader(c).ReadString('\n')
				if err != nil {
					return
				}
				_, _ = io.WriteString(c, "ECHO:"+line)
			}()
		}
	}()
	return ln.Addr().String()
}

// A backend that speaks first gets its greeting to the client through a TCPRoute (the
// plain entry point does not wait for client bytes) and through a terminated TLSRoute
// (after the handshake); the client's line reaches it in clear text.
func TestGatewayAPIServerSpeaksFirstBackends(t *testing.T) {
	edgeCA := pki.MustCA("edge CA")
	edge := edgeCA.MustIssue("greet.example.com", pki.Options{DNSNames: []string{"greet.example.com"}})
	greeter := startGreeter(t, "")
	g := startGateway(t, nil, withTCPEntryPoint)
	objs := []client.Object{
		tlsSecret("edge", edge),
		&gwv1.Gateway{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "gw"}, Spec: gwv1.GatewaySpec{GatewayClassName: "bh", Listeners: []gwv1.Listener{
			{Name: "term", Port: 443, Protocol: gwv1.TLSProtocolType, Hostname: ptr.To(gwv1.Hostname("greet.example.com")),
				TLS: &gwv1.ListenerTLSConfig{Mode: ptr.To(gwv1.TLSModeTerminate), CertificateRefs: []gwv1.SecretObjectReference{{Name: "edge"}}}},
			{Name: "tcp", Port: gwTCPPort, Protocol: gwv1.TCPProtocolType},
		}}},
		gwTLSRoute("greet", "term", "greet.example.com", gwRef("greeter")),
		&gwv1.TCPRoute{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "greet"}, Spec: gwv1.TCPRouteSpec{
			CommonRouteSpec: gwv1.CommonRouteSpec{ParentRefs: []gwv1.ParentReference{{Name: "gw", SectionName: ptr.To(gwv1.SectionName("tcp"))}}},
			Rules:           []gwv1.TCPRouteRule{{BackendRefs: []gwv1.BackendRef{gwRef("greeter")}}}}},
	}
	objs = append(objs, service("greeter", "tcp", greeter)...)
	g.applyGatewayAPI(objs...)

	converse := func(t *testing.T, conn net.Conn) {
		t.Helper()
		defer func() { _ = conn.Close() }()
		_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
		r := bufio.NewReader(conn)
		if hello, err := r.ReadString('\n'); err != nil || hello != "WELCOME\n" {
			t.Fatalf("greeting: %q %v", hello, err)
		}
		if _, err := io.WriteString(conn, "PING\n"); err != nil {
			t.Fatal(err)
		}
		if echo, err := r.ReadString('\n'); err != nil || echo != "ECHO:PING\n" {
			t.Fatalf("echo: %q %v (the backend must get the client's bytes in clear text)", echo, err)
		}
	}
	t.Run("TCPRoute", func(t *testing.T) {
		conn, err := net.DialTimeout("tcp", g.srv.Addrs()["tcp9300"], 5*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		converse(t, conn)
	})
	t.Run("terminated TLSRoute", func(t *testing.T) {
		conn, err := tls.DialWithDialer(&net.Dialer{Timeout: 5 * time.Second}, "tcp", g.secure, &tls.Config{ServerName: "greet.example.com", RootCAs: edgeCA.Pool()})
		if err != nil {
			t.Fatal(err)
		}
		if issuer := conn.ConnectionState().PeerCertificates[0].Issuer.CommonName; issuer != "edge CA" {
			t.Fatalf("certificate issued by %q, want the listener's", issuer)
		}
		converse(t, conn)
	})
}

// TCPRoute weights: connections are shared 7:3, and a backend of weight 0 gets none
// (conformance TCPRouteWeightedRouting).
func TestGatewayAPITCPRouteWeights(t *testing.T) {
	g := startGateway(t, nil, withTCPEntryPoint)
	objs := []client.Object{
		&gwv1.Gateway{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "gw"}, Spec: gwv1.GatewaySpec{GatewayClassName: "bh",
			Listeners: []gwv1.Listener{{Name: "tcp", Port: gwTCPPort, Protocol: gwv1.TCPProtocolType}}}},
	}
	route := &gwv1.TCPRoute{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "weighted"}, Spec: gwv1.TCPRouteSpec{
		CommonRouteSpec: gwv1.CommonRouteSpec{ParentRefs: []gwv1.ParentReference{{Name: "gw"}}}, Rules: []gwv1.TCPRouteRule{{}}}}
	for name, weight := range map[string]int32{"v1": 7, "v2": 3, "v3": 0} {
		objs = append(objs, service(name, "tcp", startGreeter(t, name))...)
		ref := gwRef(name)
		ref.Weight = ptr.To(weight)
		route.Spec.Rules[0].BackendRefs = append(route.Spec.Rules[0].BackendRefs, ref)
	}
	g.applyGatewayAPI(append(objs, route)...)
	const n = 100
	seen := map[string]int{}
	for range n {
		conn, err := net.DialTimeout("tcp", g.srv.Addrs()["tcp9300"], 5*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		_ = conn.SetDeadline(time.Now().Add(5 * time.Second))
		hello, err := bufio.NewReader(conn).ReadString('\n')
		_ = conn.Close()
		if err != nil {
			t.Fatal(err)
		}
		seen[strings.TrimSuffix(strings.TrimPrefix(hello, "WELCOME "), "\n")]++
	}
	// The scheduler is a weighted round robin: exact over a multiple of the total weight.
	if seen["v1"] != 70 || seen["v2"] != 30 || seen["v3"] != 0 {
		t.Fatalf("%d connections went %v, want v1:70 v2:30 v3:0", n, seen)
	}
}
