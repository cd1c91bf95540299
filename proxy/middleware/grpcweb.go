package middleware

import (
	"encoding/base64"
	"encoding/binary"
	"io"
	"net/http"
	"slices"
	"sort"
	"strings"

	"github.com/bridgehead/bridgehead/internal/snapshot"
)

const (
	grpcWebType     = "application/grpc-web"
	grpcWebTextType = "application/grpc-web-text"
	// grpcTrailerFlag marks the frame that carries the trailers in a gRPC-Web body.
	grpcTrailerFlag = 0x80
)

type grpcWeb struct {
	next    http.Handler
	origins []string
	any     bool
}

func newGrpcWeb(c *snapshot.GrpcWeb, next http.Handler) http.Handler {
	return &grpcWeb{next: next, origins: c.AllowOrigins, any: slices.Contains(c.AllowOrigins, "*")}
}

// ServeHTTP translates gRPC-Web (POST with application/grpc-web[-text][+codec]) into
// gRPC to the backend, and answers the CORS preflight of gRPC-Web clients. Anything
// else passes untouched.
func (m *grpcWeb) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	ct := r.Header.Get("Content-Type")
	switch {
	case r.Method == http.MethodPost && strings.HasPrefix(ct, grpcWebType):
		m.serveGrpcWeb(w, r, ct)
	case r.Method == http.MethodOptions && r.Header.Get("Access-Control-Request-Method") != "" && listsToken(r.Header.Values("Access-Control-Request-Headers"), "x-grpc-web"):
		m.preflight(w, r)
	default:
		m.next.ServeHTTP(w, r)
	}
}

func (m *grpcWeb) allowed(origin string) bool {
	return origin != "" && (m.any || slices.Contains(m.origins, origin))
}

// preflight answers a browser's CORS preflight itself (204); an origin not allowed gets
// no CORS headers, so the browser does not send the call.
func (m *grpcWeb) preflight(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Add("Vary", "Origin")
	h.Add("Vary", "Access-Control-Request-Method")
	h.Add("Vary", "Access-Control-Request-Headers")
	if origin := r.Header.Get("Origin"); m.allowed(origin) && strings.EqualFold(r.Header.Get("Access-Control-Request-Method"), http.MethodPost) {
		h.Set("Access-Control-Allow-Origin", origin)
		h.Set("Access-Control-Allow-Credentials", "true")
		h.Set("Access-Control-Allow-Methods", http.MethodPost)
		if req := r.Header.Values("Access-Control-Request-Headers"); len(req) > 0 {
			h.Set("Access-Control-Allow-Headers", strings.Join(req, ", "))
		}
		h.Set("Access-Control-Max-Age", "600")
	}
	w.WriteHeader(http.StatusNoContent)
}

// serveGrpcWeb rewrites the request into gRPC: the content type, the body (base64
// decoded for -text), HTTP/2 with "te: trailers" (the upstream transport of an h2c or
// https service speaks HTTP/2), then converts the answer back.
func (m *grpcWeb) serveGrpcWeb(w http.ResponseWriter, r *http.Request, ct string) {
	text := strings.HasPrefix(ct, grpcWebTextType)
	codec := strings.TrimPrefix(strings.TrimPrefix(ct, grpcWebTextType), grpcWebType) // "", "+proto", ...
	r.Header.Set("Content-Type", "application/grpc"+codec)
	r.Header.Del("Content-Length")
	r.ContentLength = -1
	if text && r.Body != nil {
		r.Body = struct {
			io.Reader
			io.Closer
		}{base64.NewDecoder(base64.StdEncoding, r.Body), r.Body}
	}
	r.Header.Set("Te", "trailers")
	r.Proto, r.ProtoMajor, r.ProtoMinor = "HTTP/2.0", 2, 0
	gw := &grpcWebWriter{rw: w, text: text}
	if origin := r.Header.Get("Origin"); m.allowed(origin) {
		gw.origin = origin
	}
	m.next.ServeHTTP(gw, r)
	gw.finish()
}

// grpcWebWriter turns a gRPC response into gRPC-Web: the content type renamed, the
// HTTP/2 trailers written into the body as the trailer frame (flag 0x80, a 4-byte
// length, then "name: value\r\n" lines), everything base64 for -text.
type grpcWebWriter struct {
	rw     http.ResponseWriter
	text   bool
	origin string // allowed CORS origin of the call, "" for none

	wroteHeader bool
	trailers    []string // trailer names the backend announced
	b64         io.WriteCloser
}

