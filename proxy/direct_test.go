package proxy

import (
	"bufio"
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httptrace"
	"net/textproto"
	"regexp"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/bridgehead/bridgehead/internal/pki"
	"github.com/bridgehead/bridgehead/internal/snapshot"
)

// rawBackend is an HTTP/1.1 backend on loopback that answers each path with a fixed
// response, byte for byte, and keeps the head of the last request it read.
type rawBackend struct {
	addr    string
	answers map[string]string // path -> the raw response; "/cut" closes after it

	mu   sync.Mutex
	last string
}

func startRawBackend(t testing.TB, answers map[string]string) *rawBackend {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	b := &rawBackend{addr: ln.Addr().String(), answers: answers}
	var conns sync.WaitGroup
	t.Cleanup(func() { _ = ln.Close(); conns.Wait() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			conns.Add(1)
			go func() {
				defer conns.Done()
				b.serve(c)
			}()
		}
	}()
	return b
}

func (b *rawBackend) serve(c net.Conn) {
	defer func() { _ = c.Close() }()
	br := bufio.NewReader(c)
	for {
		var head strings.Builder
		for {
			line, err := br.ReadString('\n')
			if err != nil {
				return
			}
			head.WriteString(line)
			if line == "\r\n" {
				break
			}
		}
		b.mu.Lock()
		b.last = head.String()
		b.mu.Unlock()
		target := strings.Fields(head.String())[1]
		path, _, _ := strings.Cut(target, "?")
		answer, ok := b.answers[path]
		if !ok {
			answer = "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n"
		}
		if _, err := io.WriteString(c, answer); err != nil || path == "/cut" {
			return
		}
	}
}

func (b *rawBackend) lastHead() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.last
}

// streamID is the part of an HTTP/2 stream error that differs between two requests.
var streamID = regexp.MustCompile(`stream ID [0-9]+`)

// exchange is everything a client and the backend saw of one request.
type exchange struct {
	backendHead string
	informed    []string // the 1xx responses: code and header
	status      int
	header      http.Header
	body        string
	trailer     http.Header
	err         string // reading the body
}

func (e exchange) String() string {
	return fmt.Sprintf("backend got:\n%s1xx: %q\nclient got: %d %v\nbody %q, trailer %v, error %q",
		e.backendHead, e.informed, e.status, e.header, e.body, e.trailer, e.err)
}

// The direct way (proxy/direct.go) and httputil.ReverseProxy put the same bytes on the
// wire to the backend and give the client the same answer: hop-by-hop fields and the
// fields the Connection header names dropped both ways, forwarding fields replaced, no
// Go User-Agent, TE: trailers passed on, 103 Early Hints forwarded, trailers, a streamed
// answer, HEAD, 204, an answer cut off mid-body (the client's response is aborted), and
// an answer the gateway replaces with its own error (none of its fields reach the client).
// Over HTTP/1.1 and HTTP/2 clients.
func TestDirectForwardingEqualsReverseProxy(t *testing.T) {
	be := startRawBackend(t, map[string]string{
		"/plain": "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nConnection: keep-alive, X-Hop\r\nX-Hop: 1\r\n" +
			"Keep-Alive: timeout=5\r\nProxy-Authenticate: Basic\r\nX-End: yes\r\nX-Multi: a\r\nX-Multi: b\r\n\r\nhello",
		"/early":    "HTTP/1.1 103 Early Hints\r\nLink: </a.css>; rel=preload\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok",
		"/trailers": "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTrailer: X-Sum\r\n\r\n3\r\nabc\r\n0\r\nX-Sum: 3\r\n\r\n",
		"/sse":      "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n7\r\ndata: 1\r\n0\r\n\r\n",
		"/head":     "HTTP/1.1 200 OK\r\nContent-Length: 42\r\nContent-Type: text/plain\r\n\r\n",
		"/empty":    "HTTP/1.1 204 No Content\r\nX-Empty: yes\r\n\r\n",
		"/cut":      "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nshort",
		// A Connection header that names Content-Type: none goes out, and none is sniffed.
		"/conn-type": "HTTP/1.1 200 OK\r\nConnection: Content-Type\r\nContent-Type: text/x\r\nContent-Length: 13\r\n\r\n<html></html>",
		// nginx's answer when it expects TLS: the client gets the gateway's error, not it.
		"/tls": fmt.Sprintf("HTTP/1.1 400 Bad Request\r\nServer: nginx\r\nContent-Type: text/html\r\nContent-Length: %d\r\n\r\n%s", len(nginxTLSPage), nginxTLSPage),
	})
	plain := &snapshot.HTTPRoute{RouteHead: snapshot.RouteHead{ID: "web/app/plain", Match: "Host(`app.test`)"}}
	secure := tlsRoute("secure", "Host(`app.test`)", 0)
	g := startFilterGateway(t, be.addr, plain, secure)
	compareWithReverseProxy(t, g, be.lastHead, append(commonDirectCases(),
		directCase{http.MethodGet, "/conn-type", func(e exchange) bool { return e.body == "<html></html>" && e.header.Get("Content-Type") == "" }}))
}

