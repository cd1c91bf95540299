package h1server

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"
)

// writerCases are handlers exercising every choice a response writer makes: framing,
// sniffing, interim answers, trailers, errors, closing.
var writerCases = []struct {
	name    string
	request string // the request line's method and target, "GET /" by default
	extra   string // fields added to the request
	handler func(w http.ResponseWriter, r *http.Request, errs *[]string)
}{
	{name: "nothing", handler: func(w http.ResponseWriter, r *http.Request, _ *[]string) {}},
	{name: "small body sniffed", handler: func(w http.ResponseWriter, r *http.Request, _ *[]string) {
		_, _ = io.WriteString(w, "<html><body>hello</body></html>")
	}},
	{name: "large body chunked", handler: func(w http.ResponseWriter, r *http.Request, _ *[]string) {
		_, _ = w.Write([]byte(strings.Repeat("0123456789", 500)))
		_, _ = w.Write([]byte("tail"))
	}},
	{name: "one large write", handler: func(w http.ResponseWriter, r *http.Request, _ *[]string) {
		_, _ = w.Write([]byte(strings.Repeat("x", 9000)))
	}},
	{name: "declared length", handler: func(w http.ResponseWriter, r *http.Request, _ *[]string) {
		w.Header().Set("Content-Length", "5")
		w.Header().Set("Content-Type", "text/x")
		_, _ = io.WriteString(w, "hello")
	}},
	{name: "short of its length", handler: func(w http.ResponseWriter, r *http.Request, _ *[]string) {
		w.Header().Set("Content-Length", "10")
		_, _ = io.WriteString(w, "hello")
	}},
	{name: "past its length", handler: func(w http.ResponseWriter, r *http.Request, errs *[]string) {
		w.Header().Set("Content-Length", "3")
		_, err := io.WriteString(w, "hello")
		*errs = append(*errs, fmt.Sprint(err))
	}},
	{name: "204 with a body", handler: func(w http.ResponseWriter, r *http.Request, errs *[]string) {
		w.Header().Set("Content-Length", "5")
		w.WriteHeader(http.StatusNoContent)
		_, err := io.WriteString(w, "hello")
		*errs = append(*errs, fmt.Sprint(err))
	}},
	{name: "304", handler: func(w http.ResponseWriter, r *http.Request, _ *[]string) {
		w.Header().Set("Content-Type", "text/html")
		w.Header().Set("Content-Length", "500")
		w.Header().Set("Etag", `"x"`)
		w.WriteHeader(http.StatusNotModified)
	}},
	{name: "early hints", handler: func(w http.ResponseWriter, r *http.Request, _ *[]string) {
		w.Header().Set("Link", "</s.css>; rel=preload")
		w.WriteHeader(http.StatusEarlyHints)
		w.Header().Set("Content-Type", "text/plain")
		_, _ = io.WriteString(w, "done")
	}},
	{name: "announced trailers", handler: func(w http.ResponseWriter, r *http.Request, _ *[]string) {
		w.Header().Set("Trailer", "X-Sum, X-Never")
		_, _ = io.WriteString(w, "body")
		w.Header().Set("X-Sum", "42")
		w.Header().Set("Content-Length", "99")
	}},
	{name: "trailer prefix", handler: func(w http.ResponseWriter, r *http.Request, _ *[]string) {
		w.WriteHeader(http.StatusOK)
		_, _ = io.WriteString(w, "body")
		w.Header().Set(http.TrailerPrefix+"X-Late", "yes")
	}},
	{name: "flushed first", handler: func(w http.ResponseWriter, r *http.Request, _ *[]string) {
		w.Header().Set("Content-Type", "text/event-stream")
		w.(http.Flusher).Flush()
		_, _ = io.WriteString(w, "data: 1\n\n")
		_ = http.NewResponseController(w).Flush()
		_, _ = io.WriteString(w, "data: 2\n\n")
	}},
	{name: "no sniffing", handler: func(w http.ResponseWriter, r *http.Request, _ *[]string) {
		w.Header()["Content-Type"] = nil
		_, _ = io.WriteString(w, "<html>")
	}},
	{name: "encoded, not sniffed", handler: func(w http.ResponseWriter, r *http.Request, _ *[]string) {
		w.Header().Set("Content-Encoding", "gzip")
		_, _ = io.WriteString(w, "\x1f\x8b")
	}},
	{name: "handler closes", handler: func(w http.ResponseWriter, r *http.Request, _ *[]string) {
		w.Header().Set("Connection", "close")
		_, _ = io.WriteString(w, "bye")
	}},
	{name: "client closes", extra: "Connection: close\r\n", handler: func(w http.ResponseWriter, r *http.Request, _ *[]string) {
		_, _ = io.WriteString(w, "bye")
	}},
	{name: "client keeps alive", extra: "Connection: keep-alive\r\n", handler: func(w http.ResponseWriter, r *http.Request, _ *[]string) {
		_, _ = io.WriteString(w, "hi")
	}},
	{name: "HEAD with a body", request: "HEAD /", handler: func(w http.ResponseWriter, r *http.Request, _ *[]string) {
		_, _ = io.WriteString(w, "<html>not sent</html>")
	}},
	{name: "HEAD without", request: "HEAD /", handler: func(w http.ResponseWriter, r *http.Request, _ *[]string) {}},
	{name: "HEAD with a length", request: "HEAD /", handler: func(w http.ResponseWriter, r *http.Request, _ *[]string) {
		w.Header().Set("Content-Length", "1234")
	}},
	{name: "identity", handler: func(w http.ResponseWriter, r *http.Request, _ *[]string) {
		w.Header().Set("Transfer-Encoding", "identity")
		_, _ = io.WriteString(w, "until close")
	}},
	{name: "chunked asked", handler: func(w http.ResponseWriter, r *http.Request, _ *[]string) {
		w.Header().Set("Transfer-Encoding", "chunked")
		_, _ = io.WriteString(w, "x")
	}},
	{name: "length and chunked", handler: func(w http.ResponseWriter, r *http.Request, _ *[]string) {
		w.Header().Set("Transfer-Encoding", "chunked")
		w.Header().Set("Content-Length", "1")
		_, _ = io.WriteString(w, "x")
	}},
	{name: "unknown status", handler: func(w http.ResponseWriter, r *http.Request, _ *[]string) {
		w.WriteHeader(599)
	}},
	{name: "line breaks and bad names", handler: func(w http.ResponseWriter, r *http.Request, _ *[]string) {
		w.Header()["X-Split"] = []string{"a\r\nInjected: yes", " padded "}
		w.Header()["Bad Name"] = []string{"x"}
		w.Header()["Date"] = []string{"Mon, 01 Jan 2024 00:00:00 GMT"}
	}},
	{name: "superfluous status", handler: func(w http.ResponseWriter, r *http.Request, _ *[]string) {
		w.WriteHeader(http.StatusAccepted)
		w.WriteHeader(http.StatusTeapot)
	}},
	{name: "panic", handler: func(w http.ResponseWriter, r *http.Request, _ *[]string) {
		panic("boom")
	}},
	{name: "aborted mid-body", handler: func(w http.ResponseWriter, r *http.Request, _ *[]string) {
		_, _ = w.Write([]byte(strings.Repeat("x", 5000)))
		panic(http.ErrAbortHandler)
	}},
	{name: "request seen", extra: "X-A: 1\r\nx-a: 2\r\n", request: "GET /p?q=1", handler: func(w http.ResponseWriter, r *http.Request, _ *[]string) {
		_, local := r.Context().Value(http.LocalAddrContextKey).(net.Addr)
		fmt.Fprintf(w, "%s %s %s %q %v %q %v %v %d", r.Method, r.URL, r.Host, r.Header, r.Close, r.Proto, r.Body == http.NoBody, local, r.ContentLength)
	}},
}

