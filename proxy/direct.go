package proxy

import (
	"context"
	"errors"
	"io"
	"mime"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"reflect"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	"golang.org/x/net/http/httpguts"

	"github.com/bridgehead/bridgehead/proxy/middleware"
	"github.com/bridgehead/bridgehead/proxy/upstream"
)

// directProxy forwards the requests that the backend's HTTP/1.1 fast path carries
// (proxy/upstream/h1.go: a safe method, no body, no upgrade), and the same kind of
// request to a backend that speaks HTTP/2 (through the transport), without
// httputil.ReverseProxy, with the same effect on the wire and on the client's answer.
//
// ReverseProxy is general: per request it clones the request and its header, deletes
// the hop-by-hop fields one map operation at a time, copies the request again to attach
// a client trace (and a context and closure) for 1xx responses, and copies the response
// header value by value. For a bodyless GET most of that is work on fields that are not
// there. Here the outbound header is built in one pass that leaves those fields out, 1xx
// responses come back through a function rather than a trace, and the response header's
// values move to the client's header without copying.
//
// Every other request, and one the fast path turns down when it gets to it (no
// connection to give), goes through the backend's ReverseProxy, unchanged.
type directProxy struct {
	rt       upstream.Direct
	scheme   string
	passHost bool
	host     string // the Host header when passHost is false
	edits    *middleware.BackendRequestEdits
}

// takes reports whether r goes the direct way. A query that ReverseProxy would rewrite
// (cleanQueryParams: a semicolon, a malformed escape, very many parameters) and a
// request without a cancellable context (ReverseProxy then watches CloseNotify) go
// through ReverseProxy, so that their handling stays exactly its.
func (d *directProxy) takes(r *http.Request) bool {
	return d != nil && !directOff.Load() && !queryAlwaysReencoded && cancellable(r.Context()) && plainQuery(r.URL.RawQuery) && d.rt.TakesDirect(r)
}

// cancellable reports whether ctx can be canceled, as ctx.Done() != nil does, without
// making the Done channel of a context that has an AfterFunc method (the client side's
// request context, proxy/h1server), which is cancellable.
func cancellable(ctx context.Context) bool {
	if _, ok := ctx.(interface{ AfterFunc(func()) func() bool }); ok {
		return true
	}
	return ctx.Done() != nil
}

// directOff is set by the tests that compare the direct way with ReverseProxy's;
// onDirect, when a test sets it, is called for each request the direct way takes. Both
// are atomic: the tests change them while the server's goroutines read them.
var (
	directOff atomic.Bool
	onDirect  atomic.Pointer[func()]
)

// queryAlwaysReencoded: with GODEBUG urlmaxqueryparams set, ReverseProxy re-encodes every
// query, so every request goes through it.
var queryAlwaysReencoded = strings.Contains(os.Getenv("GODEBUG"), "urlmaxqueryparams")

