package translate_test

import (
	"bufio"
	"context"
	"crypto/tls"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/bridgehead/bridgehead/internal/pki"
	"github.com/bridgehead/bridgehead/internal/snapshot"
	"github.com/bridgehead/bridgehead/internal/translate"
	"github.com/bridgehead/bridgehead/proxy"
)

// These tests build the snapshot with translate.Translate from in-memory Gateway API
// objects (an HTTPS listener on 443 with a real certificate, Services whose endpoints
// are loopback test servers) and send real requests through the real proxy over TLS.

// echoSeen is what the echo backend received.
type echoSeen struct {
	Host    string      `json:"host"`
	URI     string      `json:"uri"`
	Proto   string      `json:"proto"`
	Headers http.Header `json:"headers"`
}

// filterEcho answers with what it received; ?delay=D waits D first.
func filterEcho(w http.ResponseWriter, r *http.Request) {
	if d, err := time.ParseDuration(r.URL.Query().Get("delay")); err == nil {
		select {
		case <-time.After(min(d, 5*time.Second)):
		case <-r.Context().Done():
		}
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Backend", "echo")
	_ = json.NewEncoder(w).Encode(echoSeen{Host: r.Host, URI: r.RequestURI, Proto: r.Proto, Headers: r.Header})
}

// filterWorld is the Gateway API objects of one test, around Gateway web/gw.
type filterWorld struct {
	in  *translate.Inputs
	ca  *pki.CA
	st  translate.Statuses
	cli *http.Client
}

func newFilterWorld(t *testing.T) *filterWorld {
	ca := pki.MustCA("Gateway Filters CA")
	leaf := ca.MustIssue("app.test", pki.Options{DNSNames: []string{"app.test"}})
	return &filterWorld{ca: ca, in: &translate.Inputs{
		Secrets: []*corev1.Secret{{ObjectMeta: metav1.ObjectMeta{Namespace: "web", Name: "app-tls"}, Type: corev1.SecretTypeTLS,
			Data: map[string][]byte{"tls.crt": leaf.CertPEM, "tls.key": leaf.KeyPEM}}},
		GatewayClasses: []*gwv1.GatewayClass{{ObjectMeta: metav1.ObjectMeta{Name: "bh"}, Spec: gwv1.GatewayClassSpec{ControllerName: translate.GatewayController}}},
		Gateways: []*gwv1.Gateway{{ObjectMeta: metav1.ObjectMeta{Namespace: "web", Name: "gw"},
			Spec: gwv1.GatewaySpec{GatewayClassName: "bh", Listeners: []gwv1.Listener{{Name: "https", Port: 443, Protocol: gwv1.HTTPSProtocolType,
				TLS: &gwv1.ListenerTLSConfig{CertificateRefs: []gwv1.SecretObjectReference{{Name: "app-tls"}}}}}}}},
	}}
}

// service adds Service web/name port 80 whose one endpoint is addr (a loopback server).
func (w *filterWorld) service(t *testing.T, name, addr, appProtocol string) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		t.Fatal(err)
	}
	p, _ := strconv.Atoi(port)
	sp := corev1.ServicePort{Name: "http", Port: 80}
	if appProtocol != "" {
		sp.AppProtocol = ptr.To(appProtocol)
	}
	w.in.Services = append(w.in.Services, &corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: "web", Name: name}, Spec: corev1.ServiceSpec{Ports: []corev1.ServicePort{sp}}})
	w.in.EndpointSlices = append(w.in.EndpointSlices, &discoveryv1.EndpointSlice{
		ObjectMeta:  metav1.ObjectMeta{Namespace: "web", Name: name + "-1", Labels: map[string]string{discoveryv1.LabelServiceName: name}},
		AddressType: discoveryv1.AddressTypeIPv4,
		Ports:       []discoveryv1.EndpointPort{{Name: ptr.To("http"), Port: ptr.To(int32(p))}},
		Endpoints:   []discoveryv1.Endpoint{{Addresses: []string{host}}},
	})
}

