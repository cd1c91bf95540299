package middleware

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"os"
	"strconv"

	"github.com/bridgehead/bridgehead/internal/snapshot"
)

// buffering is Traefik's buffering: the request body is read whole (a larger one than
// maxRequest gets 413 and never reaches the backend) and sent with a Content-Length; the
// response is read whole too (a larger one than maxResponse is replaced by 500). Beyond
// the mem thresholds a body waits in a temporary file, removed when the request ends.
type buffering struct {
	next             http.Handler
	maxReq, memReq   int64
	maxResp, memResp int64
}

func newBuffering(c *snapshot.Buffering, next http.Handler) http.Handler {
	return &buffering{next: next, maxReq: c.MaxRequestBodyBytes, memReq: c.MemRequestBodyBytes, maxResp: c.MaxResponseBodyBytes, memResp: c.MemResponseBodyBytes}
}

var (
	errBodyTooLarge  = errors.New("body too large")
	tooLargeBody     = []byte("Request Entity Too Large\n")
	responseTooLarge = []byte("Internal Server Error\n")
)

func (m *buffering) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Body != nil && r.Body != http.NoBody {
		s := &spool{max: m.maxReq, mem: m.memReq}
		defer s.discard()
		if _, err := io.Copy(s, r.Body); err != nil {
			if errors.Is(err, errBodyTooLarge) {
				writeText(w, http.StatusRequestEntityTooLarge, tooLargeBody)
				return
			}
			// The client's body failed to arrive (the server's own read errors, such as
			// its body timeout, have answered already if they can).
			writeText(w, http.StatusBadRequest, []byte("Bad Request\n"))
			return
		}
		body, err := s.reader()
		if err != nil {
			writeText(w, http.StatusInternalServerError, responseTooLarge)
			return
		}
		r.Body, r.ContentLength = body, s.n
		r.TransferEncoding = nil
		r.Header.Del("Transfer-Encoding")
	}
	bw := &bufferedResponse{header: http.Header{}, body: spool{max: m.maxResp, mem: m.memResp}}
	defer bw.body.discard()
	if !serveBuffered(m.next, bw, r) || bw.err != nil {
		writeText(w, http.StatusInternalServerError, responseTooLarge)
		return
	}
	h := w.Header()
	for k, v := range bw.header {
		h[k] = v
	}
	if bw.code == 0 {
		bw.code = http.StatusOK
	}
	h.Del("Transfer-Encoding")
	if bw.code != http.StatusNoContent && bw.code != http.StatusNotModified && bw.code >= 200 {
		h.Set("Content-Length", strconv.FormatInt(bw.body.n, 10))
	}
	w.WriteHeader(bw.code)
	body, err := bw.body.reader()
	if err != nil {
		return // the header is out; a truncated body is all that can be told
	}
	_, _ = io.Copy(w, body)
}

// bufferedResponse holds the backend's answer until it is complete.
type bufferedResponse struct {
	header http.Header
	code   int
	body   spool
	err    error
}

func (b *bufferedResponse) Header() http.Header { return b.header }
func (b *bufferedResponse) WriteHeader(code int) {
	if b.code == 0 && code >= 200 { // 1xx informational answers are not buffered
		b.code = code
	}
}
func (b *bufferedResponse) Write(p []byte) (int, error) {
	if b.code == 0 {
		b.code = http.StatusOK
	}
	if b.err != nil {
		return 0, b.err
	}
	n, err := b.body.Write(p)
	if err != nil {
		b.err = err
	}
	return n, err
}

// spool holds a body in memory up to mem bytes, then in a temporary file; more than max
// bytes (when max > 0) fail with errBodyTooLarge.
type spool struct {
	max, mem int64
	n        int64
	buf      bytes.Buffer
	file     *os.File
}

func (s *spool) Write(p []byte) (int, error) {
	if s.max > 0 && s.n+int64(len(p)) > s.max {
		return 0, errBodyTooLarge
	}
	s.n += int64(len(p))
	if s.file == nil && int64(s.buf.Len()+len(p)) <= s.mem {
		return s.buf.Write(p)
	}
	if s.file == nil {
		f, err := os.CreateTemp("", "bridgehead-buffering-*")
		if err != nil {
			return 0, err
		}
		s.file = f
		if _, err := f.Write(s.buf.Bytes()); err != nil {
			return 0, err
		}
		s.buf = bytes.Buffer{}
	}
	return s.file.Write(p)
}

// reader returns the whole body from its start.
func (s *spool) reader() (io.ReadCloser, error) {
	if s.file == nil {
		return io.NopCloser(bytes.NewReader(s.buf.Bytes())), nil
	}
	if _, err := s.file.Seek(0, io.SeekStart); err != nil {
		return nil, err
	}
	return io.NopCloser(s.file), nil
}

// discard removes the temporary file, if any.
func (s *spool) discard() {
	if s.file != nil {
		_ = s.file.Close()
		_ = os.Remove(s.file.Name())
		s.file = nil
	}
}

// serveBuffered runs next into bw. The reverse proxy aborts (panics with
// http.ErrAbortHandler) when a write fails, which is how a response too large for bw
// stops being read from the backend; that abort is caught here and reported as false,
// so the client gets 500. Any other panic goes on.
func serveBuffered(next http.Handler, bw *bufferedResponse, r *http.Request) (ok bool) {
	defer func() {
		if v := recover(); v != nil {
			if err, _ := v.(error); !errors.Is(err, http.ErrAbortHandler) || bw.err == nil {
				panic(v)
			}
			ok = false
		}
	}()
	next.ServeHTTP(bw, r)
	return true
}
