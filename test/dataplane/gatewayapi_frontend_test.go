package dataplane

import (
	"context"
	"crypto/tls"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/http2"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/bridgehead/bridgehead/internal/pki"
	"github.com/bridgehead/bridgehead/internal/translate"
)

// A Gateway's spec.tls.frontend (client certificate validation) and the 421 rule between
// HTTPS listeners (GEP-3567), through the real proxy on 127.0.0.1 with real clients: Go's
// (HTTP/1.1 and HTTP/2, a reused HTTP/2 connection), curl and openssl s_client.

// caConfigMap is in gatewayapi_backendtls_test.go.

func caRef(name string) gwv1.ObjectReference {
	return gwv1.ObjectReference{Group: "", Kind: "ConfigMap", Name: gwv1.ObjectName(name)}
}

func httpsListener(name string, port gwv1.PortNumber, host string) gwv1.Listener {
	l := gwv1.Listener{Name: gwv1.SectionName(name), Port: port, Protocol: gwv1.HTTPSProtocolType,
		TLS: &gwv1.ListenerTLSConfig{CertificateRefs: []gwv1.SecretObjectReference{{Name: "edge"}}}}
	if host != "" {
		l.Hostname = ptr.To(gwv1.Hostname(host))
	}
	return l
}

func httpRouteTo(name, listener string, svc string, hostnames ...string) *gwv1.HTTPRoute {
	pr := gwv1.ParentReference{Name: "gw"}
	if listener != "" {
		pr.SectionName = ptr.To(gwv1.SectionName(listener))
	}
	hr := &gwv1.HTTPRoute{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}, Spec: gwv1.HTTPRouteSpec{
		CommonRouteSpec: gwv1.CommonRouteSpec{ParentRefs: []gwv1.ParentReference{pr}},
		Rules: []gwv1.HTTPRouteRule{{BackendRefs: []gwv1.HTTPBackendRef{{BackendRef: gwv1.BackendRef{
			BackendObjectReference: gwv1.BackendObjectReference{Name: gwv1.ObjectName(svc), Port: ptr.To[gwv1.PortNumber](443)}}}}}}}}
	for _, h := range hostnames {
		hr.Spec.Hostnames = append(hr.Spec.Hostnames, gwv1.Hostname(h))
	}
	return hr
}

// namedBackend answers with its name, so a test sees which route served.
func namedBackend(t *testing.T, name string) []client.Object {
	s := startHandler(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = io.WriteString(w, name) }))
	return service(name, "http", addrOf(s))
}

// frontendGateway: port 443 (no hostname) validates with CA "one" (the default), port
// 8443 (hostname second.example.com) with CA "two" (perPort), both in mode.
func frontendGateway(mode gwv1.FrontendValidationModeType) *gwv1.Gateway {
	return &gwv1.Gateway{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "gw", Generation: 1}, Spec: gwv1.GatewaySpec{
		GatewayClassName: "bh",
		TLS: &gwv1.GatewayTLSConfig{Frontend: &gwv1.FrontendTLSConfig{
			Default: gwv1.TLSConfig{Validation: &gwv1.FrontendTLSValidation{Mode: mode, CACertificateRefs: []gwv1.ObjectReference{caRef("one")}}},
			PerPort: []gwv1.TLSPortConfig{{Port: 8443, TLS: gwv1.TLSConfig{Validation: &gwv1.FrontendTLSValidation{Mode: mode, CACertificateRefs: []gwv1.ObjectReference{caRef("two")}}}}},
		}},
		Listeners: []gwv1.Listener{httpsListener("https", 443, ""), httpsListener("https-with-hostname", 8443, "second.example.com")},
	}}
}

type frontendPKI struct {
	edgeCA, one, two *pki.CA
	edge, certOne    *pki.Leaf
	certTwo          *pki.Leaf
}

func newFrontendPKI() *frontendPKI {
	p := &frontendPKI{edgeCA: pki.MustCA("edge CA"), one: pki.MustCA("client CA one"), two: pki.MustCA("client CA two")}
	p.edge = p.edgeCA.MustIssue("edge", pki.Options{DNSNames: []string{"*.example.com"}})
	p.certOne = p.one.MustIssue("client one", pki.Options{})
	p.certTwo = p.two.MustIssue("client two", pki.Options{})
	return p
}

