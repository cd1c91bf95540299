package dataplane

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptrace"
	"strings"
	"testing"
	"time"

	"github.com/bridgehead/bridgehead/proxy"
)

func withBodyIdleTimeout(d time.Duration) gatewayOption {
	return func(c *proxy.Config) { c.RequestBodyIdleTimeout = d }
}

// accessLine waits for the access-log record of path and returns it.
func accessLine(t *testing.T, log *syncBuffer, path string) map[string]any {
	t.Helper()
	var line map[string]any
	eventually(t, "the access-log line of "+path, func() bool {
		for _, l := range log.lines() {
			if l["path"] == path {
				line = l
				return true
			}
		}
		return false
	})
	return line
}

// h2Client speaks HTTP/2 to the gateway's TLS entry point.
func (g *gateway) h2Client(p *testPKI) *http.Client {
	c := g.httpsClient(p.edgeCA)
	c.Timeout = 0 // the tests bound their requests by context
	return c
}

// An upload the client abandons is the client's doing: logged 499 (ClientCanceled), never
// held against the backend. Before, HTTP/1.1 showed ConnectionReset on the backend.
func TestAbortedUploadIsNotTheBackends(t *testing.T) {
	p := newPKI()
	b := startEchoBackend(t)
	log := &syncBuffer{}
	g := startGateway(t, plainRoute(p, b.srv.Listener.Addr().String()), withAccessLog(log))

	t.Run("HTTP/1.1", func(t *testing.T) {
		conn, err := net.Dial("tcp", g.web)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.WriteString(conn, "POST /h1-abort HTTP/1.1\r\nHost: app.example.com\r\nContent-Length: 1000\r\n\r\n0123456789")
		<-waitBackendBodyStarted(t, b, "/h1-abort")
		_ = conn.Close()
		l := accessLine(t, log, "/h1-abort")
		if l["status"] != float64(499) || l["clientError"] != "ClientCanceled" || l["upstreamError"] != nil {
			t.Fatalf("access log %v, want 499 ClientCanceled", l)
		}
	})
	t.Run("HTTP/2", func(t *testing.T) {
		pr, pw := io.Pipe()
		ctx, cancel := context.WithCancel(t.Context())
		req, _ := http.NewRequestWithContext(ctx, "POST", "https://app.example.com/h2-abort", pr)
		done := make(chan error, 1)
		go func() {
			resp, err := g.h2Client(p).Do(req)
			if err == nil {
				_ = resp.Body.Close()
			}
			done <- err
		}()
		_, _ = pw.Write([]byte("0123456789"))
		<-waitBackendBodyStarted(t, b, "/h2-abort")
		cancel() // RST_STREAM
		if err := <-done; err == nil {
			t.Fatal("the cancelled request succeeded")
		}
		l := accessLine(t, log, "/h2-abort")
		if l["status"] != float64(499) || l["upstreamError"] != nil {
			t.Fatalf("access log %v, want 499", l)
		}
	})
	if f := g.upstreamFailures(t); len(f) > 0 {
		t.Fatalf("the client's abort was held against the backend: %v", f)
	}
}

// waitBackendBodyStarted is closed once the backend has the request for path (it is then
// reading the body).
func waitBackendBodyStarted(t *testing.T, b *echoBackend, path string) <-chan struct{} {
	ch := make(chan struct{})
	go func() {
		defer close(ch)
		deadline := time.Now().Add(10 * time.Second)
		for !b.sawPath(path) && time.Now().Before(deadline) {
			time.Sleep(5 * time.Millisecond)
		}
	}()
	return ch
}

