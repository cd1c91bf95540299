package h1server

import (
	"bufio"
	"fmt"
	"net/http"
	"net/textproto"
	"slices"
	"strconv"
	"strings"
	"time"

	"golang.org/x/net/http/httpguts"
)

// bufferBeforeChunking is how much of a body is held before the head is written: a
// handler that ends within it gets a Content-Length instead of chunks (net/http's size).
const bufferBeforeChunking = 2048

// response is the http.ResponseWriter of one request. It writes what net/http's server
// writes for the same calls (TestResponseEqualsNetHTTP): the same status line, fields,
// framing (Content-Length when the handler ends within the first 2 KiB or set one,
// chunks otherwise, trailers), Date, a sniffed Content-Type when the handler set none,
// and the same errors (ErrBodyNotAllowed, ErrContentLength).
type response struct {
	c   *conn
	req *http.Request
	// header is the handler's; snapshot is its fields when the final status was set (what
	// is written, as net/http clones it then), the trailers being read from header at the
	// end.
	header   http.Header
	snapshot http.Header
	status   int
	// wroteHeader: the final status is set; headWritten: the head is in c.bw.
	wroteHeader, headWritten, handlerDone bool
	contentLength, written                int64 // contentLength -1: none declared
	chunking, closeAfter                  bool
	body                                  *bufio.Writer // the first 2 KiB, on chunkWriter
	trailers                              []string
	// scratch formats numbers as they are written (the status code, a chunk's size);
	// dateBuf holds the Date value from when the head is assembled until it is written,
	// after the status line.
	scratch [64]byte
	dateBuf [len(http.TimeFormat)]byte
}

func (w *response) reset(c *conn, req *http.Request) {
	clear(w.header)
	clear(w.snapshot)
	*w = response{c: c, req: req, header: w.header, snapshot: w.snapshot, body: w.body, trailers: w.trailers[:0], contentLength: -1, closeAfter: req.Close}
	if w.header == nil {
		w.header, w.snapshot = http.Header{}, http.Header{}
	}
	if w.body == nil {
		w.body = bufio.NewWriterSize(chunkWriter{w}, bufferBeforeChunking)
	} else {
		w.body.Reset(chunkWriter{w})
	}
}

func (w *response) Header() http.Header { return w.header }

func (w *response) WriteHeader(code int) {
	if w.wroteHeader {
		w.c.srv.logf("http: superfluous response.WriteHeader call with %d (the status %d was set already)", code, w.status)
		return
	}
	if code < 100 || code > 999 {
		panic(fmt.Sprintf("invalid WriteHeader code %v", code))
	}
	if code >= 100 && code <= 199 && code != http.StatusSwitchingProtocols {
		// An interim answer goes out at once; the header stays for the final one.
		w.writeStatusLine(code)
		writeFields(w.c.bw, w.header, excludedNoBody)
		_, _ = w.c.bw.WriteString("\r\n")
		_ = w.c.bw.Flush()
		return
	}
	w.wroteHeader, w.status = true, code
	for k, vv := range w.header {
		w.snapshot[k] = vv
	}
	if cl := w.header.Get("Content-Length"); cl != "" {
		v, err := strconv.ParseInt(cl, 10, 64)
		if err == nil && v >= 0 {
			w.contentLength = v
		} else {
			w.c.srv.logf("http: invalid Content-Length of %q", cl)
			delete(w.header, "Content-Length")
			delete(w.snapshot, "Content-Length")
		}
	}
}

func (w *response) Write(p []byte) (int, error) {
	if err := w.admit(len(p)); err != nil || len(p) == 0 {
		return 0, err
	}
	return w.body.Write(p)
}

func (w *response) WriteString(s string) (int, error) {
	if err := w.admit(len(s)); err != nil || len(s) == 0 {
		return 0, err
	}
	return w.body.WriteString(s)
}

// admit sets the status if the handler has not, and counts n more bytes of body: an
// error when the status allows no body or n goes past the declared Content-Length.
func (w *response) admit(n int) error {
	if !w.wroteHeader {
		w.WriteHeader(http.StatusOK)
	}
	if n == 0 {
		return nil
	}
	if !bodyAllowed(w.status) {
		return http.ErrBodyNotAllowed
	}
	w.written += int64(n)
	if w.contentLength != -1 && w.written > w.contentLength {
		return http.ErrContentLength
	}
	return nil
}

func (w *response) Flush() { _ = w.FlushError() }