func filterBackendRef(name string) gwv1.HTTPBackendRef {
	return gwv1.HTTPBackendRef{BackendRef: gwv1.BackendRef{BackendObjectReference: gwv1.BackendObjectReference{Name: gwv1.ObjectName(name), Port: ptr.To[gwv1.PortNumber](80)}}}
}

func filterPrefix(p string) []gwv1.HTTPRouteMatch {
	return []gwv1.HTTPRouteMatch{{Path: &gwv1.HTTPPathMatch{Type: ptr.To(gwv1.PathMatchPathPrefix), Value: ptr.To(p)}}}
}

// route adds HTTPRoute web/name on app.test with these rules.
func (w *filterWorld) route(name string, rules ...gwv1.HTTPRouteRule) {
	w.in.HTTPRoutes = append(w.in.HTTPRoutes, &gwv1.HTTPRoute{
		ObjectMeta: metav1.ObjectMeta{Namespace: "web", Name: name, Generation: 1},
		Spec: gwv1.HTTPRouteSpec{CommonRouteSpec: gwv1.CommonRouteSpec{ParentRefs: []gwv1.ParentReference{{Name: "gw"}}},
			Hostnames: []gwv1.Hostname{"app.test"}, Rules: rules},
	})
}

// serve translates the world and serves the snapshot on loopback; app.test:443 is the
// proxy's TLS entry point.
func (w *filterWorld) serve(t *testing.T) {
	snap, st := translate.Translate(w.in, translate.DefaultOptions())
	if err := snap.Validate(); err != nil {
		t.Fatal(err)
	}
	w.st = st
	store := &snapshot.Store{}
	srv, err := proxy.New(proxy.Config{
		EntryPoints: []proxy.EntryPoint{{Name: "web", Address: "127.0.0.1:0"}, {Name: "websecure", Address: "127.0.0.1:0", TLS: true}},
		ErrorHeader: true, Grace: 5 * time.Second, Log: slog.New(slog.NewTextHandler(io.Discard, nil)),
	}, store)
	if err != nil {
		t.Fatal(err)
	}
	if err := store.Swap(snap); err != nil {
		t.Fatal(err)
	}
	if err := srv.Listen(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("gateway shutdown: %v", err)
		}
	})
	secure := srv.Addrs()["websecure"]
	dialer := &net.Dialer{}
	w.cli = &http.Client{Timeout: 10 * time.Second,
		Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: w.ca.Pool(), ServerName: "app.test"}, ForceAttemptHTTP2: true,
			DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
				return dialer.DialContext(ctx, network, secure)
			}},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// filterAnswer is a response read to its end.
type filterAnswer struct {
	StatusCode int
	Header     http.Header
}

func (w *filterWorld) get(t *testing.T, target string, header http.Header) (filterAnswer, echoSeen) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, "https://app.test"+target, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, vs := range header {
		req.Header[k] = vs
	}
	resp, err := w.cli.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	var s echoSeen
	if resp.StatusCode == http.StatusOK {
		if err := json.Unmarshal(body, &s); err != nil {
			t.Fatalf("GET %s: %v: %s", target, err, body)
		}
	}
	return filterAnswer{StatusCode: resp.StatusCode, Header: resp.Header}, s
}

func startLoopback(t *testing.T, h http.Handler) string {
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return strings.TrimPrefix(srv.URL, "http://")
}

