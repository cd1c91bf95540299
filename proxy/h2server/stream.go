package h2server

import (
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/textproto"
	"net/url"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/net/http/httpguts"
	"golang.org/x/net/http2"

	"github.com/bridgehead/bridgehead/proxy/reqctx"
)

// stream is one request and its answer. Its protocol state is guarded by the
// connection's mu; done is set with it, for writers that hold only wmu.
type stream struct {
	sc  *conn
	id  uint32
	ctx *reqctx.Context
	req *http.Request
	rw  responseWriter
	// remoteClosed: the client sent END_STREAM; localClosed: the server did; closed: the
	// stream left the connection's map (both ended, or one side reset it).
	remoteClosed, localClosed, closed bool
	done                              atomic.Bool
	// headSent: the final head went out (guarded by the connection's wmu).
	headSent   bool
	sendWindow int64
	recvWindow int64
	body       *body // nil when the request has none
	// declared is the request's Content-Length (-1: none); received, what came.
	declared, received int64
}

// processHeaders opens a stream, or takes a stream's trailers.
func (sc *conn) processHeaders(f *http2.MetaHeadersFrame) error {
	id := f.StreamID
	if id%2 != 1 {
		return http2.ConnectionError(http2.ErrCodeProtocol)
	}
	sc.mu.Lock()
	if st := sc.streams[id]; st != nil {
		defer sc.mu.Unlock()
		if st.remoteClosed {
			return http2.StreamError{StreamID: id, Code: http2.ErrCodeStreamClosed}
		}
		return sc.processTrailersLocked(st, f)
	}
	if id <= sc.maxClientID {
		sc.mu.Unlock()
		return http2.ConnectionError(http2.ErrCodeProtocol) // a closed stream, or one skipped
	}
	if sc.goingAway {
		sc.mu.Unlock()
		return nil // a stream after our GOAWAY's last one: ignored
	}
	if uint32(len(sc.streams)) >= sc.srv.maxStreams() { //nolint:gosec // a map of at most maxStreams
		sc.maxClientID = id
		sc.mu.Unlock()
		return http2.StreamError{StreamID: id, Code: http2.ErrCodeRefusedStream}
	}
	if f.HasPriority() && f.Priority.StreamDep == id {
		sc.maxClientID = id
		sc.mu.Unlock()
		return http2.StreamError{StreamID: id, Code: http2.ErrCodeProtocol}
	}
	sc.mu.Unlock()

	st := &stream{sc: sc, id: id, declared: -1, recvWindow: streamWindow}
	handler, err := sc.newRequest(st, f)
	if testHookRequestMade != nil {
		testHookRequestMade(sc)
	}
	sc.mu.Lock()
	defer sc.mu.Unlock()
	if sc.goingAway {
		// A GOAWAY went out (the idle timer's) while the request was made: its last
		// stream is below this one, so the client will send it again elsewhere.
		return nil
	}
	// The stream takes its id only now, with the GOAWAY check: a GOAWAY's last stream is
	// never one that is not served.
	sc.maxClientID = id
	if err != nil {
		return err
	}
	st.sendWindow = sc.peerWindow
	st.remoteClosed = f.StreamEnded()
	if sc.idle != nil && len(sc.streams) == 0 && sc.handlers == 0 {
		sc.idle.Stop() // armed only while the connection has neither (handlerDone)
	}
	sc.streams[id] = st
	if sc.handlers < sc.srv.maxStreams() {
		sc.handlers++
		sc.srv.start(st, handler)
		return nil
	}
	// Streams whose handlers still run after the client reset them hold their slots
	// (rapid reset): the new one waits, up to a bound.
	if len(sc.queued) >= maxQueuedPerStream*int(sc.srv.maxStreams()) {
		return http2.ConnectionError(http2.ErrCodeEnhanceYourCalm)
	}
	st.rw.queued = handler
	sc.queued = append(sc.queued, st)
	return nil
}

// testHookRequestMade, when set by a test, runs between the making of a stream's request
// and its registration, where the idle timer may fire.
var testHookRequestMade func(*conn)

