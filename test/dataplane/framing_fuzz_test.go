package dataplane

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/bridgehead/bridgehead/proxy"
)

// FuzzHTTPFraming sends raw bytes to the gateway's plain entry point and, over TLS with
// HTTP/1.1, to its TLS entry point (where proxy/h1server reads them first), routed for any
// host to a backend that reads bodies whole, and checks what must hold for any input on
// both:
//   - the gateway never panics (net/http would log and recover);
//   - every response it sends parses;
//   - it serves no more requests than the bytes hold (net/http's own parser, reading the
//     same bytes, is the oracle), and answers at most one more (a 400 for the garbage
//     that follows);
//   - when the first request carries both Content-Length and Transfer-Encoding, nothing
//     after it is served on the connection (RFC 9112 section 6.1);
//   - no request reaches the backend twice.
//
// Seeds for every case of issue 14's HTTP items are in testdata/fuzz/FuzzHTTPFraming.
// Each input gets its own loopback source address, so the backend can tell which input
// its requests came from.
func FuzzHTTPFraming(f *testing.F) {
	f.Add([]byte("GET / HTTP/1.1\r\nHost: app.example.com\r\n\r\n"))
	fz := startFramingTarget(f)
	// Both entry points route the seed's GET to the backend, so the checks below are made
	// on requests the gateway serves, not on 404s.
	get := "GET /both HTTP/1.1\r\nHost: app.example.com\r\n\r\n"
	plain, _ := exchange(f, fz.g.web, get, 1)
	conn, err := tls.Dial("tcp", fz.g.secure, fz.tls)
	if err != nil {
		f.Fatal(err)
	}
	overTLS, _ := exchangeOn(f, conn, get, 1)
	for _, r := range append(plain, overTLS...) {
		if r.status != http.StatusOK || r.body != "GET /both 0" {
			f.Fatalf("the seed's GET: %d %q, want the backend's 200", r.status, r.body)
		}
	}
	f.Fuzz(func(t *testing.T, raw []byte) { fz.check(t, raw) })
}

type framingTarget struct {
	g      *gateway
	tls    *tls.Config // the TLS entry point's client side
	panics atomic.Int64
	src    atomic.Uint32
	mu     sync.Mutex
	hits   map[string]int // backend requests by X-Real-Ip (the input's source address)
}

func startFramingTarget(tb testing.TB) *framingTarget {
	fz := &framingTarget{hits: map[string]int{}}
	be := startHandlerTB(tb, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fz.mu.Lock()
		fz.hits[r.Header.Get("X-Real-Ip")]++
		fz.mu.Unlock()
		n, _ := io.Copy(io.Discard, r.Body)
		_, _ = fmt.Fprintf(w, "%s %s %d", r.Method, r.URL.Path, n)
	}))
	p := newPKI()
	fz.tls = &tls.Config{RootCAs: p.edgeCA.Pool(), ServerName: "app.example.com", NextProtos: []string{"http/1.1"}}
	objs := append([]client.Object{tlsSecret("app-tls", p.edge),
		ingressRoute(routeSpec{name: "any", match: "PathPrefix(`/`)", svc: "plain", scheme: "http", entryPoints: []string{"web"}}),
		ingressRoute(routeSpec{name: "any-tls", match: "Host(`app.example.com`) || PathPrefix(`/`)", svc: "plain", scheme: "http", secret: "app-tls", entryPoints: []string{"websecure"}}),
	}, service("plain", "http", be.Listener.Addr().String())...)
	fz.g = startGateway(tb, objs, withBodyIdleTimeout(300*time.Millisecond), func(c *proxy.Config) {
		c.Log = slog.New(&panicCatcher{n: &fz.panics})
	})
	return fz
}

// panicCatcher counts the log records of handlers that panicked.
type panicCatcher struct{ n *atomic.Int64 }

func (p *panicCatcher) Enabled(context.Context, slog.Level) bool { return true }
func (p *panicCatcher) Handle(_ context.Context, r slog.Record) error {
	if strings.Contains(r.Message, "panic") {
		p.n.Add(1)
	}
	return nil
}
func (p *panicCatcher) WithAttrs([]slog.Attr) slog.Handler { return p }
func (p *panicCatcher) WithGroup(string) slog.Handler      { return p }

// nextSource is a loopback address of its own for each input: 127.1.0.1 onwards, about
// 16 million before they repeat.
func (fz *framingTarget) nextSource() net.IP {
	n := fz.src.Add(1)
	rest := n / 254
	return net.IPv4(127, byte(1+(rest/256)%254), byte(rest%256), byte(1+n%254))
}

func (fz *framingTarget) check(t *testing.T, raw []byte) {
	fz.checkOn(t, raw, func(d *net.Dialer) (net.Conn, error) { return d.Dial("tcp", fz.g.web) })
	fz.checkOn(t, raw, func(d *net.Dialer) (net.Conn, error) { return tls.DialWithDialer(d, "tcp", fz.g.secure, fz.tls) })
}