// nginxTLSPage is the body of nginx's answer to plain HTTP on its HTTPS port.
const nginxTLSPage = "<html><head><title>400 The plain HTTP request was sent to HTTPS port</title></head></html>"

// directCase is a request that compareWithReverseProxy sends, and what its answer must
// look like both ways, beyond being the same.
type directCase struct {
	method, path string
	want         func(exchange) bool
}

// commonDirectCases are the requests that the raw HTTP/1.1 backend and h2Answers answer
// alike.
func commonDirectCases() []directCase {
	return []directCase{
		{http.MethodGet, "/plain?a=1&b=%41", func(e exchange) bool {
			return e.body == "hello" && e.header.Get("X-Hop") == "" && e.header.Get("Keep-Alive") == "" &&
				e.header.Get("Proxy-Authenticate") == "" && len(e.header["X-Multi"]) == 2 && e.err == ""
		}},
		{http.MethodGet, "/early", func(e exchange) bool {
			return len(e.informed) == 1 && strings.HasPrefix(e.informed[0], "103 ") && e.body == "ok"
		}},
		{http.MethodGet, "/trailers", func(e exchange) bool { return e.body == "abc" && e.trailer.Get("X-Sum") == "3" }},
		{http.MethodGet, "/sse", func(e exchange) bool { return e.body == "data: 1" }},
		{http.MethodHead, "/head", func(e exchange) bool { return e.status == 200 && e.body == "" && e.err == "" }},
		{http.MethodOptions, "/empty", func(e exchange) bool { return e.status == 204 && e.header.Get("X-Empty") == "yes" }},
		{http.MethodGet, "/cut", func(e exchange) bool { return e.err != "" && e.body != "hello" }},
		{http.MethodGet, "/tls", func(e exchange) bool {
			return e.status == http.StatusBadGateway && e.header.Get("Server") == "" && !strings.Contains(e.body, "<html>")
		}},
	}
}

