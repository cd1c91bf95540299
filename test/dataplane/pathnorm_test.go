package dataplane

import (
	"bytes"
	"crypto/tls"
	"io"
	"net/http"
	"strconv"
	"sync"
	"testing"
	"time"

	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	bhv1 "github.com/bridgehead/bridgehead/api/v1alpha1"
	"github.com/bridgehead/bridgehead/proxy"
	"github.com/bridgehead/bridgehead/proxy/pathnorm"
)

// pathScene is a host whose /admin is guarded by an allow list no test client is in, and
// whose other paths go to a public backend, on web (plain) and websecure (TLS, h2).
type pathScene struct {
	g     *gateway
	p     *testPKI
	mu    sync.Mutex
	admin []string // request targets the guarded backend saw: must stay empty
}

func startPathScene(t *testing.T, opts ...gatewayOption) *pathScene {
	t.Helper()
	sc := &pathScene{p: newPKI()}
	admin := startHandler(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sc.mu.Lock()
		sc.admin = append(sc.admin, r.RequestURI)
		sc.mu.Unlock()
		_, _ = io.WriteString(w, "admin backend")
	}))
	public := startHandler(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Seen-Target", r.RequestURI) // as the backend received it
		_, _ = io.WriteString(w, "public backend")
	}))
	guard := &bhv1.Middleware{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "office-only"},
		Spec: bhv1.MiddlewareSpec{IPAllowList: &bhv1.IPAllowList{SourceRange: []string{"192.0.2.0/24"}}}}
	objs := []client.Object{guard, tlsSecret("app-tls", sc.p.edge)}
	for _, tlsRoute := range []bool{false, true} {
		spec := func(name, match, svc string) routeSpec {
			r := routeSpec{name: name, match: "Host(`app.example.com`) && " + match, svc: svc, scheme: "http", entryPoints: []string{"web"}}
			if tlsRoute {
				r.name, r.secret, r.entryPoints = name+"-tls", "app-tls", nil
			}
			return r
		}
		adminRoute := spec("admin", "PathPrefix(`/admin`)", "admin")
		adminRoute.middlewares = []string{"office-only"}
		objs = append(objs, ingressRoute(adminRoute), ingressRoute(spec("public", "PathPrefix(`/`)", "public")))
	}
	objs = append(objs, service("admin", "http", addrOf(admin))...)
	objs = append(objs, service("public", "http", addrOf(public))...)
	sc.g = startGateway(t, objs, opts...)
	return sc
}

func (sc *pathScene) guardedSaw() []string {
	sc.mu.Lock()
	defer sc.mu.Unlock()
	return append([]string(nil), sc.admin...)
}

// pathCase is one request target and what must come of it: a status with its
// Bridgehead-Error reason, and for 200 the target the public backend received.
type pathCase struct {
	target string
	status int
	reason string
	seen   string
}

func (sc *pathScene) check(t *testing.T, send func(target string) (int, http.Header, string), cases []pathCase) {
	t.Helper()
	for _, c := range cases {
		code, h, body := send(c.target)
		if code != c.status || h.Get("Bridgehead-Error") != c.reason || h.Get("X-Seen-Target") != c.seen {
			t.Errorf("%q: %d %q (%q), public backend saw %q; want %d %q, public backend seeing %q",
				c.target, code, h.Get("Bridgehead-Error"), body, h.Get("X-Seen-Target"), c.status, c.reason, c.seen)
		}
	}
	if saw := sc.guardedSaw(); len(saw) > 0 {
		t.Errorf("the backend guarded by the allow list saw %q", saw)
	}
}

// Every spelling of /admin is routed as /admin (and stopped by its allow list); what
// servers read differently is refused; the public backend gets the path in normal form,
// with the query as the client sent it.
var defaultPathCases = []pathCase{
	{target: "//admin/x", status: 403},
	{target: "/public//..//admin/x", status: 403},
	{target: "/./admin/x", status: 403},
	{target: "/public/./../admin", status: 403},
	{target: "/%2e/admin/x", status: 403},
	{target: "/public/%2E%2e/admin", status: 403},
	{target: "/%61dmin/x", status: 403},
	{target: "/%2561dmin/x", status: 200, seen: "/%2561dmin/x"}, // %25 is a '%': not /admin
	{target: "/public%2F..%2Fadmin", status: 400, reason: "EncodedSlashInPath"},
	{target: "/admin%2fx", status: 400, reason: "EncodedSlashInPath"},
	{target: "/public/..;/admin", status: 400, reason: "ParametersInPath"},
	{target: "/admin;x/secret", status: 400, reason: "ParametersInPath"},
	{target: "/public/..%3B/admin", status: 400, reason: "ParametersInPath"},
	{target: `/public\..\admin`, status: 400, reason: "BackslashInPath"},
	{target: "/public/%5c../admin", status: 400, reason: "BackslashInPath"},
	{target: "/admin%00.css", status: 400, reason: "NullInPath"},
	{target: "http:admin", status: 400, reason: "InvalidRequestTarget"},
	{target: "//public//a/./b/../%7e%2D?q=//x/../y%2f", status: 200, seen: "/public/a/~-?q=//x/../y%2f"},
	{target: "/public/%c3%a9%3f%5b%20", status: 200, seen: "/public/%C3%A9%3F%5B%20"},
	{target: "/public/caf\xc3\xa9/a\"b", status: 200, seen: "/public/caf%C3%A9/a%22b"},
	{target: "/public/a%20b/.well-known/x", status: 200, seen: "/public/a%20b/.well-known/x"},
}

