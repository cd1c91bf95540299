package proxy

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/bridgehead/bridgehead/proxy/upstream"
)

// clientBody is a request body on its way to a backend. It does two jobs:
//
//   - it remembers the first error reading the client's body failed with. The transport
//     reports that error as the round trip's, and it reads like a backend's failure (an
//     unexpected EOF is ConnectionReset), so without this a malformed chunk or an upload
//     the client cut off was answered 502 and marked the backend not Ready. The error
//     handler asks the body first (clientBodyFailed);
//   - it bounds how long one read may wait for the client (Config.RequestBodyIdleTimeout),
//     so a client that stalls its upload does not hold a backend connection forever.
//     Only time spent waiting on the client counts: while the transport is not reading
//     (a slow backend pushing back) the clock does not run.
//
// It is made only for requests that have a body, and not pooled: the transport's writer
// may still read it after the handler has returned (ReverseProxy says as much), and a
// recycled one would hand that read another request's body.
type clientBody struct {
	body io.ReadCloser
	rd   readDeadliner // the server's ResponseWriter: fails a pending read when time is up
	idle int64         // nanoseconds; 0: no timeout

	readingSince atomic.Int64 // monotonic nanoseconds the pending Read started at; 0: none
	err          atomic.Pointer[error]
	timedOut     atomic.Bool
	finished     atomic.Bool // EOF, an error, or the handler returned: the watchdog stops
	watchdog     atomic.Pointer[time.Timer]
}

// readDeadliner is implemented by net/http's HTTP/1 and HTTP/2 response writers; for
// HTTP/2 it fails only the stream's body, not the connection.
type readDeadliner interface{ SetReadDeadline(time.Time) error }

// monoStart anchors monotonic readings: time.Since(monoStart) never goes back.
var monoStart = time.Now()

func mono() int64 { return int64(time.Since(monoStart)) }

// watchBody replaces r.Body with a clientBody. w is net/http's own ResponseWriter.
func (s *Server) watchBody(w http.ResponseWriter, r *http.Request) *clientBody {
	b := &clientBody{body: r.Body}
	if d := s.cfg.RequestBodyIdleTimeout; d > 0 {
		if rd, ok := w.(readDeadliner); ok {
			b.rd, b.idle = rd, int64(d)
			b.watchdog.Store(time.AfterFunc(d, b.watch))
		}
	}
	r.Body = b
	return b
}

func (b *clientBody) Read(p []byte) (int, error) {
	if b.idle != 0 {
		b.readingSince.Store(mono())
	}
	n, err := b.body.Read(p)
	if b.idle != 0 {
		b.readingSince.Store(0)
	}
	if err != nil {
		if err != io.EOF && !errors.Is(err, http.ErrBodyReadAfterClose) && !b.finished.Load() {
			b.err.CompareAndSwap(nil, &err)
		}
		b.finished.Store(true)
	}
	return n, err
}

func (b *clientBody) Close() error {
	b.finished.Store(true)
	return b.body.Close()
}

// watch runs on the watchdog timer: it fails a read that has waited idle for the client,
// and otherwise looks again when the pending read (or the next) could have waited so long.
func (b *clientBody) watch() {
	if b.finished.Load() {
		return
	}
	next := b.idle
	if since := b.readingSince.Load(); since != 0 {
		waited := mono() - since
		if waited >= b.idle {
			b.timedOut.Store(true)
			// A deadline in the past fails the pending read now (the connection's for
			// HTTP/1, the stream's body for HTTP/2); writes are not affected, so the
			// client can still be told.
			_ = b.rd.SetReadDeadline(time.Unix(1, 0))
			return
		}
		next = b.idle - waited
	}
	if t := b.watchdog.Load(); t != nil {
		t.Reset(time.Duration(next))
	}
}

// stop ends the watchdog once the handler has returned.
func (b *clientBody) stop() {
	b.finished.Store(true)
	if t := b.watchdog.Load(); t != nil {
		t.Stop()
	}
}

// clientBodyFailed answers a failed round trip that was the client's doing: its body was
// malformed (400 ClientBodyMalformed), stalled (408 ClientBodyTimeout), or cut off (499,
// logged only). Such a failure is never recorded against the backend: no observation, no
// upstream failure metric, no ejection. It reports false when the body did not fail.
//
// Only what happens before the backend answers reaches here. Once the response has
// started, a body that fails just ends the upload: the backend sees its request aborted
// and the client gets the response as far as it goes, since its status is already sent.
func (s *Server) clientBodyFailed(w http.ResponseWriter, req *http.Request, rec *recorder) bool {
	b := rec.body
	if b == nil {
		return false
	}
	p := b.err.Load()
	if p == nil {
		return false
	}
	status, reason := classifyBodyError(req.Context(), *p, b.timedOut.Load())
	rec.clientError = reason
	s.log.Debug("client request body failed", "reason", reason, "client", req.RemoteAddr, "error", (*p).Error())
	if status == upstream.StatusClientClosedRequest {
		w.WriteHeader(status)
		return true
	}
	if req.ProtoMajor == 1 {
		// The rest of the body cannot be framed. (On HTTP/2 the stream ends alone: there,
		// Connection: close would shut the whole connection down.)
		w.Header()["Connection"] = connectionClose
	}
	s.fail(w, status, reason)
	return true
}

// classifyBodyError tells a stalled body and a client that went away from a body that
// does not parse (a bad chunk, more data than Content-Length, ...).
func classifyBodyError(ctx context.Context, err error, timedOut bool) (int, string) {
	var ne net.Error
	switch {
	case timedOut || errors.Is(err, os.ErrDeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout()):
		return http.StatusRequestTimeout, reasonClientBodyTimeout
	case ctx.Err() != nil, errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, net.ErrClosed),
		errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE), errors.Is(err, syscall.ECONNABORTED),
		strings.Contains(err.Error(), "client disconnected"):
		// A client's RST_STREAM (HTTP/2) or a closed connection also cancels ctx.
		return upstream.StatusClientClosedRequest, string(upstream.ClientCanceled)
	}
	return http.StatusBadRequest, reasonClientBodyMalformed
}
