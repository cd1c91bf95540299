package upstream

import (
	"context"
	"crypto/tls"
	"errors"
	"net"
	"net/http"
	"net/http/httptrace"
	"net/textproto"
	"strings"
	"time"

	"github.com/bridgehead/bridgehead/internal/snapshot"
)

// Defaults where the ServersTransport leaves a field zero. They follow Traefik's, so
// migrated manifests behave the same.
const (
	defaultMaxIdleConnsPerHost = 200
	defaultDialTimeout         = 30 * time.Second
	defaultIdleConnTimeout     = 90 * time.Second
	tlsHandshakeTimeout        = 10 * time.Second
)

// upstream is the round tripper for one (transport, backend identity): an http.Transport
// plus what its errors must carry.
type upstream struct {
	tr *http.Transport
	// h1 carries bodyless requests with safe methods to HTTP/1.1 backends (h1.go); nil
	// for h2c, or when the connection cap is too small to share with tr.
	h1 *h1Pool
	// urlScheme is the only request scheme accepted: a request for an https backend that
	// arrives as http:// must fail, never go out in clear text.
	urlScheme     string
	scheme        string
	dial          func(ctx context.Context, network, addr string) (net.Conn, error)
	tlsConfig     *tls.Config
	clientCert    *tls.Certificate
	names         []string
	roots         []string
	hasClientCert bool
	hints         hints
	gate          *dialGate         // HTTP/2 over TLS only
	handshakes    *handshakeLimiter // nil: unlimited
	// headerTimeout is the transport's ResponseHeaderTimeout, for the error message.
	headerTimeout time.Duration
	// verifyHint is added to certificate verification failures (snapshot.Transport.VerifyHint).
	verifyHint string
}

// handshakeKey carries the per-handshake state through the handshake context, so that
// GetClientCertificate (shared by every connection) can record what happened on this one.
type handshakeKey struct{}

type handshake struct{ certRequested bool }

// build makes the round tripper for t and b. It never fails: what cannot be built
// becomes a round tripper that fails every request with a named reason.
func (p *Pool) build(t *snapshot.Transport, b *snapshot.Backend) http.RoundTripper {
	if t != nil && t.Failure != nil {
		return &failing{reason: Reason(t.Failure.Reason), message: t.Failure.Message}
	}
	scheme := b.Scheme
	if scheme == "" {
		scheme = "http"
	}
	if scheme != "http" && scheme != "https" && scheme != "h2c" {
		return &failing{reason: Unknown, message: "unsupported backend scheme " + scheme + "; use http, https or h2c"}
	}

	u := &upstream{scheme: scheme, urlScheme: "http"}
	if scheme == "https" {
		u.urlScheme = "https"
	}
	st := t
	if st == nil {
		st = &snapshot.Transport{}
	}
	dialTimeout := orDefault(st.DialTimeout, defaultDialTimeout)
	dial := p.opts.DialContext
	if dial == nil {
		d := &net.Dialer{Timeout: dialTimeout, KeepAlive: 30 * time.Second}
		dial = d.DialContext
	}
	u.dial = func(ctx context.Context, network, addr string) (net.Conn, error) {
		ctx, cancel := context.WithTimeout(ctx, dialTimeout)
		defer cancel()
		c, err := dial(ctx, network, addr)
		if err != nil {
			return nil, u.wrap(addr, err)
		}
		return c, nil
	}

	lim := p.opts.Limits
	lim.Defaults()
	u.headerTimeout = orDefault(st.ResponseHeaderTimeout, max(lim.ResponseHeaderTimeout, 0))
	// The fast path (h1.go) holds half of the connection cap and the transport the rest.
	connCap := max(lim.MaxConnsPerHost, 0)
	h1Cap := connCap / 2
	useH1 := scheme != "h2c" && (connCap == 0 || h1Cap > 0)
	if !useH1 {
		h1Cap = 0
	}
	tr := &http.Transport{
		// Proxy stays nil: HTTP_PROXY must never redirect traffic meant for a pod.
		DialContext:           u.dial,
		MaxIdleConnsPerHost:   st.MaxIdleConnsPerHost,
		MaxConnsPerHost:       connCap - h1Cap,
		IdleConnTimeout:       orDefault(st.IdleConnTimeout, defaultIdleConnTimeout),
		ResponseHeaderTimeout: u.headerTimeout,
		TLSHandshakeTimeout:   tlsHandshakeTimeout,
		ExpectContinueTimeout: time.Second,
		// A proxy forwards bodies as they are; transparent gzip would rewrite them.
		DisableCompression: true,
	}
	if tr.MaxIdleConnsPerHost == 0 {
		tr.MaxIdleConnsPerHost = defaultMaxIdleConnsPerHost
	}
	protocols := new(http.Protocols)
	switch scheme {
	case "http":
		protocols.SetHTTP1(true)
	case "h2c":
		protocols.SetUnencryptedHTTP2(true)
		tr.DialContext = u.dialH2C
	case "https":
		protocols.SetHTTP1(true)
		protocols.SetHTTP2(!st.DisableHTTP2)
		u.setupTLS(p.opts.ClientKey, t, b)
		rate := lim.HandshakesPerSecond
		if useH1 {
			// Split like the connection cap (see h1Pool), so that neither pool's dials
			// starve the other's.
			rate /= 2
		}
		u.handshakes = newHandshakeLimiter(rate, tr.MaxConnsPerHost)
		if protocols.HTTP2() {
			u.gate = &dialGate{grace: p.opts.coalesceGrace}
		}
		// We handshake ourselves so that errors carry the endpoint and what the backend
		// asked for; http.Transport still reads ALPN from the *tls.Conn we return.
		tr.DialTLSContext = u.dialTLS
	}
	tr.Protocols = protocols
	if protocols.HTTP2() || protocols.UnencryptedHTTP2() {
		// The standard library's equivalents of x/net/http2's ReadIdleTimeout and
		// PingTimeout: a dead backend connection is found by ping, not by the next request.
		tr.HTTP2 = &http.HTTP2Config{SendPingTimeout: st.ReadIdleTimeout, PingTimeout: st.PingTimeout}
	}
	u.tr = tr
	if useH1 {
		u.h1 = newH1Pool(u, h1Cap, tr.MaxIdleConnsPerHost, tr.IdleConnTimeout)
		if u.handshakes != nil {
			u.h1.handshakes = newHandshakeLimiter(lim.HandshakesPerSecond-u.handshakes.rate, h1Cap)
		}
	}
	return u
}

