package h2server

import (
	"errors"
	"fmt"
	"net/http"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/net/http/httpguts"
	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"
)

// responseWriter is a stream's http.ResponseWriter. It writes what net/http's HTTP/2
// server would: the head at the first chunk of body (or at the end), with the
// Content-Length of a body the handler wrote whole before it returned, a sniffed
// Content-Type, a Date; then DATA; then the trailers.
type responseWriter struct {
	st *stream
	// header is the map Header returns; head, a copy of it made when the handler asks
	// for it after WriteHeader, since the head is what the map held at WriteHeader.
	header, head            http.Header
	status                  int
	wroteHeader, sentHeader bool
	handlerDone             bool
	buf                     []byte
	wrote                   int64 // body bytes the handler wrote
	sentContentLength       int64 // the head's Content-Length, 0 when none
	trailers                []string
	// queued is the handler of a stream that waits for a slot.
	queued http.HandlerFunc
}

func (rw *responseWriter) Header() http.Header {
	if rw.header == nil {
		rw.header = heads.Get().(http.Header)
	}
	if rw.wroteHeader && rw.head == nil && !rw.sentHeader {
		// The head is the fields as they were at WriteHeader: from here on the handler
		// may change the map (trailers). A shallow copy, as net/http's HTTP/1 server
		// makes, into a map used again once the head is out.
		rw.head = heads.Get().(http.Header)
		for k, vv := range rw.header {
			rw.head[k] = vv
		}
	}
	return rw.header
}

func (rw *responseWriter) headFields() http.Header {
	if rw.head != nil {
		return rw.head
	}
	return rw.header
}

func (rw *responseWriter) WriteHeader(code int) {
	if code < 100 || code > 999 {
		panic("invalid WriteHeader code " + strconv.Itoa(code))
	}
	if rw.wroteHeader {
		return
	}
	if code >= 100 && code <= 199 {
		rw.writeInformational(code)
		return
	}
	rw.wroteHeader = true
	rw.status = code
	if rw.header == nil {
		rw.header = heads.Get().(http.Header)
	}
}

// writeInformational sends a 1xx with the fields set so far, as net/http does (RFC 8297:
// the map is not cleared), less the ones that describe a body.
func (rw *responseWriter) writeInformational(code int) {
	h := rw.header
	_, cl := h["Content-Length"]
	_, te := h["Transfer-Encoding"]
	if cl || te {
		h = h.Clone()
		delete(h, "Content-Length")
		delete(h, "Transfer-Encoding")
	}
	sc := rw.st.sc
	sc.wmu.Lock()
	sc.writeHeadLocked(rw.st, code, h, nil, false, "", "", "")
	if sc.writeErr == nil {
		sc.writeErr = sc.bw.Flush()
	}
	sc.wmu.Unlock()
}

// writeContinue answers Expect: 100-continue at the first read of the body, unless the
// head went out first.
func (rw *responseWriter) writeContinue() {
	sc := rw.st.sc
	sc.wmu.Lock()
	if !rw.st.headSent {
		sc.writeHeadLocked(rw.st, http.StatusContinue, nil, nil, false, "", "", "")
		if sc.writeErr == nil {
			sc.writeErr = sc.bw.Flush()
		}
	}
	sc.wmu.Unlock()
}

func (rw *responseWriter) Write(p []byte) (int, error) {
	if !rw.wroteHeader {
		rw.WriteHeader(http.StatusOK)
	}
	if !bodyAllowed(rw.status) {
		return 0, http.ErrBodyNotAllowed
	}
	rw.wrote += int64(len(p))
	if rw.sentContentLength != 0 && rw.wrote > rw.sentContentLength {
		return 0, errors.New("http2: handler wrote more than declared Content-Length")
	}
	n := len(p)
	if len(rw.buf)+len(p) <= writeChunk {
		if rw.buf == nil {
			rw.buf = getChunk()
		}
		rw.buf = append(rw.buf, p...)
		return n, nil
	}
	if len(rw.buf) > 0 {
		k := writeChunk - len(rw.buf)
		rw.buf = append(rw.buf, p[:k]...)
		p = p[k:]
		if err := rw.send(rw.buf, false); err != nil {
			return 0, err
		}
		rw.buf = rw.buf[:0]
	}
	if len(p) >= writeChunk {
		if err := rw.send(p, false); err != nil {
			return 0, err
		}
		return n, nil
	}
	if rw.buf == nil {
		rw.buf = getChunk()
	}
	rw.buf = append(rw.buf, p...)
	return n, nil
}