func (p *frontendPKI) objects(t *testing.T, gw *gwv1.Gateway) []client.Object {
	objs := []client.Object{tlsSecret("edge", p.edge), caConfigMap("one", p.one), caConfigMap("two", p.two), gw,
		httpRouteTo("first", "", "v1", "app.example.com"),
		httpRouteTo("second", "https-with-hostname", "v2")}
	objs = append(objs, namedBackend(t, "v1")...)
	return append(objs, namedBackend(t, "v2")...)
}

// getVia sends one request over a new TLS connection with the given SNI and Host.
func (g *gateway) getVia(p *frontendPKI, sni, host string, cert *pki.Leaf, h2 bool) (int, string, error) {
	cfg := &tls.Config{RootCAs: p.edgeCA.Pool(), ServerName: sni}
	if cert != nil {
		cfg.Certificates = []tls.Certificate{cert.TLS}
	}
	tr := &http.Transport{TLSClientConfig: cfg, ForceAttemptHTTP2: h2, DisableKeepAlives: true,
		DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, network, g.secure)
		}}
	if !h2 {
		tr.TLSNextProto = map[string]func(string, *tls.Conn) http.RoundTripper{}
	}
	defer tr.CloseIdleConnections()
	req, _ := http.NewRequest("GET", "https://"+host+"/", nil)
	resp, err := (&http.Client{Transport: tr, Timeout: 10 * time.Second}).Do(req)
	if err != nil {
		return 0, "", err
	}
	defer func() { _ = resp.Body.Close() }()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body), nil
}