// compareWithReverseProxy sends each case to g's app.test routes over HTTP/1.1 (to
// net/http's server and to proxy/h1server) and HTTP/2, once the direct way and once
// through ReverseProxy, and checks that the client and the backend saw the same both
// ways, and what the case wants. lastHead is the head of the last request the backend
// got, as HTTP/1.1 writes it.
func compareWithReverseProxy(t *testing.T, g *filterGateway, lastHead func() string, cases []directCase) {
	t.Helper()
	h1 := &http.Transport{DisableCompression: true,
		DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, network, g.web)
		}}
	// h1 names a field in its Connection header, so its requests go to net/http's server;
	// h1Plain's GETs and HEADs are proxy/h1server's, whose request context differs.
	h1Plain := h1.Clone()
	h2 := g.client.Transport.(*http.Transport).Clone()
	h2.DisableCompression = true

	var taken atomic.Int64
	count := func() { taken.Add(1) }
	onDirect.Store(&count)
	t.Cleanup(func() { onDirect.Store(nil); directOff.Store(false) })

	do := func(t *testing.T, rt http.RoundTripper, url, method string) exchange {
		t.Helper()
		var e exchange
		trace := &httptrace.ClientTrace{Got1xxResponse: func(code int, h textproto.MIMEHeader) error {
			e.informed = append(e.informed, fmt.Sprint(code, h))
			return nil
		}}
		req, err := http.NewRequestWithContext(httptrace.WithClientTrace(t.Context(), trace), method, url, nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Header["User-Agent"] = nil   // no User-Agent at all
		if rt == http.RoundTripper(h1) { // HTTP/2 has no Connection header
			req.Header.Set("Connection", "X-Drop")
			req.Header.Set("X-Drop", "gone")
		}
		req.Header.Set("X-Keep", "kept")
		req.Header.Set("TE", "trailers")
		req.Header.Set("X-Forwarded-For", "203.0.113.9") // an untrusted client's: replaced
		req.Header.Set("Forwarded", "for=203.0.113.9")
		resp, err := rt.RoundTrip(req)
		if err != nil {
			// An answer cut off before its head was sent: the client sees its
			// connection close.
			e.err, e.backendHead = streamID.ReplaceAllString(err.Error(), "stream ID N"), lastHead()
			return e
		}
		body, err := io.ReadAll(resp.Body)
		_ = resp.Body.Close()
		e.status, e.header, e.body, e.trailer = resp.StatusCode, resp.Header, string(body), resp.Trailer
		e.header.Del("Date")
		if err != nil {
			e.err = streamID.ReplaceAllString(err.Error(), "stream ID N")
		}
		e.backendHead = lastHead()
		return e
	}
	for _, c := range []struct {
		name, url string
		rt        http.RoundTripper
	}{{"HTTP/1.1", "http://app.test", h1}, {"HTTP/1.1 h1server", "http://app.test", h1Plain}, {"HTTP/2", "https://app.test", h2}} {
		for _, req := range cases {
			t.Run(c.name+" "+req.method+" "+req.path, func(t *testing.T) {
				directOff.Store(false)
				before := taken.Load()
				direct := do(t, c.rt, c.url+req.path, req.method)
				if taken.Load() == before { // more than once: a client retries a GET cut off before its head
					t.Fatalf("the request did not take the direct way: %v", direct)
				}
				directOff.Store(true)
				viaReverseProxy := do(t, c.rt, c.url+req.path, req.method)
				if direct.String() != viaReverseProxy.String() {
					t.Errorf("direct:\n%v\n\nReverseProxy:\n%v", direct, viaReverseProxy)
				}
				if !req.want(direct) {
					t.Errorf("not as a client expects:\n%v", direct)
				}
				if strings.Contains(direct.backendHead, "X-Drop") || strings.Contains(direct.backendHead, "203.0.113.9") ||
					!strings.Contains(direct.backendHead, "X-Keep: kept") {
					t.Errorf("the backend got:\n%s", direct.backendHead)
				}
			})
		}
	}
}

// h2Backend is a backend on loopback that speaks HTTP/2 only: over TLS (by ALPN, with a
// certificate for echo.web.svc) or, without a CA, in clear text with prior knowledge
// (h2c). It keeps what it got of the last request.
type h2Backend struct {
	addr string
	mu   sync.Mutex
	last string
}

func startH2Backend(t testing.TB, ca *pki.CA, handler http.Handler) *h2Backend {
	t.Helper()
	b := &h2Backend{}
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.ProtoMajor != 2 {
			http.Error(w, "HTTP/2 only", http.StatusHTTPVersionNotSupported)
			return
		}
		b.mu.Lock()
		b.last = head(r)
		b.mu.Unlock()
		handler.ServeHTTP(w, r)
	}))
	if ca == nil {
		srv.Config.Protocols = new(http.Protocols)
		srv.Config.Protocols.SetUnencryptedHTTP2(true)
		srv.Start()
	} else {
		leaf := ca.MustIssue("echo.web.svc", pki.Options{DNSNames: []string{"echo.web.svc"}})
		srv.EnableHTTP2 = true
		srv.TLS = &tls.Config{Certificates: []tls.Certificate{leaf.TLS}}
		srv.StartTLS()
	}
	t.Cleanup(srv.Close)
	b.addr = srv.Listener.Addr().String()
	return b
}

