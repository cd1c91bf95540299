package h1server

import (
	"bufio"
	"context"
	"errors"
	"io"
	"log"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// testServer serves h on a loopback listener; its hand-overs go to a net/http server.
type testServer struct {
	*Server
	addr       string
	handedOver atomic.Int32
}

func startServer(t *testing.T, h http.Handler, configure ...func(*Server)) *testServer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ts := &testServer{addr: ln.Addr().String()}
	handed := make(chan net.Conn)
	hs := &http.Server{Handler: h, ErrorLog: log.New(io.Discard, "", 0)}
	go func() { _ = hs.Serve(&oneByOne{conns: handed, addr: ln.Addr(), closed: make(chan struct{})}) }()
	ts.Server = &Server{Handler: h, ReadHeaderTimeout: 10 * time.Second, ErrorLog: log.New(io.Discard, "", 0),
		HandOver: func(c net.Conn) { ts.handedOver.Add(1); handed <- c }}
	for _, c := range configure {
		c(ts.Server)
	}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go ts.Serve(context.Background(), c, nil)
		}
	}()
	t.Cleanup(func() {
		_ = ln.Close()
		_ = hs.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = ts.Shutdown(ctx)
	})
	return ts
}

// oneByOne is the listener of the net/http server that takes hand-overs.
type oneByOne struct {
	conns  chan net.Conn
	addr   net.Addr
	closed chan struct{}
	once   sync.Once
}

func (l *oneByOne) Accept() (net.Conn, error) {
	select {
	case c := <-l.conns:
		return c, nil
	case <-l.closed:
		return nil, net.ErrClosed
	}
}

func (l *oneByOne) Close() error {
	l.once.Do(func() { close(l.closed) })
	return nil
}

func (l *oneByOne) Addr() net.Addr { return l.addr }

func dial(t *testing.T, addr string) (net.Conn, *bufio.Reader) {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	return c, bufio.NewReader(c)
}

// readBody reads an answer; closes says whether it announced that the connection closes.
func readBody(t *testing.T, br *bufio.Reader, method string) (closes bool, body string) {
	t.Helper()
	res, err := http.ReadResponse(br, &http.Request{Method: method})
	if err != nil {
		t.Fatalf("reading an answer: %v", err)
	}
	defer func() { _ = res.Body.Close() }()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatalf("reading a body: %v", err)
	}
	return res.Close, string(b)
}

// pathEcho answers each request with its method, path and body length.
var pathEcho = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	_, _ = io.WriteString(w, r.Method+" "+r.URL.Path+" "+strings.Repeat("+", len(b)))
})

func TestPipelinedRequestsAnsweredInOrder(t *testing.T) {
	ts := startServer(t, pathEcho)
	c, br := dial(t, ts.addr)
	_, _ = io.WriteString(c, "GET /1 HTTP/1.1\r\nHost: a\r\n\r\nHEAD /2 HTTP/1.1\r\nHost: a\r\n\r\nGET /3 HTTP/1.1\r\nHost: a\r\n\r\n")
	for _, want := range []struct{ method, body string }{{"GET", "GET /1 "}, {"HEAD", ""}, {"GET", "GET /3 "}} {
		if _, body := readBody(t, br, want.method); body != want.body {
			t.Fatalf("%s: body %q, want %q", want.method, body, want.body)
		}
	}
	if n := ts.handedOver.Load(); n != 0 {
		t.Fatalf("%d connections handed over", n)
	}
}

func TestAHeadInPiecesIsServed(t *testing.T) {
	ts := startServer(t, pathEcho)
	c, br := dial(t, ts.addr)
	for _, b := range []byte("GET /pieces HTTP/1.1\r\nHost: a\r\n\r\n") {
		if _, err := c.Write([]byte{b}); err != nil {
			t.Fatal(err)
		}
	}
	if _, body := readBody(t, br, "GET"); body != "GET /pieces " {
		t.Fatalf("body %q", body)
	}
	if n := ts.handedOver.Load(); n != 0 {
		t.Fatalf("%d connections handed over", n)
	}
}