// plainQuery reports whether ReverseProxy's cleanQueryParams leaves q as it is: no ';',
// every '%' followed by two hex digits, and far fewer parameters than its limit.
func plainQuery(q string) bool {
	if strings.Count(q, "&") >= 1000 {
		return false
	}
	for i := 0; i < len(q); i++ {
		switch q[i] {
		case ';':
			return false
		case '%':
			if i+2 >= len(q) || !isHex(q[i+1]) || !isHex(q[i+2]) {
				return false
			}
			i += 2
		}
	}
	return true
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

// hopByHopFields are the fields that ReverseProxy removes from both directions (RFC 9110
// section 7.6.1, and the older ones it keeps removing).
var hopByHopFields = []string{"Connection", "Proxy-Connection", "Keep-Alive", "Proxy-Authenticate",
	"Proxy-Authorization", "Te", "Trailer", "Transfer-Encoding", "Upgrade"}

// forwardedField reports whether k is a forwarding field that ReverseProxy drops from
// the outbound request before setForwarded sets it from the inbound one.
func forwardedField(k string) bool {
	switch k {
	case "Forwarded", "X-Forwarded-For", "X-Forwarded-Host", "X-Forwarded-Proto":
		return true
	}
	return false
}

// Shared header values (read-only, len == cap).
var (
	teTrailers = []string{"trailers"}
	emptyValue = []string{""}
)

// serve forwards r to b and writes the answer to w. It returns false, having sent
// nothing, when the fast path had no connection for r: the caller then uses b's
// ReverseProxy, which picks an endpoint again (the round-robin turn of the first pick is
// lost; this happens only while the fast path is at its connection cap).
func (d *directProxy) serve(s *Server, f *forwarder, b *backend, w http.ResponseWriter, r *http.Request) bool {
	o := d.outbound(b, r)
	out := &o.req
	informed := false
	var informational upstream.Informational = func(code int, h http.Header) error {
		dst := w.Header()
		moveHeader(dst, h)
		w.WriteHeader(code)
		clear(dst) // WriteHeader does not reset the header after a 1xx
		informed = true
		return nil
	}
	// The answer's fields are parsed straight into the client's header when it holds
	// nothing yet (no middleware set a field) but the nil Content-Type that turns off
	// detection (NoContentTypeDetection): they need not be moved there afterwards. The
	// nil Content-Type is put back, once the hop-by-hop fields are gone, unless the
	// answer has one or a 1xx cleared the header: what moving the fields would have left.
	var into http.Header
	noDetection := false
	if dst := w.Header(); len(dst) == 0 || (len(dst) == 1 && onlyNoDetection(dst)) {
		_, noDetection = dst["Content-Type"]
		delete(dst, "Content-Type")
		into = dst
	}
	res, taken, err := d.rt.RoundTripDirect(out, informational, into)
	// RoundTripDirect leaves into empty when it does not parse the answer there. After a
	// 1xx the client's header may be another map: the retry middleware's writer gives
	// its own until something is written, the real one after. The fields then move.
	parsedInto := len(into) > 0 && (!informed || sameHeader(w.Header(), into))
	detectionOff := func(h http.Header) {
		if _, ok := h["Content-Type"]; noDetection && !informed && !ok {
			h["Content-Type"] = nil
		}
	}
	if !parsedInto {
		detectionOff(into) // the header as it was
	}
	if !taken {
		o.release()
		return false
	}
	if f := onDirect.Load(); f != nil {
		(*f)()
	}
	if err != nil {
		s.upstreamError(w, out, f.route, b, err)
		// Not handed back: an HTTP/2 exchange that failed may still be read by its
		// stream's goroutine. Failures are rare; the collector takes it.
		return true
	}
	// After an HTTP/2 answer the request is handed back only once the stream has ended:
	// its body closed, and the client still there (then Close waited for the stream).
	h2 := res.ProtoMajor == 2
	releaseAfterBody := func() {
		if !h2 || r.Context().Err() == nil {
			o.release()
		}
	}
	dropHopByHop(res.Header)
	if parsedInto {
		detectionOff(res.Header) // after the hop-by-hop fields: Connection may name Content-Type
	}
	if err := s.answered(f, b, d.scheme, res); err != nil {
		_ = res.Body.Close()
		if parsedInto {
			clear(res.Header) // the client's answer is the error's, without the backend's fields
			detectionOff(res.Header)
		}
		s.upstreamError(w, out, f.route, b, err)
		releaseAfterBody()
		return true
	}
	res.Request = nil // the answer no longer needs the request, whose storage is reused
	if !h2 {
		o.release()
	}
	if !parsedInto {
		moveHeader(w.Header(), res.Header)
	}
	announced := len(res.Trailer)
	if announced > 0 {
		keys := make([]string, 0, announced)
		for k := range res.Trailer {
			keys = append(keys, k)
		}
		w.Header().Add("Trailer", strings.Join(keys, ", "))
	}
	w.WriteHeader(res.StatusCode)
	if err := s.copyBody(w, res, streaming(res), f.route.snap.ID); err != nil {
		_ = res.Body.Close()
		// The answer is cut off after its head: all that is left is to abort the
		// client's response, as ReverseProxy does.
		panic(http.ErrAbortHandler)
	}
	_ = res.Body.Close() // now, so that res.Trailer is filled in
	if h2 {
		releaseAfterBody()
	}
	if len(res.Trailer) > 0 {
		// Chunked from here, so net/http does not compute a Content-Length for a short
		// body and drop the trailers.
		_ = http.NewResponseController(w).Flush()
	}
	if len(res.Trailer) == announced {
		moveHeader(w.Header(), res.Trailer)
		return true
	}
	for k, vv := range res.Trailer {
		for _, v := range vv {
			w.Header().Add(http.TrailerPrefix+k, v)
		}
	}
	return true
}

// outboundRequest is a request as it goes to the backend, with the storage it is made of.
// The fast path carries no request body, and nothing keeps the request once the answer's
// head is in (the connection and the answer's body hold the context, not the request), so
// serve hands it back for the next request then: under load this is a third of the bytes
// the forwarding path would allocate per request (a Request, a URL, a header map and its
// values), and so a share of the collector's work. An HTTP/2 stream keeps the request
// until it ends: serve hands it back after the answer's body.
type outboundRequest struct {
	req     http.Request
	url     url.URL
	backing []string // the header's values
}

var outboundPool = sync.Pool{New: func() any { return new(outboundRequest) }}

// maxPooledFields bounds the header map a released request keeps: a map keeps the room it
// grew to, and clearing it costs in proportion.
const maxPooledFields = 32

// release hands o back for another request; neither o nor anything it holds may be used
// afterwards.
func (o *outboundRequest) release() {
	h := o.req.Header
	if len(h) > maxPooledFields {
		h = nil
	}
	clear(h)
	clear(o.backing)
	o.req = http.Request{Header: h}
	o.url = url.URL{}
	outboundPool.Put(o)
}

// outbound is r as it goes to the backend: the same request line (scheme and address of
// the picked endpoint), the header without hop-by-hop fields, the forwarding fields set,
// and the backend's header edits applied: what ReverseProxy's Rewrite step makes.
func (d *directProxy) outbound(b *backend, r *http.Request) *outboundRequest {
	o := outboundPool.Get().(*outboundRequest)
	h := o.req.Header
	out := &o.req
	*out = *r // same context, method, URL (replaced below), protocol
	out.Body, out.ContentLength, out.Close, out.GetBody = nil, 0, false, nil

	// The fields the client's Connection header names are hop-by-hop too.
	var named []string
	for _, v := range r.Header["Connection"] {
		for f := range strings.SplitSeq(v, ",") {
			if f = strings.TrimSpace(f); f != "" {
				named = append(named, http.CanonicalHeaderKey(f))
			}
		}
	}
	values := 0
	for _, vv := range r.Header {
		values += len(vv)
	}
	// One backing array for every value, each field's slice capped at its length so that
	// an Add on one never writes into the next (as Header.Clone does).
	if cap(o.backing) < values {
		o.backing = make([]string, values)
	}
	o.backing = o.backing[:values]
	backing := o.backing
	if h == nil {
		h = make(http.Header, len(r.Header)+6)
	}
	for k, vv := range r.Header {
		if slices.Contains(hopByHopFields, k) || forwardedField(k) || slices.Contains(named, k) {
			continue
		}
		if vv == nil {
			h[k] = nil
			continue
		}
		n := copy(backing, vv)
		h[k], backing = backing[:n:n], backing[n:]
	}
	if httpguts.HeaderValuesContainsToken(r.Header["Te"], "trailers") {
		h["Te"] = teTrailers // the backend may send trailers: the proxy passes them on
	}
	out.Header = h

	o.url = *r.URL
	o.url.Scheme, o.url.Host = d.scheme, b.pick(r).Address
	out.URL = &o.url
	if !d.passHost {
		out.Host = d.host
	}
	setForwarded(&httputil.ProxyRequest{In: r, Out: out})
	if d.edits != nil {
		d.edits.Apply(out) // last: it may edit the forwarded headers too
	}
	if _, ok := h["User-Agent"]; !ok {
		h["User-Agent"] = emptyValue // none, rather than Go's own
	}
	return o
}

// sameHeader reports whether a and b are the same map.
func sameHeader(a, b http.Header) bool {
	return reflect.ValueOf(a).UnsafePointer() == reflect.ValueOf(b).UnsafePointer()
}

// onlyNoDetection reports whether h holds the nil Content-Type of NoContentTypeDetection.
func onlyNoDetection(h http.Header) bool {
	v, ok := h["Content-Type"]
	return ok && v == nil
}

// dropHopByHop removes the hop-by-hop fields of a response, as ReverseProxy does.
func dropHopByHop(h http.Header) {
	for _, v := range h["Connection"] {
		for f := range strings.SplitSeq(v, ",") {
			// A field that is hop-by-hop anyway goes below: most backends name
			// keep-alive, whose canonical form would cost an allocation.
			if f = strings.TrimSpace(f); f != "" && !slices.ContainsFunc(hopByHopFields, func(k string) bool { return strings.EqualFold(k, f) }) {
				h.Del(f)
			}
		}
	}
	for _, k := range hopByHopFields {
		delete(h, k)
	}
}

// moveHeader adds src's fields to dst, as Header.Add would one value at a time. A field
// dst has no value for takes src's slice as it is, so src must not be used afterwards.
func moveHeader(dst, src http.Header) {
	for k, vv := range src {
		if prior := dst[k]; len(prior) > 0 {
			dst[k] = append(prior, vv...)
		} else {
			dst[k] = vv
		}
	}
}

// streaming reports whether every write of the body must reach the client at once, as
// ReverseProxy decides: server-sent events, and a body of unknown length.
func streaming(res *http.Response) bool {
	if res.ContentLength == -1 {
		return true
	}
	ct := res.Header.Get("Content-Type")
	if !containsFold(ct, "event-stream") {
		return false // no need to parse (and allocate) to know
	}
	base, _, _ := mime.ParseMediaType(ct)
	return base == "text/event-stream"
}

// containsFold reports whether s contains sub, ASCII case-insensitively.
func containsFold(s, sub string) bool {
	for i := 0; i+len(sub) <= len(s); i++ {
		if strings.EqualFold(s[i:i+len(sub)], sub) {
			return true
		}
	}
	return false
}

// copyBody writes the response body to w with a pooled buffer, flushing after each
// write when flush is set (and once at the start, so the head goes out before the first
// byte of a slow stream).
func (s *Server) copyBody(w http.ResponseWriter, res *http.Response, flush bool, route string) error {
	var rc *http.ResponseController
	if flush {
		rc = http.NewResponseController(w)
		_ = rc.Flush()
	}
	bp := s.buffers.get()
	defer s.buffers.put(bp)
	buf := *bp
	for {
		n, rerr := res.Body.Read(buf)
		if n > 0 {
			written, werr := w.Write(buf[:n])
			if werr != nil {
				return werr
			}
			if written != n {
				return io.ErrShortWrite
			}
			if rc != nil {
				_ = rc.Flush()
			}
		}
		if rerr == io.EOF {
			return nil
		}
		if rerr != nil {
			if !errors.Is(rerr, context.Canceled) {
				s.errorLog.Printf("route %s: the backend's answer broke off while it was being copied to the client (the client's response is cut off too): %v", route, rerr)
			}
			return rerr
		}
	}
}