func (u *upstream) setupTLS(clientKey func(tls.Certificate) tls.Certificate, t *snapshot.Transport, b *snapshot.Backend) {
	serverName := b.ServerName
	if serverName == "" && t != nil {
		serverName = t.ServerName
	}
	u.names = b.VerifyNames
	if len(u.names) == 0 && serverName != "" {
		u.names = []string{serverName}
	}
	cfg := &tls.Config{
		ServerName: serverName,
		// Verification happens in VerifyConnection, against any of the accepted names;
		// crypto/tls's own check knows only ServerName.
		InsecureSkipVerify:   true,
		MinVersion:           tls.VersionTLS12,
		ClientSessionCache:   tls.NewLRUClientSessionCache(0),
		GetClientCertificate: u.getClientCertificate,
		NextProtos:           []string{"http/1.1"},
	}
	if t == nil || !t.DisableHTTP2 {
		cfg.NextProtos = []string{"h2", "http/1.1"}
	}
	v := newVerifier(t, b.VerifyNames)
	u.roots = v.rootNames
	if t != nil {
		u.verifyHint = t.VerifyHint
		if t.MinVersion != 0 {
			cfg.MinVersion = t.MinVersion
		}
		cfg.MaxVersion = t.MaxVersion
		cfg.CipherSuites = t.CipherSuites
		for _, c := range t.ClientCertificates {
			if c != nil && c.Cert != nil {
				u.clientCert, u.hasClientCert = c.Cert, true
				if clientKey != nil {
					prepared := clientKey(*c.Cert)
					u.clientCert = &prepared
				}
				break
			}
		}
		if t.InsecureSkipVerify {
			// insecureSkipVerify means exactly that; translate raises a warning condition.
			u.roots = nil
			u.tlsConfig = cfg
			return
		}
	}
	cfg.VerifyConnection = v.verify
	u.tlsConfig = cfg
}