// SetReadDeadline bounds the wait of the request body's reads: at t a pending or later
// read fails with os.ErrDeadlineExceeded (wrapped), as under net/http's server; the stream
// and the answer are left alone. The zero time removes the bound.
func (rw *responseWriter) SetReadDeadline(t time.Time) error {
	b := rw.st.body
	if b == nil {
		return nil
	}
	sc := rw.st.sc
	sc.mu.Lock()
	defer sc.mu.Unlock()
	if b.deadline != nil {
		b.deadline.Stop()
		b.deadline = nil
	}
	if t.IsZero() {
		return nil
	}
	b.deadline = time.AfterFunc(time.Until(t), func() {
		sc.mu.Lock()
		b.failLocked(fmt.Errorf("h2server: request body: %w", os.ErrDeadlineExceeded))
		sc.mu.Unlock()
	})
	return nil
}

// Flush sends what was written, the head first.
func (rw *responseWriter) Flush() { _ = rw.FlushError() }

// FlushError is Flush for http.ResponseController, which reports the error.
func (rw *responseWriter) FlushError() error {
	if !rw.wroteHeader {
		rw.WriteHeader(http.StatusOK)
	}
	err := rw.send(rw.buf, false)
	rw.buf = rw.buf[:0]
	if err == nil {
		err = rw.st.sc.flush()
	}
	return err
}

// finish ends the answer after the handler returned.
func (rw *responseWriter) finish() {
	if !rw.wroteHeader {
		rw.WriteHeader(http.StatusOK)
	}
	rw.handlerDone = true
	rw.promoteUndeclaredTrailers()
	_ = rw.send(rw.buf, true)
	if rw.buf != nil {
		putChunk(rw.buf)
		rw.buf = nil
	}
	// The goroutines ready to run go first: under load they are other streams' handlers
	// with answers to write, and the first flush after them sends all in one write (the
	// others find nothing left). With nothing else ready, Gosched returns at once.
	runtime.Gosched()
	_ = rw.st.sc.flush()
	// The handler returned and its answer is out: its header map serves another
	// stream, as h1server's serves the connection's next request. (After a panic it is
	// left to the collector.)
	if rw.header != nil {
		clear(rw.header)
		heads.Put(rw.header)
		rw.header = nil
	}
}

// send writes p, the head first if it has not gone out; final ends the stream.
func (rw *responseWriter) send(p []byte, final bool) error {
	st := rw.st
	sc := st.sc
	isHead := st.req.Method == http.MethodHead
	if !rw.sentHeader {
		rw.sentHeader = true
		h := rw.headFields()
		var ctype, clen, date string
		if clen = h.Get("Content-Length"); clen != "" {
			if cl, err := strconv.ParseUint(clen, 10, 63); err == nil {
				rw.sentContentLength = int64(cl)
			} else {
				clen = ""
			}
		}
		// The map's Content-Length goes out as clen, when valid, or not at all.
		if clen == "" && final && bodyAllowed(rw.status) && (len(p) > 0 || !isHead) {
			clen = strconv.Itoa(len(p))
		}
		_, hasCT := h["Content-Type"]
		if !hasCT && h.Get("Content-Encoding") == "" && bodyAllowed(rw.status) && len(p) > 0 {
			ctype = http.DetectContentType(p)
		}
		if _, ok := h["Date"]; !ok {
			date = httpDate()
		}
		for _, v := range h["Trailer"] {
			for key := range strings.SplitSeq(v, ",") {
				rw.declareTrailer(strings.TrimSpace(key))
			}
		}
		if vv, ok := h["Connection"]; ok && len(vv) > 0 && vv[0] == "close" {
			// HTTP/2 has no Connection field; net/http reads "close" as: finish the
			// connection's streams and close it.
			defer sc.goAway(http2.ErrCodeNo)
		}
		endStream := (final && !rw.hasNonemptyTrailers() && len(p) == 0) || isHead
		sc.wmu.Lock()
		sc.writeHeadLocked(st, rw.status, h, nil, endStream, clen, ctype, date)
		err := sc.writeErr
		sc.wmu.Unlock()
		if rw.head != nil {
			clear(rw.head)
			heads.Put(rw.head)
			rw.head = nil
		}
		if err != nil {
			return err
		}
		if endStream {
			sc.endLocal(st)
			return nil
		}
	}
	if isHead || (len(p) == 0 && !final) {
		return nil
	}
	trailers := final && rw.hasNonemptyTrailers()
	endStream := final && !trailers
	if len(p) > 0 || endStream {
		if err := sc.writeData(st, p, endStream); err != nil {
			return err
		}
	}
	if trailers {
		sc.wmu.Lock()
		sc.writeHeadLocked(st, 0, rw.header, rw.trailers, true, "", "", "")
		err := sc.writeErr
		sc.wmu.Unlock()
		if err != nil {
			return err
		}
		sc.endLocal(st)
	}
	return nil
}