func (b *h2Backend) lastHead() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.last
}

// head is r's request line and fields as an HTTP/1.1 head shows them, fields sorted.
func head(r *http.Request) string {
	var sb strings.Builder
	fmt.Fprintf(&sb, "%s %s %s\r\nHost: %s\r\n", r.Method, r.RequestURI, r.Proto, r.Host)
	for _, k := range slices.Sorted(maps.Keys(r.Header)) {
		for _, v := range r.Header[k] {
			fmt.Fprintf(&sb, "%s: %s\r\n", k, v)
		}
	}
	return sb.String()
}

// h2Answers answers commonDirectCases as the raw HTTP/1.1 backend does, as far as
// HTTP/2 can: net/http's HTTP/2 server sends no connection-specific field.
var h2Answers = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	switch r.URL.Path {
	case "/plain":
		h["Proxy-Authenticate"] = []string{"Basic"}
		h["X-End"] = []string{"yes"}
		h["X-Multi"] = []string{"a", "b"}
		_, _ = io.WriteString(w, "hello")
	case "/early":
		h.Set("Link", "</a.css>; rel=preload")
		w.WriteHeader(http.StatusEarlyHints)
		h.Del("Link")
		_, _ = io.WriteString(w, "ok")
	case "/trailers":
		h.Set("Trailer", "X-Sum")
		_, _ = io.WriteString(w, "abc")
		w.(http.Flusher).Flush() // no Content-Length, as the chunked HTTP/1.1 answer
		h.Set("X-Sum", "3")
	case "/sse":
		h.Set("Content-Type", "text/event-stream")
		_, _ = io.WriteString(w, "data: 1")
		w.(http.Flusher).Flush()
	case "/head":
		h.Set("Content-Length", "42")
		h.Set("Content-Type", "text/plain")
	case "/empty":
		h.Set("X-Empty", "yes")
		w.WriteHeader(http.StatusNoContent)
	case "/cut":
		h.Set("Content-Length", "100")
		_, _ = io.WriteString(w, "short")
		w.(http.Flusher).Flush()
		panic(http.ErrAbortHandler) // the stream is reset mid-body
	case "/tls":
		h.Set("Server", "nginx")
		h.Set("Content-Type", "text/html")
		w.WriteHeader(http.StatusBadRequest)
		_, _ = io.WriteString(w, nginxTLSPage)
	case "/id":
		_, _ = io.WriteString(w, r.Header.Get("X-Id")+"|"+r.Header.Get("X-Only-Even"))
	default:
		http.NotFound(w, r)
	}
})

// h2Gateway is a gateway whose app.test routes (plain and TLS) forward to be: over TLS
// verified by the name echo.web.svc against ca, or over h2c without a ca.
func h2Gateway(t testing.TB, ca *pki.CA, be *h2Backend) *filterGateway {
	t.Helper()
	var transports []*snapshot.Transport
	scheme, transport := "h2c", ""
	if ca != nil {
		scheme, transport = "https", "ServersTransport/web/h2"
		transports = append(transports, &snapshot.Transport{ID: transport, Source: snapshot.Ref{Kind: "ServersTransport", Namespace: "web", Name: "h2"},
			Hash: "1", RootCAs: &snapshot.CertPool{Pool: ca.Pool()}})
	}
	backends := func() []*snapshot.Backend {
		return []*snapshot.Backend{{Service: snapshot.Ref{Kind: "Service", Namespace: "web", Name: "echo"}, Port: "443", Scheme: scheme,
			Weight: 1, PassHostHeader: true, Transport: transport, ServerName: "echo.web.svc", Endpoints: []snapshot.Endpoint{{Address: be.addr}}}}
	}
	plain := &snapshot.HTTPRoute{RouteHead: snapshot.RouteHead{ID: "web/app/plain", Match: "Host(`app.test`)"}, Backends: backends()}
	secure := tlsRoute("secure", "Host(`app.test`)", 0)
	secure.Backends = backends()
	return startFilterGatewayWithTransports(t, func(*Config) {}, transports, "", plain, secure)
}

