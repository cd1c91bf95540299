package dataplane

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"net/http"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	bhv1 "github.com/bridgehead/bridgehead/api/v1alpha1"
	"github.com/bridgehead/bridgehead/internal/pki"
	"github.com/bridgehead/bridgehead/proxy"
)

func tcpRoute(name, match, svc string, passthrough bool, mutate ...func(*bhv1.IngressRouteTCP)) *bhv1.IngressRouteTCP {
	r := &bhv1.IngressRouteTCP{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec: bhv1.IngressRouteTCPSpec{
			EntryPoints: []string{"websecure"},
			Routes:      []bhv1.RouteTCP{{Match: match, Services: []bhv1.ServiceTCP{{Name: svc, Port: "443"}}}},
			TLS:         &bhv1.TLSTCP{Passthrough: passthrough},
		},
	}
	for _, m := range mutate {
		m(r)
	}
	return r
}

// passthroughSetup: db.example.com is passed through to a backend that terminates TLS
// itself (and wants the real client's certificate); app.example.com is terminated here.
func passthroughSetup(t *testing.T, p *testPKI, dbCA *pki.CA, opts ...gatewayOption) (*gateway, *pki.CA) {
	clientCA := pki.MustCA("db client CA")
	db := tlsBackend(t, dbCA.MustIssue("db.example.com", pki.Options{DNSNames: []string{"db.example.com"}}), requireClientCert(clientCA))
	plain := startHTTPBackend(t)
	objs := []client.Object{
		tlsSecret("app-tls", p.edge),
		ingressRoute(routeSpec{name: "app", match: "Host(`app.example.com`)", svc: "plain", scheme: "http", secret: "app-tls"}),
		tcpRoute("db", "HostSNI(`db.example.com`)", "db", true),
	}
	objs = append(objs, service("plain", "http", addrOf(plain))...)
	objs = append(objs, service("db", "https", addrOf(db))...)
	return startGateway(t, objs, opts...), clientCA
}

func TestPassthroughBesideTerminatedHTTPS(t *testing.T) {
	p := newPKI()
	dbCA := pki.MustCA("db CA")
	g, clientCA := passthroughSetup(t, p, dbCA)
	alice := clientCA.MustIssue("alice", pki.Options{})

	t.Run("the client sees the backend's own certificate and its mTLS works", func(t *testing.T) {
		c := &http.Client{Transport: &http.Transport{
			TLSClientConfig: &tls.Config{RootCAs: dbCA.Pool(), ServerName: "db.example.com", Certificates: []tls.Certificate{alice.TLS}},
			DialContext: func(ctx context.Context, n, _ string) (net.Conn, error) {
				return (&net.Dialer{}).DialContext(ctx, n, g.secure)
			},
		}}
		resp, err := c.Get("https://db.example.com/")
		if err != nil {
			t.Fatal(err)
		}
		defer func() { _ = resp.Body.Close() }()
		if resp.TLS.PeerCertificates[0].Issuer.CommonName != "db CA" {
			t.Fatalf("client saw %s: the gateway must not terminate a passthrough route", resp.TLS.PeerCertificates[0].Issuer)
		}
		body, _ := io.ReadAll(resp.Body)
		if string(body) != "backend:db.example.com" {
			t.Fatalf("body %q", body)
		}
	})
	t.Run("the terminated route on the same port still answers", func(t *testing.T) {
		if code, reason, _ := get(t, g.httpsClient(p.edgeCA), "https://app.example.com/"); code != 200 {
			t.Fatalf("got %d %s", code, reason)
		}
	})
	t.Run("an unknown SNI follows the default (HTTPS router)", func(t *testing.T) {
		code, reason, _ := get(t, g.httpsClient(p.edgeCA, func(c *tls.Config) { c.InsecureSkipVerify = true }), "https://unknown.example.com/")
		if code != http.StatusNotFound || reason != "NoRoute" {
			t.Fatalf("got %d %s, want the HTTPS router's 404 NoRoute", code, reason)
		}
	})
	t.Run("Explain names the router that wins", func(t *testing.T) {
		if d := g.srv.Explain("websecure", "DB.example.com", nil); d.Router != "tcp" || d.Route != "web/db/0" {
			t.Fatalf("got %+v", d)
		}
		if d := g.srv.Explain("websecure", "app.example.com", nil); d.Router != "https" {
			t.Fatalf("got %+v", d)
		}
	})
}