// A client that stalls its upload no longer holds the backend's connection: after the
// idle timeout it gets 408 ClientBodyTimeout, the backend sees its request end, and the
// backend is not blamed. Before, the request hung as long as the client did.
func TestStalledUploadGets408(t *testing.T) {
	p := newPKI()
	b := startEchoBackend(t)
	g := startGateway(t, plainRoute(p, b.srv.Listener.Addr().String()), withBodyIdleTimeout(300*time.Millisecond))

	t.Run("HTTP/1.1", func(t *testing.T) {
		conn, err := net.Dial("tcp", g.web)
		if err != nil {
			t.Fatal(err)
		}
		defer func() { _ = conn.Close() }()
		_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
		_, _ = io.WriteString(conn, "POST /stall HTTP/1.1\r\nHost: app.example.com\r\nContent-Length: 100\r\n\r\n0123456789")
		resps, closed := readResponses(t, conn, 1)
		if len(resps) != 1 || resps[0].status != http.StatusRequestTimeout || resps[0].header.Get("Bridgehead-Error") != "ClientBodyTimeout" || !closed {
			t.Fatalf("got %+v (closed %v), want 408 ClientBodyTimeout and the connection closed", resps, closed)
		}
		select {
		case err := <-b.bodyErrs: // the backend's request ended
			t.Logf("the backend's body read ended with %v", err)
		case <-time.After(10 * time.Second):
			t.Fatal("the backend is still waiting for the body")
		}
	})
	t.Run("HTTP/2", func(t *testing.T) {
		pr, pw := io.Pipe()
		defer func() { _ = pw.Close() }()
		ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
		defer cancel()
		req, _ := http.NewRequestWithContext(ctx, "POST", "https://app.example.com/stall2", pr)
		go func() { _, _ = pw.Write([]byte("0123456789")) }()
		c := g.h2Client(p)
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		_ = resp.Body.Close()
		if resp.ProtoMajor != 2 || resp.StatusCode != http.StatusRequestTimeout || resp.Header.Get("Bridgehead-Error") != "ClientBodyTimeout" {
			t.Fatalf("got %s %d %q, want HTTP/2 408 ClientBodyTimeout", resp.Proto, resp.StatusCode, resp.Header.Get("Bridgehead-Error"))
		}
		// One stalled stream ends alone: the connection carries on.
		var reused bool
		next, _ := http.NewRequestWithContext(httptrace.WithClientTrace(ctx, &httptrace.ClientTrace{
			GotConn: func(i httptrace.GotConnInfo) { reused = i.Reused },
		}), "GET", "https://app.example.com/after", nil)
		resp, err = c.Do(next)
		if err != nil {
			t.Fatal(err)
		}
		_ = resp.Body.Close()
		if resp.StatusCode != 200 || !reused {
			t.Fatalf("after the 408: %d on a reused connection: %v", resp.StatusCode, reused)
		}
	})
	t.Run("a slow but steady upload is served", func(t *testing.T) {
		conn, err := net.Dial("tcp", g.web)
		if err != nil {
			t.Fatal(err)
		}
		defer func() { _ = conn.Close() }()
		_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
		_, _ = io.WriteString(conn, "POST /steady HTTP/1.1\r\nHost: app.example.com\r\nContent-Length: 6\r\nConnection: close\r\n\r\n")
		for range 6 { // 900 ms in all, each byte well within the timeout
			time.Sleep(150 * time.Millisecond)
			_, _ = conn.Write([]byte("x"))
		}
		resps, _ := readResponses(t, conn, 1)
		var seen seenRequest
		if len(resps) != 1 || resps[0].status != 200 || json.Unmarshal([]byte(resps[0].body), &seen) != nil || seen.BodyLen != 6 {
			t.Fatalf("got %+v", resps)
		}
	})
	if f := g.upstreamFailures(t); len(f) > 0 {
		t.Fatalf("a stalled client was held against the backend: %v", f)
	}
}

// A backend that never answers gets 504 Timeout after the response-header timeout, which
// now has a finite default: before, a backend without a ServersTransport could hold the
// request forever.
func TestSilentBackendGets504(t *testing.T) {
	p := newPKI()
	release := make(chan struct{})
	silent := startHandlerTB(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	t.Cleanup(func() { close(release) })
	g := startGateway(t, plainRoute(p, silent.Listener.Addr().String()), func(c *proxy.Config) {
		c.Upstream.ResponseHeaderTimeout = 300 * time.Millisecond
	})
	c := g.httpsClient(p.edgeCA, func(c *tls.Config) { c.NextProtos = []string{"http/1.1"} })
	code, reason, _ := get(t, c, "https://app.example.com/")
	if code != http.StatusGatewayTimeout || reason != "Timeout" {
		t.Fatalf("got %d %s, want 504 Timeout", code, reason)
	}
	f := g.upstreamFailures(t)
	if len(f) == 0 || !strings.Contains(strings.Join(f, " "), "Timeout") {
		t.Fatalf("the backend's silence is its own failure; recorded: %v", f)
	}
	for _, o := range g.srv.Observations().Latest() {
		if !o.OK && !strings.Contains(o.Detail.Message, "responseHeaderTimeout") {
			t.Errorf("the condition message should name responseHeaderTimeout: %q", o.Detail.Message)
		}
	}
}
