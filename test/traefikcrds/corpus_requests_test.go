package traefikcrds

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"time"
)

// The requests of a case, sent by real clients to the gateway's entry points on loopback.
// Every host of a URL "resolves" to the gateway: the client dials the entry point of the
// URL's scheme (http: web, https: websecure) whatever the host, with the host as SNI and
// Host header, as a client would behind DNS pointing at the gateway.

// gatewayUnderTest is a running gateway: its entry points, and what it says about objects.
type gatewayUnderTest interface {
	// entryPoint returns the loopback address of a named entry point.
	entryPoint(name string) (string, bool)
	// entryPointNames lists the entry points, for messages.
	entryPointNames() []string
}

// requestTimeout bounds one request (the slowest backend path answers in 300 ms).
const requestTimeout = 10 * time.Second

// clients are the HTTP clients of one case run, one per scheme and client certificate, so
// that repeated requests reuse their connection as a real client would.
type clients struct {
	h       *harness
	gw      gatewayUnderTest
	byKey   map[string]*http.Client
	closers []func()
}

func newClients(h *harness, gw gatewayUnderTest) *clients {
	return &clients{h: h, gw: gw, byKey: map[string]*http.Client{}}
}

func (c *clients) close() {
	for _, f := range c.closers {
		f()
	}
}

func (c *clients) client(scheme, clientCert string) (*http.Client, error) {
	key := scheme + "/" + clientCert
	if cl, ok := c.byKey[key]; ok {
		return cl, nil
	}
	ep := map[string]string{"http": "web", "https": "websecure"}[scheme]
	if ep == "" {
		return nil, fmt.Errorf("scheme %q: the corpus sends http:// (entry point web) and https:// (websecure)", scheme)
	}
	addr, ok := c.gw.entryPoint(ep)
	if !ok {
		return nil, fmt.Errorf("the gateway has no entry point %s (it has %v)", ep, c.gw.entryPointNames())
	}
	tr := &http.Transport{
		DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, network, addr)
		},
		ForceAttemptHTTP2:     true,
		TLSClientConfig:       &tls.Config{RootCAs: c.h.pki.edgeCA.Pool(), MinVersion: tls.VersionTLS12},
		TLSHandshakeTimeout:   5 * time.Second,
		ResponseHeaderTimeout: requestTimeout,
	}
	// The certificate is sent whatever CAs the server names (as curl --cert does): Go's
	// client would otherwise keep back one the server's CA list does not cover, and "bad"
	// would test nothing.
	var cert *tls.Certificate
	switch clientCert {
	case "good":
		cert = &c.h.pki.goodClient.TLS
	case "bad":
		cert = &c.h.pki.badClient.TLS
	}
	if cert != nil {
		tr.TLSClientConfig.GetClientCertificate = func(*tls.CertificateRequestInfo) (*tls.Certificate, error) { return cert, nil }
	}
	c.closers = append(c.closers, tr.CloseIdleConnections)
	cl := &http.Client{
		Transport: tr, Timeout: requestTimeout,
		// A redirect is an answer to check, not to follow.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	c.byKey[key] = cl
	return cl, nil
}

// answer is what one HTTP request got.
type answer struct {
	status  int
	header  http.Header
	body    []byte
	backend *backendAnswer // the backend's JSON, when a backend answered with it
	err     error
}

// send sends the i-th request of a case (all its repeats) and checks every answer.
func (c *clients) send(i int, r caseRequest) error {
	switch {
	case r.TCP != nil:
		return c.tcp(*r.TCP)
	case r.UDP != nil:
		return c.udp(*r.UDP)
	}
	u, err := url.Parse(r.URL)
	if err != nil {
		return fmt.Errorf("url %q: %w", r.URL, err)
	}
	cl, err := c.client(u.Scheme, r.ClientCert)
	if err != nil {
		return err
	}
	n := max(r.Repeat, 1)
	for k := range n {
		a := do(cl, r)
		if err := r.Expect.check(a); err != nil {
			what := fmt.Sprintf("%s %s", method(r), r.URL)
			if r.ClientCert != "" && r.ClientCert != "none" {
				what += " (client certificate " + r.ClientCert + ")"
			}
			if n > 1 {
				what += fmt.Sprintf(" (answer %d of %d)", k+1, n)
			}
			return fmt.Errorf("%s: %w\n      got: %s", what, err, a)
		}
	}
	return nil
}