// getClientCertificate sends our certificate whenever the backend asks, whatever CAs it
// lists: a backend that rejects it then says so, which is clearer than sending nothing.
func (u *upstream) getClientCertificate(cri *tls.CertificateRequestInfo) (*tls.Certificate, error) {
	if hs, ok := cri.Context().Value(handshakeKey{}).(*handshake); ok {
		hs.certRequested = true
	}
	if u.clientCert != nil {
		return u.clientCert, nil
	}
	return &tls.Certificate{}, nil
}

// dialTLS dials through the gate when HTTP/2 is on (see dialGate).
func (u *upstream) dialTLS(ctx context.Context, network, addr string) (net.Conn, error) {
	var conn *tls.Conn
	if u.gate == nil {
		c, err := u.dialTLSNow(ctx, network, addr)
		if err != nil {
			return nil, err // not a typed nil in the interface
		}
		return c, nil
	}
	err := u.gate.dial(ctx, addr, func() (bool, error) {
		c, err := u.dialTLSNow(ctx, network, addr)
		if err != nil {
			return false, err
		}
		conn = c
		return c.ConnectionState().NegotiatedProtocol == "h2", nil
	})
	if err != nil {
		return nil, err
	}
	return conn, nil
}

func (u *upstream) dialTLSNow(ctx context.Context, network, addr string) (*tls.Conn, error) {
	if err := u.handshakes.wait(ctx, addr); err != nil {
		return nil, u.wrap(addr, err)
	}
	return u.handshakeTLS(ctx, network, addr, true)
}

// handshakeTLS dials addr and makes the TLS handshake, once a handshake token is had.
// With batchH2, a connection that negotiates HTTP/2 has its writes batched (batchedConn):
// the transport's connections, not the fast path's, which write one request at a time.
func (u *upstream) handshakeTLS(ctx context.Context, network, addr string, batchH2 bool) (*tls.Conn, error) {
	raw, err := u.dial(ctx, network, addr)
	if err != nil {
		return nil, err
	}
	var batched *batchedConn
	if batchH2 {
		batched = newBatchedConn(raw)
		raw = batched
	}
	cfg := u.tlsConfig
	if cfg.ServerName == "" {
		// No name configured: send the host we dial, as http.Transport would.
		host, _, splitErr := net.SplitHostPort(addr)
		if splitErr != nil {
			host = addr
		}
		cfg = cfg.Clone()
		cfg.ServerName = host
	}
	hs := &handshake{}
	hctx, cancel := context.WithTimeout(context.WithValue(ctx, handshakeKey{}, hs), tlsHandshakeTimeout)
	defer cancel()
	conn := tls.Client(raw, cfg)
	if err := conn.HandshakeContext(hctx); err != nil {
		_ = raw.Close()
		e := u.wrap(addr, err)
		e.certRequested = hs.certRequested
		return nil, e
	}
	cs := conn.ConnectionState()
	u.noteHandshake(addr, cs.Version, hs.certRequested)
	u.h1.noteProtocol(cs.NegotiatedProtocol)
	if batched != nil && cs.NegotiatedProtocol == "h2" {
		batched.batch()
	}
	return conn, nil
}

// dialH2C dials a backend spoken to in HTTP/2 without TLS (prior knowledge). Its writes
// are batched from the first (batchedConn), as those of a TLS connection that negotiated
// h2: the connection carries concurrent streams from the start.
func (u *upstream) dialH2C(ctx context.Context, network, addr string) (net.Conn, error) {
	c, err := u.dial(ctx, network, addr)
	if err != nil {
		return nil, err
	}
	batched := newBatchedConn(c)
	batched.batch()
	return &sniffConn{Conn: batched, onTLS: func() {
		u.hints.set(addr, hint{reason: BackendExpectsTLS, at: time.Now(),
			message: "the backend at " + addr + " answered our HTTP/2 cleartext (h2c) preface in TLS; set scheme https for this service port"})
	}}, nil
}

