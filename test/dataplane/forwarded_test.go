package dataplane

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/netip"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	bhv1 "github.com/bridgehead/bridgehead/api/v1alpha1"
	"github.com/bridgehead/bridgehead/internal/pki"
	"github.com/bridgehead/bridgehead/proxy"
)

// spoofed are headers a backend reads as the gateway's word, as a client might forge them
// (the underscore spellings are what CGI-style stacks fold into the same names).
var spoofed = map[string]string{
	"X-Forwarded-For":                  "6.6.6.6",
	"X-Forwarded-Host":                 "evil.example",
	"X-Forwarded-Proto":                "gopher",
	"X-Forwarded-Port":                 "1",
	"X-Forwarded-Prefix":               "/evil",
	"X-Forwarded-Uri":                  "/evil",
	"X-Forwarded-Method":               "DELETE",
	"X-Forwarded-Server":               "evil",
	"X-Forwarded-Ssl":                  "on",
	"X-Real-Ip":                        "6.6.6.6",
	"Forwarded":                        "for=6.6.6.6;proto=https",
	"X_Forwarded_Uri":                  "/evil",
	"x-forwarded-user":                 "admin",
	"X-Forwarded-Tls-Client-Cert":      "forged",
	"X-Forwarded-Tls-Client-Cert-Info": "forged",
	"X_Forwarded_Tls_Client_Cert":      "forged",
}

// rawSpoofed sends a request with every spoofed header on the web entry point and returns
// the headers the backend saw.
func rawSpoofed(t *testing.T, g *gateway, path string) http.Header {
	t.Helper()
	var b strings.Builder
	b.WriteString("GET " + path + " HTTP/1.1\r\nHost: app.example.com\r\nConnection: close\r\n")
	for k, v := range spoofed {
		b.WriteString(k + ": " + v + "\r\n")
	}
	b.WriteString("\r\n")
	resps, _ := exchange(t, g.web, b.String(), 1)
	if len(resps) != 1 || resps[0].status != 200 {
		t.Fatalf("got %+v", resps)
	}
	var seen seenRequest
	if err := json.Unmarshal([]byte(resps[0].body), &seen); err != nil {
		t.Fatal(err)
	}
	return seen.Header
}

func stripPrefixMiddleware(name, prefix string) *bhv1.Middleware {
	return &bhv1.Middleware{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec: bhv1.MiddlewareSpec{StripPrefix: &bhv1.StripPrefix{Prefixes: []string{prefix}}}}
}

// A client's X-Forwarded-*, X-Real-Ip and Forwarded headers reach backends only when the
// client is a trusted proxy (--forwarded-headers-trusted-ips). Before, only
// X-Forwarded-For, -Host and -Proto were replaced; -Prefix, -Uri, -Method, -Server, -Ssl
// and the client-certificate headers went through as the client wrote them.
func TestForwardedHeadersFromUntrustedClientsAreRemoved(t *testing.T) {
	p := newPKI()
	b := startEchoBackend(t)
	g := startGateway(t, plainRoute(p, b.srv.Listener.Addr().String()))
	_, port, _ := strings.Cut(g.web, ":")

	seen := rawSpoofed(t, g, "/")
	want := map[string]string{
		"X-Forwarded-For": "127.0.0.1", "X-Real-Ip": "127.0.0.1", "X-Forwarded-Proto": "http",
		"X-Forwarded-Host": "app.example.com", "X-Forwarded-Port": port,
	}
	for k := range spoofed {
		name := http.CanonicalHeaderKey(k)
		if got, ok := seen[name]; ok && strings.Join(got, ",") != want[name] {
			t.Errorf("%s reached the backend as %q", k, got)
		}
	}
	for k, v := range want {
		if got := seen.Get(k); got != v {
			t.Errorf("%s = %q, want the gateway's %q", k, got, v)
		}
	}
}

