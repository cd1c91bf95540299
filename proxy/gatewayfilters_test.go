package proxy

import (
	"bytes"
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

	"github.com/bridgehead/bridgehead/internal/pki"
	"github.com/bridgehead/bridgehead/internal/snapshot"
)

// echoed is what the test backend saw: the conformance suite's echo server reports the
// same things.
type echoed struct {
	Host    string      `json:"host"`
	URI     string      `json:"uri"`
	Headers http.Header `json:"headers"`
}

// startEcho runs a plain-HTTP backend on loopback that answers with what it received.
// ?delay=D waits D (bounded by the request's context) before answering;
// ?slowbody=D sends the header at once and the body after D. X-Echo-Set-Header
// "Name:value,..." sets response headers, as the suite's echo server does.
func startEcho(t *testing.T) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		wait := func(param string) {
			if d, err := time.ParseDuration(r.URL.Query().Get(param)); err == nil {
				select {
				case <-time.After(min(d, 10*time.Second)):
				case <-r.Context().Done():
				}
			}
		}
		wait("delay")
		for _, kv := range strings.Split(r.Header.Get("X-Echo-Set-Header"), ",") {
			if k, v, ok := strings.Cut(kv, ":"); ok {
				w.Header().Add(k, v)
			}
		}
		w.Header().Set("Content-Type", "application/json")
		if r.URL.Query().Has("slowbody") {
			w.WriteHeader(http.StatusOK)
			w.(http.Flusher).Flush()
			wait("slowbody")
		}
		_ = json.NewEncoder(w).Encode(echoed{Host: r.Host, URI: r.RequestURI, Headers: r.Header})
	}))
	t.Cleanup(srv.Close)
	return strings.TrimPrefix(srv.URL, "http://")
}

// filterGateway is a real proxy serving a hand-built snapshot: one TLS host
// (app.test, certificate from a CA the test makes) whose routes forward to one backend.
type filterGateway struct {
	secure, web string
	client      *http.Client
}

func startFilterGateway(t testing.TB, backend string, routes ...*snapshot.HTTPRoute) *filterGateway {
	t.Helper()
	return startFilterGatewayWith(t, func(*Config) {}, backend, routes...)
}

// startFilterGatewayWith is startFilterGateway with configure applied to the data
// plane's configuration first.
func startFilterGatewayWith(t testing.TB, configure func(*Config), backend string, routes ...*snapshot.HTTPRoute) *filterGateway {
	t.Helper()
	return startFilterGatewayWithTransports(t, configure, nil, backend, routes...)
}

// startFilterGatewayWithTransports is startFilterGatewayWith with upstream transports in
// the snapshot, for routes whose backends name them.
func startFilterGatewayWithTransports(t testing.TB, configure func(*Config), transports []*snapshot.Transport, backend string, routes ...*snapshot.HTTPRoute) *filterGateway {
	t.Helper()
	ca := pki.MustCA("Filters Test CA")
	leaf := ca.MustIssue("app.test", pki.Options{DNSNames: []string{"app.test"}})
	cert := &snapshot.Certificate{Source: snapshot.Ref{Kind: "Secret", Namespace: "web", Name: "app"},
		Subject: "CN=app.test", DNSNames: []string{"app.test"}, NotAfter: leaf.Cert.NotAfter, Fingerprint: "app", Cert: &leaf.TLS}
	policy := &snapshot.Policy{ID: snapshot.BuiltinPolicyID, MinVersion: tls.VersionTLS12, ALPNProtocols: []string{"h2", "http/1.1"}}
	snap := &snapshot.Snapshot{TLS: snapshot.TLS{
		Policies: []*snapshot.Policy{policy}, DefaultPolicy: policy.ID,
		Hosts: []*snapshot.HostTLS{{Name: "app.test", Certificate: cert, Policy: policy.ID}},
	}, Transports: transports}
	for _, r := range routes {
		r.Source = snapshot.Ref{Kind: "HTTPRoute", Namespace: "web", Name: "app"}
		if r.TLS {
			r.Policy = policy.ID
		}
		if !redirects(r) && r.Backends == nil {
			r.Backends = []*snapshot.Backend{{Service: snapshot.Ref{Kind: "Service", Namespace: "web", Name: "echo"},
				Port: "80", Scheme: "http", Weight: 1, PassHostHeader: true, Endpoints: []snapshot.Endpoint{{Address: backend}}}}
		}
		snap.HTTPRoutes = append(snap.HTTPRoutes, r)
	}
	store := &snapshot.Store{}
	cfg := Config{
		EntryPoints: []EntryPoint{{Name: "web", Address: "127.0.0.1:0"}, {Name: "websecure", Address: "127.0.0.1:0", TLS: true}},
		ErrorHeader: true, Grace: 5 * time.Second,
		Log: slog.New(slog.NewTextHandler(io.Discard, nil)),
	}
	configure(&cfg)
	srv, err := New(cfg, store)
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
	addrs := srv.Addrs()
	g := &filterGateway{secure: addrs["websecure"], web: addrs["web"]}
	dialer := &net.Dialer{}
	g.client = &http.Client{
		Timeout: 10 * time.Second,
		// Every name is the gateway: app.test:443 and example.org:80 go to its ports.
		Transport: &http.Transport{
			TLSClientConfig:   &tls.Config{RootCAs: ca.Pool(), ServerName: "app.test"},
			ForceAttemptHTTP2: true,
			DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
				if strings.HasSuffix(addr, ":443") {
					return dialer.DialContext(ctx, network, g.secure)
				}
				return dialer.DialContext(ctx, network, g.web)
			},
		},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	return g
}