// recordHello captures the bytes of a real ClientHello for db.example.com.
func recordHello(t *testing.T) []byte {
	a, b := net.Pipe()
	go func() {
		_ = tls.Client(a, &tls.Config{ServerName: "db.example.com", InsecureSkipVerify: true}).Handshake() //nolint:gosec // only the hello is used
		_ = a.Close()
	}()
	hdr := make([]byte, 5)
	if _, err := io.ReadFull(b, hdr); err != nil {
		t.Fatal(err)
	}
	body := make([]byte, binary.BigEndian.Uint16(hdr[3:]))
	if _, err := io.ReadFull(b, body); err != nil {
		t.Fatal(err)
	}
	_ = b.Close()
	return append(hdr, body...)
}

// fragment rewrites one handshake record into n records carrying the same message.
func fragment(record []byte, n int) []byte {
	msg := record[5:]
	var out []byte
	size := (len(msg) + n - 1) / n
	for len(msg) > 0 {
		k := min(size, len(msg))
		out = append(out, 0x16, record[1], record[2], byte(k>>8), byte(k))
		out = append(out, msg[:k]...)
		msg = msg[k:]
	}
	return out
}

// routedTo sends a ClientHello (however it is delivered) and reports whether the gateway
// forwarded it to the passthrough backend, by reading the backend's ServerHello issuer.
func helloReachesBackend(t *testing.T, g *gateway, send func(net.Conn, []byte)) {
	t.Helper()
	conn, err := net.Dial("tcp", g.secure)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = conn.Close() }()
	send(conn, fragment(recordHello(t), 3))
	_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	hdr := make([]byte, 5)
	if _, err := io.ReadFull(conn, hdr); err != nil {
		t.Fatalf("no answer to the fragmented hello: %v", err)
	}
	if hdr[0] != 0x16 {
		t.Fatalf("answer is record type %d, want a handshake (the backend's ServerHello)", hdr[0])
	}
}

func TestFragmentedClientHellosAreRouted(t *testing.T) {
	p := newPKI()
	g, _ := passthroughSetup(t, p, pki.MustCA("db CA"))
	t.Run("split across 3 records", func(t *testing.T) {
		helloReachesBackend(t, g, func(c net.Conn, b []byte) { _, _ = c.Write(b) })
	})
	t.Run("a byte at a time", func(t *testing.T) {
		helloReachesBackend(t, g, func(c net.Conn, b []byte) {
			for i := range b {
				if _, err := c.Write(b[i : i+1]); err != nil {
					t.Error(err)
					return
				}
			}
		})
	})
}

func TestPeekIsBoundedAndNonTLSIsClosed(t *testing.T) {
	p := newPKI()
	g, _ := passthroughSetup(t, p, pki.MustCA("db CA"), func(c *proxy.Config) { c.PeekTimeout = 300 * time.Millisecond })
	t.Run("a record header announcing 16 KiB then silence is closed at the peek deadline", func(t *testing.T) {
		conn, err := net.Dial("tcp", g.secure)
		if err != nil {
			t.Fatal(err)
		}
		defer func() { _ = conn.Close() }()
		_, _ = conn.Write([]byte{0x16, 0x03, 0x01, 0x40, 0x00})
		_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
		start := time.Now()
		n, err := conn.Read(make([]byte, 1))
		if n != 0 || err == nil || errors.Is(err, os.ErrDeadlineExceeded) {
			t.Fatalf("read %d, %v: the gateway must close the connection", n, err)
		}
		if waited := time.Since(start); waited > 3*time.Second {
			t.Fatalf("closed after %v, want about the 300ms peek deadline", waited)
		}
	})
	t.Run("a plain HTTP request on the TLS port is closed", func(t *testing.T) {
		conn, err := net.Dial("tcp", g.secure)
		if err != nil {
			t.Fatal(err)
		}
		defer func() { _ = conn.Close() }()
		_, _ = io.WriteString(conn, "GET / HTTP/1.1\r\nHost: app.example.com\r\n\r\n")
		_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
		data, err := io.ReadAll(conn)
		if len(data) != 0 || errors.Is(err, os.ErrDeadlineExceeded) {
			t.Fatalf("got %q, %v: want the connection closed without an answer", data, err)
		}
	})
}

// proxyProtoBackend records the first bytes it receives on each connection.
func proxyProtoBackend(t *testing.T) (string, <-chan []byte) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ln.Close() })
	got := make(chan []byte, 4)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer func() { _ = c.Close() }()
				_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
				buf := make([]byte, 512)
				n, _ := io.ReadAtLeast(c, buf, 16)
				got <- buf[:n]
			}()
		}
	}()
	return ln.Addr().String(), got
}