func (rw *responseWriter) declareTrailer(k string) {
	k = http.CanonicalHeaderKey(k)
	if !httpguts.ValidTrailerHeader(k) {
		return
	}
	for _, t := range rw.trailers {
		if t == k {
			return
		}
	}
	rw.trailers = append(rw.trailers, k)
}

// promoteUndeclaredTrailers takes the fields named with http.TrailerPrefix as trailers.
func (rw *responseWriter) promoteUndeclaredTrailers() {
	for k, vv := range rw.header {
		if !strings.HasPrefix(k, http.TrailerPrefix) {
			continue
		}
		key := strings.TrimPrefix(k, http.TrailerPrefix)
		rw.declareTrailer(key)
		rw.header[http.CanonicalHeaderKey(key)] = vv
	}
}

func (rw *responseWriter) hasNonemptyTrailers() bool {
	for _, t := range rw.trailers {
		if len(rw.header[t]) > 0 {
			return true
		}
	}
	return false
}

func bodyAllowed(status int) bool {
	switch {
	case status >= 100 && status <= 199, status == http.StatusNoContent, status == http.StatusNotModified:
		return false
	}
	return true
}

// writeHeadLocked writes a HEADERS frame (and CONTINUATIONs): a status unless zero
// (trailers), the fields of h (only keys, when given), and the fields the server adds.
// Called with wmu held.
func (sc *conn) writeHeadLocked(st *stream, status int, h http.Header, keys []string, endStream bool, clen, ctype, date string) {
	if sc.writeErr != nil || st.done.Load() {
		return // the connection failed, or the stream was reset: nothing to write
	}
	if status >= 200 || status == 0 && endStream {
		st.headSent = true
	}
	sc.hbuf.Reset()
	if status != 0 {
		sc.field(":status", statusString(status))
	}
	if keys != nil {
		for _, k := range keys {
			sc.fieldValues(k, h[k], status != 0)
		}
	} else {
		for k, vv := range h {
			sc.fieldValues(k, vv, status != 0)
		}
	}
	if ctype != "" {
		sc.field("content-type", ctype)
	}
	if clen != "" {
		sc.field("content-length", clen)
	}
	if date != "" {
		sc.field("date", date)
	}
	block := sc.hbuf.Bytes()
	sc.mu.Lock()
	maxFrame := int(sc.peerFrame)
	sc.mu.Unlock()
	first := true
	for first || len(block) > 0 {
		frag := block
		if len(frag) > maxFrame {
			frag = frag[:maxFrame]
		}
		block = block[len(frag):]
		if first {
			sc.writeErr = sc.fr.WriteHeaders(http2.HeadersFrameParam{
				StreamID: st.id, BlockFragment: frag, EndStream: endStream, EndHeaders: len(block) == 0,
			})
			first = false
		} else {
			sc.writeErr = sc.fr.WriteContinuation(st.id, len(block) == 0, frag)
		}
		if sc.writeErr != nil {
			return
		}
	}
}

// fieldValues encodes a field's values as net/http does: lower-case names, no
// connection-specific fields, no invalid ones.
func (sc *conn) fieldValues(k string, vv []string, head bool) {
	if len(vv) == 0 {
		return
	}
	name := lowerName(k)
	if !httpguts.ValidHeaderFieldName(name) || strings.HasPrefix(k, http.TrailerPrefix) {
		return
	}
	switch name {
	case "connection", "keep-alive", "proxy-connection", "upgrade":
		return
	case "content-length":
		if head {
			return // sent as the head's clen
		}
	}
	isTE := name == "transfer-encoding"
	for _, v := range vv {
		if !httpguts.ValidHeaderFieldValue(v) || isTE && v != "trailers" {
			continue
		}
		sc.field(name, v)
	}
}

func (sc *conn) field(name, value string) {
	_ = sc.henc.WriteField(hpack.HeaderField{Name: name, Value: value})
}

// lowerName is the field name in lower case, without allocating for the common ones.
func lowerName(k string) string {
	if v, ok := commonLower[k]; ok {
		return v
	}
	return strings.ToLower(k)
}

