package middleware

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync/atomic"
	"time"

	"github.com/bridgehead/bridgehead/internal/snapshot"
	"github.com/bridgehead/bridgehead/proxy/upstream"
)

// Upstreams hands out the verified round tripper of a backend: upstream.Pool.
type Upstreams interface {
	For(t *snapshot.Transport, b *snapshot.Backend) http.RoundTripper
}

// Env is what the middlewares that call out (forwardAuth) need from the proxy.
type Env struct {
	// Upstreams gives forwardAuth its round tripper to the auth server, built by the
	// code that connects to backends (the same verification, the same named failures).
	// Nil: each forwardAuth gets a pool of its own.
	Upstreams Upstreams
	// Transports are the snapshot's transports by ID.
	Transports map[string]*snapshot.Transport
	// Fail answers a failure with its status and short reason (the proxy's fail, which
	// sends Bridgehead-Error unless turned off). Nil: the header is always sent.
	Fail func(w http.ResponseWriter, status int, reason string)
	// Log, when set, gets a line for each auth request that fails.
	Log *slog.Logger
	// Backends forwards to the Service of an errors page on the route's behalf. Nil:
	// errors pages answer the original status without a page.
	Backends Backends
}

// backends is env's Backends, nil for a nil Env.
func (env *Env) backends() Backends {
	if env == nil {
		return nil
	}
	return env.Backends
}

// forwardAuthTimeout bounds one auth request, as Traefik's client does.
const forwardAuthTimeout = 30 * time.Second

// hopHeaders are never sent to the auth server nor copied from its answer.
var hopHeaders = []string{"Connection", "Keep-Alive", "Te", "Trailers", "Transfer-Encoding", "Upgrade"}

// xHeaders are the X-Forwarded-* (and X-Real-Ip) headers trustForwardHeader decides on.
var xHeaders = []string{
	"X-Forwarded-Proto", "X-Forwarded-For", "X-Forwarded-Host", "X-Forwarded-Port", "X-Forwarded-Server",
	"X-Forwarded-Uri", "X-Forwarded-Method", "X-Forwarded-Prefix", "X-Forwarded-Tls-Client-Cert",
	"X-Forwarded-Tls-Client-Cert-Info", "X-Real-Ip",
}

var errTooLarge = errors.New("body too large")

type forwardAuth struct {
	c    *snapshot.ForwardAuth
	next http.Handler
	env  *Env

	// address is c.Address parsed; requests go to one of endpoints with its path and query.
	address   *url.URL
	endpoints []string
	rr        atomic.Uint32
	rt        http.RoundTripper
	// failure, when set, is answered to every request (no endpoints, a broken setup).
	failure *snapshot.Failure

	requestHeaders []string
	regex          *regexp.Regexp
	cookies        map[string]bool
}

func newForwardAuth(env *Env, m *snapshot.Middleware, next http.Handler) http.Handler {
	c := m.ForwardAuth
	fa := &forwardAuth{c: c, next: next, env: &Env{}}
	if env != nil {
		e := *env // the caller's Env is shared by every middleware it builds: never written
		fa.env = &e
	}
	if fa.env.Upstreams == nil {
		fa.env.Upstreams = upstream.NewPool(upstream.Options{})
	}
	broken := func(msg string) http.Handler {
		fa.failure = &snapshot.Failure{Reason: string(upstream.Unknown), Status: http.StatusInternalServerError, Message: msg}
		return fa
	}
	u, err := url.Parse(c.Address)
	if err != nil || c.Server == nil {
		// translate checked both; a version skew must not let requests through.
		return broken(fmt.Sprintf("forwardAuth %s: address %q does not parse", m.Source, c.Address))
	}
	fa.address, fa.failure = u, c.Server.Failure
	if c.AuthResponseHeadersRegex != "" {
		if fa.regex, err = regexp.Compile(c.AuthResponseHeadersRegex); err != nil {
			return broken(fmt.Sprintf("forwardAuth %s: authResponseHeadersRegex does not compile", m.Source))
		}
	}
	fa.requestHeaders = c.AuthRequestHeaders
	if c.TrustForwardHeader != nil && *c.TrustForwardHeader && len(fa.requestHeaders) > 0 {
		// Trusted X-Forwarded-* headers reach the auth server even through the filter.
		fa.requestHeaders = append(append([]string(nil), fa.requestHeaders...), xHeaders...)
	}
	fa.cookies = map[string]bool{}
	for _, n := range c.AddAuthCookiesToResponse {
		fa.cookies[n] = true
	}
	for _, ep := range c.Server.Endpoints {
		fa.endpoints = append(fa.endpoints, ep.Address)
	}
	if fa.failure != nil {
		return fa
	}
	if len(fa.endpoints) == 0 {
		fa.failure = &snapshot.Failure{Reason: string(upstream.NoEndpoints), Status: http.StatusServiceUnavailable, Message: "no endpoints"}
		return fa
	}
	var tr *snapshot.Transport
	if id := c.Server.Transport; id != "" {
		if tr = fa.env.Transports[id]; tr == nil {
			return broken(fmt.Sprintf("forwardAuth %s: transport %s is not in the snapshot", m.Source, id))
		}
	}
	fa.rt = fa.env.Upstreams.For(tr, c.Server)
	return fa
}

