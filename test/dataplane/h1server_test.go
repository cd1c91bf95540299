package dataplane

import (
	"bufio"
	"crypto/tls"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/bridgehead/bridgehead/proxy"
)

// exchangeTLS is exchange over TLS with HTTP/1.1 (ALPN), to the TLS entry point.
func exchangeTLS(t testing.TB, addr string, p *testPKI, payload string, want int) (resps []rawResponse, closed bool) {
	t.Helper()
	conn, err := tls.DialWithDialer(&net.Dialer{Timeout: 5 * time.Second}, "tcp", addr,
		&tls.Config{RootCAs: p.edgeCA.Pool(), ServerName: "app.example.com", NextProtos: []string{"http/1.1"}})
	if err != nil {
		t.Fatal(err)
	}
	return exchangeOn(t, conn, payload, want)
}

// TestHTTP1AnswersAsNetHTTP sends the same bytes to a gateway whose HTTP/1.1 net/http's
// server reads (--http1-server=net/http), and to one where proxy/h1server reads GETs and
// HEADs and hands the connection to net/http at the first request it does not take, on
// its plain entry point and over TLS: the answers, whether the connection closes after
// them, and what the backend saw must be the same (the forwarded scheme and port aside).
func TestHTTP1AnswersAsNetHTTP(t *testing.T) {
	p := newPKI()
	b := startEchoBackend(t)
	ref := startGateway(t, plainRoute(p, b.srv.Listener.Addr().String()), func(c *proxy.Config) { c.NetHTTP1 = true })
	g := startGateway(t, plainRoute(p, b.srv.Listener.Addr().String()))
	const host = "Host: app.example.com\r\n"
	get := func(path string, fields ...string) string {
		return "GET " + path + " HTTP/1.1\r\n" + host + strings.Join(fields, "") + "\r\n"
	}
	for name, tt := range map[string]struct {
		payload string
		want    int
	}{
		"GETs":                    {get("/a") + get("/b?x=1", "Accept: */*\r\n", "X-Many: 1\r\n", "x-many: 2\r\n"), 2},
		"GET, POST, GET":          {get("/1") + "POST /2 HTTP/1.1\r\n" + host + "Content-Length: 3\r\n\r\nabc" + get("/3"), 3},
		"chunked upload":          {"POST /up HTTP/1.1\r\n" + host + "Transfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n" + get("/after"), 2},
		"CL and TE":               {"POST /up HTTP/1.1\r\n" + host + "Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n" + smuggled, 2},
		"TE and CL":               {"POST /up HTTP/1.1\r\n" + host + "Transfer-Encoding: chunked\r\nContent-Length: 48\r\n\r\n3\r\nabc\r\n0\r\n\r\n" + smuggled, 2},
		"HTTP/1.0 keep-alive":     {"GET /old HTTP/1.0\r\n" + host + "Connection: keep-alive\r\n\r\n" + get("/new"), 2},
		"bad chunk":               {"POST /up HTTP/1.1\r\n" + host + "Transfer-Encoding: chunked\r\n\r\nzz\r\n", 1},
		"GET with a body":         {"GET /body HTTP/1.1\r\n" + host + "Content-Length: 2\r\n\r\nhi" + get("/next"), 2},
		"large head":              {get("/big", "Cookie: "+strings.Repeat("c", 6000)+"\r\n") + get("/next"), 2},
		"bare LF":                 {"GET /lf HTTP/1.1\n" + host[:len(host)-2] + "\n\n", 1},
		"folded field":            {get("/fold", "X-A: 1\r\n folded\r\n"), 1},
		"two Hosts":               {get("/two", "Host: other.example.com\r\n"), 1},
		"no Host":                 {"GET /none HTTP/1.1\r\n\r\n", 1},
		"absolute form":           {"GET http://app.example.com/abs HTTP/1.1\r\n" + host + "\r\n", 1},
		"client closes":           {get("/bye", "Connection: close\r\n") + get("/never"), 2},
		"Connection names fields": {get("/conn", "Connection: keep-alive, X-Secret\r\n", "X-Secret: s\r\n"), 1},
		"spoofed forwarding":      {get("/spoof", "X-Forwarded-For: 6.6.6.6\r\n", "X_Forwarded_Host: evil\r\n", "X-Forwarded-Tls-Client-Cert: x\r\n", "Forwarded: for=6.6.6.6\r\n"), 1},
		"dot segments":            {get("//admin/../x/%2e%2e/y"), 1},
		"encoded slash":           {get("/a%2Fb"), 1},
		"too many fields":         {get("/many", strings.Repeat("X-F: 1\r\n", 120)), 1},
		"upgrade":                 {get("/ws", "Connection: Upgrade\r\n", "Upgrade: websocket\r\n"), 1},
		"expect":                  {"POST /exp HTTP/1.1\r\n" + host + "Expect: 100-continue\r\nContent-Length: 2\r\n\r\nok", 1},
		"unknown method":          {"BREW /pot HTTP/1.1\r\n" + host + "\r\n", 1},
	} {
		t.Run(name, func(t *testing.T) {
			want, wantClosed := exchange(t, ref.web, tt.payload, tt.want)
			plain, plainClosed := exchange(t, g.web, tt.payload, tt.want)
			overTLS, tlsClosed := exchangeTLS(t, g.secure, p, tt.payload, tt.want)
			sameAnswers(t, "plain", want, wantClosed, plain, plainClosed, "http", g.web)
			sameAnswers(t, "over TLS", want, wantClosed, overTLS, tlsClosed, "https", g.secure)
		})
	}
}