func TestProxyProtocolCarriesTheClientAddress(t *testing.T) {
	for _, version := range []int{1, 2} {
		t.Run("v"+string(rune('0'+version)), func(t *testing.T) {
			addr, got := proxyProtoBackend(t)
			route := tcpRoute("db", "HostSNI(`db.example.com`)", "db", true, func(r *bhv1.IngressRouteTCP) {
				r.Spec.Routes[0].Services[0].ProxyProtocol = &bhv1.ProxyProtocol{Version: version}
			})
			g := startGateway(t, append([]client.Object{route}, service("db", "https", addr)...))
			conn, err := net.Dial("tcp", g.secure)
			if err != nil {
				t.Fatal(err)
			}
			defer func() { _ = conn.Close() }()
			go func() {
				_ = tls.Client(conn, &tls.Config{ServerName: "db.example.com", InsecureSkipVerify: true}).Handshake()
			}() //nolint:gosec // the backend records bytes only
			var first []byte
			select {
			case first = <-got:
			case <-time.After(5 * time.Second):
				t.Fatal("the backend received nothing")
			}
			clientAddr := conn.LocalAddr().(*net.TCPAddr)
			switch version {
			case 1:
				line, _, _ := bufio.NewReader(bytes.NewReader(first)).ReadLine()
				want := "PROXY TCP4 127.0.0.1 127.0.0.1 " + strconv.Itoa(clientAddr.Port) + " "
				if !strings.HasPrefix(string(line), want) {
					t.Fatalf("got %q, want prefix %q", line, want)
				}
			case 2:
				if !bytes.HasPrefix(first, []byte("\r\n\r\n\x00\r\nQUIT\n")) || first[12] != 0x21 || first[13] != 0x11 {
					t.Fatalf("not a PROXY v2 TCP4 header: % x", first[:16])
				}
				if port := binary.BigEndian.Uint16(first[24:26]); int(port) != clientAddr.Port {
					t.Fatalf("source port %d, want the client's %d", port, clientAddr.Port)
				}
			}
		})
	}
}

func TestTCPRouteWithTLSToAnUnknownCAIsClassified(t *testing.T) {
	p := newPKI()
	backend := tlsBackend(t, pki.MustCA("stranger").MustIssue("mqtt.web.svc", pki.Options{DNSNames: []string{"mqtt.web.svc"}}))
	st := &bhv1.ServersTransportTCP{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "mqtt"},
		Spec: bhv1.ServersTransportTCPSpec{TLS: &bhv1.UpstreamTLS{ServerName: "mqtt.web.svc", RootCAs: []bhv1.RootCA{{Secret: ptr.To(bhv1.SecretName("backend-ca"))}}}}}
	route := &bhv1.IngressRouteTCP{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "mqtt"},
		Spec: bhv1.IngressRouteTCPSpec{EntryPoints: []string{"websecure"},
			Routes: []bhv1.RouteTCP{{Match: "HostSNI(`mqtt.example.com`)", Services: []bhv1.ServiceTCP{{Name: "mqtt", Port: "443", TLS: true, ServersTransport: "mqtt"}}}},
			TLS:    &bhv1.TLSTCP{SecretName: "mqtt-tls"}}}
	mqttCert := p.edgeCA.MustIssue("mqtt.example.com", pki.Options{DNSNames: []string{"mqtt.example.com"}})
	objs := []client.Object{st, route, tlsSecret("mqtt-tls", mqttCert), caSecret("backend-ca", p.backendCA)}
	g := startGateway(t, append(objs, service("mqtt", "mqtts", addrOf(backend))...))

	conn, err := tls.Dial("tcp", g.secure, &tls.Config{ServerName: "mqtt.example.com", RootCAs: p.edgeCA.Pool()})
	if err != nil {
		t.Fatalf("the gateway terminates this TCP route: %v", err)
	}
	_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := conn.Read(make([]byte, 1)); err == nil {
		t.Fatal("the connection to a backend signed by an unknown CA must be closed")
	}
	_ = conn.Close()
	var reason string
	for end := time.Now().Add(5 * time.Second); reason == "" && time.Now().Before(end); time.Sleep(10 * time.Millisecond) {
		for _, o := range g.srv.Observations().Latest() {
			if o.RouteID == "web/mqtt/0" {
				reason = string(o.Reason)
			}
		}
	}
	if reason != "UnknownAuthority" {
		t.Fatalf("observed %q, want UnknownAuthority", reason)
	}
}