func redirects(r *snapshot.HTTPRoute) bool {
	for _, m := range r.Middlewares {
		if m.RequestRedirect != nil {
			return true
		}
	}
	return false
}

// answer is a response read to its end.
type answer struct {
	StatusCode, ProtoMajor int
	Status                 string
	Header                 http.Header
}

func (g *filterGateway) get(t *testing.T, url string, header map[string]string) (answer, []byte) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := g.client.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer func() { _ = resp.Body.Close() }()
	body, _ := io.ReadAll(resp.Body)
	return answer{StatusCode: resp.StatusCode, ProtoMajor: resp.ProtoMajor, Status: resp.Status, Header: resp.Header}, body
}

func tlsRoute(id, match string, prio int, mws ...*snapshot.Middleware) *snapshot.HTTPRoute {
	return &snapshot.HTTPRoute{RouteHead: snapshot.RouteHead{ID: "web/app/" + id, Match: match, Priority: prio}, TLS: true, Middlewares: mws}
}

// Request and response header modifiers and a URL rewrite on one route, through real
// TLS (HTTP/2) to a real backend: what the conformance suite's
// HTTPRouteRewritePath "rewrite-path-and-modify-headers" case checks.
func TestGatewayFiltersThroughTLS(t *testing.T) {
	backend := startEcho(t)
	g := startFilterGateway(t, backend,
		tlsRoute("rewrite", "Host(`app.test`) && PathPrefix(`/prefix/rewrite-path-and-modify-headers`)", 100,
			&snapshot.Middleware{URLRewrite: &snapshot.URLRewrite{Hostname: "test.example.org", Path: &snapshot.PathModifier{
				Type: snapshot.PathReplacePrefixMatch, MatchedPrefix: "/prefix/rewrite-path-and-modify-headers", ReplacePrefixMatch: "/prefix"}}},
			&snapshot.Middleware{RequestHeaderModifier: &snapshot.HeaderModifier{
				Set:    []snapshot.HeaderValue{{Name: "X-Header-Set", Value: "set-overwrites-values"}},
				Add:    []snapshot.HeaderValue{{Name: "X-Header-Add", Value: "header-val-1"}, {Name: "X-Header-Add-Append", Value: "header-val-2"}},
				Remove: []string{"X-Header-Remove"},
			}},
			&snapshot.Middleware{ResponseHeaderModifier: &snapshot.HeaderModifier{
				Set:    []snapshot.HeaderValue{{Name: "X-Resp-Set", Value: "ours"}},
				Add:    []snapshot.HeaderValue{{Name: "X-Resp-Add", Value: "second"}},
				Remove: []string{"X-Resp-Remove"},
			}},
		),
	)
	resp, body := g.get(t, "https://app.test/prefix/rewrite-path-and-modify-headers/one?q=1", map[string]string{
		"X-Header-Remove":     "remove-val",
		"X-Header-Add-Append": "append-val-1",
		"X-Header-Set":        "theirs",
		"X-Echo-Set-Header":   "X-Resp-Set:theirs,X-Resp-Add:first,X-Resp-Remove:gone,X-Resp-Kept:kept",
	})
	if resp.StatusCode != http.StatusOK || resp.ProtoMajor != 2 {
		t.Fatalf("HTTP/%d %s: %s", resp.ProtoMajor, resp.Status, body)
	}
	var got echoed
	if err := json.Unmarshal(body, &got); err != nil {
		t.Fatalf("%v: %s", err, body)
	}
	if got.URI != "/prefix/one?q=1" || got.Host != "test.example.org" {
		t.Errorf("backend got %s with Host %s, want /prefix/one?q=1 with Host test.example.org", got.URI, got.Host)
	}
	for k, want := range map[string]string{"X-Header-Set": "set-overwrites-values", "X-Header-Add": "header-val-1", "X-Header-Add-Append": "append-val-1,header-val-2"} {
		if v := strings.Join(got.Headers.Values(k), ","); v != want {
			t.Errorf("backend got %s %q, want %q", k, v, want)
		}
	}
	if v, ok := got.Headers["X-Header-Remove"]; ok {
		t.Errorf("backend got X-Header-Remove %q", v)
	}
	for k, want := range map[string]string{"X-Resp-Set": "ours", "X-Resp-Add": "first,second", "X-Resp-Kept": "kept", "X-Resp-Remove": ""} {
		if v := strings.Join(resp.Header.Values(k), ","); v != want {
			t.Errorf("client got %s %q, want %q", k, v, want)
		}
	}
}