// exchange is what a client saw of one request and the one after it.
type exchange struct {
	Interim  []string
	Status   string
	Header   http.Header
	Body     string
	Trailer  http.Header
	ReadErr  string // "", "timeout" (the server kept the connection open) or "error"
	Reused   bool   // a second request on the connection was answered
	WriteErr []string
}

func TestResponseEqualsNetHTTP(t *testing.T) {
	for _, tt := range writerCases {
		t.Run(tt.name, func(t *testing.T) {
			var netErrs, ourErrs []string
			h := func(errs *[]string) http.Handler {
				return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					if r.URL.Path == "/second" {
						_, _ = io.WriteString(w, "second")
						return
					}
					tt.handler(w, r, errs)
				})
			}
			request := tt.request
			if request == "" {
				request = "GET /"
			}
			raw := request + " HTTP/1.1\r\nHost: example.test\r\n" + tt.extra + "\r\n"
			want := exchangeWith(t, netHTTP(t, h(&netErrs)), raw)
			want.WriteErr = netErrs
			got := exchangeWith(t, ours(t, h(&ourErrs)), raw)
			got.WriteErr = ourErrs
			if !reflect.DeepEqual(got, want) {
				t.Errorf("h1server:\n%+v\nnet/http:\n%+v", got, want)
			}
		})
	}
}