func method(r caseRequest) string {
	if r.Method == "" {
		return http.MethodGet
	}
	return r.Method
}

func do(cl *http.Client, r caseRequest) answer {
	ctx, cancel := context.WithTimeout(context.Background(), requestTimeout)
	defer cancel()
	var body io.Reader
	if r.Body != "" {
		body = strings.NewReader(r.Body)
	}
	req, err := http.NewRequestWithContext(ctx, method(r), r.URL, body)
	if err != nil {
		return answer{err: err}
	}
	for k, v := range r.Headers {
		if http.CanonicalHeaderKey(k) == "Host" {
			req.Host = v
			continue
		}
		req.Header.Set(k, v)
	}
	resp, err := cl.Do(req)
	if err != nil {
		return answer{err: err}
	}
	defer func() { _ = resp.Body.Close() }()
	a := answer{status: resp.StatusCode, header: resp.Header}
	a.body, a.err = io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if resp.Header.Get(answeredByHeader) != "" && strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		var b backendAnswer
		if json.Unmarshal(a.body, &b) == nil {
			a.backend = &b
		}
	}
	return a
}

func (a answer) String() string {
	if a.status == 0 {
		return fmt.Sprintf("no answer (%v)", a.err)
	}
	var hs []string
	for k, v := range a.header {
		if k != "Date" && k != "Content-Length" {
			hs = append(hs, k+": "+strings.Join(v, ", "))
		}
	}
	sort.Strings(hs)
	body := string(a.body)
	if len(body) > 400 {
		body = body[:400] + "..."
	}
	return fmt.Sprintf("%d, headers {%s}, body %q", a.status, strings.Join(hs, "; "), body)
}

func (e *httpExpect) check(a answer) error {
	want := *e.Status
	if want == 0 {
		if a.err == nil || a.status != 0 {
			return fmt.Errorf("want the TLS handshake or the connection to fail")
		}
		return nil
	}
	if a.err != nil {
		return fmt.Errorf("want status %d: %w", want, a.err)
	}
	if a.status != want {
		return fmt.Errorf("status %d, want %d", a.status, want)
	}
	if e.Backend != nil {
		got := a.header.Get(answeredByHeader)
		switch {
		case *e.Backend == "" && got != "":
			return fmt.Errorf("backend %s answered, want the gateway itself to answer", got)
		case *e.Backend != "" && got != *e.Backend:
			return fmt.Errorf("answered by %q, want backend %s", orGateway(got), *e.Backend)
		}
	}
	if e.BackendPath != nil || len(e.BackendHeaders) > 0 {
		if a.backend == nil {
			return fmt.Errorf("want the backend's JSON answer (backendPath, backendHeaders), got none")
		}
		if e.BackendPath != nil && a.backend.URI != *e.BackendPath {
			return fmt.Errorf("the backend saw %q, want %q", a.backend.URI, *e.BackendPath)
		}
		if err := headersMatch("the backend saw header", e.BackendHeaders, func(k string) (string, bool) {
			v, ok := a.backend.Headers[http.CanonicalHeaderKey(k)]
			return v, ok
		}); err != nil {
			return err
		}
	}
	if err := headersMatch("response header", e.Headers, func(k string) (string, bool) {
		v, ok := a.header[http.CanonicalHeaderKey(k)]
		return strings.Join(v, ", "), ok
	}); err != nil {
		return err
	}
	if e.BodyContains != "" && !bytes.Contains(a.body, []byte(e.BodyContains)) {
		return fmt.Errorf("the body does not contain %q", e.BodyContains)
	}
	return nil
}

func orGateway(s string) string {
	if s == "" {
		return "the gateway"
	}
	return s
}

// headersMatch checks want (value "" = must be absent) against a header lookup.
func headersMatch(what string, want map[string]string, get func(string) (string, bool)) error {
	keys := make([]string, 0, len(want))
	for k := range want {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		v, ok := get(k)
		switch w := want[k]; {
		case w == "" && ok:
			return fmt.Errorf("%s %s: %q, want it absent", what, k, v)
		case w != "" && !ok:
			return fmt.Errorf("%s %s is absent, want %q", what, k, w)
		case w != "" && v != w:
			return fmt.Errorf("%s %s: %q, want %q", what, k, v, w)
		}
	}
	return nil
}