// RequestRedirect on a TLS route and on a plain one, answered by the gateway itself.
func TestGatewayRedirectThroughTLS(t *testing.T) {
	backend := startEcho(t)
	plain := tlsRoute("plain", "Host(`example.org`)", 10, &snapshot.Middleware{RequestRedirect: &snapshot.RequestRedirect{Scheme: "https", StatusCode: 301}})
	plain.TLS = false
	g := startFilterGateway(t, backend,
		tlsRoute("redirect", "Host(`app.test`) && PathPrefix(`/original-prefix`)", 100, &snapshot.Middleware{RequestRedirect: &snapshot.RequestRedirect{
			Hostname: "example.org", ListenerPort: 443,
			Path: &snapshot.PathModifier{Type: snapshot.PathReplacePrefixMatch, MatchedPrefix: "/original-prefix", ReplacePrefixMatch: "/replacement-prefix"}}}),
		plain,
	)
	resp, _ := g.get(t, "https://app.test/original-prefix/lemon?x=1", nil)
	if resp.StatusCode != http.StatusFound || resp.Header.Get("Location") != "https://example.org/replacement-prefix/lemon?x=1" {
		t.Errorf("%s Location %q, want 302 https://example.org/replacement-prefix/lemon?x=1", resp.Status, resp.Header.Get("Location"))
	}
	resp, _ = g.get(t, "http://example.org/a", nil)
	if resp.StatusCode != http.StatusMovedPermanently || resp.Header.Get("Location") != "https://example.org/a" {
		t.Errorf("%s Location %q, want 301 https://example.org/a", resp.Status, resp.Header.Get("Location"))
	}
}

// The conformance suite's HTTPRouteRequestTimeout and HTTPRouteBackendRequestTimeout:
// 200 within the budget, 504 beyond it, and "0s" (zero) disables the timeout. The
// client is told which timeout it was.
func TestGatewayTimeoutsThroughTLS(t *testing.T) {
	backend := startEcho(t)
	withTimeouts := func(r *snapshot.HTTPRoute, req, backend time.Duration) *snapshot.HTTPRoute {
		r.Timeouts = &snapshot.Timeouts{Request: req, BackendRequest: backend}
		return r
	}
	g := startFilterGateway(t, backend,
		withTimeouts(tlsRoute("request", "Host(`app.test`) && PathPrefix(`/request-timeout`)", 100), 500*time.Millisecond, 0),
		withTimeouts(tlsRoute("backend", "Host(`app.test`) && PathPrefix(`/backend-timeout`)", 99), 0, 500*time.Millisecond),
		// The gateway's own 504 from behind a ResponseHeaderModifier gets its edits too.
		withTimeouts(tlsRoute("both", "Host(`app.test`) && PathPrefix(`/both`)", 98, &snapshot.Middleware{ResponseHeaderModifier: &snapshot.HeaderModifier{
			Set: []snapshot.HeaderValue{{Name: "X-Route", Value: "both"}}}}), 2*time.Second, 300*time.Millisecond),
		withTimeouts(tlsRoute("disabled", "Host(`app.test`) && PathPrefix(`/disabled`)", 97), 0, 0),
	)
	for _, tc := range []struct {
		path   string
		status int
		reason string
	}{
		{"/request-timeout", 200, ""},
		{"/request-timeout?delay=1s", 504, "RequestTimeout"},
		{"/backend-timeout", 200, ""},
		{"/backend-timeout?delay=1s", 504, "Timeout timeouts.backendRequest"},
		{"/both?delay=1s", 504, "Timeout timeouts.backendRequest"},
		{"/both", 200, ""},
		{"/disabled?delay=1s", 200, ""},
	} {
		start := time.Now()
		resp, body := g.get(t, "https://app.test"+tc.path, nil)
		took := time.Since(start)
		if resp.StatusCode != tc.status || resp.Header.Get("Bridgehead-Error") != tc.reason {
			t.Errorf("%s: %s Bridgehead-Error %q (%s), want %d %q", tc.path, resp.Status, resp.Header.Get("Bridgehead-Error"), bytes.TrimSpace(body), tc.status, tc.reason)
		}
		if strings.HasPrefix(tc.path, "/both") && resp.Header.Get("X-Route") != "both" {
			t.Errorf("%s: %s without the response header modifier's X-Route", tc.path, resp.Status)
		}
		if tc.status == 504 && took > 900*time.Millisecond {
			t.Errorf("%s: answered after %v, the timeout did not cut the wait", tc.path, took)
		}
	}
}

