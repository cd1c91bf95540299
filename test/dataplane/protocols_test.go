package dataplane

import (
	"bufio"
	"crypto/tls"
	"io"
	"net/http"
	"strings"
	"testing"

	"sigs.k8s.io/controller-runtime/pkg/client"
)

func TestHTTP2EndToEnd(t *testing.T) {
	p := newPKI()
	b := tlsBackend(t, p.backend("backend.web.svc"))
	g := startGateway(t, e2e(p, addrOf(b), serversTransport("backend", "backend.web.svc", []string{"backend-ca"}, nil),
		routeSpec{name: "app", match: "Host(`app.example.com`)", svc: "backend", transport: "backend", secret: "app-tls"}))
	resp, err := g.httpsClient(p.edgeCA).Get("https://app.example.com/")
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	if resp.ProtoMajor != 2 || resp.Header.Get("X-Backend-Proto") != "HTTP/2.0" {
		t.Fatalf("client side %s, backend side %s; want HTTP/2 on both legs", resp.Proto, resp.Header.Get("X-Backend-Proto"))
	}
}

// wsBackend accepts an Upgrade and echoes every byte, which is all a proxy must carry.
func wsBackend(t *testing.T) string {
	s := startHandler(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.EqualFold(r.Header.Get("Upgrade"), "websocket") {
			http.Error(w, "want an upgrade", http.StatusBadRequest)
			return
		}
		conn, rw, err := http.NewResponseController(w).Hijack()
		if err != nil {
			return
		}
		defer func() { _ = conn.Close() }()
		_, _ = rw.WriteString("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n")
		_ = rw.Flush()
		_, _ = io.Copy(conn, rw)
	}))
	return addrOf(s)
}

func TestWebSocketUpgradeThroughTLS(t *testing.T) {
	p := newPKI()
	objs := []client.Object{tlsSecret("app-tls", p.edge),
		ingressRoute(routeSpec{name: "ws", match: "Host(`app.example.com`) && Path(`/socket`)", svc: "ws", scheme: "http", secret: "app-tls"})}
	g := startGateway(t, append(objs, service("ws", "http", wsBackend(t))...))

	conn, err := tls.Dial("tcp", g.secure, &tls.Config{ServerName: "app.example.com", RootCAs: p.edgeCA.Pool(), NextProtos: []string{"http/1.1"}})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = conn.Close() }()
	_, _ = io.WriteString(conn, "GET /socket HTTP/1.1\r\nHost: app.example.com\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n")
	br := bufio.NewReader(conn)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }()
	if resp.StatusCode != http.StatusSwitchingProtocols {
		t.Fatalf("got %d, want 101", resp.StatusCode)
	}
	_, _ = io.WriteString(conn, "hello over the tunnel")
	buf := make([]byte, len("hello over the tunnel"))
	if _, err := io.ReadFull(br, buf); err != nil || string(buf) != "hello over the tunnel" {
		t.Fatalf("echo: %q %v", buf, err)
	}
}