// learnH2 sends g's backend a first request, whose handshake teaches the upstream that
// the backend speaks HTTP/2 (until then requests go through the transport).
func learnH2(t *testing.T, g *filterGateway) {
	t.Helper()
	a, body := g.get(t, "http://app.test/id", map[string]string{"X-Id": "first"})
	if a.StatusCode != http.StatusOK || string(body) != "first|" {
		t.Fatalf("first request: %d %q", a.StatusCode, body)
	}
}

// forEachH2Backend runs test as a subtest against a gateway whose routes forward to an
// HTTP/2 backend answering h2Answers, over TLS (ca set) and over h2c (ca nil), once the
// gateway has learnt that the backend speaks HTTP/2.
func forEachH2Backend(t *testing.T, test func(t *testing.T, ca *pki.CA, g *filterGateway, be *h2Backend)) {
	for _, ca := range []*pki.CA{pki.MustCA("Backend Test CA"), nil} {
		t.Run(map[bool]string{true: "TLS", false: "h2c"}[ca != nil], func(t *testing.T) {
			be := startH2Backend(t, ca, h2Answers)
			g := h2Gateway(t, ca, be)
			learnH2(t, g)
			test(t, ca, g, be)
		})
	}
}

// The same comparison with a backend that speaks HTTP/2, over TLS and h2c: the direct
// way hands such requests to the transport itself, without ReverseProxy.
func TestDirectForwardingToAnHTTP2BackendEqualsReverseProxy(t *testing.T) {
	forEachH2Backend(t, func(t *testing.T, ca *pki.CA, g *filterGateway, be *h2Backend) {
		cases := commonDirectCases()
		if ca != nil {
			// nginx's page for plain HTTP on its HTTPS port cannot come over TLS: a 400
			// from a TLS backend is its own answer, and reaches the client.
			cases = slices.DeleteFunc(cases, func(c directCase) bool { return c.path == "/tls" })
			cases = append(cases, directCase{http.MethodGet, "/tls", func(e exchange) bool {
				return e.status == http.StatusBadRequest && e.header.Get("Server") == "nginx" && e.body == nginxTLSPage
			}})
		}
		compareWithReverseProxy(t, g, be.lastHead, cases)
	})
}

