package middleware

import (
	"bufio"
	"io"
	"math"
	"mime"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/andybalholm/brotli"
	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"

	"github.com/bridgehead/bridgehead/internal/snapshot"
)

const (
	encGzip     = "gzip"
	encBrotli   = "br"
	encZstd     = "zstd"
	encIdentity = "identity"
	encAny      = "*"
	grpcType    = "application/grpc"
)

var varyAcceptEncoding = "Accept-Encoding"

type compress struct {
	next            http.Handler
	excluded        []string // application/grpc first
	included        []string
	minBytes        int
	encodings       []string
	defaultEncoding string
}

func newCompress(c *snapshot.Compress, next http.Handler) http.Handler {
	m := &compress{next: next, excluded: append([]string{grpcType}, c.ExcludedContentTypes...), included: c.IncludedContentTypes,
		minBytes: int(c.MinResponseBodyBytes), encodings: c.Encodings, defaultEncoding: c.DefaultEncoding}
	if m.minBytes <= 0 {
		m.minBytes = 1024
	}
	for _, e := range m.encodings {
		if encoderPools[e] == nil {
			return broken{} // translate offers only these; a skew must not serve uncompressed silently
		}
	}
	return m
}

// ServeHTTP chooses the encoding from Accept-Encoding as Traefik does and compresses the
// response if it turns out eligible. HEAD requests, protocol upgrades and requests of an
// excluded type (application/grpc always) pass untouched.
func (m *compress) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodHead || r.Header.Get("Upgrade") != "" || slices.Contains(m.excluded, mediaType(r.Header.Get("Content-Type"))) {
		m.next.ServeHTTP(w, r)
		return
	}
	cw := &compressWriter{rw: w, m: m, encoding: m.choose(r.Header)}
	defer cw.finish()
	m.next.ServeHTTP(cw, r)
}

// choose picks the encoding for a request ("" for none): without Accept-Encoding the
// default encoding if one is set (RFC 9110 lets a server pick any), with an empty one
// none; otherwise the accepted encoding of highest weight, ties broken by the order of
// encodings, and * meaning the default encoding or else the first listed.
func (m *compress) choose(h http.Header) string {
	values, ok := h["Accept-Encoding"]
	if !ok {
		return m.defaultEncoding
	}
	if len(values) == 1 && strings.TrimSpace(values[0]) == "" {
		return ""
	}
	best, bestQ, bestRank := "", 0.0, 0
	rank := func(e string) int {
		switch e {
		case encAny:
			return -1
		case encIdentity:
			return len(m.encodings)
		}
		return slices.Index(m.encodings, e)
	}
	for _, v := range values {
		for item := range strings.SplitSeq(v, ",") {
			name, params, _ := strings.Cut(item, ";")
			name = strings.ToLower(strings.TrimSpace(name))
			if name != encAny && name != encIdentity && !slices.Contains(m.encodings, name) {
				continue
			}
			q := 1.0
			if qv, ok := strings.CutPrefix(strings.ReplaceAll(params, " ", ""), "q="); ok {
				f, err := strconv.ParseFloat(qv, 64)
				if err != nil || math.IsNaN(f) || f < 0 || f > 1 {
					continue
				}
				q = f
			}
			if q == 0 {
				continue
			}
			if r := rank(name); best == "" || q > bestQ || q == bestQ && r < bestRank {
				best, bestQ, bestRank = name, q, r
			}
		}
	}
	switch best {
	case encAny:
		if m.defaultEncoding != "" {
			return m.defaultEncoding
		}
		return m.encodings[0]
	case encIdentity:
		return ""
	}
	return best
}

// mediaType is the lower-case media type of a Content-Type value, "" if it has none.
func mediaType(v string) string {
	if v == "" {
		return ""
	}
	mt, _, err := mime.ParseMediaType(v)
	if err != nil {
		return ""
	}
	return mt
}

// compressWriter holds back the status and the first minBytes of the body until it
// knows whether the response is compressed: only one with a body of at least minBytes,
// no Content-Encoding of its own, an eligible type and a status that carries a whole
// representation is.
type compressWriter struct {
	rw       http.ResponseWriter
	m        *compress
	encoding string // "" never compresses

	code    int  // held status, 0 until WriteHeader
	decided bool // headers sent (or the choice made)
	enc     encoder
	buf     []byte
}

func (w *compressWriter) Header() http.Header { return w.rw.Header() }

// Unwrap lets http.ResponseController reach the server's writer (deadlines, hijack).
func (w *compressWriter) Unwrap() http.ResponseWriter { return w.rw }

func (w *compressWriter) WriteHeader(code int) {
	if w.decided || w.code != 0 {
		return
	}
	if code < 200 {
		w.rw.WriteHeader(code) // informational: sent at once, the final status follows
		return
	}
	w.code = code
	if !w.mayCompress(false) {
		w.decide(false)
	}
}

func (w *compressWriter) Write(p []byte) (int, error) {
	if w.code == 0 {
		w.WriteHeader(http.StatusOK)
	}
	if w.decided {
		if w.enc != nil {
			return w.enc.Write(p)
		}
		return w.rw.Write(p)
	}
	w.buf = append(w.buf, p...)
	if len(w.buf) >= w.m.minBytes {
		w.decide(w.mayCompress(true))
	}
	return len(p), nil
}