func (fa *forwardAuth) fail(w http.ResponseWriter, status int, reason string) {
	if fa.env.Fail != nil {
		fa.env.Fail(w, status, reason)
		return
	}
	w.Header().Set("Bridgehead-Error", reason)
	writeText(w, status, []byte(fmt.Sprintf("%d %s (%s)\n", status, http.StatusText(status), reason)))
}

func (fa *forwardAuth) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	if fa.failure != nil {
		fa.fail(w, fa.failure.Status, fa.failure.Header())
		return
	}
	method := http.MethodGet
	if fa.c.PreserveRequestMethod {
		method = req.Method
	}
	target := *fa.address
	target.Host = fa.endpoints[int(fa.rr.Add(1)-1)%len(fa.endpoints)]
	target.User, target.Fragment = nil, ""

	var body []byte
	// A CONNECT body of unknown length is tunnel data, never sent to the auth server.
	if fa.c.ForwardBody && (req.Method != http.MethodConnect || req.ContentLength >= 0) {
		b, err := readLimited(req.Body, fa.c.MaxBodySize)
		switch {
		case errors.Is(err, errTooLarge):
			w.WriteHeader(http.StatusUnauthorized)
			return
		case err != nil:
			fa.fail(w, http.StatusInternalServerError, string(upstream.Unknown))
			return
		}
		if b != nil {
			body = b
			req.Body = io.NopCloser(bytes.NewReader(b))
		}
	}

	ctx, cancel := context.WithTimeout(req.Context(), forwardAuthTimeout)
	defer cancel()
	var rb io.Reader
	if body != nil {
		rb = bytes.NewReader(body)
	}
	out, err := http.NewRequestWithContext(ctx, method, target.String(), rb)
	if err != nil {
		fa.fail(w, http.StatusInternalServerError, string(upstream.Unknown))
		return
	}
	out.Host = fa.address.Host
	if fa.c.TrustForwardHeader != nil {
		writeAuthHeaders(req, out, *fa.c.TrustForwardHeader, fa.requestHeaders)
	} else {
		writeAuthHeadersLegacy(req, out, fa.requestHeaders)
	}
	if u := fa.address.User; u != nil && out.Header.Get("Authorization") == "" {
		pw, _ := u.Password()
		out.SetBasicAuth(u.Username(), pw)
	}

	resp, err := fa.rt.RoundTrip(out)
	if err != nil {
		reason, _, detail := upstream.Classify(err)
		if reason == upstream.ClientCanceled {
			w.WriteHeader(upstream.StatusClientClosedRequest)
			return
		}
		if fa.env.Log != nil {
			fa.env.Log.Warn("forwardAuth request failed", "address", fa.c.Address, "endpoint", detail.Endpoint,
				"reason", string(reason), "detail", detail.Message, "presentedSubject", detail.Subject,
				"presentedIssuer", detail.Issuer, "namesChecked", detail.NamesChecked, "roots", detail.Roots)
		}
		fa.fail(w, http.StatusInternalServerError, string(reason))
		return
	}
	defer func() { _ = resp.Body.Close() }()
	respBody, err := readLimited(resp.Body, fa.c.MaxResponseBodySize)
	switch {
	case errors.Is(err, errTooLarge):
		w.WriteHeader(http.StatusUnauthorized)
		return
	case err != nil:
		reason, _, _ := upstream.Classify(err)
		fa.fail(w, http.StatusInternalServerError, string(reason))
		return
	}

	if fa.c.AuthSigninURL != "" && resp.StatusCode == http.StatusUnauthorized {
		http.Redirect(w, req, fa.c.AuthSigninURL, http.StatusFound)
		return
	}
	if resp.StatusCode < 200 || resp.StatusCode >= 300 {
		fa.deny(w, resp, respBody)
		return
	}
	for _, k := range fa.c.AuthResponseHeaders {
		delete(req.Header, k)
		if vs := resp.Header[k]; len(vs) > 0 {
			req.Header[k] = append([]string(nil), vs...)
		}
	}
	if fa.regex != nil {
		for k := range req.Header {
			if fa.regex.MatchString(k) {
				delete(req.Header, k)
			}
		}
		for k, vs := range resp.Header {
			if fa.regex.MatchString(k) {
				req.Header[k] = append([]string(nil), vs...)
			}
		}
	}
	req.RequestURI = req.URL.RequestURI()
	authCookies := resp.Cookies()
	if len(authCookies) == 0 {
		fa.next.ServeHTTP(w, req)
		return
	}
	cw := &headerWriter{ResponseWriter: w, after: func(h http.Header) { fa.mergeCookies(h, authCookies) }}
	fa.next.ServeHTTP(cw, req)
	if !cw.sent {
		cw.apply()
	}
}