func TestGatewayFiltersFromTranslateThroughTLS(t *testing.T) {
	w := newFilterWorld(t)
	w.service(t, "echo", startLoopback(t, http.HandlerFunc(filterEcho)), "")
	var mu sync.Mutex
	var mirrored []string
	w.service(t, "mirror", startLoopback(t, http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		mirrored = append(mirrored, r.Header.Get("X-Header-Set")+" "+r.URL.Path)
	})), "")
	echo := []gwv1.HTTPBackendRef{filterBackendRef("echo")}
	w.route("headers", gwv1.HTTPRouteRule{Matches: filterPrefix("/headers"), BackendRefs: echo, Filters: []gwv1.HTTPRouteFilter{
		{Type: gwv1.HTTPRouteFilterRequestHeaderModifier, RequestHeaderModifier: &gwv1.HTTPHeaderFilter{
			Set: []gwv1.HTTPHeader{{Name: "X-Header-Set", Value: "set-overwrites-values"}}, Add: []gwv1.HTTPHeader{{Name: "X-Header-Add", Value: "add-appends-values"}},
			Remove: []string{"X-Header-Remove"}}},
		{Type: gwv1.HTTPRouteFilterResponseHeaderModifier, ResponseHeaderModifier: &gwv1.HTTPHeaderFilter{
			Set: []gwv1.HTTPHeader{{Name: "X-Resp-Set", Value: "r"}}, Remove: []string{"X-Backend"}}},
	}})
	w.route("rewrite", gwv1.HTTPRouteRule{Matches: filterPrefix("/prefix/one"), BackendRefs: echo, Filters: []gwv1.HTTPRouteFilter{
		{Type: gwv1.HTTPRouteFilterURLRewrite, URLRewrite: &gwv1.HTTPURLRewriteFilter{Hostname: ptr.To[gwv1.PreciseHostname]("one.example.org"),
			Path: &gwv1.HTTPPathModifier{Type: gwv1.PrefixMatchHTTPPathModifier, ReplacePrefixMatch: ptr.To("/one")}}},
	}})
	w.route("redirect",
		gwv1.HTTPRouteRule{Matches: filterPrefix("/scheme-and-host"), Filters: []gwv1.HTTPRouteFilter{
			{Type: gwv1.HTTPRouteFilterRequestRedirect, RequestRedirect: &gwv1.HTTPRequestRedirectFilter{Scheme: ptr.To("http"), Hostname: ptr.To[gwv1.PreciseHostname]("example.org"), StatusCode: ptr.To(308)}}}},
		gwv1.HTTPRouteRule{Matches: filterPrefix("/path-and-port"), Filters: []gwv1.HTTPRouteFilter{
			{Type: gwv1.HTTPRouteFilterRequestRedirect, RequestRedirect: &gwv1.HTTPRequestRedirectFilter{Port: ptr.To[gwv1.PortNumber](8443),
				Path: &gwv1.HTTPPathModifier{Type: gwv1.PrefixMatchHTTPPathModifier, ReplacePrefixMatch: ptr.To("/moved")}}}}},
		gwv1.HTTPRouteRule{Matches: filterPrefix("/see-other"), Filters: []gwv1.HTTPRouteFilter{
			{Type: gwv1.HTTPRouteFilterRequestRedirect, RequestRedirect: &gwv1.HTTPRequestRedirectFilter{StatusCode: ptr.To(303)}}}},
		gwv1.HTTPRouteRule{Matches: filterPrefix("/temporary"), Filters: []gwv1.HTTPRouteFilter{
			{Type: gwv1.HTTPRouteFilterRequestRedirect, RequestRedirect: &gwv1.HTTPRequestRedirectFilter{StatusCode: ptr.To(307),
				Path: &gwv1.HTTPPathModifier{Type: gwv1.FullPathHTTPPathModifier, ReplaceFullPath: ptr.To("/full")}}}}},
		gwv1.HTTPRouteRule{Matches: filterPrefix("/same-port"), Filters: []gwv1.HTTPRouteFilter{
			{Type: gwv1.HTTPRouteFilterRequestRedirect, RequestRedirect: &gwv1.HTTPRequestRedirectFilter{Hostname: ptr.To[gwv1.PreciseHostname]("example.org")}}}},
	)
	w.route("mirror", gwv1.HTTPRouteRule{Matches: filterPrefix("/mirror"), BackendRefs: echo, Filters: []gwv1.HTTPRouteFilter{
		{Type: gwv1.HTTPRouteFilterRequestHeaderModifier, RequestHeaderModifier: &gwv1.HTTPHeaderFilter{Set: []gwv1.HTTPHeader{{Name: "X-Header-Set", Value: "mirrored"}}}},
		{Type: gwv1.HTTPRouteFilterRequestMirror, RequestMirror: &gwv1.HTTPRequestMirrorFilter{BackendRef: filterBackendRef("mirror").BackendObjectReference,
			Fraction: &gwv1.Fraction{Numerator: 1, Denominator: ptr.To[int32](4)}}},
		{Type: gwv1.HTTPRouteFilterRequestMirror, RequestMirror: &gwv1.HTTPRequestMirrorFilter{BackendRef: filterBackendRef("missing").BackendObjectReference}},
	}})
	w.route("timeouts", gwv1.HTTPRouteRule{Matches: filterPrefix("/request-timeout"), BackendRefs: echo,
		Timeouts: &gwv1.HTTPRouteTimeouts{Request: ptr.To[gwv1.Duration]("300ms")}},
		gwv1.HTTPRouteRule{Matches: filterPrefix("/backend-timeout"), BackendRefs: echo,
			Timeouts: &gwv1.HTTPRouteTimeouts{Request: ptr.To[gwv1.Duration]("5s"), BackendRequest: ptr.To[gwv1.Duration]("300ms")}})
	w.route("cors", gwv1.HTTPRouteRule{Matches: filterPrefix("/cors"), BackendRefs: echo, Filters: []gwv1.HTTPRouteFilter{
		{Type: gwv1.HTTPRouteFilterCORS, CORS: &gwv1.HTTPCORSFilter{AllowOrigins: []gwv1.CORSOrigin{"https://a.example"}}}}})
	w.service(t, "echo2", startLoopback(t, http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		r.Header.Set("X-Which", "2")
		filterEcho(rw, r)
	})), "")
	one, two := filterBackendRef("echo"), filterBackendRef("echo2")
	one.Filters = []gwv1.HTTPRouteFilter{{Type: gwv1.HTTPRouteFilterRequestHeaderModifier, RequestHeaderModifier: &gwv1.HTTPHeaderFilter{
		Set: []gwv1.HTTPHeader{{Name: "Backend", Value: "one"}, {Name: "X-Which", Value: "1"}}}}}
	two.Filters = []gwv1.HTTPRouteFilter{{Type: gwv1.HTTPRouteFilterRequestHeaderModifier, RequestHeaderModifier: &gwv1.HTTPHeaderFilter{
		Set: []gwv1.HTTPHeader{{Name: "Backend", Value: "two"}}}}}
	w.route("per-backend", gwv1.HTTPRouteRule{Matches: filterPrefix("/per-backend"), BackendRefs: []gwv1.HTTPBackendRef{one, two}})
	w.serve(t)

	// Header modifiers: set overwrites, add appends, remove removes; response too.
	resp, s := w.get(t, "/headers", http.Header{"X-Header-Set": {"old"}, "X-Header-Add": {"first"}, "X-Header-Remove": {"gone"}})
	if resp.StatusCode != 200 || s.Headers.Get("X-Header-Set") != "set-overwrites-values" || strings.Join(s.Headers.Values("X-Header-Add"), ",") != "first,add-appends-values" ||
		s.Headers.Get("X-Header-Remove") != "" {
		t.Errorf("headers: %d, backend saw %v", resp.StatusCode, s.Headers)
	}
	if resp.Header.Get("X-Resp-Set") != "r" || resp.Header.Get("X-Backend") != "" {
		t.Errorf("headers: response headers %v, want X-Resp-Set and no X-Backend", resp.Header)
	}

	// URLRewrite: host and the matched prefix, by whole path elements.
	if resp, s := w.get(t, "/prefix/one/two?q=1", nil); resp.StatusCode != 200 || s.Host != "one.example.org" || s.URI != "/one/two?q=1" {
		t.Errorf("rewrite: %d, backend saw host %q uri %q", resp.StatusCode, s.Host, s.URI)
	}

	// RequestRedirect: scheme/host/status, the prefix and an explicit port, and the
	// listener's port (443) left out of an https Location.
	for target, want := range map[string]struct {
		status   int
		location string
	}{
		"/scheme-and-host/x?y=1": {308, "http://example.org/scheme-and-host/x?y=1"},
		"/path-and-port/x":       {302, "https://app.test:8443/moved/x"},
		"/same-port":             {302, "https://example.org/same-port"},
		"/see-other":             {303, "https://app.test/see-other"},
		"/temporary/x?q":         {307, "https://app.test/full?q"},
	} {
		if resp, _ := w.get(t, target, nil); resp.StatusCode != want.status || resp.Header.Get("Location") != want.location {
			t.Errorf("redirect %s: %d %q, want %d %q", target, resp.StatusCode, resp.Header.Get("Location"), want.status, want.location)
		}
	}

	// RequestMirror: 1 of 4 copies to the mirror, after the rule's header filter; the
	// missing mirror is dropped and the main traffic does not notice.
	for i := range 8 {
		if resp, _ := w.get(t, "/mirror?i="+strconv.Itoa(i), nil); resp.StatusCode != 200 {
			t.Fatalf("mirror: %d", resp.StatusCode)
		}
	}
	NewWithT(t).Eventually(func() []string {
		mu.Lock()
		defer mu.Unlock()
		return append([]string(nil), mirrored...)
	}).WithTimeout(5 * time.Second).Should(Equal([]string{"mirrored /mirror", "mirrored /mirror"}))
	resolved := w.st[translate.Key{Kind: translate.KindHTTPRoute, Namespace: "web", Name: "mirror"}].GatewayAPI.Parents[0].Conditions[1]
	if resolved.Status != metav1.ConditionFalse || resolved.Reason != "BackendNotFound" {
		t.Errorf("mirror: ResolvedRefs=%s %s, want False BackendNotFound (the missing mirror)", resolved.Status, resolved.Reason)
	}

	// Timeouts: 504 after the request or backend timeout, 200 within them.
	for target, want := range map[string]int{"/request-timeout?delay=2s": 504, "/backend-timeout?delay=2s": 504, "/request-timeout": 200, "/backend-timeout?delay=10ms": 200} {
		start := time.Now()
		resp, _ := w.get(t, target, nil)
		if resp.StatusCode != want {
			t.Errorf("%s: %d, want %d", target, resp.StatusCode, want)
		}
		if took := time.Since(start); want == 504 && took > 1500*time.Millisecond {
			t.Errorf("%s: answered after %v, want about 300ms", target, took)
		}
	}

	// Backend filters: each backend's own header, never the other's.
	backends := map[string]int{}
	for range 10 {
		resp, s := w.get(t, "/per-backend", nil)
		if resp.StatusCode != 200 || len(s.Headers.Values("Backend")) != 1 {
			t.Fatalf("per-backend: %d, backend saw %v", resp.StatusCode, s.Headers)
		}
		backends[s.Headers.Get("Backend")+" "+s.Headers.Get("X-Which")]++
	}
	if backends["one 1"] != 5 || backends["two 2"] != 5 {
		t.Errorf("per-backend: %v, want 5 requests to each backend with its own headers", backends)
	}

	// CORS is refused: 500, never served without it.
	if resp, _ := w.get(t, "/cors", nil); resp.StatusCode != 500 {
		t.Errorf("cors: %d, want 500", resp.StatusCode)
	}
}