// processTrailersLocked takes the trailers that end a request body.
func (sc *conn) processTrailersLocked(st *stream, f *http2.MetaHeadersFrame) error {
	if !f.StreamEnded() || len(f.PseudoFields()) > 0 {
		return http2.StreamError{StreamID: st.id, Code: http2.ErrCodeProtocol}
	}
	for _, hf := range f.RegularFields() {
		key := sc.canonicalKey(hf.Name)
		if !httpguts.ValidTrailerHeader(key) {
			return http2.StreamError{StreamID: st.id, Code: http2.ErrCodeProtocol}
		}
		if _, declared := st.req.Trailer[key]; declared && st.body != nil {
			// Into the request at the read that ends the body (body.Read): the
			// handler may be copying the request's maps now.
			if st.body.trailer == nil {
				st.body.trailer = make(http.Header)
			}
			st.body.trailer[key] = append(st.body.trailer[key], hf.Value)
		}
	}
	return sc.endRemoteLocked(st)
}

// endRemoteLocked marks the end of the request's body.
func (sc *conn) endRemoteLocked(st *stream) error {
	st.remoteClosed = true
	if st.declared != -1 && st.declared != st.received {
		err := fmt.Errorf("h2server: request body of %d bytes, Content-Length %d", st.received, st.declared)
		if st.body != nil {
			st.body.failLocked(err)
		}
		return http2.StreamError{StreamID: st.id, Code: http2.ErrCodeProtocol, Cause: err}
	}
	if st.body != nil {
		st.body.failLocked(io.EOF)
	}
	if st.localClosed {
		sc.closeStreamLocked(st, io.EOF)
	}
	return nil
}

// processData takes a DATA frame's payload into its stream's body.
func (sc *conn) processData(f *http2.DataFrame) error {
	sc.mu.Lock()
	credit, err := sc.processDataLocked(f)
	sc.mu.Unlock()
	if credit > 0 {
		// The stream's window of what nobody will read (padding, a closed body) is given
		// back at once, as net/http does; the body's reads give back the rest.
		id := f.StreamID
		sc.writeControl(func() error { return sc.fr.WriteWindowUpdate(id, credit) })
	}
	return err
}

// processDataLocked returns the stream window to give back now.
func (sc *conn) processDataLocked(f *http2.DataFrame) (uint32, error) {
	id := f.StreamID
	size := int64(f.Length) // padding counts against the windows too
	data := f.Data()
	if size > sc.recvWindow {
		return 0, http2.ConnectionError(http2.ErrCodeFlowControl)
	}
	sc.recvWindow -= size
	st := sc.streams[id]
	if st == nil || st.remoteClosed {
		sc.recvCredit += size // nobody reads it
		if id > sc.maxClientID {
			return 0, http2.ConnectionError(http2.ErrCodeProtocol) // an idle stream
		}
		return 0, http2.StreamError{StreamID: id, Code: http2.ErrCodeStreamClosed}
	}
	if size > st.recvWindow {
		sc.recvCredit += size
		return 0, http2.StreamError{StreamID: id, Code: http2.ErrCodeFlowControl}
	}
	st.recvWindow -= size
	st.received += int64(len(data))
	if st.declared != -1 && st.received > st.declared {
		err := fmt.Errorf("h2server: request body longer than its Content-Length %d", st.declared)
		if st.body != nil {
			st.body.failLocked(err)
		}
		sc.recvCredit += size
		return 0, http2.StreamError{StreamID: id, Code: http2.ErrCodeProtocol, Cause: err}
	}
	unread := size - int64(len(data)) // the padding
	if len(data) > 0 {
		if st.body == nil || st.body.closed {
			unread += int64(len(data))
		} else {
			st.body.appendLocked(data)
		}
	}
	sc.recvCredit += unread
	if f.StreamEnded() {
		return 0, sc.endRemoteLocked(st)
	}
	st.recvWindow += unread
	return uint32(unread), nil //nolint:gosec // at most one frame's length
}

// connHeaders are the connection-specific fields RFC 9113 section 8.2.2 forbids.
var connHeaders = []string{"Connection", "Keep-Alive", "Proxy-Connection", "Transfer-Encoding", "Upgrade"}