var commonLower = func() map[string]string {
	m := map[string]string{}
	for _, k := range []string{
		"Accept-Ranges", "Age", "Access-Control-Allow-Origin", "Cache-Control", "Content-Disposition",
		"Content-Encoding", "Content-Language", "Content-Length", "Content-Location", "Content-Range",
		"Content-Type", "Date", "Etag", "Expires", "Last-Modified", "Link", "Location", "Server",
		"Set-Cookie", "Strict-Transport-Security", "Trailer", "Transfer-Encoding", "Vary", "Via",
		"Www-Authenticate", "X-Content-Type-Options", "X-Frame-Options", "Alt-Svc", "Retry-After",
		"Grpc-Status", "Grpc-Message", "Referrer-Policy", "Content-Security-Policy",
	} {
		m[k] = strings.ToLower(k)
	}
	return m
}()

func statusString(code int) string {
	switch code {
	case 200:
		return "200"
	case 404:
		return "404"
	}
	return strconv.Itoa(code)
}

// endLocal marks the server's end of a stream sent.
func (sc *conn) endLocal(st *stream) {
	sc.mu.Lock()
	st.localClosed = true
	// After the handler, the stream ends here, before the client can read its end (the
	// flush comes later): a frame the client then sends on it finds it closed.
	if st.remoteClosed && !st.closed && st.rw.handlerDone {
		sc.closeStreamLocked(st, errHandlerDone)
	}
	sc.mu.Unlock()
}

var errStreamClosed = errors.New("http2: stream closed")

// writeData sends p on the stream as the windows allow, in frames of at most the
// client's frame size.
func (sc *conn) writeData(st *stream, p []byte, endStream bool) error {
	for {
		n, err := sc.reserve(st, len(p))
		if err != nil {
			return err
		}
		last := n == len(p)
		sc.wmu.Lock()
		written := sc.writeErr == nil && !st.done.Load()
		if written {
			sc.writeErr = sc.fr.WriteData(st.id, endStream && last, p[:n])
		}
		err = sc.writeErr
		sc.wmu.Unlock()
		if !written {
			// The stream was reset (or the connection failed) after the window was
			// taken: the connection's part goes back to the other streams.
			sc.mu.Lock()
			sc.sendWindow += int64(n)
			sc.sendCond.Broadcast()
			sc.mu.Unlock()
			if err == nil {
				err = errStreamClosed
			}
		}
		if err != nil {
			return err
		}
		p = p[n:]
		if last {
			break
		}
	}
	if endStream {
		sc.endLocal(st)
	}
	return nil
}

// reserve waits until both windows are open and takes up to want bytes of them.
func (sc *conn) reserve(st *stream, want int) (int, error) {
	sc.mu.Lock()
	defer sc.mu.Unlock()
	flushed := false
	for {
		if st.closed || sc.closed {
			return 0, errStreamClosed
		}
		if want == 0 {
			return 0, nil
		}
		if st.sendWindow > 0 && sc.sendWindow > 0 {
			n := min(int64(want), st.sendWindow, sc.sendWindow, int64(sc.peerFrame))
			st.sendWindow -= n
			sc.sendWindow -= n
			return int(n), nil
		}
		if !flushed {
			// What was written must reach the client before the writer waits for it to
			// open a window: the client may be waiting for that very data.
			sc.mu.Unlock()
			_ = sc.flush()
			sc.mu.Lock()
			flushed = true
			continue
		}
		sc.sendCond.Wait()
		flushed = false
	}
}

// flush sends what the connection's writer holds.
func (sc *conn) flush() error {
	sc.wmu.Lock()
	defer sc.wmu.Unlock()
	if sc.writeErr == nil {
		sc.writeErr = sc.bw.Flush()
	}
	return sc.writeErr
}

// httpDate is the Date field's value, made once a second.
func httpDate() string {
	now := time.Now().Unix()
	if d := lastDate.Load(); d != nil && d.unix == now {
		return d.s
	}
	d := &dated{unix: now, s: time.Unix(now, 0).UTC().Format(http.TimeFormat)}
	lastDate.Store(d)
	return d.s
}

type dated struct {
	unix int64
	s    string
}

var lastDate atomic.Pointer[dated]

// heads holds header maps with room for a typical answer's fields: the handlers' and the
// heads' copies.
var heads = sync.Pool{New: func() any { return make(http.Header, 16) }}

var chunks = sync.Pool{New: func() any { b := make([]byte, 0, writeChunk); return &b }}

func getChunk() []byte { return (*chunks.Get().(*[]byte))[:0] }

func putChunk(b []byte) { chunks.Put(&b) }