// deny returns the auth server's answer: its status, headers (hop-by-hop ones aside) and
// body. A relative Location is made absolute against the address, not the endpoint dialled.
func (fa *forwardAuth) deny(w http.ResponseWriter, resp *http.Response, body []byte) {
	h := w.Header()
	for k, vs := range resp.Header {
		for _, v := range vs {
			h.Add(k, v)
		}
	}
	for _, k := range hopHeaders {
		h.Del(k)
	}
	if loc := resp.Header.Get("Location"); loc != "" && !fa.c.PreserveLocationHeader {
		u, err := url.Parse(loc)
		if err != nil {
			fa.fail(w, http.StatusInternalServerError, string(upstream.Unknown))
			return
		}
		h.Set("Location", fa.address.ResolveReference(u).String())
	}
	w.WriteHeader(resp.StatusCode)
	_, _ = w.Write(body) // the client went away: nothing left to tell it
}

// mergeCookies replaces the backend's cookies named in addAuthCookiesToResponse with the
// auth server's.
func (fa *forwardAuth) mergeCookies(h http.Header, authCookies []*http.Cookie) {
	backend := (&http.Response{Header: h}).Cookies()
	h.Del("Set-Cookie")
	for _, c := range backend {
		if !fa.cookies[c.Name] {
			h.Add("Set-Cookie", c.String())
		}
	}
	for _, c := range authCookies {
		if fa.cookies[c.Name] {
			h.Add("Set-Cookie", c.String())
		}
	}
}

// readLimited reads r whole; with limit >= 0, more than limit bytes is errTooLarge.
// An empty body reads as nil.
func readLimited(r io.Reader, limit int64) ([]byte, error) {
	if r == nil || r == http.NoBody {
		return nil, nil
	}
	if limit >= 0 {
		r = io.LimitReader(r, limit+1)
	}
	b, err := io.ReadAll(r)
	if err != nil {
		return nil, err
	}
	if limit >= 0 && int64(len(b)) > limit {
		return nil, errTooLarge
	}
	if len(b) == 0 {
		return nil, nil
	}
	return b, nil
}