// An HTTP/2 stream reads its request until it ends, so the direct way hands the request's
// storage back only then: under concurrent requests to an HTTP/2 backend (TLS and h2c)
// each answer is its own request's, and no field of one request reaches the backend with
// another (the backend echoes X-Id and X-Only-Even, which every other request leaves out).
func TestDirectForwardingToAnHTTP2BackendKeepsRequestsApart(t *testing.T) {
	forEachH2Backend(t, func(t *testing.T, _ *pki.CA, g *filterGateway, _ *h2Backend) {
		var taken atomic.Int64
		count := func() { taken.Add(1) }
		onDirect.Store(&count)
		t.Cleanup(func() { onDirect.Store(nil) })
		const clients, each = 20, 25
		var wg sync.WaitGroup
		errs := make(chan error, clients*each*2)
		for c := range clients {
			wg.Go(func() {
				for i := range each {
					id, even := fmt.Sprintf("%d-%d", c, i), ""
					for _, url := range []string{"https://app.test/id", "http://app.test/id"} {
						req, _ := http.NewRequest(http.MethodGet, url, nil)
						req.Header.Set("X-Id", id)
						if i%2 == 0 {
							even = id
							req.Header.Set("X-Only-Even", id)
						}
						resp, err := g.client.Do(req)
						if err != nil {
							errs <- err
							return
						}
						body, _ := io.ReadAll(resp.Body)
						_ = resp.Body.Close()
						if want := id + "|" + even; string(body) != want {
							errs <- fmt.Errorf("%s: answered %d %q, want %q", url, resp.StatusCode, body, want)
						}
					}
				}
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Error(err)
		}
		if want := int64(clients * each * 2); taken.Load() != want {
			t.Errorf("%d of %d requests took the direct way", taken.Load(), want)
		}
	})
}

// BenchmarkForwardKeepAlive is one GET through the gateway over a kept-alive HTTP/1.1
// connection to a plain-HTTP backend, the direct way and through ReverseProxy. The
// client and the backend are in the process too: compare the two, not the absolute
// figures (make bench measures the gateway alone).
func BenchmarkForwardKeepAlive(b *testing.B) {
	be := startRawBackend(b, map[string]string{"/": "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 28\r\n\r\n0123456789012345678901234567"})
	g := startFilterGateway(b, be.addr, &snapshot.HTTPRoute{RouteHead: snapshot.RouteHead{ID: "web/app/plain", Match: "Host(`app.test`)"}})
	client := &http.Transport{DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
		return (&net.Dialer{}).DialContext(ctx, network, g.web)
	}}
	defer client.CloseIdleConnections()
	for _, direct := range []bool{true, false} {
		b.Run(map[bool]string{true: "direct", false: "ReverseProxy"}[direct], func(b *testing.B) {
			directOff.Store(!direct)
			defer directOff.Store(false)
			roundTrips(b, client, "http://app.test/")
		})
	}
}

// BenchmarkForwardToAnHTTP2Backend is BenchmarkForwardKeepAlive with a backend that
// speaks HTTP/2 over TLS: the direct way hands the request to the transport itself.
func BenchmarkForwardToAnHTTP2Backend(b *testing.B) {
	ca := pki.MustCA("Backend Bench CA")
	be := startH2Backend(b, ca, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		_, _ = io.WriteString(w, "0123456789012345678901234567")
	}))
	g := h2Gateway(b, ca, be)
	client := &http.Transport{DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
		return (&net.Dialer{}).DialContext(ctx, network, g.web)
	}}
	defer client.CloseIdleConnections()
	for _, direct := range []bool{true, false} {
		b.Run(map[bool]string{true: "direct", false: "ReverseProxy"}[direct], func(b *testing.B) {
			directOff.Store(!direct)
			defer directOff.Store(false)
			roundTrips(b, client, "http://app.test/")
		})
	}
}

// roundTrips is the benchmark loop: one GET of url a time through client, its answer read
// whole. A TLS URL must be answered over TLS and HTTP/1.1.
func roundTrips(b *testing.B, client *http.Transport, url string) {
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		resp, err := client.RoundTrip(req)
		if err != nil {
			b.Fatal(err)
		}
		if resp.StatusCode != http.StatusOK || (req.URL.Scheme == "https" && (resp.TLS == nil || resp.ProtoMajor != 1)) {
			b.Fatalf("%s %s, over TLS: %v", resp.Proto, resp.Status, resp.TLS != nil)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		_ = resp.Body.Close()
	}
}

// BenchmarkServeHTTP1 is BenchmarkForwardKeepAlive's direct way over TLS and HTTP/1.1,
// served by proxy/h1server and by net/http's server alone (Config.NetHTTP1).
func BenchmarkServeHTTP1(b *testing.B) {
	be := startRawBackend(b, map[string]string{"/": "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 28\r\n\r\n0123456789012345678901234567"})
	for _, netHTTP := range []bool{false, true} {
		b.Run(map[bool]string{false: "h1server", true: "net/http"}[netHTTP], func(b *testing.B) {
			g := startFilterGatewayWith(b, func(c *Config) { c.NetHTTP1 = netHTTP }, be.addr,
				&snapshot.HTTPRoute{RouteHead: snapshot.RouteHead{ID: "web/app/tls", Match: "Host(`app.test`)"}, TLS: true})
			cfg := g.client.Transport.(*http.Transport).TLSClientConfig.Clone()
			cfg.NextProtos = []string{"http/1.1"}
			client := &http.Transport{TLSClientConfig: cfg, DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
				return (&net.Dialer{}).DialContext(ctx, network, g.secure)
			}}
			defer client.CloseIdleConnections()
			roundTrips(b, client, "https://app.test/")
		})
	}
}