// A backend that sends its header in time but not its body: timeouts.backendRequest
// covers the response to its end, so the client sees the stream cut, never a body that
// looks complete.
func TestGatewayBackendTimeoutCutsSlowBody(t *testing.T) {
	backend := startEcho(t)
	r := tlsRoute("backend", "Host(`app.test`)", 10)
	r.Timeouts = &snapshot.Timeouts{BackendRequest: 300 * time.Millisecond}
	g := startFilterGateway(t, backend, r)
	resp, err := g.client.Get("https://app.test/?slowbody=2s")
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }()
	start := time.Now()
	body, err := io.ReadAll(resp.Body)
	if err == nil {
		t.Errorf("%s: read a whole body %q, want the stream cut", resp.Status, body)
	}
	if took := time.Since(start); took > 1500*time.Millisecond {
		t.Errorf("the body was cut after %v, want about 300ms", took)
	}
}

// Gateway API RequestMirror with a fraction, behind a RequestHeaderModifier: the mirror
// gets exactly numerator of every denominator requests, as modified by the filters
// (the conformance suite's HTTPRouteRequestPercentageMirror reads the mirror's log).
func TestGatewayMirrorFractionThroughTLS(t *testing.T) {
	backend := startEcho(t)
	var mu sync.Mutex
	var mirrored []*http.Request
	mirror := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		mirrored = append(mirrored, r)
		mu.Unlock()
	}))
	t.Cleanup(mirror.Close)
	svc := func(name, addr string) *snapshot.Backend {
		return &snapshot.Backend{Service: snapshot.Ref{Kind: "Service", Namespace: "web", Name: name}, Port: "80", Scheme: "http",
			Weight: 1, PassHostHeader: true, Endpoints: []snapshot.Endpoint{{Address: addr}}}
	}
	main, copyTo := 0, 1
	r := tlsRoute("mirror", "Host(`app.test`)", 10, &snapshot.Middleware{RequestHeaderModifier: &snapshot.HeaderModifier{
		Set: []snapshot.HeaderValue{{Name: "X-Header-Set", Value: "set-overwrites-values"}}}})
	r.Backends = []*snapshot.Backend{svc("echo", backend), svc("mirror", strings.TrimPrefix(mirror.URL, "http://"))}
	r.Balance = &snapshot.Balance{Mirroring: &snapshot.MirroringBalance{
		Main:    &snapshot.Balance{Backend: &main},
		Mirrors: []*snapshot.Mirror{{Balance: &snapshot.Balance{Backend: &copyTo}, Fraction: &snapshot.Fraction{Numerator: 1, Denominator: 4}}},
	}}
	g := startFilterGateway(t, backend, r)
	const requests = 12
	for i := range requests {
		if resp, body := g.get(t, "https://app.test/percent-mirror-fraction?i="+strconv.Itoa(i), nil); resp.StatusCode != http.StatusOK {
			t.Fatalf("%s: %s", resp.Status, body)
		}
	}
	NewWithT(t).Eventually(func(g Gomega) {
		mu.Lock()
		defer mu.Unlock()
		g.Expect(mirrored).To(HaveLen(requests / 4))
		for _, m := range mirrored {
			g.Expect(m.Header.Get("X-Header-Set")).To(Equal("set-overwrites-values"))
			g.Expect(m.URL.Path).To(Equal("/percent-mirror-fraction"))
		}
	}).WithTimeout(5 * time.Second).Should(Succeed())
	// And no more arrive: the share is exact, not at least.
	NewWithT(t).Consistently(func() int {
		mu.Lock()
		defer mu.Unlock()
		return len(mirrored)
	}).WithTimeout(300 * time.Millisecond).Should(Equal(requests / 4))
}