// copyRequestHeaders starts the auth request's headers from the client's, without
// hop-by-hop headers nor those the client's Connection header names.
func copyRequestHeaders(req, out *http.Request) {
	out.Header = req.Header.Clone()
	if out.Header == nil {
		out.Header = http.Header{}
	}
	for _, v := range out.Header["Connection"] {
		for _, name := range strings.Split(v, ",") {
			if name = strings.TrimSpace(name); name != "" {
				out.Header.Del(name)
			}
		}
	}
	for _, k := range hopHeaders {
		out.Header.Del(k)
	}
}

// onlyHeaders keeps the listed headers (authRequestHeaders); none listed keeps all.
func onlyHeaders(h http.Header, allowed []string) http.Header {
	if len(allowed) == 0 {
		return h
	}
	kept := http.Header{}
	for _, k := range allowed {
		if vs := h.Values(k); len(vs) > 0 {
			kept[http.CanonicalHeaderKey(k)] = vs
		}
	}
	return kept
}

func clientIP(req *http.Request) string {
	ip, _, err := net.SplitHostPort(req.RemoteAddr)
	if err != nil {
		return ""
	}
	return ip
}

func proto(req *http.Request) string {
	if req.TLS != nil {
		return "https"
	}
	return "http"
}

// writeAuthHeaders is trustForwardHeader true or false: the request's X-Forwarded-*
// headers are kept (true) or removed (false), then what is missing is set from the request.
func writeAuthHeaders(req, out *http.Request, trust bool, allowed []string) {
	copyRequestHeaders(req, out)
	if !trust {
		deleteXHeaders(out.Header)
	}
	if _, ok := req.Header["User-Agent"]; !ok {
		out.Header["User-Agent"] = []string{""} // not Go's own
	}
	out.Header = onlyHeaders(out.Header, allowed)
	h := out.Header
	if ip := clientIP(req); ip != "" {
		if prior := h["X-Forwarded-For"]; len(prior) > 0 {
			ip = strings.Join(prior, ", ") + ", " + ip
		}
		h.Set("X-Forwarded-For", ip)
	}
	setIfMissing := func(k, v string) {
		if _, ok := h[k]; !ok {
			h.Set(k, v)
		}
	}
	setIfMissing("X-Forwarded-Method", req.Method)
	setIfMissing("X-Forwarded-Proto", proto(req))
	setIfMissing("X-Forwarded-Port", forwardedPort(req, h))
	setIfMissing("X-Forwarded-Host", req.Host)
	setIfMissing("X-Forwarded-Uri", req.URL.RequestURI())
}

// writeAuthHeadersLegacy is trustForwardHeader unset: Traefik's historical behaviour.
func writeAuthHeadersLegacy(req, out *http.Request, allowed []string) {
	copyRequestHeaders(req, out)
	out.Header = onlyHeaders(out.Header, allowed)
	h := out.Header
	if ip := clientIP(req); ip != "" {
		h.Set("X-Forwarded-For", ip)
	}
	h.Set("X-Forwarded-Proto", proto(req))
	h.Set("X-Forwarded-Method", req.Method)
	h.Set("X-Forwarded-Host", req.Host)
	h.Set("X-Forwarded-Uri", req.URL.RequestURI())
}

// deleteXHeaders removes the X-Forwarded-* headers, also when written with underscores
// (X_Forwarded_For), which Go keeps as sent.
func deleteXHeaders(h http.Header) {
	for k := range h {
		if len(k) == 0 || k[0] != 'X' {
			continue
		}
		canon := http.CanonicalHeaderKey(strings.ReplaceAll(k, "_", "-"))
		for _, x := range xHeaders {
			if canon == x {
				delete(h, k)
				break
			}
		}
	}
}

func forwardedPort(req *http.Request, h http.Header) string {
	if _, port, err := net.SplitHostPort(req.Host); err == nil && port != "" {
		return port
	}
	if p := h.Get("X-Forwarded-Proto"); p == "https" || p == "wss" || req.TLS != nil {
		return "443"
	}
	return "80"
}