// wrap attaches the endpoint and our trust to a dial or handshake error. A verification
// error keeps its own detail (it knows the certificate; we add where we dialled): it was
// made for this handshake alone, so filling it in is safe.
func (u *upstream) wrap(endpoint string, err error) *Error {
	var ve *Error
	if errors.As(err, &ve) {
		if ve.Detail.Endpoint == "" {
			ve.Detail.Endpoint = endpoint
		}
		ve.scheme, ve.hasClientCert = u.scheme, u.hasClientCert
		switch ve.Reason {
		case UnknownAuthority, NameMismatch, CertificateExpired:
			if u.verifyHint != "" && !strings.Contains(ve.Detail.Message, u.verifyHint) {
				if ve.Detail.Message == "" {
					ve.Detail.Message = explain(ve.Reason, ve.Detail, ve, ve.Err)
				}
				ve.Detail.Message += "; " + u.verifyHint
			}
		}
		return ve
	}
	return &Error{
		Detail: Detail{Endpoint: endpoint, NamesChecked: u.names, Roots: u.roots},
		Err:    err, scheme: u.scheme, hasClientCert: u.hasClientCert,
	}
}

// RoundTrip forwards req and names any failure: the returned error is always an *Error.
// A 400 answer that is really a protocol mismatch (see CheckResponse) becomes an error too.
func (u *upstream) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.URL.Scheme != u.urlScheme {
		closeBody(req)
		return nil, &Error{Reason: Unknown, Detail: Detail{Endpoint: req.URL.Host,
			Message: "request URL scheme " + req.URL.Scheme + " does not match the backend's transport (" + u.urlScheme + "); this is a bug in the proxy"}}
	}
	var (
		resp        *http.Response
		err         error
		taken       bool
		toTransport *http.Request // req as the transport gets it (see watched)
	)
	if u.h1.takes(req) {
		resp, taken, err = u.h1.roundTrip(req, nil, nil)
	} else if u.h1.undecided(req) {
		// A cold start: the first handshake's ALPN decides the path, and it is made by
		// the transport for the first such request. The others wait for it rather than
		// each dialling a transport connection that the fast path would dial again for
		// the load that follows. Their gate waiter is taken before the wait, while the
		// gate is still cold, so that they share the new connection if it is HTTP/2.
		toTransport = u.watched(req)
		if learnt := u.h1.learn(req.Context()); learnt != nil {
			defer learnt()
		} else if u.h1.takes(req) {
			resp, taken, err = u.h1.roundTrip(req, nil, nil)
		}
	}
	if !taken {
		if toTransport == nil {
			toTransport = u.watched(req)
		}
		resp, err = u.tr.RoundTrip(toTransport)
	}
	return u.finish(req, resp, err)
}

// Informational receives a 1xx response that arrives before the answer (103 Early
// Hints): the proxy forwards it to the client.
type Informational func(code int, header http.Header) error

// Direct is implemented by the round trippers that can carry a request without
// httputil.ReverseProxy (upstream's): a bodyless request with a safe method, on the
// HTTP/1.1 fast path or, to a backend that speaks HTTP/2, through the transport.
type Direct interface {
	// TakesDirect reports whether RoundTripDirect would carry a request like req now: the
	// inbound request, which goes out without a body when its ContentLength is 0 (as
	// ReverseProxy sends it; an HTTP/2 request's Body is never nil).
	TakesDirect(req *http.Request) bool
	// RoundTripDirect carries req, handing 1xx responses to informational: in the calling
	// goroutine on the fast path; over HTTP/2 in the connection's read loop while
	// RoundTripDirect waits for the answer (as ReverseProxy's client trace is called).
	// taken is false when there was no connection to give: nothing was sent, and req may
	// go through RoundTrip instead. Errors are named as RoundTrip's are.
	//
	// into, when not nil, is an empty header map that the final response's fields may
	// be parsed into (resp.Header is then into; else into stays empty): the client's
	// response header, so that the fields need not be copied there one by one.
	//
	// The answer's ProtoMajor says how long req is read: after an HTTP/1.1 answer, not
	// once its head is in; after an HTTP/2 one, until its body is closed (the stream's
	// own goroutine holds req until the stream ends), and after an error, for as long
	// as that goroutine runs.
	RoundTripDirect(req *http.Request, informational Informational, into http.Header) (resp *http.Response, taken bool, err error)
}

// TakesDirect implements Direct.
func (u *upstream) TakesDirect(req *http.Request) bool {
	if req.ContentLength != 0 || len(req.TransferEncoding) != 0 {
		return false
	}
	return u.h1.takesKind(req) || (u.speaksH2() && safeWithoutUpgrade(req))
}