func TestGatewayFrontendValidationAllowValidOnly(t *testing.T) {
	p := newFrontendPKI()
	g := startGateway(t, nil)
	st := g.applyGatewayAPI(p.objects(t, frontendGateway(gwv1.AllowValidOnly))...)
	for _, l := range st[translate.Key{Kind: translate.KindGateway, Namespace: ns, Name: "gw"}].GatewayAPI.Gateway.Listeners {
		for _, c := range l.Conditions {
			if c.Type == "Programmed" && c.Status != metav1.ConditionTrue {
				t.Fatalf("listener %s not programmed: %s %s", l.Name, c.Reason, c.Message)
			}
		}
	}
	for _, h2 := range []bool{false, true} {
		cases := []struct {
			sni, host string
			cert      *pki.Leaf
			code      int // 0: the handshake fails
			body      string
		}{
			{"app.example.com", "app.example.com", p.certOne, 200, "v1"},
			{"app.example.com", "app.example.com", p.certTwo, 0, ""},
			{"app.example.com", "app.example.com", nil, 0, ""},
			{"second.example.com", "second.example.com", p.certTwo, 200, "v2"},
			{"second.example.com", "second.example.com", p.certOne, 0, ""},
			{"second.example.com", "second.example.com", nil, 0, ""},
			// A connection validated for one listener never serves the other's names.
			{"second.example.com", "app.example.com", p.certTwo, 421, ""},
			{"app.example.com", "second.example.com", p.certOne, 421, ""},
			// A name no route lists is negotiated under the default policy (no client
			// certificate): the validated route is not served on it.
			{"other.example.com", "app.example.com", nil, 421, ""},
		}
		for _, c := range cases {
			code, body, err := g.getVia(p, c.sni, c.host, c.cert, h2)
			switch {
			case c.code == 0 && err == nil:
				t.Errorf("h2=%v SNI %s Host %s: answered %d %q, want the handshake refused", h2, c.sni, c.host, code, body)
			case c.code != 0 && err != nil:
				t.Errorf("h2=%v SNI %s Host %s: %v, want %d", h2, c.sni, c.host, err, c.code)
			case c.code != 0 && (code != c.code || (c.body != "" && body != c.body)):
				t.Errorf("h2=%v SNI %s Host %s: %d %q, want %d %q", h2, c.sni, c.host, code, body, c.code, c.body)
			}
		}
	}

	// HTTP/2 connection coalescing: one connection, validated for second.example.com,
	// then a request for app.example.com on it: 421, and the same connection still serves
	// its own name.
	conn, err := tls.Dial("tcp", g.secure, &tls.Config{RootCAs: p.edgeCA.Pool(), ServerName: "second.example.com", NextProtos: []string{"h2"},
		Certificates: []tls.Certificate{p.certTwo.TLS}})
	if err != nil {
		t.Fatal(err)
	}
	cc, err := (&http2.Transport{}).NewClientConn(conn)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = cc.Close() }()
	for _, c := range []struct {
		host string
		code int
	}{{"second.example.com", 200}, {"app.example.com", 421}, {"second.example.com", 200}} {
		req, _ := http.NewRequest("GET", "https://"+c.host+"/", nil)
		resp, err := cc.RoundTrip(req)
		if err != nil {
			t.Fatalf("h2 reuse, Host %s: %v", c.host, err)
		}
		_ = resp.Body.Close()
		if resp.StatusCode != c.code {
			t.Errorf("h2 reuse, Host %s: %d, want %d", c.host, resp.StatusCode, c.code)
		}
	}

	// curl and openssl, with and without the client certificate.
	port := g.secure[strings.LastIndexByte(g.secure, ':')+1:]
	ca := writePEM(t, "edge-ca.pem", p.edgeCA.PEM)
	cert, key := writePEM(t, "one.pem", p.certOne.CertPEM), writePEM(t, "one.key", p.certOne.KeyPEM)
	for _, proto := range []string{"--http1.1", "--http2"} {
		out, err := run(t, "", "curl", "-sS", proto, "--cacert", ca, "--cert", cert, "--key", key,
			"--resolve", "app.example.com:"+port+":127.0.0.1", "https://app.example.com:"+port+"/")
		if err != nil || out != "v1" {
			t.Errorf("curl %s with the client certificate: %v %q, want v1", proto, err, out)
		}
		out, err = run(t, "", "curl", "-sS", proto, "--cacert", ca, "--resolve", "app.example.com:"+port+":127.0.0.1", "https://app.example.com:"+port+"/")
		if err == nil {
			t.Errorf("curl %s without a client certificate: %q, want the handshake refused", proto, out)
		}
		out, err = run(t, "", "curl", "-sS", "-o", "/dev/null", "-w", "%{http_code}", proto, "--cacert", ca, "--cert", cert, "--key", key,
			"--connect-to", "second.example.com:"+port+":127.0.0.1:"+port, "-H", "Host: second.example.com",
			"--resolve", "app.example.com:"+port+":127.0.0.1", "https://app.example.com:"+port+"/")
		if err != nil || out != "421" {
			t.Errorf("curl %s, SNI app.example.com, Host second.example.com: %v %q, want 421", proto, err, out)
		}
	}
	req := "GET / HTTP/1.1\r\nHost: app.example.com\r\nConnection: close\r\n\r\n"
	out, err := run(t, req, "openssl", "s_client", "-connect", g.secure, "-servername", "app.example.com", "-CAfile", ca, "-cert", cert, "-key", key, "-quiet", "-ign_eof")
	if err != nil || !strings.Contains(out, "200 OK") || !strings.HasSuffix(out, "v1") {
		t.Errorf("openssl s_client with the client certificate: %v\n%s", err, out)
	}
	out, _ = run(t, req, "openssl", "s_client", "-connect", g.secure, "-servername", "app.example.com", "-CAfile", ca, "-quiet", "-ign_eof")
	if strings.Contains(out, "200 OK") || !strings.Contains(out, "certificate required") {
		t.Errorf("openssl s_client without a client certificate: want the alert \"certificate required\", got\n%s", out)
	}
}