func TestForwardedHeadersFromTrustedProxiesAreKept(t *testing.T) {
	p := newPKI()
	b := startEchoBackend(t)
	objs := append(plainRoute(p, b.srv.Listener.Addr().String(), "strip"), stripPrefixMiddleware("strip", "/api"))
	g := startGateway(t, objs, func(c *proxy.Config) {
		for i := range c.EntryPoints {
			c.EntryPoints[i].ForwardedTrustedIPs = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}
		}
	})

	seen := rawSpoofed(t, g, "/api/x")
	if got := seen.Get("X-Forwarded-For"); got != "6.6.6.6, 127.0.0.1" {
		t.Errorf("X-Forwarded-For %q, want the proxy's list with the proxy appended", got)
	}
	for k, v := range map[string]string{
		"X-Forwarded-Host": "evil.example", "X-Forwarded-Proto": "gopher", "X-Forwarded-Port": "1",
		"X-Forwarded-Uri": "/evil", "X-Forwarded-Method": "DELETE", "X-Forwarded-Server": "evil", "X-Forwarded-Ssl": "on",
		"X-Real-Ip": "6.6.6.6", "Forwarded": "for=6.6.6.6;proto=https", "X_forwarded_uri": "/evil", "X-Forwarded-User": "admin",
	} {
		if got := seen.Get(k); got != v {
			t.Errorf("%s = %q, want the trusted proxy's %q", k, got, v)
		}
	}
	// stripPrefix sets X-Forwarded-Prefix after the entry point's pass: the value is its.
	if got := seen.Values("X-Forwarded-Prefix"); len(got) != 1 || got[0] != "/api" {
		t.Errorf("X-Forwarded-Prefix %q, want stripPrefix's /api", got)
	}
	// Client-certificate headers are the gateway's alone, trusted proxy or not.
	for _, k := range []string{"X-Forwarded-Tls-Client-Cert", "X-Forwarded-Tls-Client-Cert-Info", "X_forwarded_tls_client_cert"} {
		if got, ok := seen[k]; ok {
			t.Errorf("%s reached the backend: %q", k, got)
		}
	}
}

// stripPrefix sets X-Forwarded-Prefix for an untrusted client too; its own value is gone.
func TestStripPrefixSetsForwardedPrefix(t *testing.T) {
	p := newPKI()
	b := startEchoBackend(t)
	g := startGateway(t, append(plainRoute(p, b.srv.Listener.Addr().String(), "strip"), stripPrefixMiddleware("strip", "/api")))
	seen := rawSpoofed(t, g, "/api/x")
	if got := seen.Values("X-Forwarded-Prefix"); len(got) != 1 || got[0] != "/api" {
		t.Errorf("X-Forwarded-Prefix %q, want stripPrefix's /api", got)
	}
}

// X-Forwarded-Tls-Client-Cert is set by passTLSClientCert only. Before, a client's own
// reached backends on every route without the middleware: a forged client identity for a
// backend that trusts the header.
func TestClientCertHeadersComeFromPassTLSClientCertOnly(t *testing.T) {
	p := newPKI()
	clientCA := pki.MustCA("client CA")
	alice := clientCA.MustIssue("alice", pki.Options{})
	b := startEchoBackend(t)
	pass := &bhv1.Middleware{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "pass"},
		Spec: bhv1.MiddlewareSpec{PassTLSClientCert: &bhv1.PassTLSClientCert{PEM: true}}}
	objs := []client.Object{tlsSecret("app-tls", p.edge), caSecret("client-ca", clientCA), mtlsOption("mtls", "client-ca"), pass,
		ingressRoute(routeSpec{name: "admin", match: "Host(`admin.example.com`)", svc: "plain", scheme: "http", secret: "app-tls", option: "mtls", middlewares: []string{"pass"}}),
		ingressRoute(routeSpec{name: "app", match: "Host(`app.example.com`)", svc: "plain", scheme: "http", secret: "app-tls"}),
	}
	g := startGateway(t, append(objs, service("plain", "http", b.srv.Listener.Addr().String())...))

	seenVia := func(c *http.Client, url string) http.Header {
		t.Helper()
		req, _ := http.NewRequest("GET", url, nil)
		req.Header.Set("X-Forwarded-Tls-Client-Cert", "forged")
		req.Header.Set("X-Forwarded-Tls-Client-Cert-Info", "forged")
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer func() { _ = resp.Body.Close() }()
		var seen seenRequest
		if err := json.NewDecoder(resp.Body).Decode(&seen); err != nil {
			t.Fatalf("%s: %d: %v", url, resp.StatusCode, err)
		}
		return seen.Header
	}
	if h := seenVia(g.httpsClient(p.edgeCA), "https://app.example.com/"); h.Get("X-Forwarded-Tls-Client-Cert") != "" || h.Get("X-Forwarded-Tls-Client-Cert-Info") != "" {
		t.Errorf("a route without passTLSClientCert forwarded the client's certificate headers: %q %q",
			h.Get("X-Forwarded-Tls-Client-Cert"), h.Get("X-Forwarded-Tls-Client-Cert-Info"))
	}
	h := seenVia(g.httpsClient(p.edgeCA, clientCert(alice)), "https://admin.example.com/")
	if got := h.Values("X-Forwarded-Tls-Client-Cert"); len(got) != 1 || got[0] != base64.StdEncoding.EncodeToString(alice.TLS.Certificate[0]) {
		t.Errorf("passTLSClientCert: %q, want alice's certificate", got)
	}
}