// sameAnswers compares what h1server's gateway answered (got, over how) with the
// reference's answers to the same bytes; scheme and the port of addr are the
// X-Forwarded-Proto and -Port the backend must have seen.
func sameAnswers(t *testing.T, how string, want []rawResponse, wantClosed bool, got []rawResponse, closed bool, scheme, addr string) {
	t.Helper()
	if len(want) != len(got) || wantClosed != closed {
		t.Fatalf("%s: %d answers (closed: %v), net/http %d (closed: %v)", how, len(got), closed, len(want), wantClosed)
	}
	for i := range want {
		a, b := want[i], got[i]
		if a.status != b.status || a.header.Get("Bridgehead-Error") != b.header.Get("Bridgehead-Error") || a.header.Get("Connection") != b.header.Get("Connection") {
			t.Fatalf("%s, answer %d: %d %q %q, net/http %d %q %q", how, i+1, b.status, b.header.Get("Bridgehead-Error"), b.header.Get("Connection"),
				a.status, a.header.Get("Bridgehead-Error"), a.header.Get("Connection"))
		}
		sa, sb, ok := seenBoth(a.body, b.body)
		if !ok {
			if a.body != b.body {
				t.Fatalf("%s, answer %d: body %q, net/http %q", how, i+1, b.body, a.body)
			}
			continue
		}
		_, port, _ := net.SplitHostPort(addr)
		if proto, p := sb.Header.Get("X-Forwarded-Proto"), sb.Header.Get("X-Forwarded-Port"); proto != scheme || p != port {
			t.Errorf("%s, answer %d: the backend saw X-Forwarded-Proto %q and -Port %q, want %q and %q", how, i+1, proto, p, scheme, port)
		}
		for _, s := range []*seenRequest{&sa, &sb} {
			s.Header.Del("X-Forwarded-Proto")
			s.Header.Del("X-Forwarded-Port")
		}
		if !reflect.DeepEqual(sa, sb) {
			t.Fatalf("%s, answer %d: the backend saw\n%+v\nnet/http's gateway sent\n%+v", how, i+1, sb, sa)
		}
	}
}

// seenBoth decodes two echo answers.
func seenBoth(a, b string) (sa, sb seenRequest, ok bool) {
	if json.Unmarshal([]byte(a), &sa) != nil || json.Unmarshal([]byte(b), &sb) != nil {
		return sa, sb, false
	}
	return sa, sb, true
}