func (w *grpcWebWriter) Header() http.Header { return w.rw.Header() }

func (w *grpcWebWriter) Unwrap() http.ResponseWriter { return w.rw }

func (w *grpcWebWriter) WriteHeader(code int) {
	if w.wroteHeader {
		return
	}
	if code < 200 {
		w.rw.WriteHeader(code)
		return
	}
	w.wroteHeader = true
	h := w.rw.Header()
	if ct := h.Get("Content-Type"); strings.HasPrefix(ct, "application/grpc") && !strings.HasPrefix(ct, grpcWebType) {
		web := grpcWebType
		if w.text {
			web = grpcWebTextType
		}
		h.Set("Content-Type", web+strings.TrimPrefix(ct, "application/grpc"))
	}
	for _, v := range h.Values("Trailer") {
		for name := range strings.SplitSeq(v, ",") {
			if name = strings.TrimSpace(name); name != "" {
				w.trailers = append(w.trailers, http.CanonicalHeaderKey(name))
			}
		}
	}
	delete(h, "Trailer") // they travel in the body
	h.Del("Content-Length")
	if w.origin != "" {
		var names []string
		for k := range h {
			if !strings.HasPrefix(k, "Access-Control-") && k != "Vary" {
				names = append(names, strings.ToLower(k))
			}
		}
		names = append(names, "grpc-status", "grpc-message", "grpc-status-details-bin")
		sort.Strings(names)
		h.Set("Access-Control-Allow-Origin", w.origin)
		h.Set("Access-Control-Allow-Credentials", "true")
		h.Set("Access-Control-Expose-Headers", strings.Join(slices.Compact(names), ", "))
		h.Add("Vary", "Origin")
	}
	w.rw.WriteHeader(code)
	if w.text {
		w.b64 = base64.NewEncoder(base64.StdEncoding, w.rw)
	}
}

func (w *grpcWebWriter) Write(p []byte) (int, error) {
	if !w.wroteHeader {
		w.WriteHeader(http.StatusOK)
	}
	if w.b64 != nil {
		return w.b64.Write(p)
	}
	return w.rw.Write(p)
}

// Flush sends what is written; base64 holds back at most two bytes until more come.
func (w *grpcWebWriter) Flush() {
	if !w.wroteHeader {
		w.WriteHeader(http.StatusOK)
	}
	if f, ok := w.rw.(http.Flusher); ok {
		f.Flush()
	}
}

// finish writes the trailers the backend sent as the trailer frame, and removes them
// from the header so that net/http does not send them as HTTP trailers too. A
// trailers-only answer (grpc-status among the headers) needs no frame.
func (w *grpcWebWriter) finish() {
	if !w.wroteHeader {
		return // nothing was answered; net/http sends its own empty 200
	}
	h := w.rw.Header()
	var block strings.Builder
	add := func(name string, values []string) {
		for _, v := range values {
			block.WriteString(strings.ToLower(name))
			block.WriteString(": ")
			block.WriteString(v)
			block.WriteString("\r\n")
		}
	}
	for _, name := range w.trailers {
		add(name, h[name])
		delete(h, name)
	}
	var prefixed []string
	for k := range h {
		if strings.HasPrefix(k, http.TrailerPrefix) {
			prefixed = append(prefixed, k)
		}
	}
	sort.Strings(prefixed) // a stable order for clients and tests
	for _, k := range prefixed {
		add(strings.TrimPrefix(k, http.TrailerPrefix), h[k])
		delete(h, k)
	}
	if block.Len() > 0 {
		frame := make([]byte, 5, 5+block.Len())
		frame[0] = grpcTrailerFlag
		binary.BigEndian.PutUint32(frame[1:], uint32(block.Len()))
		frame = append(frame, block.String()...)
		_, _ = w.Write(frame) // the client went away: nothing left to tell it
	}
	if w.b64 != nil {
		_ = w.b64.Close() // writes the last group, padded
	}
}

// listsToken reports whether a comma-separated header lists token (case-insensitive).
func listsToken(values []string, token string) bool {
	for _, v := range values {
		for item := range strings.SplitSeq(v, ",") {
			if strings.EqualFold(strings.TrimSpace(item), token) {
				return true
			}
		}
	}
	return false
}
