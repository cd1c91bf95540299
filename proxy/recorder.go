package proxy

import (
	"net/http"
	"sync"
)

// recorder captures the status code for metrics and the access log. It is pooled, and it
// unwraps, so http.ResponseController (used by ReverseProxy to flush and to hijack for
// WebSocket) reaches the server's own writer.
type recorder struct {
	http.ResponseWriter
	status int
	reason string // classified upstream failure, for the access log
	// body is the request's watched body (nil without one); clientError is the typed
	// reason of a failure that was the client's (its body), for the access log.
	body        *clientBody
	clientError string
}

var recorders = sync.Pool{New: func() any { return new(recorder) }}

func getRecorder(w http.ResponseWriter) *recorder {
	r := recorders.Get().(*recorder)
	r.ResponseWriter, r.status, r.reason, r.body, r.clientError = w, 0, "", nil, ""
	return r
}

func putRecorder(r *recorder) {
	r.ResponseWriter, r.body = nil, nil
	recorders.Put(r)
}

func (r *recorder) WriteHeader(code int) {
	if r.status == 0 && code >= 200 {
		r.status = code
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *recorder) Write(p []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	return r.ResponseWriter.Write(p)
}

// Flush keeps streaming fast without going through ResponseController.
func (r *recorder) Flush() {
	if f, ok := r.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

func (r *recorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

func (r *recorder) code() int {
	if r.status == 0 {
		return http.StatusOK
	}
	return r.status
}

// bufferPool lends ReverseProxy its copy buffers. ReverseProxy takes one for every
// response, however small, and holds it while it waits for the body, so under many
// concurrent HTTP/2 streams these buffers were most of the live heap (over 4 MiB with
// Go's 32 KiB under 320 streams). 8 KiB is nginx's default proxy buffer; a bulk body
// then goes out in 8 KiB TLS records instead of 16 KiB ones.
type bufferPool struct{ p sync.Pool }

// copyBufferSize is the size of the buffers bufferPool lends.
const copyBufferSize = 8 << 10

func newBufferPool() *bufferPool {
	return &bufferPool{p: sync.Pool{New: func() any { b := make([]byte, copyBufferSize); return &b }}}
}

func (b *bufferPool) Get() []byte  { return *(b.p.Get().(*[]byte)) }
func (b *bufferPool) Put(v []byte) { b.p.Put(&v) }

// get and put lend a buffer by its pointer, which Put must allocate anew: the direct
// way (direct.go) is not bound to httputil.BufferPool's signature.
func (b *bufferPool) get() *[]byte  { return b.p.Get().(*[]byte) }
func (b *bufferPool) put(v *[]byte) { b.p.Put(v) }