// newRequest makes the stream's request from its HEADERS, and returns the handler to run:
// the server's, or an error answer.
func (sc *conn) newRequest(st *stream, f *http2.MetaHeadersFrame) (http.HandlerFunc, error) {
	protoErr := http2.StreamError{StreamID: st.id, Code: http2.ErrCodeProtocol}
	method, scheme := f.PseudoValue("method"), f.PseudoValue("scheme")
	authority, path := f.PseudoValue("authority"), f.PseudoValue("path")
	if f.PseudoValue("protocol") != "" {
		return nil, protoErr // extended CONNECT is not announced
	}
	isConnect := method == "CONNECT"
	if isConnect {
		if path != "" || scheme != "" || authority == "" {
			return nil, protoErr
		}
	} else if method == "" || path == "" || (scheme != "https" && scheme != "http") {
		return nil, protoErr
	}
	fields := f.RegularFields()
	header := make(http.Header, len(fields))
	// The values share one array, as net/textproto's reader does (a capacity of one
	// each, so that an append copies instead of writing into the next field's value).
	values := make([]string, len(fields))
	for i, hf := range fields {
		key := sc.canonicalKey(hf.Name)
		if vv, ok := header[key]; ok {
			header[key] = append(vv, hf.Value)
			continue
		}
		values[i] = hf.Value
		header[key] = values[i : i+1 : i+1]
	}
	// RFC 9113 section 8.2.2: a request with a connection-specific field, or a TE other
	// than "trailers", is malformed. (net/http answers 400 instead; h2spec and HAProxy
	// reset the stream.)
	for _, k := range connHeaders {
		if _, ok := header[k]; ok {
			return nil, protoErr
		}
	}
	if te := header["Te"]; len(te) > 0 && (len(te) > 1 || (te[0] != "trailers" && te[0] != "")) {
		return nil, protoErr
	}
	if authority == "" {
		authority = header.Get("Host")
	}
	needsContinue := httpguts.HeaderValuesContainsToken(header["Expect"], "100-continue")
	if needsContinue {
		delete(header, "Expect")
	}
	if cookies := header["Cookie"]; len(cookies) > 1 {
		header["Cookie"] = []string{strings.Join(cookies, "; ")}
	}
	var trailer http.Header
	for _, v := range header["Trailer"] {
		for key := range strings.SplitSeq(v, ",") {
			key = textproto.CanonicalMIMEHeaderKey(textproto.TrimString(key))
			switch key {
			case "Transfer-Encoding", "Trailer", "Content-Length":
			default:
				if trailer == nil {
					trailer = make(http.Header)
				}
				trailer[key] = nil
			}
		}
	}
	delete(header, "Trailer")
	if strings.IndexByte(authority, '@') != -1 && (scheme == "http" || scheme == "https") {
		return nil, protoErr // RFC 9113 section 8.3.1: no userinfo
	}
	var u *url.URL
	requestURI := path
	if isConnect {
		u, requestURI = &url.URL{Host: authority}, authority
	} else {
		if path[0] != '/' && path != "*" {
			return nil, protoErr
		}
		var err error
		if u, err = url.ParseRequestURI(path); err != nil {
			return nil, protoErr
		}
	}
	var tlsState *tls.ConnectionState
	if scheme == "https" {
		tlsState = sc.tls
	}
	var reqBody io.ReadCloser = http.NoBody
	contentLength := int64(0)
	if !f.StreamEnded() {
		contentLength = -1
		if vv, ok := header["Content-Length"]; ok {
			contentLength = 0
			if cl, err := strconv.ParseUint(vv[0], 10, 63); err == nil {
				contentLength = int64(cl)
			}
		}
		st.declared = contentLength
		st.body = &body{st: st, needsContinue: needsContinue}
		st.body.cond.L = &sc.mu
		reqBody = st.body
	}
	// The request context's AfterFunc slot spares the backend exchange an AfterFunc
	// context and a map of children per request (see reqctx).
	ctx := reqctx.New(sc.ctx)
	st.ctx = ctx
	// One expression, so that the Request WithContext copies stays on the stack.
	st.req = (&http.Request{
		Method: method, URL: u, Proto: "HTTP/2.0", ProtoMajor: 2,
		Header: header, Host: authority, RequestURI: requestURI, ContentLength: contentLength,
		RemoteAddr: sc.remote, Trailer: trailer, Body: reqBody, TLS: tlsState,
	}).WithContext(ctx)
	st.rw.st = st
	if d := sc.srv.ReadTimeout; d > 0 && st.body != nil {
		_ = st.rw.SetReadDeadline(time.Now().Add(d))
	}

	if f.Truncated {
		return headerListTooLong, nil // net/http's 431
	}
	return sc.srv.Handler.ServeHTTP, nil
}