func TestGatewayFrontendValidationAllowInsecureFallback(t *testing.T) {
	p := newFrontendPKI()
	g := startGateway(t, nil)
	st := g.applyGatewayAPI(p.objects(t, frontendGateway(gwv1.AllowInsecureFallback))...)
	found := false
	for _, c := range st[translate.Key{Kind: translate.KindGateway, Namespace: ns, Name: "gw"}].GatewayAPI.Gateway.Conditions {
		if c.Type == string(gwv1.GatewayConditionInsecureFrontendValidationMode) {
			found = c.Status == metav1.ConditionTrue && c.Reason == string(gwv1.GatewayReasonConfigurationChanged)
		}
	}
	if !found {
		t.Errorf("Gateway: want InsecureFrontendValidationMode True ConfigurationChanged")
	}
	for _, h2 := range []bool{false, true} {
		for _, c := range []struct {
			sni, body string
			cert      *pki.Leaf
		}{
			{"app.example.com", "v1", p.certOne}, {"app.example.com", "v1", p.certTwo}, {"app.example.com", "v1", nil},
			{"second.example.com", "v2", p.certTwo}, {"second.example.com", "v2", p.certOne}, {"second.example.com", "v2", nil},
		} {
			code, body, err := g.getVia(p, c.sni, c.sni, c.cert, h2)
			if err != nil || code != 200 || body != c.body {
				t.Errorf("h2=%v %s (cert %v): %d %q %v, want 200 %q", h2, c.sni, c.cert != nil, code, body, err, c.body)
			}
		}
	}
	port := g.secure[strings.LastIndexByte(g.secure, ':')+1:]
	ca := writePEM(t, "edge-ca.pem", p.edgeCA.PEM)
	out, err := run(t, "", "curl", "-sS", "--cacert", ca, "--resolve", "app.example.com:"+port+":127.0.0.1", "https://app.example.com:"+port+"/")
	if err != nil || out != "v1" {
		t.Errorf("curl without a client certificate (insecure fallback): %v %q, want v1", err, out)
	}
}

// The conformance test HTTPRouteHTTPSListenerDetectMisdirectedRequests, on one port: the
// listener a connection's SNI selects must be the one the request's Host selects.
func TestGatewayHTTPSListenersDetectMisdirectedRequests(t *testing.T) {
	p := newFrontendPKI()
	wild := p.edgeCA.MustIssue("wild", pki.Options{DNSNames: []string{"*.example.com", "*.wildcard.org", "example.org", "second-example.org", "unknown-example.org"}})
	g := startGateway(t, nil)
	gw := &gwv1.Gateway{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "gw"}, Spec: gwv1.GatewaySpec{GatewayClassName: "bh", Listeners: []gwv1.Listener{
		httpsListener("https", 443, ""), httpsListener("https-with-hostname", 443, "second-example.org"),
		httpsListener("https-with-wildcard-hostname", 443, "*.wildcard.org"), httpsListener("https-with-hostname-matching-wildcard", 443, "fourth-example.wildcard.org"),
	}}}
	objs := []client.Object{tlsSecret("edge", wild), gw,
		httpRouteTo("test-1", "https", "v1", "example.org"), httpRouteTo("test-2", "https-with-hostname", "v2"),
		httpRouteTo("test-3", "https-with-wildcard-hostname", "v3"), httpRouteTo("test-4", "https-with-hostname-matching-wildcard", "v1")}
	for _, b := range []string{"v1", "v2", "v3"} {
		objs = append(objs, namedBackend(t, b)...)
	}
	g.applyGatewayAPI(objs...)
	cases := []struct {
		sni, host string
		code      int
		body      string
	}{
		{"example.org", "example.org", 200, "v1"},
		{"example.org", "second-example.org", 421, ""},
		{"example.org", "unknown-example.org", 404, ""},
		{"second-example.org", "second-example.org", 200, "v2"},
		{"second-example.org", "example.org", 421, ""},
		{"second-example.org", "unknown-example.org", 421, ""},
		{"third-example.wildcard.org", "third-example.wildcard.org", 200, "v3"},
		{"third-example.wildcard.org", "fith-example.wildcard.org", 200, "v3"},
		{"third-example.wildcard.org", "fourth-example.wildcard.org", 421, ""},
		{"third-example.wildcard.org", "second-example.org", 421, ""},
		{"third-example.wildcard.org", "unknown-example.org", 421, ""},
		{"fourth-example.wildcard.org", "fourth-example.wildcard.org", 200, "v1"},
		{"fourth-example.wildcard.org", "fith-example.wildcard.org", 421, ""},
		{"unknown-example.org", "example.org", 200, "v1"},
		{"unknown-example.org", "unknown-example.org", 404, ""},
	}
	pk := &frontendPKI{edgeCA: p.edgeCA}
	for _, h2 := range []bool{true, false} {
		for _, c := range cases {
			code, body, err := g.getVia(pk, c.sni, c.host, nil, h2)
			if err != nil || code != c.code || (c.body != "" && body != c.body) {
				t.Errorf("h2=%v SNI %s Host %s: %d %q %v, want %d %q", h2, c.sni, c.host, code, body, err, c.code, c.body)
			}
		}
	}
}