// Flush sends what is held. The reverse proxy flushes after every write of a response
// of unknown length, so a body without Content-Length that is flushed before
// minBytes is taken to be long enough (as Traefik's gzip handler does) and compressed
// if eligible; one whose Content-Length is below minBytes is not.
func (w *compressWriter) Flush() {
	if !w.decided {
		if len(w.buf) == 0 {
			return // nothing to send yet: the headers wait for the body
		}
		w.decide(w.mayCompress(true))
	}
	if w.enc != nil {
		_ = w.enc.Flush() // a write error surfaces on the next Write
	}
	if f, ok := w.rw.(http.Flusher); ok {
		f.Flush()
	}
}

// Hijack passes through for protocol switches that bypass ResponseController.
func (w *compressWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	return http.NewResponseController(w.rw).Hijack()
}

// finish sends a held response (too short to compress) and closes the encoder.
func (w *compressWriter) finish() {
	if !w.decided {
		if w.code == 0 && len(w.buf) == 0 {
			return // the handler wrote nothing: net/http answers 200 itself
		}
		if w.code == 0 {
			w.code = http.StatusOK
		}
		w.decide(len(w.buf) >= w.m.minBytes && w.mayCompress(true))
	}
	if w.enc != nil {
		_ = w.enc.Close()
		w.enc.release()
		w.enc = nil
	}
}

// mayCompress reports whether the response can still be compressed, from its status
// and headers; withBody also detects a missing Content-Type from the held bytes, which
// is then sent, as Traefik does.
func (w *compressWriter) mayCompress(withBody bool) bool {
	h := w.rw.Header()
	switch w.code {
	case http.StatusNoContent, http.StatusNotModified, http.StatusPartialContent:
		return false
	}
	if _, ok := h["Content-Encoding"]; ok {
		return false // already encoded (even as identity): never encoded twice
	}
	if cl := h.Get("Content-Length"); cl != "" {
		if n, err := strconv.ParseInt(cl, 10, 64); err == nil && n < int64(w.m.minBytes) {
			return false
		}
	}
	ct := h.Get("Content-Type")
	if ct == "" {
		if !withBody {
			return true // decided once the body is seen
		}
		ct = http.DetectContentType(w.buf)
		h["Content-Type"] = []string{ct}
	}
	mt := mediaType(ct)
	if len(w.m.included) > 0 {
		if !slices.Contains(w.m.included, mt) {
			return false
		}
	} else if slices.Contains(w.m.excluded, mt) {
		return false
	}
	w.addVary(h)
	return w.encoding != ""
}

// addVary lists Accept-Encoding in Vary: the response depends on it, compressed or not.
func (w *compressWriter) addVary(h http.Header) {
	for _, v := range h.Values("Vary") {
		for item := range strings.SplitSeq(v, ",") {
			if item = strings.TrimSpace(item); item == "*" || strings.EqualFold(item, varyAcceptEncoding) {
				return
			}
		}
	}
	h.Add("Vary", varyAcceptEncoding)
}

// decide sends the status and headers, compressed or not, then what is held.
func (w *compressWriter) decide(compressed bool) {
	w.decided = true
	h := w.rw.Header()
	if compressed {
		h.Del("Content-Length")
		h.Del("Accept-Ranges") // byte ranges would be of the encoded body
		h["Content-Encoding"] = []string{w.encoding}
		if et := h.Get("Etag"); et != "" && !strings.HasPrefix(et, "W/") {
			h.Set("Etag", "W/"+et) // another representation: the strong validator no longer holds
		}
		w.enc = encoderPools[w.encoding].get(w.rw)
	}
	w.rw.WriteHeader(w.code)
	if len(w.buf) > 0 {
		var err error
		if w.enc != nil {
			_, err = w.enc.Write(w.buf)
		} else {
			_, err = w.rw.Write(w.buf)
		}
		_ = err // the client went away; the handler's next Write sees it
	}
	w.buf = nil
}

// encoder is a pooled compressor writing to one response.
type encoder interface {
	io.WriteCloser
	Flush() error
	release()
}

type encoderPool struct {
	pool sync.Pool
	make func(io.Writer) resettable
}

type resettable interface {
	io.WriteCloser
	Flush() error
	Reset(io.Writer)
}

type pooled struct {
	resettable
	from *encoderPool
}

func (p *pooled) release() {
	p.Reset(io.Discard)
	p.from.pool.Put(p)
}

func (p *encoderPool) get(w io.Writer) encoder {
	if e, ok := p.pool.Get().(*pooled); ok {
		e.Reset(w)
		return e
	}
	return &pooled{resettable: p.make(w), from: p}
}

// zstdEncoder adapts zstd.Encoder (whose Reset has the same shape) to resettable.
type zstdEncoder struct{ *zstd.Encoder }

// encoderPools holds the encodings the gateway provides, Traefik v3's three. Levels
// are the libraries' defaults, as Traefik's; zstd runs in the request's goroutine and
// with the smaller window, so that one response does not hold megabytes.
var encoderPools = map[string]*encoderPool{
	encGzip: {make: func(w io.Writer) resettable { return gzip.NewWriter(w) }},
	encBrotli: {make: func(w io.Writer) resettable {
		return brotli.NewWriterLevel(w, brotli.DefaultCompression)
	}},
	encZstd: {make: func(w io.Writer) resettable {
		e, _ := zstd.NewWriter(w, zstd.WithEncoderConcurrency(1), zstd.WithLowerEncoderMem(true), zstd.WithWindowSize(1<<20))
		return zstdEncoder{e}
	}},
}