func TestPassthroughConnectionsSurviveSwapsUntilTheirRouteIsRemoved(t *testing.T) {
	p := newPKI()
	dbCA := pki.MustCA("db CA")
	g, clientCA := passthroughSetup(t, p, dbCA, func(c *proxy.Config) { c.TCPRouteGrace = 200 * time.Millisecond })
	alice := clientCA.MustIssue("alice", pki.Options{})
	conn, err := tls.Dial("tcp", g.secure, &tls.Config{ServerName: "db.example.com", RootCAs: dbCA.Pool(), Certificates: []tls.Certificate{alice.TLS}, NextProtos: []string{"http/1.1"}})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = conn.Close() }()
	br := bufio.NewReader(conn)
	ask := func() error {
		_ = conn.SetDeadline(time.Now().Add(5 * time.Second))
		if _, err := io.WriteString(conn, "GET / HTTP/1.1\r\nHost: db.example.com\r\n\r\n"); err != nil {
			return err
		}
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			return err
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		return resp.Body.Close()
	}
	if err := ask(); err != nil {
		t.Fatal(err)
	}
	// An unrelated change: the passthrough connection keeps working.
	objs := append([]client.Object{ingressRoute(routeSpec{name: "new", match: "Host(`new.example.com`)", svc: "plain", scheme: "http", secret: "app-tls"})}, g.objects...)
	g.apply(objs...)
	if err := ask(); err != nil {
		t.Fatalf("after an unrelated swap: %v", err)
	}
	// The route is removed: the connection is closed after the grace period.
	var kept []client.Object
	for _, o := range objs {
		if _, isTCP := o.(*bhv1.IngressRouteTCP); !isTCP {
			kept = append(kept, o)
		}
	}
	g.apply(kept...)
	_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := br.ReadByte(); err == nil || errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("read: %v; want the connection closed once its route is gone", err)
	}
}

func TestTrustedLoadBalancerPROXYHeaderGivesTheClientAddress(t *testing.T) {
	p := newPKI()
	b := startHTTPBackend(t)
	objs := []client.Object{tlsSecret("app-tls", p.edge),
		ingressRoute(routeSpec{name: "app", match: "Host(`app.example.com`)", svc: "plain", scheme: "http", secret: "app-tls"})}
	g := startGateway(t, append(objs, service("plain", "http", addrOf(b))...), func(c *proxy.Config) {
		for i := range c.EntryPoints {
			c.EntryPoints[i].TrustedProxies = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}
		}
	})
	c := g.httpsClient(p.edgeCA)
	c.Transport.(*http.Transport).DialContext = func(ctx context.Context, n, _ string) (net.Conn, error) {
		conn, err := (&net.Dialer{}).DialContext(ctx, n, g.secure)
		if err == nil {
			_, err = io.WriteString(conn, "PROXY TCP4 203.0.113.9 127.0.0.1 40000 443\r\n")
		}
		return conn, err
	}
	resp, err := c.Get("https://app.example.com/")
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	if got := resp.Header.Get("X-Seen-Forwarded-For"); got != "203.0.113.9" {
		t.Fatalf("X-Forwarded-For %q, want the address from the PROXY header", got)
	}
	// From a trusted address, a connection without the header is closed.
	if resp, err := g.httpsClient(p.edgeCA).Get("https://app.example.com/"); err == nil {
		_ = resp.Body.Close()
		t.Fatalf("a trusted peer without a PROXY header was served (%d)", resp.StatusCode)
	}
}

func TestTCPIdleTimeoutClosesSilentConnections(t *testing.T) {
	p := newPKI()
	dbCA := pki.MustCA("db CA")
	g, clientCA := passthroughSetup(t, p, dbCA, func(c *proxy.Config) { c.TCPIdleTimeout = 300 * time.Millisecond })
	alice := clientCA.MustIssue("alice", pki.Options{})
	conn, err := tls.Dial("tcp", g.secure, &tls.Config{ServerName: "db.example.com", RootCAs: dbCA.Pool(), Certificates: []tls.Certificate{alice.TLS}, NextProtos: []string{"http/1.1"}})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = conn.Close() }()
	start := time.Now()
	_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := conn.Read(make([]byte, 1)); err == nil || errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("read: %v; want the silent connection closed by the gateway", err)
	}
	if waited := time.Since(start); waited > 3*time.Second {
		t.Fatalf("closed after %v, want about the 300ms idle timeout", waited)
	}
}