// FlushError is what http.ResponseController calls.
func (w *response) FlushError() error {
	if !w.wroteHeader {
		w.WriteHeader(http.StatusOK)
	}
	err := w.body.Flush()
	if !w.headWritten {
		w.writeHead(nil)
	}
	if e := w.c.bw.Flush(); err == nil {
		err = e
	}
	return err
}

// finish ends the response after the handler returned: the held body, the last chunk and
// the trailers. It reports whether the connection can carry another request.
func (w *response) finish() bool {
	w.handlerDone = true
	if !w.wroteHeader {
		w.WriteHeader(http.StatusOK)
	}
	_ = w.body.Flush()
	if !w.headWritten {
		w.writeHead(nil)
	}
	if w.chunking {
		bw := w.c.bw
		_, _ = bw.WriteString("0\r\n")
		if t := w.finalTrailers(); t != nil {
			writeFields(bw, t, nil)
		}
		_, _ = bw.WriteString("\r\n")
	}
	if err := w.c.bw.Flush(); err != nil {
		return false
	}
	switch {
	case w.closeAfter:
		return false
	case w.req.Method != http.MethodHead && w.contentLength != -1 && bodyAllowed(w.status) && w.contentLength != w.written:
		return false // short of what it declared: the client would read the next answer as its rest
	}
	return true
}

// chunkWriter receives the body past the first 2 KiB (or all of it at the end): it writes
// the head first, then the bytes, in chunks when the length is not known.
type chunkWriter struct{ w *response }

func (cw chunkWriter) Write(p []byte) (int, error) {
	w := cw.w
	if !w.headWritten {
		w.writeHead(p)
	}
	if w.req.Method == http.MethodHead {
		return len(p), nil
	}
	bw := w.c.bw
	if w.chunking {
		_, _ = bw.Write(strconv.AppendInt(w.scratch[:0], int64(len(p)), 16))
		_, _ = bw.WriteString("\r\n")
	}
	n, err := bw.Write(p)
	if w.chunking && err == nil {
		_, err = bw.WriteString("\r\n")
	}
	if err != nil {
		_ = w.c.rwc.Close()
	}
	return n, err
}

// writeHead decides the framing and writes the head into the connection's buffer, the
// way net/http's chunkWriter.writeHeader does for an HTTP/1.1 request without a body.
// p is the start of the body (all of it when the handler has returned).
func (w *response) writeHead(p []byte) {
	w.headWritten = true
	h := w.snapshot
	isHEAD := w.req.Method == http.MethodHead
	var exclude [4]string
	excluded := exclude[:0]

	trailers := false
	for k := range h {
		if strings.HasPrefix(k, http.TrailerPrefix) {
			excluded = append(excluded, k) // never on the wire; net/http allocates to skip them too
			trailers = true
		}
	}
	for _, v := range h["Trailer"] {
		trailers = true
		w.declareTrailers(v)
	}
	te := first(h, "Transfer-Encoding")
	hasTE := te != ""

	var contentLength, contentType, connection, transferEncoding string
	_, haveCL := h["Content-Length"]
	if w.handlerDone && !trailers && !hasTE && bodyAllowed(w.status) && !haveCL && (!isHEAD || len(p) > 0) {
		w.contentLength = int64(len(p))
		contentLength = strconv.Itoa(len(p))
	}
	hasCL := w.contentLength != -1
	if first(h, "Connection") == "close" || w.c.srv.draining() {
		w.closeAfter = true
	}
	if bodyAllowed(w.status) {
		_, haveType := h["Content-Type"]
		if !haveType && !hasTE && len(p) > 0 && h.Get("Content-Encoding") == "" {
			contentType = http.DetectContentType(p)
		}
	} else {
		delete(h, "Content-Length")
		delete(h, "Transfer-Encoding")
		if w.status == http.StatusNotModified {
			delete(h, "Content-Type")
		}
	}
	var date []byte
	if _, ok := h["Date"]; !ok {
		date = time.Now().UTC().AppendFormat(w.dateBuf[:0], http.TimeFormat)
	}
	if hasCL && hasTE && te != "identity" {
		w.c.srv.logf("http: WriteHeader called with both Transfer-Encoding of %q and a Content-Length of %d", te, w.contentLength)
		delete(h, "Content-Length")
		hasCL = false
	}
	switch {
	case isHEAD || !bodyAllowed(w.status):
		delete(h, "Transfer-Encoding")
	case hasCL:
		delete(h, "Transfer-Encoding")
	case hasTE && te == "identity":
		w.closeAfter = true
		delete(h, "Transfer-Encoding")
	default:
		w.chunking = true
		transferEncoding = "chunked"
		delete(h, "Transfer-Encoding")
	}
	if w.chunking {
		delete(h, "Content-Length")
	}
	if w.closeAfter && (w.c.srv.draining() || !hasToken(first(h, "Connection"), "close")) {
		delete(h, "Connection")
		connection = "close"
	}

	bw := w.c.bw
	w.writeStatusLine(w.status)
	writeFields(bw, h, excluded)
	if date != nil {
		_, _ = bw.WriteString("Date: ")
		_, _ = bw.Write(date)
		_, _ = bw.WriteString("\r\n")
	}
	if contentLength != "" {
		_, _ = bw.WriteString("Content-Length: " + contentLength + "\r\n")
	}
	for _, f := range [...]struct{ k, v string }{{"Content-Type", contentType}, {"Connection", connection}, {"Transfer-Encoding", transferEncoding}} {
		if f.v != "" {
			_, _ = bw.WriteString(f.k + ": " + f.v + "\r\n")
		}
	}
	_, _ = bw.WriteString("\r\n")
}

