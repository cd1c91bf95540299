package h2server

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"io"
	"log"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/net/http2"
)

// testCert is a self-signed certificate for "localhost", made once.
var testCert = sync.OnceValues(func() (tls.Certificate, *x509.CertPool) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		panic(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "localhost"},
		DNSNames: []string{"localhost"}, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IsCA: true, BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		panic(err)
	}
	leaf, _ := x509.ParseCertificate(der)
	pool := x509.NewCertPool()
	pool.AddCert(leaf)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, pool
})

// testServer serves h over HTTP/2 on loopback, with h2server (ours) or with net/http's
// server, and gives a client that speaks HTTP/2 to it.
type testServer struct {
	addr   string
	client *http.Client
	srv    *Server // ours only
}

func startServer(t testing.TB, h http.Handler, ours bool, configure func(*Server)) *testServer {
	t.Helper()
	cert, pool := testCert()
	ts := &testServer{}
	tr := &http2.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, ServerName: "localhost"}}
	ts.client = &http.Client{Transport: tr}
	// Cleanups run last first: the client lets its connections go before the server
	// shuts down, so that Shutdown does not wait out their lingering.
	defer t.Cleanup(tr.CloseIdleConnections)
	if !ours {
		hs := httptest.NewUnstartedServer(h)
		hs.EnableHTTP2 = true
		hs.TLS = &tls.Config{Certificates: []tls.Certificate{cert}}
		hs.Config.ErrorLog = quietLog()
		hs.StartTLS()
		t.Cleanup(hs.Close)
		ts.addr = hs.Listener.Addr().String()
		return ts
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ts.addr = ln.Addr().String()
	ts.srv = &Server{Handler: h, ErrorLog: quietLog()}
	if configure != nil {
		configure(ts.srv)
	}
	cfg := &tls.Config{Certificates: []tls.Certificate{cert}, NextProtos: []string{"h2"}}
	var wg sync.WaitGroup
	t.Cleanup(func() {
		_ = ln.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = ts.srv.Shutdown(ctx)
		wg.Wait()
	})
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				tc := tls.Server(c, cfg)
				if err := tc.Handshake(); err != nil {
					_ = c.Close()
					return
				}
				state := tc.ConnectionState()
				ctx := context.WithValue(context.Background(), http.LocalAddrContextKey, c.LocalAddr())
				ts.srv.ServeConn(ctx, tc, &state)
			}()
		}
	}()
	return ts
}

func (ts *testServer) url(path string) string { return "https://localhost:" + portOf(ts.addr) + path }

func portOf(addr string) string {
	_, port, _ := net.SplitHostPort(addr)
	return port
}

// quietLog keeps expected panics and errors out of the test output.
func quietLog() *log.Logger { return log.New(io.Discard, "", 0) }

// answer is what a client sees of a response.
type answer struct {
	status  int
	header  http.Header
	body    string
	trailer http.Header
	err     string
}

func (a answer) String() string {
	return fmt.Sprintf("status %d\nheader %v\nbody %q\ntrailer %v\nerr %s", a.status, a.header, digest([]byte(a.body)), a.trailer, a.err)
}

func fetch(t testing.TB, ts *testServer, method, path string, body io.Reader) answer {
	t.Helper()
	req, err := http.NewRequest(method, ts.url(path), body)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := ts.client.Do(req)
	if err != nil {
		return answer{err: "round trip failed"}
	}
	defer func() { _ = resp.Body.Close() }()
	b, err := io.ReadAll(resp.Body)
	a := answer{status: resp.StatusCode, header: resp.Header, body: string(b), trailer: resp.Trailer}
	if err != nil {
		a.err = "body failed"
	}
	return a
}

