package middleware

import (
	"encoding/binary"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/bridgehead/bridgehead/internal/snapshot"
)

// Trailers the backend declared (Trailer header, as the reverse proxy passes them on)
// and undeclared ones (TrailerPrefix) both end up in the trailer frame, and neither is
// left for net/http to send as HTTP trailers.
func TestGrpcWebTrailerFrame(t *testing.T) {
	var seen *http.Request
	backend := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen = r
		w.Header().Set("Content-Type", "application/grpc")
		w.Header().Set("Trailer", "Grpc-Status")
		_, _ = w.Write([]byte{0, 0, 0, 0, 1, 'x'})
		w.Header().Set("Grpc-Status", "7")
		w.Header().Set(http.TrailerPrefix+"Grpc-Message", "denied")
	})
	h := Chain([]*snapshot.Middleware{{GrpcWeb: &snapshot.GrpcWeb{AllowOrigins: []string{"*"}}}}, backend)
	r := httptest.NewRequest(http.MethodPost, "/svc/M", strings.NewReader("\x00\x00\x00\x00\x01y"))
	r.Header.Set("Content-Type", "application/grpc-web")
	r.Header.Set("Content-Length", "6")
	r.Header.Set("Origin", "https://a.example")
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)

	if seen.Header.Get("Content-Type") != "application/grpc" || seen.Header.Get("Te") != "trailers" || seen.ContentLength != -1 || seen.ProtoMajor != 2 {
		t.Errorf("backend saw %q te=%q length %d proto %d", seen.Header.Get("Content-Type"), seen.Header.Get("Te"), seen.ContentLength, seen.ProtoMajor)
	}
	body := w.Body.Bytes()
	if w.Header().Get("Content-Type") != "application/grpc-web" || len(body) < 11 {
		t.Fatalf("answer %q %q", w.Header().Get("Content-Type"), body)
	}
	frame := body[6:]
	if frame[0] != 0x80 || int(binary.BigEndian.Uint32(frame[1:5])) != len(frame)-5 {
		t.Fatalf("trailer frame header % x", frame[:5])
	}
	if got := string(frame[5:]); got != "grpc-status: 7\r\ngrpc-message: denied\r\n" {
		t.Errorf("trailer block %q", got)
	}
	for k := range w.Result().Trailer {
		t.Errorf("HTTP trailer %s still sent", k)
	}
	if w.Header().Get("Trailer") != "" || w.Header().Get("Access-Control-Allow-Origin") != "https://a.example" {
		t.Errorf("headers %v", w.Header())
	}
}

// Requests that are not gRPC-Web, and preflights that are not a gRPC-Web client's, pass.
func TestGrpcWebPassesOthers(t *testing.T) {
	for _, r := range []*http.Request{
		httptest.NewRequest(http.MethodGet, "/", nil),
		httptest.NewRequest(http.MethodPost, "/", strings.NewReader("{}")),
		func() *http.Request {
			r := httptest.NewRequest(http.MethodOptions, "/", nil)
			r.Header.Set("Access-Control-Request-Method", "PUT")
			r.Header.Set("Access-Control-Request-Headers", "content-type")
			return r
		}(),
	} {
		next := &capture{}
		h := Chain([]*snapshot.Middleware{{GrpcWeb: &snapshot.GrpcWeb{AllowOrigins: []string{"*"}}}}, next)
		h.ServeHTTP(httptest.NewRecorder(), r)
		if !next.called {
			t.Errorf("%s %s did not reach the backend", r.Method, r.Header.Get("Content-Type"))
		}
	}
}