func (w *response) writeStatusLine(code int) {
	bw := w.c.bw
	if text := http.StatusText(code); text != "" {
		_, _ = bw.WriteString("HTTP/1.1 ")
		_, _ = bw.Write(strconv.AppendInt(w.scratch[:0], int64(code), 10))
		_ = bw.WriteByte(' ')
		_, _ = bw.WriteString(text)
		_, _ = bw.WriteString("\r\n")
		return
	}
	_, _ = fmt.Fprintf(bw, "HTTP/1.1 %03d status code %d\r\n", code, code)
}

// declareTrailers notes the fields a Trailer header announces (RFC 9110 section 6.6.2).
func (w *response) declareTrailers(v string) {
	for f := range strings.SplitSeq(v, ",") {
		if f = textproto.TrimString(f); f == "" {
			continue
		}
		if k := http.CanonicalHeaderKey(f); httpguts.ValidTrailerHeader(k) {
			w.trailers = append(w.trailers, k)
		}
	}
}

// finalTrailers are the trailers the handler set: the announced fields and those under
// http.TrailerPrefix.
func (w *response) finalTrailers() http.Header {
	var t http.Header
	for k, vv := range w.header {
		if kk, ok := strings.CutPrefix(k, http.TrailerPrefix); ok {
			if t == nil {
				t = http.Header{}
			}
			t[kk] = vv
		}
	}
	for _, k := range w.trailers {
		for _, v := range w.header[k] {
			if t == nil {
				t = http.Header{}
			}
			t.Add(k, v)
		}
	}
	return t
}

// excludedNoBody are the fields an interim (1xx) answer never carries.
var excludedNoBody = []string{"Content-Length", "Transfer-Encoding"}

// writeFields writes h's fields but those excluded, sorted by name as net/http does, with
// names that are not tokens left out and line breaks in values made spaces.
func writeFields(bw *bufio.Writer, h http.Header, excluded []string) {
	var keysArray [32]string
	keys := keysArray[:0]
	for k := range h {
		if !slices.Contains(excluded, k) {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	for _, k := range keys {
		if !httpguts.ValidHeaderFieldName(k) {
			continue
		}
		for _, v := range h[k] {
			if strings.ContainsAny(v, "\r\n") {
				v = newlineToSpace.Replace(v)
			}
			_, _ = bw.WriteString(k)
			_, _ = bw.WriteString(": ")
			_, _ = bw.WriteString(textproto.TrimString(v))
			_, _ = bw.WriteString("\r\n")
		}
	}
}

var newlineToSpace = strings.NewReplacer("\n", " ", "\r", " ")

func first(h http.Header, k string) string {
	if v := h[k]; len(v) > 0 {
		return v[0]
	}
	return ""
}

// hasToken reports whether v holds token as one of its comma-separated elements, in any
// case.
func hasToken(v, token string) bool {
	for f := range strings.SplitSeq(v, ",") {
		if strings.EqualFold(textproto.TrimString(f), token) {
			return true
		}
	}
	return false
}

func bodyAllowed(status int) bool {
	return (status < 100 || status > 199) && status != http.StatusNoContent && status != http.StatusNotModified
}