// responseHandlers are handlers whose answers must be the same under both servers.
var responseHandlers = map[string]http.HandlerFunc{
	"/small": func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "hello") },
	"/empty": func(http.ResponseWriter, *http.Request) {},
	"/html":  func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "<html><body>x</body></html>") },
	"/typed": func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"a":1}`)
	},
	"/encoded": func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Encoding", "gzip")
		_, _ = w.Write([]byte{0x1f, 0x8b, 0})
	},
	"/nosniff": func(w http.ResponseWriter, _ *http.Request) {
		w.Header()["Content-Type"] = nil
		_, _ = io.WriteString(w, "<html>")
	},
	"/declared-length": func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Length", "5")
		w.WriteHeader(201)
		_, _ = io.WriteString(w, "hello")
	},
	"/bad-length": func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Length", "x")
		_, _ = io.WriteString(w, "hello")
	},
	"/large": func(w http.ResponseWriter, _ *http.Request) {
		_, _ = w.Write(bytes.Repeat([]byte("0123456789abcdef"), 20000)) // 320 KB: beyond the first window
	},
	"/pieces": func(w http.ResponseWriter, _ *http.Request) {
		for i := range 100 {
			_, _ = fmt.Fprintf(w, "line %d %s\n", i, strings.Repeat("x", i*10))
		}
	},
	"/flushed": func(w http.ResponseWriter, _ *http.Request) {
		_, _ = io.WriteString(w, "one")
		w.(http.Flusher).Flush()
		_, _ = io.WriteString(w, "two")
	},
	"/no-content": func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusNoContent)
		if _, err := io.WriteString(w, "x"); !errors.Is(err, http.ErrBodyNotAllowed) {
			panic("a body after a 204 was taken")
		}
	},
	"/not-found": func(w http.ResponseWriter, r *http.Request) { http.NotFound(w, r) },
	"/changed-after-head": func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("X-Before", "1")
		w.WriteHeader(200)
		w.Header().Set("X-After", "1") // not in the head
		_, _ = io.WriteString(w, "body")
	},
	"/declared-trailers": func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Trailer", "Grpc-Status, Grpc-Message")
		w.Header().Set("Content-Type", "application/grpc")
		w.WriteHeader(200)
		_, _ = io.WriteString(w, "payload")
		w.Header().Set("Grpc-Status", "0")
		w.Header().Set("Grpc-Message", "ok")
	},
	"/prefixed-trailer": func(w http.ResponseWriter, _ *http.Request) {
		_, _ = io.WriteString(w, "payload")
		w.Header().Set(http.TrailerPrefix+"X-Checksum", "abc")
	},
	"/early-hints": func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Link", "</style.css>; rel=preload")
		w.WriteHeader(http.StatusEarlyHints)
		w.Header().Set("X-Final", "1")
		_, _ = io.WriteString(w, "final")
	},
	"/hop-by-hop": func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Keep-Alive", "timeout=5")
		w.Header().Set("Upgrade", "h2c")
		w.Header().Set("Transfer-Encoding", "chunked")
		_, _ = io.WriteString(w, "x")
	},
	"/multi": func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Add("Set-Cookie", "a=1")
		w.Header().Add("Set-Cookie", "b=2")
		w.Header().Set("X-Empty", "")
		_, _ = io.WriteString(w, "x")
	},
}

// TestResponsesEqualNetHTTP: every handler's answer, as an HTTP/2 client sees it, is the
// one net/http's HTTP/2 server gives: status, fields (Date aside, checked for a date),
// body and trailers.
func TestResponsesEqualNetHTTP(t *testing.T) {
	mux := http.NewServeMux()
	for p, h := range responseHandlers {
		mux.HandleFunc(p, h)
	}
	ours, theirs := startServer(t, mux, true, nil), startServer(t, mux, false, nil)
	paths := slices.Sorted(func(yield func(string) bool) {
		for p := range responseHandlers {
			if !yield(p) {
				return
			}
		}
	})
	for _, path := range paths {
		for _, method := range []string{"GET", "HEAD"} {
			t.Run(method+path, func(t *testing.T) {
				got, want := fetch(t, ours, method, path, nil), fetch(t, theirs, method, path, nil)
				for _, a := range []answer{got, want} {
					if d := a.header.Get("Date"); a.err == "" {
						if when, err := http.ParseTime(d); err != nil || time.Since(when).Abs() > time.Minute {
							t.Errorf("Date %q is not a date of about now", d)
						}
					}
					a.header.Del("Date")
				}
				// net/http sends these two, which RFC 9113 section 8.2.2 forbids (nghttp2
				// clients reset the stream); h2server drops them.
				want.header.Del("Keep-Alive")
				want.header.Del("Upgrade")
				if got.String() != want.String() {
					t.Errorf("h2server:\n%v\nnet/http:\n%v", got, want)
				}
			})
		}
	}
}

// seenRequest is what a handler sees of a request.
type seenRequest struct {
	Method, Host, RequestURI, Path, RawQuery, Proto, Body string
	Header, Trailer                                       http.Header
	ContentLength                                         int64
	TLS, RemoteAddr                                       bool
}

// digest is a body as the test prints it: short ones whole.
func digest(b []byte) string {
	if len(b) <= 64 {
		return string(b)
	}
	return fmt.Sprintf("%d bytes, sha256 %x", len(b), sha256.Sum256(b))
}

func recordRequest(w http.ResponseWriter, r *http.Request) {
	b, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, err.Error(), 500)
		return
	}
	seen := seenRequest{
		Method: r.Method, Host: strings.Split(r.Host, ":")[0], RequestURI: r.RequestURI, Path: r.URL.Path, RawQuery: r.URL.RawQuery,
		Proto: r.Proto, Body: digest(b), Header: r.Header, Trailer: r.Trailer, ContentLength: r.ContentLength,
		TLS: r.TLS != nil, RemoteAddr: r.RemoteAddr != "",
	}
	_, _ = fmt.Fprintf(w, "%+v", seen)
}

// TestRequestsEqualNetHTTP: a handler sees the same request under both servers: method,
// target, fields (cookies joined, Expect taken), length, body and trailers.
func TestRequestsEqualNetHTTP(t *testing.T) {
	ours, theirs := startServer(t, http.HandlerFunc(recordRequest), true, nil), startServer(t, http.HandlerFunc(recordRequest), false, nil)
	type request struct {
		name, method, path string
		body               func() io.Reader
		header             http.Header
		trailer            http.Header
	}
	for _, rq := range []request{
		{name: "get", method: "GET", path: "/a/b?x=1&y=%20", header: http.Header{"Accept": {"*/*"}, "X-Multi": {"1", "2"}}},
		{name: "cookies", method: "GET", path: "/", header: http.Header{"Cookie": {"a=1", "b=2"}}},
		{name: "post known length", method: "POST", path: "/up", body: func() io.Reader { return strings.NewReader("some body") }},
		{name: "post unknown length", method: "POST", path: "/up", body: func() io.Reader { return io.MultiReader(strings.NewReader("a"), strings.NewReader("b")) }},
		{name: "large body", method: "PUT", path: "/big", body: func() io.Reader { return bytes.NewReader(bytes.Repeat([]byte("z"), 3<<20)) }},
		{name: "expect continue", method: "POST", path: "/", header: http.Header{"Expect": {"100-continue"}}, body: func() io.Reader { return strings.NewReader("x") }},
		{name: "trailers", method: "POST", path: "/t", body: func() io.Reader { return io.MultiReader(strings.NewReader("ab")) }, trailer: http.Header{"X-Sum": {"1"}}},
	} {
		t.Run(rq.name, func(t *testing.T) {
			send := func(ts *testServer) answer {
				var body io.Reader
				if rq.body != nil {
					body = rq.body()
				}
				req, _ := http.NewRequest(rq.method, ts.url(rq.path), body)
				if rq.name == "post unknown length" || rq.trailer != nil {
					req.ContentLength = -1
				}
				maps := req.Header
				for k, vv := range rq.header {
					maps[k] = vv
				}
				if rq.trailer != nil {
					req.Trailer = rq.trailer.Clone()
				}
				resp, err := ts.client.Do(req)
				if err != nil {
					return answer{err: err.Error()}
				}
				defer func() { _ = resp.Body.Close() }()
				b, _ := io.ReadAll(resp.Body)
				return answer{status: resp.StatusCode, body: string(b)}
			}
			got, want := send(ours), send(theirs)
			if got.String() != want.String() {
				t.Errorf("h2server:\n%v\nnet/http:\n%v", got, want)
			}
		})
	}
}

// TestAClientResetCancelsTheRequest: RST_STREAM from the client cancels the handler's
// context and fails its body reads.
func TestAClientResetCancelsTheRequest(t *testing.T) {
	canceled := make(chan error, 1)
	ts := startServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(200)
		w.(http.Flusher).Flush()
		<-r.Context().Done()
		_, err := r.Body.Read(make([]byte, 1))
		canceled <- err
	}), true, nil)
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	defer func() { _ = pw.Close() }()
	req, _ := http.NewRequestWithContext(ctx, "POST", ts.url("/"), pr)
	resp, err := ts.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	cancel() // the client's transport resets the stream
	_ = resp.Body.Close()
	select {
	case err := <-canceled:
		if err == nil {
			t.Error("the body read after the reset succeeded")
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the handler's context was not canceled by the client's reset")
	}
}

// TestAStalledUploadFailsAtTheReadDeadline: SetReadDeadline (which the proxy's client
// body timeout uses) fails a waiting body read with os.ErrDeadlineExceeded.
func TestAStalledUploadFailsAtTheReadDeadline(t *testing.T) {
	ts := startServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = http.NewResponseController(w).SetReadDeadline(time.Now().Add(50 * time.Millisecond))
		_, err := io.ReadAll(r.Body)
		if errors.Is(err, os.ErrDeadlineExceeded) {
			w.WriteHeader(http.StatusRequestTimeout)
		}
	}), true, nil)
	pr, pw := io.Pipe()
	defer func() { _ = pw.Close() }()
	go func() { _, _ = pw.Write([]byte("start")) }() // then nothing
	req, _ := http.NewRequest("POST", ts.url("/"), pr)
	resp, err := ts.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusRequestTimeout {
		t.Errorf("status %d, want 408", resp.StatusCode)
	}
}

// TestAPanickingHandlerResetsOnlyItsStream: the client sees its stream fail, and the
// connection keeps serving.
func TestAPanickingHandlerResetsOnlyItsStream(t *testing.T) {
	ts := startServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/panic" {
			panic("boom")
		}
		_, _ = io.WriteString(w, "ok")
	}), true, nil)
	if a := fetch(t, ts, "GET", "/panic", nil); a.err == "" {
		t.Errorf("a panicking handler's answer: %v", a)
	}
	if a := fetch(t, ts, "GET", "/", nil); a.body != "ok" {
		t.Errorf("after the panic: %v", a)
	}
}

// TestShutdownFinishesStreamsThenCloses: Shutdown lets a request in flight finish and
// returns once the connection closed; the server takes no new connection.
func TestShutdownFinishesStreamsThenCloses(t *testing.T) {
	release := make(chan struct{})
	started := make(chan struct{})
	ts := startServer(t, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		close(started)
		<-release
		_, _ = io.WriteString(w, "finished")
	}), true, nil)
	done := make(chan answer, 1)
	go func() { done <- fetch(t, ts, "GET", "/", nil) }()
	<-started
	shut := make(chan error, 1)
	go func() { shut <- ts.srv.Shutdown(context.Background()) }()
	select {
	case err := <-shut:
		t.Fatalf("Shutdown returned (%v) while a stream was in flight", err)
	case <-time.After(100 * time.Millisecond):
	}
	close(release)
	if a := <-done; a.body != "finished" {
		t.Errorf("the request in flight: %v", a)
	}
	select {
	case err := <-shut:
		if err != nil {
			t.Errorf("Shutdown: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Shutdown did not return after the last stream")
	}
}

// TestAnIdleConnectionIsClosed: with IdleTimeout, a connection without streams gets a
// GOAWAY and is closed.
func TestAnIdleConnectionIsClosed(t *testing.T) {
	ts := startServer(t, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "ok") }),
		true, func(s *Server) { s.IdleTimeout = 100 * time.Millisecond })
	_, pool := testCert()
	c, err := tls.Dial("tcp", ts.addr, &tls.Config{RootCAs: pool, ServerName: "localhost", NextProtos: []string{"h2"}})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = c.Close() }()
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	_, _ = c.Write([]byte(http2.ClientPreface))
	fr := http2.NewFramer(c, c)
	_ = fr.WriteSettings()
	var goAway *http2.GoAwayFrame
	for {
		f, err := fr.ReadFrame()
		if err != nil {
			break
		}
		if g, ok := f.(*http2.GoAwayFrame); ok {
			goAway = g
		}
	}
	if goAway == nil || goAway.ErrCode != http2.ErrCodeNo {
		t.Errorf("the idle connection ended without GOAWAY(NO_ERROR): %v", goAway)
	}
}

// BenchmarkServeHTTP2 serves small GETs, ten streams at a time on one connection, with
// h2server and with net/http's server. The client's costs are in both figures.
func BenchmarkServeHTTP2(b *testing.B) {
	body := bytes.Repeat([]byte("x"), 100)
	h := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		_, _ = w.Write(body)
	})
	for _, ours := range []bool{true, false} {
		name := "h2server"
		if !ours {
			name = "net-http"
		}
		b.Run(name, func(b *testing.B) {
			ts := startServer(b, h, ours, nil)
			if a := fetch(b, ts, "GET", "/", nil); a.status != 200 {
				b.Fatal(a)
			}
			b.ReportAllocs()
			b.SetParallelism(10)
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					resp, err := ts.client.Get(ts.url("/"))
					if err != nil {
						b.Error(err)
						return
					}
					_, _ = io.Copy(io.Discard, resp.Body)
					_ = resp.Body.Close()
				}
			})
		})
	}
}