// A request the server does not take goes to net/http with the bytes read so far, and
// so does the rest of the connection.
func TestHandOverKeepsTheBytesRead(t *testing.T) {
	ts := startServer(t, pathEcho)
	c, br := dial(t, ts.addr)
	big := "X-Big: " + strings.Repeat("b", 5000) + "\r\n"
	_, _ = io.WriteString(c, "GET /mine HTTP/1.1\r\nHost: a\r\n\r\n"+
		"POST /upload HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nabc"+
		"GET /after HTTP/1.1\r\nHost: a\r\n\r\n")
	for _, want := range []string{"GET /mine ", "POST /upload +++", "GET /after "} {
		if _, body := readBody(t, br, "GET"); body != want {
			t.Fatalf("body %q, want %q", body, want)
		}
	}
	if n := ts.handedOver.Load(); n != 1 {
		t.Fatalf("%d hand-overs, want 1 (at the POST)", n)
	}
	c2, br2 := dial(t, ts.addr)
	_, _ = io.WriteString(c2, "GET /big HTTP/1.1\r\nHost: a\r\n"+big+"\r\n")
	if _, body := readBody(t, br2, "GET"); body != "GET /big " {
		t.Fatalf("a head larger than the buffer: body %q", body)
	}
	if n := ts.handedOver.Load(); n != 2 {
		t.Fatalf("%d hand-overs, want 2 (the large head too)", n)
	}
}

func TestAHeadNotFinishedInTimeClosesTheConnection(t *testing.T) {
	ts := startServer(t, pathEcho, func(s *Server) { s.ReadHeaderTimeout = 100 * time.Millisecond })
	c, br := dial(t, ts.addr)
	_, _ = io.WriteString(c, "GET / HTTP/1.1\r\nHost: a\r\n")
	start := time.Now()
	if _, err := br.ReadByte(); err == nil {
		t.Fatal("an answer to an unfinished head")
	}
	if took := time.Since(start); took > 5*time.Second {
		t.Fatalf("closed after %v", took)
	}
}

// A client that goes away during a long request cancels its context; one that sends its
// next request meanwhile does not, and that request is read whole.
func TestTheWatchTellsAGoneClientFromTheNextRequest(t *testing.T) {
	started := make(chan struct{}, 1)
	release := make(chan struct{})
	never := make(chan struct{})
	canceled := make(chan struct{}, 1)
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		release := release
		if r.URL.Path == "/gone" {
			release = never
		}
		if r.URL.Path == "/slow" || r.URL.Path == "/gone" {
			started <- struct{}{}
			select {
			case <-r.Context().Done():
				canceled <- struct{}{}
				return
			case <-release:
			}
		}
		_, _ = io.WriteString(w, r.URL.Path)
	})
	ts := startServer(t, h, func(s *Server) { s.WatchDelay = time.Millisecond })

	c, br := dial(t, ts.addr)
	_, _ = io.WriteString(c, "GET /slow HTTP/1.1\r\nHost: a\r\n\r\n")
	<-started
	_, _ = io.WriteString(c, "GET /next HTTP/1.1\r\nHost: a\r\n\r\n")
	select {
	case <-canceled:
		t.Fatal("the next request canceled the slow one")
	case <-time.After(200 * time.Millisecond): // the watch has read the next request's first byte by now
	}
	close(release)
	for _, want := range []string{"/slow", "/next"} {
		if _, body := readBody(t, br, "GET"); body != want {
			t.Fatalf("body %q, want %q", body, want)
		}
	}
	if n := ts.handedOver.Load(); n != 0 {
		t.Fatalf("%d hand-overs: the next request was not read whole", n)
	}

	c2, _ := dial(t, ts.addr)
	_, _ = io.WriteString(c2, "GET /gone HTTP/1.1\r\nHost: a\r\n\r\n")
	<-started
	_ = c2.Close()
	select {
	case <-canceled:
	case <-time.After(10 * time.Second):
		t.Fatal("the request of a client that went away was not canceled")
	}
}

func TestShutdownClosesIdleConnectionsAndFinishesActiveOnes(t *testing.T) {
	started := make(chan struct{})
	release := make(chan struct{})
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/slow" {
			close(started)
			<-release
		}
		_, _ = io.WriteString(w, r.URL.Path)
	})
	ts := startServer(t, h)
	idle, idleBR := dial(t, ts.addr)
	_, _ = io.WriteString(idle, "GET /first HTTP/1.1\r\nHost: a\r\n\r\n")
	readBody(t, idleBR, "GET")
	active, activeBR := dial(t, ts.addr)
	_, _ = io.WriteString(active, "GET /slow HTTP/1.1\r\nHost: a\r\n\r\n")
	<-started

	done := make(chan error, 1)
	go func() { done <- ts.Shutdown(context.Background()) }()
	if _, err := idleBR.ReadByte(); !errors.Is(err, io.EOF) {
		t.Fatalf("the idle connection: %v, want it closed", err)
	}
	select {
	case err := <-done:
		t.Fatalf("Shutdown returned (%v) while a request ran", err)
	default:
	}
	close(release)
	closes, body := readBody(t, activeBR, "GET")
	if body != "/slow" || !closes {
		t.Fatalf("the running request: body %q, Connection: close %v; want its answer, then a close", body, closes)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}