// Backend protocols: appProtocol kubernetes.io/h2c gets HTTP/2 without TLS to the
// backend; kubernetes.io/ws gets a WebSocket upgrade over HTTP/1.1.
func TestGatewayBackendProtocolsFromTranslateThroughTLS(t *testing.T) {
	w := newFilterWorld(t)
	h2c := httptest.NewUnstartedServer(http.HandlerFunc(filterEcho))
	h2c.Config.Protocols = new(http.Protocols)
	h2c.Config.Protocols.SetUnencryptedHTTP2(true)
	h2c.Start()
	t.Cleanup(h2c.Close)
	w.service(t, "h2c", strings.TrimPrefix(h2c.URL, "http://"), "kubernetes.io/h2c")
	w.service(t, "ws", startLoopback(t, http.HandlerFunc(filterWSEcho)), "kubernetes.io/ws")
	w.route("h2c", gwv1.HTTPRouteRule{Matches: filterPrefix("/h2c"), BackendRefs: []gwv1.HTTPBackendRef{filterBackendRef("h2c")}})
	w.route("ws", gwv1.HTTPRouteRule{Matches: filterPrefix("/ws"), BackendRefs: []gwv1.HTTPBackendRef{filterBackendRef("ws")}})
	w.serve(t)

	if resp, s := w.get(t, "/h2c", nil); resp.StatusCode != 200 || s.Proto != "HTTP/2.0" {
		t.Errorf("h2c: %d, backend saw %q, want HTTP/2.0", resp.StatusCode, s.Proto)
	}

	// A WebSocket client speaks HTTP/1.1 (ALPN http/1.1) and upgrades.
	conn, err := tls.Dial("tcp", w.proxyAddr(t), &tls.Config{RootCAs: w.ca.Pool(), ServerName: "app.test", NextProtos: []string{"http/1.1"}})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = conn.Close() }()
	_ = conn.SetDeadline(time.Now().Add(5 * time.Second))
	_, _ = io.WriteString(conn, "GET /ws HTTP/1.1\r\nHost: app.test\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n")
	br := bufio.NewReader(conn)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close() // a 101 has no body: what follows is the upgraded stream
	if resp.StatusCode != http.StatusSwitchingProtocols || !strings.EqualFold(resp.Header.Get("Upgrade"), "websocket") {
		t.Fatalf("ws: %s %v, want 101 Switching Protocols to websocket", resp.Status, resp.Header)
	}
	_, _ = io.WriteString(conn, "ping\n")
	line, err := br.ReadString('\n')
	if err != nil || line != "echo: ping\n" {
		t.Errorf("ws: read %q %v after the upgrade, want the backend's echo", line, err)
	}
}

// proxyAddr is the TLS entry point the client dials.
func (w *filterWorld) proxyAddr(t *testing.T) string {
	t.Helper()
	var addr string
	tr := w.cli.Transport.(*http.Transport)
	c, err := tr.DialContext(context.Background(), "tcp", "app.test:443")
	if err != nil {
		t.Fatal(err)
	}
	addr = c.RemoteAddr().String()
	_ = c.Close()
	return addr
}

// filterWSEcho accepts a WebSocket upgrade (the handshake only: the proxy relays bytes and
// never reads frames) and echoes lines.
func filterWSEcho(w http.ResponseWriter, r *http.Request) {
	if !strings.EqualFold(r.Header.Get("Upgrade"), "websocket") {
		http.Error(w, "not an upgrade", http.StatusBadRequest)
		return
	}
	conn, rw, err := http.NewResponseController(w).Hijack()
	if err != nil {
		return
	}
	defer func() { _ = conn.Close() }()
	_, _ = rw.WriteString("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n")
	_ = rw.Flush()
	_ = conn.SetDeadline(time.Now().Add(5 * time.Second))
	line, err := rw.ReadString('\n')
	if err != nil {
		return
	}
	_, _ = rw.WriteString("echo: " + line)
	_ = rw.Flush()
}