// exchangeTimeout bounds one TCP or UDP exchange; nothingTimeout is how long "nothing comes
// back" is waited for.
const (
	exchangeTimeout = 5 * time.Second
	nothingTimeout  = time.Second
)

// tcp dials the entry point (with TLS and SNI when asked), sends, and reads until what came
// back contains expect.
func (c *clients) tcp(x streamExchange) error {
	addr, ok := c.gw.entryPoint(x.EntryPoint)
	if !ok {
		return fmt.Errorf("tcp: the gateway has no entry point %s (it has %v)", x.EntryPoint, c.gw.entryPointNames())
	}
	what := fmt.Sprintf("tcp to %s (sni %q, tls %t)", x.EntryPoint, x.SNI, x.TLS)
	limit := exchangeTimeout
	if x.Expect == "" {
		limit = nothingTimeout
	}
	conn, err := net.DialTimeout("tcp", addr, exchangeTimeout)
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	defer func() { _ = conn.Close() }()
	_ = conn.SetDeadline(time.Now().Add(limit))
	if x.TLS {
		tc := tls.Client(conn, c.streamTLS(x.SNI))
		if err := tc.Handshake(); err != nil {
			if x.Expect == "" {
				return nil // refused: nothing comes back
			}
			return fmt.Errorf("%s: TLS handshake: %w", what, err)
		}
		conn = tc
	}
	got, err := exchange(conn, x)
	return verdictOf(what, x.Expect, got, err)
}

// streamTLS trusts the edge CA for the SNI's name (the gateway terminates) and the backend
// CA for any name (passthrough: the backend presents its own certificate, for its Service).
func (c *clients) streamTLS(sni string) *tls.Config {
	edge, backend := c.h.pki.edgeCA.Pool(), c.h.pki.backendCA.Pool()
	return &tls.Config{
		ServerName: sni, MinVersion: tls.VersionTLS12,
		InsecureSkipVerify: true, //nolint:gosec // verified in VerifyConnection, against two roots
		VerifyConnection: func(cs tls.ConnectionState) error {
			if len(cs.PeerCertificates) == 0 {
				return errors.New("no certificate")
			}
			inter := x509.NewCertPool()
			for _, ic := range cs.PeerCertificates[1:] {
				inter.AddCert(ic)
			}
			leaf := cs.PeerCertificates[0]
			if _, err := leaf.Verify(x509.VerifyOptions{Roots: edge, Intermediates: inter, DNSName: sni}); err == nil {
				return nil
			}
			_, err := leaf.Verify(x509.VerifyOptions{Roots: backend, Intermediates: inter})
			return err
		},
	}
}

// exchange writes x.Send and reads until the answer contains x.Expect (or nothing more comes).
func exchange(conn net.Conn, x streamExchange) (string, error) {
	if _, err := io.WriteString(conn, x.Send); err != nil {
		return "", err
	}
	var got []byte
	buf := make([]byte, 32<<10)
	for {
		n, err := conn.Read(buf)
		got = append(got, buf[:n]...)
		if x.Expect != "" && bytes.Contains(got, []byte(x.Expect)) {
			return string(got), nil
		}
		if err != nil {
			return string(got), err
		}
	}
}

func verdictOf(what, expect, got string, err error) error {
	if expect == "" {
		if got != "" {
			return fmt.Errorf("%s: got %q, want nothing back", what, got)
		}
		return nil
	}
	if !strings.Contains(got, expect) {
		return fmt.Errorf("%s: got %q (%w), want an answer containing %q", what, got, err, expect)
	}
	return nil
}

// udp sends one datagram to the entry point and waits for the answer.
func (c *clients) udp(x streamExchange) error {
	addr, ok := c.gw.entryPoint(x.EntryPoint)
	if !ok {
		return fmt.Errorf("udp: the gateway has no entry point %s (it has %v): IngressRouteUDP is not served by this build", x.EntryPoint, c.gw.entryPointNames())
	}
	what := fmt.Sprintf("udp to %s", x.EntryPoint)
	conn, err := net.Dial("udp", addr)
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	defer func() { _ = conn.Close() }()
	limit := exchangeTimeout
	if x.Expect == "" {
		limit = nothingTimeout
	}
	_ = conn.SetDeadline(time.Now().Add(limit))
	if _, err := io.WriteString(conn, x.Send); err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	buf := make([]byte, 64<<10)
	n, err := conn.Read(buf)
	return verdictOf(what, x.Expect, string(buf[:n]), err)
}