// speaksH2 reports whether the backend's requests go out in HTTP/2: h2c, or https once
// a handshake negotiated h2.
func (u *upstream) speaksH2() bool {
	return u.scheme == "h2c" || u.h1.speaksH2()
}

// RoundTripDirect implements Direct.
func (u *upstream) RoundTripDirect(req *http.Request, informational Informational, into http.Header) (*http.Response, bool, error) {
	if req.URL.Scheme != u.urlScheme {
		return nil, false, nil
	}
	if u.speaksH2() && carries(req) {
		resp, err := u.roundTripH2(req, informational)
		return resp, true, err
	}
	if !u.h1.takes(req) {
		return nil, false, nil
	}
	resp, taken, err := u.h1.roundTrip(req, informational, into)
	if !taken {
		return nil, false, nil
	}
	resp, err = u.finish(req, resp, err)
	if err != nil {
		clear(into) // an answer parsed into it that finish turned into an error
	}
	return resp, true, err
}

// roundTripH2 sends a bodyless request to a backend that speaks HTTP/2 through the
// transport, which multiplexes it on a shared connection, and hands the 1xx responses
// to informational through a client trace, as ReverseProxy does.
func (u *upstream) roundTripH2(req *http.Request, informational Informational) (*http.Response, error) {
	if informational != nil {
		trace := &httptrace.ClientTrace{Got1xxResponse: func(code int, h textproto.MIMEHeader) error {
			return informational(code, http.Header(h))
		}}
		req = req.WithContext(httptrace.WithClientTrace(req.Context(), trace))
	}
	resp, err := u.tr.RoundTrip(u.watched(req))
	return u.finish(req, resp, err)
}

// finish names a round trip's failure (the returned error is always an *Error), and
// turns a 400 answer that is really a protocol mismatch into one.
func (u *upstream) finish(req *http.Request, resp *http.Response, err error) (*http.Response, error) {
	if err != nil {
		var de *Error
		if errors.As(err, &de) {
			// A dial or handshake error already says where and why; the same value may
			// reach several waiting requests, so it is not touched again.
			return nil, err
		}
		e := u.wrap(req.URL.Host, err)
		switch cause(err, e) {
		case ConnectionReset:
			if h, ok := u.hints.get(req.URL.Host); ok {
				e.Reason, e.Detail.Message = h.reason, h.message
			}
		case Timeout:
			if strings.Contains(err.Error(), "timeout awaiting response headers") {
				e.Reason = Timeout
				e.Detail.Message = "the backend at " + req.URL.Host + " sent no response header within " + u.headerTimeout.String() +
					" of getting the request (responseHeaderTimeout); check the backend, or raise forwardingTimeouts.responseHeaderTimeout on its ServersTransport"
			}
		}
		return nil, e
	}
	u.hints.clear(req.URL.Host)
	if resp.StatusCode == http.StatusBadRequest {
		if err := CheckResponse(resp); err != nil {
			_ = resp.Body.Close()
			return nil, err
		}
	}
	return resp, nil
}

// watched is req with the dial gate's waiter where there is a gate (see dialGate.watch).
func (u *upstream) watched(req *http.Request) *http.Request {
	if u.gate == nil {
		return req
	}
	return u.gate.watch(req)
}

// CloseIdleConnections closes the transport's idle connections (http.Client and
// httputil look for this method).
func (u *upstream) CloseIdleConnections() {
	u.tr.CloseIdleConnections()
	u.h1.closeIdle()
}

// failing answers every request with the same named failure, without dialling: a
// ServersTransport that cannot be built must not fall back to weaker verification.
type failing struct {
	reason  Reason
	message string
}

func (f *failing) RoundTrip(req *http.Request) (*http.Response, error) {
	closeBody(req)
	return nil, &Error{Reason: f.reason, status: http.StatusBadGateway,
		Detail: Detail{Endpoint: req.URL.Host, Message: f.message}}
}

// closeBody honours the RoundTripper contract on paths that do not send the request.
func closeBody(req *http.Request) {
	if req.Body != nil {
		_ = req.Body.Close()
	}
}

func orDefault(d, def time.Duration) time.Duration {
	if d > 0 {
		return d
	}
	return def
}