func headerListTooLong(w http.ResponseWriter, _ *http.Request) {
	const body = "<h1>HTTP Error 431</h1><p>Request Header Field(s) Too Large</p>"
	w.WriteHeader(http.StatusRequestHeaderFieldsTooLarge)
	_, _ = io.WriteString(w, body)
}

// canonicalKey is http.CanonicalHeaderKey, remembered per connection: a client sends the
// same names on every request.
func (sc *conn) canonicalKey(name string) string {
	if k, ok := sc.canon[name]; ok {
		return k
	}
	k := http.CanonicalHeaderKey(name)
	if sc.canon == nil {
		sc.canon = make(map[string]string)
	}
	if len(sc.canon) < 256 {
		sc.canon[name] = k
	}
	return k
}

// run runs the stream's handler, then the next one that waits for a slot.
func (st *stream) run(handler http.HandlerFunc) {
	for st != nil {
		st.serve(handler)
		st, handler = st.sc.handlerDone(st)
	}
}

func (st *stream) serve(handler http.HandlerFunc) {
	defer func() {
		if v := recover(); v != nil {
			if v != http.ErrAbortHandler { //nolint:errorlint // a panic value, compared as net/http does
				buf := make([]byte, 64<<10)
				buf = buf[:runtime.Stack(buf, false)]
				st.sc.srv.logf("http2: panic serving %v: %v\n%s", st.sc.remote, v, buf)
			}
			st.sc.resetStream(st.id, http2.ErrCodeInternal, errors.New("h2server: handler panicked"))
			st.sc.flushControl()
		}
	}()
	handler(&st.rw, st.req)
	st.rw.finish()
}

// handlerDone frees the handler's slot: a request whose body the client still sends is
// reset (NO_ERROR, as net/http does), and the next waiting stream gets the slot.
func (sc *conn) handlerDone(st *stream) (*stream, http.HandlerFunc) {
	sc.mu.Lock()
	st.ctx.Cancel()
	reset, code := false, http2.ErrCodeNo
	if !st.closed {
		// An answer that ended before the request did frees the stream with NO_ERROR, as
		// net/http does; one that did not end (its write failed) with INTERNAL_ERROR.
		reset = !st.remoteClosed || !st.localClosed
		if !st.localClosed {
			code = http2.ErrCodeInternal
		}
		sc.closeStreamLocked(st, errHandlerDone)
	}
	var next *stream
	for len(sc.queued) > 0 && next == nil {
		if q := sc.queued[0]; !q.closed {
			next = q
		}
		sc.queued[0] = nil
		sc.queued = sc.queued[1:]
	}
	if next == nil {
		sc.handlers--
	}
	ending := sc.goingAway && len(sc.streams) == 0 && sc.handlers == 0
	if !ending && !sc.closed && len(sc.streams) == 0 && sc.handlers == 0 && sc.idle != nil {
		sc.idle.Reset(sc.srv.IdleTimeout)
	}
	sc.mu.Unlock()
	if reset {
		sc.writeControl(func() error { return sc.fr.WriteRSTStream(st.id, code) })
		sc.flushControl()
	}
	if ending {
		sc.wakeReader()
	}
	if next == nil {
		return nil, nil
	}
	h := next.rw.queued
	next.rw.queued = nil
	return next, h
}

var errHandlerDone = errors.New("h2server: the handler returned before the request body ended")