// checkOn checks raw on a connection dial makes.
func (fz *framingTarget) checkOn(t *testing.T, raw []byte, dial func(*net.Dialer) (net.Conn, error)) {
	methods, bothLengths := oracle(raw)
	src := fz.nextSource()
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: src}, Timeout: 5 * time.Second}
	conn, err := dial(&d)
	if err != nil {
		t.Skipf("dial from %s: %v", src, err)
	}
	defer func() { _ = conn.Close() }()
	_ = conn.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := conn.Write(raw); err != nil && !errors.Is(err, net.ErrClosed) && !strings.Contains(err.Error(), "reset") && !strings.Contains(err.Error(), "broken pipe") {
		t.Fatalf("write: %v", err)
	}
	if len(methods) == 0 {
		// No complete request: the gateway answers 400 at once or waits for more.
		_ = conn.SetReadDeadline(time.Now().Add(100 * time.Millisecond))
	}
	br := bufio.NewReader(conn)
	responses := 0
	for responses <= len(methods) {
		req := &http.Request{Method: http.MethodGet}
		if responses < len(methods) {
			req.Method = methods[responses]
		}
		if _, err := br.Peek(1); err != nil {
			break // closed (or quiet until the deadline): nothing more was sent
		}
		resp, err := http.ReadResponse(br, req)
		if err != nil {
			if isTimeout(err) || strings.Contains(err.Error(), "reset") {
				break
			}
			t.Fatalf("response %d does not parse: %v", responses+1, err)
		}
		if _, err := io.Copy(io.Discard, resp.Body); err != nil && !isTimeout(err) && !errors.Is(err, io.ErrUnexpectedEOF) && !strings.Contains(err.Error(), "reset") {
			t.Fatalf("response %d's body does not parse: %v", responses+1, err)
		}
		_ = resp.Body.Close()
		if resp.StatusCode/100 == 1 {
			continue // 100 Continue: the final answer follows
		}
		responses++
		if resp.Close {
			// The gateway closes after it, as a client reads it. (net/http's own 400 for a
			// request it cannot parse has a body even for HEAD, ended by the close.)
			if _, err := br.Peek(1); err == nil && resp.ContentLength >= 0 {
				t.Fatalf("bytes after response %d, which said Connection: close", responses)
			}
			break
		}
		if responses == len(methods) {
			_ = conn.SetReadDeadline(time.Now().Add(50 * time.Millisecond)) // anything more?
		}
	}
	if fz.panics.Load() > 0 {
		t.Fatal("the gateway panicked (see the log)")
	}
	if responses > len(methods)+1 {
		t.Fatalf("%d responses to %d requests", responses, len(methods))
	}
	if bothLengths && responses > 1 {
		t.Fatalf("a request with Content-Length and Transfer-Encoding let %d more through on its connection", responses-1)
	}
	fz.mu.Lock()
	hits := fz.hits[src.String()]
	fz.mu.Unlock()
	if hits > len(methods) || (bothLengths && hits > 1) {
		t.Fatalf("the backend saw %d requests for %d request lines (both lengths: %v)", hits, len(methods), bothLengths)
	}
}

// oracle reads raw as net/http would and returns the methods of the requests a server
// may serve, in order, stopping where a server must stop reading: a framing error, a
// request that closes the connection (Connection: close, HTTP/1.0, or one the gateway
// closes after because Transfer-Encoding was or might have been present). bothLengths
// says whether the first request's header has Content-Length and Transfer-Encoding.
func oracle(raw []byte) (methods []string, bothLengths bool) {
	bothLengths = hasBothLengths(raw)
	br := bufio.NewReader(bytes.NewReader(raw))
	for {
		req, err := http.ReadRequest(br)
		if err != nil {
			return methods, bothLengths
		}
		methods = append(methods, req.Method)
		_, err = io.Copy(io.Discard, req.Body)
		if err != nil || req.Close || len(req.TransferEncoding) > 0 || !req.ProtoAtLeast(1, 1) {
			return methods, bothLengths
		}
	}
}

// hasBothLengths looks at the first header block's field names, as written.
func hasBothLengths(raw []byte) bool {
	head, _, _ := bytes.Cut(raw, []byte("\r\n\r\n"))
	var cl, te bool
	for _, line := range bytes.Split(head, []byte("\n")) {
		name, _, ok := bytes.Cut(line, []byte(":"))
		if !ok {
			continue
		}
		switch strings.ToLower(strings.TrimSpace(string(name))) {
		case "content-length":
			cl = true
		case "transfer-encoding":
			te = true
		}
	}
	return cl && te
}

// The fuzz target's oracle agrees with what the gateway must do on the cases it is for.
func TestFramingOracle(t *testing.T) {
	for raw, want := range map[string]struct {
		n    int
		both bool
	}{
		"GET / HTTP/1.1\r\nHost: a\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n":                                        {2, false},
		"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n" + smuggled: {1, true},
		"GET / HTTP/1.0\r\nHost: a\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n":                                        {1, false},
		"garbage\r\n\r\n": {0, false},
	} {
		methods, both := oracle([]byte(raw))
		if len(methods) != want.n || both != want.both {
			t.Errorf("%q: %d requests (both lengths %v), want %d (%v)", raw, len(methods), both, want.n, want.both)
		}
	}
}
