package dataplane

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/bridgehead/bridgehead/proxy"
)

// seenRequest is what echoBackend tells about a request, in its JSON answer.
type seenRequest struct {
	Path    string      `json:"path"`
	Header  http.Header `json:"header"`
	BodyLen int         `json:"bodyLen"`
	BodyErr string      `json:"bodyErr,omitempty"`
}

// echoBackend is a plain-HTTP backend that reads each request's body whole before it
// answers (as an upload handler does) and answers what it saw as JSON. It counts
// requests and remembers their paths.
type echoBackend struct {
	srv      *httpServer
	requests atomic.Int64
	mu       sync.Mutex
	paths    []string
	bodyErrs chan error // every body read that failed
}

func startEchoBackend(t testing.TB) *echoBackend {
	t.Helper()
	e := &echoBackend{bodyErrs: make(chan error, 100)}
	e.srv = startHandlerTB(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		e.requests.Add(1)
		e.mu.Lock()
		e.paths = append(e.paths, r.URL.Path)
		e.mu.Unlock()
		body, err := io.ReadAll(r.Body)
		seen := seenRequest{Path: r.URL.Path, Header: r.Header, BodyLen: len(body)}
		if err != nil {
			seen.BodyErr = err.Error()
			select {
			case e.bodyErrs <- err:
			default:
			}
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(seen)
	}))
	return e
}

func (e *echoBackend) sawPath(p string) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, q := range e.paths {
		if q == p {
			return true
		}
	}
	return false
}

// plainRoute serves app.example.com on both entry points from one plain-HTTP backend.
func plainRoute(p *testPKI, backendAddr string, middlewares ...string) []client.Object {
	objs := []client.Object{tlsSecret("app-tls", p.edge),
		ingressRoute(routeSpec{name: "app", match: "Host(`app.example.com`)", svc: "plain", scheme: "http", secret: "app-tls", middlewares: middlewares, entryPoints: []string{"websecure"}}),
		ingressRoute(routeSpec{name: "app-web", match: "Host(`app.example.com`)", svc: "plain", scheme: "http", middlewares: middlewares, entryPoints: []string{"web"}}),
	}
	return append(objs, service("plain", "http", backendAddr)...)
}

// rawResponse is one response read off a raw connection.
type rawResponse struct {
	status int
	header http.Header
	body   string
}

// exchange writes payload on a new connection to addr and reads responses until the
// gateway closes the connection (closed is true), want responses have arrived, or the
// deadline passes.
func exchange(t testing.TB, addr, payload string, want int) (resps []rawResponse, closed bool) {
	t.Helper()
	conn, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	return exchangeOn(t, conn, payload, want)
}

// exchangeOn is exchange on a connection already made; it closes it.
func exchangeOn(t testing.TB, conn net.Conn, payload string, want int) (resps []rawResponse, closed bool) {
	t.Helper()
	defer func() { _ = conn.Close() }()
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.WriteString(conn, payload); err != nil {
		t.Fatal(err)
	}
	return readResponses(t, conn, want)
}

func readResponses(t testing.TB, conn net.Conn, want int) (resps []rawResponse, closed bool) {
	t.Helper()
	br := bufio.NewReader(conn)
	for len(resps) < want {
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			var ne net.Error
			if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || strings.Contains(err.Error(), "connection reset") {
				return resps, true
			}
			if errors.As(err, &ne) && ne.Timeout() {
				t.Fatalf("no answer within the deadline after %d responses", len(resps))
			}
			t.Fatalf("reading response %d: %v", len(resps)+1, err)
		}
		body, _ := io.ReadAll(resp.Body)
		_ = resp.Body.Close()
		resps = append(resps, rawResponse{resp.StatusCode, resp.Header, string(body)})
		if resp.Close {
			_, err := br.ReadByte() // the gateway said it closes: it must
			return resps, errors.Is(err, io.EOF) || err != nil && !isTimeout(err)
		}
	}
	return resps, false
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// syncBuffer is an access log the test can read while the gateway writes.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// lines returns the access-log records written so far.
func (b *syncBuffer) lines() []map[string]any {
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []map[string]any
	for _, l := range strings.Split(strings.TrimSpace(b.buf.String()), "\n") {
		var m map[string]any
		if json.Unmarshal([]byte(l), &m) == nil {
			out = append(out, m)
		}
	}
	return out
}

func withAccessLog(b *syncBuffer) gatewayOption {
	return func(c *proxy.Config) { c.AccessLog = b }
}

// upstreamFailures are what the gateway holds against backends: failed observations (the
// routes' BackendTLSReady/Ready) and the upstream failure metric's lines.
func (g *gateway) upstreamFailures(t testing.TB) []string {
	t.Helper()
	var out []string
	for _, o := range g.srv.Observations().Latest() {
		if !o.OK {
			out = append(out, "observation "+o.RouteID+" "+string(o.Reason))
		}
	}
	resp, err := http.Get("http://" + g.admin + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }()
	body, _ := io.ReadAll(resp.Body)
	for _, l := range strings.Split(string(body), "\n") {
		if strings.HasPrefix(l, "bridgehead_upstream_failures_total{") {
			out = append(out, "metric "+l)
		}
	}
	return out
}

// eventually polls cond until it holds or 10 s pass.
func eventually(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within 10s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func startHandlerTB(t testing.TB, h http.Handler) *httpServer {
	t.Helper()
	s := httptest.NewServer(h)
	t.Cleanup(s.Close)
	return s
}