// TestShutdownStopsAcceptingAndFinishesRequestsInFlight: on shutdown the TLS entry point
// stops taking connections at once, closes its idle HTTP/1.1 connections, and lets a
// request in flight finish, its answer saying that the connection closes.
func TestShutdownStopsAcceptingAndFinishesRequestsInFlight(t *testing.T) {
	p := newPKI()
	started, release := make(chan struct{}), make(chan struct{})
	be := startHandlerTB(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/slow" {
			close(started)
			<-release
		}
		_, _ = io.WriteString(w, r.URL.Path)
	}))
	g := startGateway(t, plainRoute(p, be.Listener.Addr().String()))
	cfg := &tls.Config{RootCAs: p.edgeCA.Pool(), ServerName: "app.example.com", NextProtos: []string{"http/1.1"}}
	dial := func() (*tls.Conn, *bufio.Reader) {
		c, err := tls.Dial("tcp", g.secure, cfg)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = c.Close() })
		_ = c.SetDeadline(time.Now().Add(10 * time.Second))
		return c, bufio.NewReader(c)
	}
	idle, idleBR := dial()
	if resps, _ := exchangeKept(t, idle, idleBR, "GET /first HTTP/1.1\r\nHost: app.example.com\r\n\r\n"); resps.status != http.StatusOK {
		t.Fatalf("first request: %d", resps.status)
	}
	active, activeBR := dial()
	_, _ = io.WriteString(active, "GET /slow HTTP/1.1\r\nHost: app.example.com\r\n\r\n")
	<-started

	stopped := make(chan error, 1)
	go func() { stopped <- g.shutdown() }()
	eventually(t, "the TLS entry point refusing connections while a request runs", func() bool {
		c, err := net.DialTimeout("tcp", g.secure, time.Second)
		if err == nil {
			_ = c.Close()
		}
		return err != nil
	})
	if _, err := idleBR.ReadByte(); err == nil {
		t.Fatal("the idle connection got bytes, want it closed")
	}
	close(release)
	res, closed := exchangeKept(t, active, activeBR, "")
	if res.status != http.StatusOK || res.body != "/slow" || !closed {
		t.Fatalf("the request in flight: %d %q (closes: %v), want its answer and a close", res.status, res.body, closed)
	}
	if err := <-stopped; err != nil {
		t.Fatal(err)
	}
}

// exchangeKept writes payload (if any) on c and reads one answer; closes says whether it
// announced that the connection closes.
func exchangeKept(t *testing.T, c net.Conn, br *bufio.Reader, payload string) (res rawResponse, closes bool) {
	t.Helper()
	if payload != "" {
		if _, err := io.WriteString(c, payload); err != nil {
			t.Fatal(err)
		}
	}
	r, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = r.Body.Close() }()
	body, _ := io.ReadAll(r.Body)
	return rawResponse{r.StatusCode, r.Header, string(body)}, r.Close
}

// TestAClientThatLeavesASlowRequestFreesTheBackend: a client that closes its connection
// while the backend takes its time gets the backend's request canceled (h1server watches
// a request once it has run for a second), and the abort is not held against the backend.
func TestAClientThatLeavesASlowRequestFreesTheBackend(t *testing.T) {
	p := newPKI()
	received, canceled := make(chan struct{}), make(chan struct{})
	be := startHandlerTB(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(received)
		select {
		case <-r.Context().Done(): // the gateway closed its connection to us
			close(canceled)
		case <-time.After(30 * time.Second):
		}
	}))
	g := startGateway(t, plainRoute(p, be.Listener.Addr().String()))
	c, err := tls.Dial("tcp", g.secure, &tls.Config{RootCAs: p.edgeCA.Pool(), ServerName: "app.example.com", NextProtos: []string{"http/1.1"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.WriteString(c, "GET /slow HTTP/1.1\r\nHost: app.example.com\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	<-received
	_ = c.Close()
	select {
	case <-canceled:
	case <-time.After(10 * time.Second):
		t.Fatal("the backend's request was not canceled after the client left")
	}
	if f := g.upstreamFailures(t); len(f) > 0 {
		t.Fatalf("the client's leaving was held against the backend: %v", f)
	}
}