// body is a request's body: DATA payloads the reader appends and the handler reads. A
// read gives the windows back.
type body struct {
	st   *stream
	cond sync.Cond // on the connection's mu
	buf  []byte
	off  int
	err  error // io.EOF at END_STREAM; the cause when the stream failed
	// closed: the handler closed the body; the rest is discarded as it comes.
	closed        bool
	needsContinue bool
	credit        int64       // stream window read and not yet given back
	trailer       http.Header // the request's trailers, until the read that ends the body
	deadline      *time.Timer
}

func (b *body) appendLocked(p []byte) {
	switch {
	case b.off == len(b.buf):
		b.buf, b.off = b.buf[:0], 0
	case b.off > 0 && cap(b.buf)-len(b.buf) < len(p):
		// What was read leaves the buffer before it grows: the buffer holds at most
		// what the windows let the client send ahead of the handler.
		n := copy(b.buf, b.buf[b.off:])
		b.buf, b.off = b.buf[:n], 0
	}
	b.buf = append(b.buf, p...)
	b.cond.Broadcast()
}

// failLocked ends the body with err (io.EOF: whole) after what is buffered.
func (b *body) failLocked(err error) {
	if b.err == nil {
		b.err = err
	}
	b.cond.Broadcast()
}

// closeLocked ends the body now; it returns how much was left unread.
func (b *body) closeLocked(cause error) int {
	n := len(b.buf) - b.off
	b.buf, b.off = nil, 0
	if b.err == nil || n > 0 {
		b.err = cause
	}
	b.cond.Broadcast()
	return n
}

func (b *body) Read(p []byte) (int, error) {
	st := b.st
	sc := st.sc
	if b.needsContinue {
		b.needsContinue = false
		st.rw.writeContinue()
	}
	sc.mu.Lock()
	for b.off == len(b.buf) && b.err == nil && !b.closed {
		b.cond.Wait()
	}
	if b.closed {
		sc.mu.Unlock()
		return 0, errBodyClosed
	}
	if b.off == len(b.buf) {
		err := b.err
		if err == io.EOF && b.trailer != nil { //nolint:errorlint // io.EOF is ours
			for k, vv := range b.trailer {
				st.req.Trailer[k] = vv
			}
			b.trailer = nil
		}
		sc.mu.Unlock()
		return 0, err
	}
	n := copy(p, b.buf[b.off:])
	b.off += n
	sc.recvCredit += int64(n)
	connCredit := sc.takeConnCreditLocked()
	var streamCredit uint32
	if !st.remoteClosed && !st.closed {
		b.credit += int64(n)
		if b.credit >= streamWindow/4 {
			streamCredit = uint32(b.credit) //nolint:gosec // at most streamWindow
			st.recvWindow += b.credit
			b.credit = 0
		}
	}
	sc.mu.Unlock()
	if connCredit > 0 || streamCredit > 0 {
		sc.wmu.Lock()
		if connCredit > 0 && sc.writeErr == nil {
			sc.writeErr = sc.fr.WriteWindowUpdate(0, connCredit)
		}
		if streamCredit > 0 && sc.writeErr == nil && !st.done.Load() {
			sc.writeErr = sc.fr.WriteWindowUpdate(st.id, streamCredit)
		}
		if sc.writeErr == nil {
			sc.writeErr = sc.bw.Flush()
		}
		sc.wmu.Unlock()
	}
	return n, nil
}

var errBodyClosed = errors.New("http2: request body closed due to handler exiting")

// Close discards the rest of the body; the connection's window gets it back.
func (b *body) Close() error {
	sc := b.st.sc
	sc.mu.Lock()
	if !b.closed {
		b.closed = true
		sc.recvCredit += int64(len(b.buf) - b.off)
		b.buf, b.off = nil, 0
		b.cond.Broadcast()
	}
	sc.mu.Unlock()
	return nil
}

// wakeReader makes the reader look at the connection's state now: it waits for frames.
// Not before the server's SETTINGS: the reader then waits for the preface, and ends the
// connection gracefully after the first frame (serve sends the GOAWAY it still owes).
func (sc *conn) wakeReader() {
	if sc.started.Load() {
		_ = sc.rwc.SetReadDeadline(aLongTimeAgo)
	}
}

// aLongTimeAgo is a deadline that has passed: it makes a waiting read return.
var aLongTimeAgo = time.Unix(1, 0)