func TestPathsAreNormalizedBeforeRouting(t *testing.T) {
	sc := startPathScene(t)
	sc.check(t, func(target string) (int, http.Header, string) {
		return rawGet(t, sc.g.web, "app.example.com", target)
	}, defaultPathCases)
}

// HTTP/2 requests take the same path: :path as the client wrote it, sent with the framer
// (Go's client would clean //admin up, or refuse to send it).
func TestHTTP2PathsAreNormalizedBeforeRouting(t *testing.T) {
	sc := startPathScene(t)
	var cases []pathCase
	for _, c := range defaultPathCases {
		if c.target[0] == '/' { // :path is never "http:admin"
			cases = append(cases, c)
		}
	}
	sc.check(t, func(target string) (int, http.Header, string) {
		return h2Get(t, sc.g.secure, sc.p, "app.example.com", target)
	}, cases)
}

// The flags that allow encoded slashes, backslashes and parameters keep them as data: one
// spelling, never a separator, matched as part of their segment. A parameter on a dot or
// empty segment is refused still: Tomcat reads /public/..;/admin as /admin.
func TestAllowedPathCharactersStayData(t *testing.T) {
	sc := startPathScene(t, func(c *proxy.Config) {
		c.Path = pathnorm.Options{AllowEncodedSlash: true, AllowBackslash: true, AllowParameters: true}
	})
	sc.check(t, func(target string) (int, http.Header, string) {
		return rawGet(t, sc.g.web, "app.example.com", target)
	}, []pathCase{
		{target: "/public%2F..%2Fadmin", status: 200, seen: "/public%2F..%2Fadmin"},
		{target: "/public/..%2fadmin", status: 200, seen: "/public/..%2Fadmin"},
		{target: `/public\..\admin`, status: 200, seen: "/public%5C..%5Cadmin"},
		{target: "/public/%5c../admin", status: 200, seen: "/public/%5C../admin"}, // a name, not ".."
		{target: "/public;jsessionid=1/a//b", status: 200, seen: "/public;jsessionid=1/a/b"},
		{target: "/public/a%3bb", status: 200, seen: "/public/a%3Bb"},
		{target: "/admin;x/secret", status: 403},
		{target: "/public/..;/admin", status: 400, reason: "AmbiguousPathParameters"},
		{target: "/public/%2e%2e;x/admin", status: 400, reason: "AmbiguousPathParameters"},
		{target: "/;x/admin", status: 400, reason: "AmbiguousPathParameters"},
		{target: "/admin%00", status: 400, reason: "NullInPath"},
		{target: "//admin/x", status: 403},
	})
}

// h2Get sends one GET with :path exactly as given over TLS with ALPN h2, speaking the
// frames itself, and returns the status, headers and body of the answer.
func h2Get(t *testing.T, addr string, p *testPKI, host, path string) (int, http.Header, string) {
	t.Helper()
	conn, err := tls.Dial("tcp", addr, &tls.Config{ServerName: host, RootCAs: p.edgeCA.Pool(), NextProtos: []string{"h2"}})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = conn.Close() }()
	_ = conn.SetDeadline(time.Now().Add(5 * time.Second))
	if proto := conn.ConnectionState().NegotiatedProtocol; proto != "h2" {
		t.Fatalf("negotiated %q, want h2", proto)
	}
	if _, err := io.WriteString(conn, http2.ClientPreface); err != nil {
		t.Fatal(err)
	}
	fr := http2.NewFramer(conn, conn)
	fr.ReadMetaHeaders = hpack.NewDecoder(4096, nil)
	var block bytes.Buffer
	enc := hpack.NewEncoder(&block)
	for _, f := range [][2]string{{":method", "GET"}, {":scheme", "https"}, {":authority", host}, {":path", path}} {
		_ = enc.WriteField(hpack.HeaderField{Name: f[0], Value: f[1]})
	}
	if err := fr.WriteSettings(); err != nil {
		t.Fatal(err)
	}
	if err := fr.WriteHeaders(http2.HeadersFrameParam{StreamID: 1, BlockFragment: block.Bytes(), EndStream: true, EndHeaders: true}); err != nil {
		t.Fatal(err)
	}
	status, header := 0, http.Header{}
	var body bytes.Buffer
	for {
		f, err := fr.ReadFrame()
		if err != nil {
			t.Fatalf("%s: reading the answer: %v", path, err)
		}
		ended := false
		switch f := f.(type) {
		case *http2.SettingsFrame:
			if !f.IsAck() {
				_ = fr.WriteSettingsAck()
			}
		case *http2.MetaHeadersFrame:
			for _, hf := range f.Fields {
				if hf.Name == ":status" {
					status, _ = strconv.Atoi(hf.Value)
				} else {
					header.Add(hf.Name, hf.Value)
				}
			}
			ended = f.StreamEnded()
		case *http2.DataFrame:
			body.Write(f.Data())
			ended = f.StreamEnded()
		case *http2.RSTStreamFrame:
			t.Fatalf("%s: stream reset: %v", path, f.ErrCode)
		case *http2.GoAwayFrame:
			t.Fatalf("%s: GOAWAY: %v", path, f.ErrCode)
		}
		if ended {
			return status, header, body.String()
		}
	}
}