// exchangeWith sends raw on a new connection to addr, reads the answer, then tries a
// second request.
func exchangeWith(t *testing.T, addr, raw string) exchange {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = c.Close() }()
	_ = c.SetDeadline(time.Now().Add(2 * time.Second))
	if _, err := io.WriteString(c, raw); err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(c)
	method, _, _ := strings.Cut(raw, " ")
	var interim []string
	res, err := http.ReadResponse(br, &http.Request{Method: method}) //nolint:bodyclose // read whole below; the connection closes
	for err == nil && res.StatusCode < 200 {
		interim = append(interim, res.Status+" "+fmt.Sprint(res.Header))
		res, err = http.ReadResponse(br, &http.Request{Method: method}) //nolint:bodyclose // as above
	}
	if err != nil {
		return exchange{ReadErr: errKind(err), Interim: interim}
	}
	body, err := io.ReadAll(res.Body)
	x := exchange{Interim: interim, Status: res.Status, Header: res.Header, Body: string(body), Trailer: res.Trailer, ReadErr: errKind(err)}
	if _, ok := x.Header["Date"]; !ok {
		t.Errorf("no Date field")
	}
	if date := x.Header.Get("Date"); date != "Mon, 01 Jan 2024 00:00:00 GMT" {
		// The server's own: a valid HTTP date of about now (it is left out of the
		// comparison, the two servers answering at different instants).
		if at, err := http.ParseTime(date); err != nil || time.Since(at).Abs() > time.Minute {
			t.Errorf("Date: %q is not an HTTP date of now", date)
		}
		delete(x.Header, "Date")
	}
	if x.ReadErr == "" && !res.Close {
		if _, err := io.WriteString(c, "GET /second HTTP/1.1\r\nHost: example.test\r\n\r\n"); err == nil {
			if res, err := http.ReadResponse(br, nil); err == nil {
				b, _ := io.ReadAll(res.Body)
				_ = res.Body.Close()
				x.Reused = string(b) == "second"
			}
		}
	}
	return x
}

func netHTTP(t *testing.T, h http.Handler) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	hs := &http.Server{Handler: h, ErrorLog: log.New(io.Discard, "", 0)}
	go func() { _ = hs.Serve(ln) }()
	t.Cleanup(func() { _ = hs.Close() })
	return ln.Addr().String()
}

// ours serves h with a Server on a new loopback listener; a hand-over fails the test.
func ours(t *testing.T, h http.Handler) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &Server{Handler: h, ReadHeaderTimeout: 10 * time.Second, ErrorLog: log.New(io.Discard, "", 0),
		HandOver: func(c net.Conn) { t.Errorf("handed over a request the test meant the server to take"); _ = c.Close() }}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			ctx := context.WithValue(context.Background(), http.LocalAddrContextKey, c.LocalAddr())
			go s.Serve(ctx, c, nil)
		}
	}()
	t.Cleanup(func() {
		_ = ln.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := s.Shutdown(ctx); err != nil && !errors.Is(err, context.Canceled) {
			t.Errorf("shutdown: %v", err)
		}
	})
	return ln.Addr().String()
}

func errKind(err error) string {
	var ne net.Error
	switch {
	case err == nil:
		return ""
	case errors.As(err, &ne) && ne.Timeout():
		return "timeout"
	}
	return "error"
}