// Under the retry middleware, whose writer gives the handler a header of its own until
// something is written, a 103 before the answer must not cost the answer its fields
// (the direct way parses them into the header it saw before the 103).
func TestDirectForwardingUnderRetryKeepsTheAnswersFieldsAfterA1xx(t *testing.T) {
	be := startRawBackend(t, map[string]string{
		"/early": "HTTP/1.1 103 Early Hints\r\nLink: </a.css>; rel=preload\r\n\r\n" +
			"HTTP/1.1 200 OK\r\nContent-Type: text/x\r\nX-App: 1\r\nContent-Length: 2\r\n\r\nok",
	})
	retry := &snapshot.Middleware{Retry: &snapshot.Retry{Attempts: 3}}
	plain := &snapshot.HTTPRoute{RouteHead: snapshot.RouteHead{ID: "web/app/retry", Match: "Host(`app.test`)"},
		Middlewares: []*snapshot.Middleware{retry}}
	g := startFilterGateway(t, be.addr, plain, tlsRoute("retry-tls", "Host(`app.test`)", 0, retry))
	var taken atomic.Int64
	count := func() { taken.Add(1) }
	onDirect.Store(&count)
	t.Cleanup(func() { onDirect.Store(nil) })
	for _, url := range []string{"http://app.test/early", "https://app.test/early"} { // h1server, HTTP/2
		before := taken.Load()
		resp, err := g.client.Get(url)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		_ = resp.Body.Close()
		if taken.Load() == before {
			t.Fatalf("%s did not take the direct way", url)
		}
		if string(body) != "ok" || resp.Header.Get("X-App") != "1" || resp.Header.Get("Content-Type") != "text/x" {
			t.Errorf("%s: %d %v %q, want the backend's X-App and Content-Type", url, resp.StatusCode, resp.Header, body)
		}
	}
}

// The direct way reuses an outbound request's storage for the next one (outboundRequest):
// nothing of one request's header may reach the backend with the next.
func TestDirectForwardingSendsNothingOfTheRequestBefore(t *testing.T) {
	be := startRawBackend(t, map[string]string{"/": "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"})
	plain := &snapshot.HTTPRoute{RouteHead: snapshot.RouteHead{ID: "web/app/plain", Match: "Host(`app.test`)"}}
	g := startFilterGateway(t, be.addr, plain)
	var taken atomic.Int64
	count := func() { taken.Add(1) }
	onDirect.Store(&count)
	t.Cleanup(func() { onDirect.Store(nil) })
	get := func(header map[string]string) string {
		t.Helper()
		req, _ := http.NewRequest(http.MethodGet, "http://app.test/", nil)
		for k, v := range header {
			req.Header.Set(k, v)
		}
		resp, err := g.client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		_ = resp.Body.Close()
		return be.lastHead()
	}
	for range 5 {
		full := get(map[string]string{"X-One": "1", "X-Two": "2", "Te": "trailers", "User-Agent": "agent/1"})
		if !strings.Contains(full, "X-One: 1\r\n") || !strings.Contains(full, "Te: trailers\r\n") {
			t.Fatalf("the backend did not get the first request's fields:\n%s", full)
		}
		bare := get(nil)
		for _, field := range []string{"X-One", "X-Two", "Te:", "agent/1"} {
			if strings.Contains(bare, field) {
				t.Fatalf("the backend got %s of the request before:\n%s", field, bare)
			}
		}
	}
	if taken.Load() != 10 {
		t.Fatalf("%d of 10 requests took the direct way", taken.Load())
	}
}
