package middleware

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/andybalholm/brotli"
	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"

	"github.com/bridgehead/bridgehead/internal/snapshot"
)

func defaultCompress() *snapshot.Compress {
	return &snapshot.Compress{MinResponseBodyBytes: 1024, Encodings: []string{"gzip", "br", "zstd"}}
}

// backendWriting answers body with the given headers, in writes of chunk bytes.
func backendWriting(body string, chunk int, header map[string]string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		for k, v := range header {
			w.Header().Set(k, v)
		}
		for rest := body; len(rest) > 0; {
			n := min(chunk, len(rest))
			_, _ = io.WriteString(w, rest[:n])
			rest = rest[n:]
		}
	})
}

func decode(t *testing.T, encoding string, b []byte) string {
	t.Helper()
	var r io.Reader
	var err error
	switch encoding {
	case "":
		return string(b)
	case "gzip":
		r, err = gzip.NewReader(bytes.NewReader(b))
	case "br":
		r = brotli.NewReader(bytes.NewReader(b))
	case "zstd":
		var d *zstd.Decoder
		d, err = zstd.NewReader(bytes.NewReader(b))
		if err == nil {
			defer d.Close()
			r = d
		}
	default:
		t.Fatalf("unexpected Content-Encoding %q", encoding)
	}
	if err != nil {
		t.Fatal(err)
	}
	out, err := io.ReadAll(r)
	if err != nil {
		t.Fatalf("%s body does not decode: %v", encoding, err)
	}
	return string(out)
}

func TestCompressChoosesEncoding(t *testing.T) {
	big := strings.Repeat("compress me please ", 200)
	tuned := &snapshot.Compress{MinResponseBodyBytes: 1024, Encodings: []string{"zstd", "gzip"}, DefaultEncoding: "gzip"}
	tests := []struct {
		name     string
		cfg      *snapshot.Compress
		accept   []string // nil = no Accept-Encoding header
		want     string   // Content-Encoding, "" = not compressed
		wantVary bool
	}{
		{"gzip", defaultCompress(), []string{"gzip"}, "gzip", true},
		{"br", defaultCompress(), []string{"br"}, "br", true},
		{"zstd", defaultCompress(), []string{"zstd"}, "zstd", true},
		{"ties go to the first listed", defaultCompress(), []string{"zstd, br, gzip"}, "gzip", true},
		{"weights win over order", defaultCompress(), []string{"gzip;q=0.5, br;q=0.9"}, "br", true},
		{"q=0 refuses", defaultCompress(), []string{"gzip;q=0, zstd"}, "zstd", true},
		{"unknown only", defaultCompress(), []string{"deflate"}, "", true},
		{"identity preferred", defaultCompress(), []string{"identity, gzip;q=0.5"}, "", true},
		{"wildcard takes the first listed", defaultCompress(), []string{"*"}, "gzip", true},
		{"wildcard takes the default", tuned, []string{"*"}, "gzip", true},
		{"empty header: none", defaultCompress(), []string{""}, "", true},
		{"no header: none", defaultCompress(), nil, "", true},
		{"no header: the default encoding", tuned, nil, "gzip", true},
		{"header lists split", defaultCompress(), []string{"deflate", "br"}, "br", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := Chain([]*snapshot.Middleware{{Compress: tt.cfg}}, backendWriting(big, 700, map[string]string{"Content-Type": "text/plain"}))
			r := httptest.NewRequest(http.MethodGet, "/", nil)
			if tt.accept != nil {
				r.Header["Accept-Encoding"] = tt.accept
			}
			w := httptest.NewRecorder()
			h.ServeHTTP(w, r)
			got := w.Header().Get("Content-Encoding")
			if got != tt.want {
				t.Fatalf("Content-Encoding %q, want %q", got, tt.want)
			}
			if body := decode(t, got, w.Body.Bytes()); body != big {
				t.Errorf("body after decoding differs (%d bytes, want %d)", len(body), len(big))
			}
			if vary := w.Header().Get("Vary") == "Accept-Encoding"; vary != tt.wantVary {
				t.Errorf("Vary %q", w.Header().Values("Vary"))
			}
			if tt.want != "" && w.Header().Get("Content-Length") != "" {
				t.Errorf("a compressed body kept the backend's Content-Length")
			}
		})
	}
}

func TestCompressLeavesAlone(t *testing.T) {
	big := strings.Repeat("x", 5000)
	tests := []struct {
		name    string
		cfg     *snapshot.Compress
		method  string
		reqType string
		body    string
		header  map[string]string
		want    string // Content-Encoding expected
	}{
		{"already encoded", defaultCompress(), "GET", "", big, map[string]string{"Content-Type": "text/plain", "Content-Encoding": "br"}, "br"},
		{"identity is an encoding too", defaultCompress(), "GET", "", big, map[string]string{"Content-Type": "text/plain", "Content-Encoding": "identity"}, "identity"},
		{"below the minimum", defaultCompress(), "GET", "", strings.Repeat("x", 1023), map[string]string{"Content-Type": "text/plain"}, ""},
		{"at the minimum", defaultCompress(), "GET", "", strings.Repeat("x", 1024), map[string]string{"Content-Type": "text/plain"}, "gzip"},
		{"small Content-Length", defaultCompress(), "GET", "", strings.Repeat("x", 100), map[string]string{"Content-Type": "text/plain", "Content-Length": "100"}, ""},
		{"grpc response", defaultCompress(), "GET", "", big, map[string]string{"Content-Type": "application/grpc+proto"}, "gzip"},
		{"grpc exactly", defaultCompress(), "GET", "", big, map[string]string{"Content-Type": "application/grpc"}, ""},
		{"grpc request", defaultCompress(), "POST", "application/grpc", big, map[string]string{"Content-Type": "text/plain"}, ""},
		{"excluded type", &snapshot.Compress{MinResponseBodyBytes: 1024, Encodings: []string{"gzip"}, ExcludedContentTypes: []string{"text/event-stream"}}, "GET", "", big, map[string]string{"Content-Type": "text/event-stream; charset=utf-8"}, ""},
		{"not an included type", &snapshot.Compress{MinResponseBodyBytes: 1024, Encodings: []string{"gzip"}, IncludedContentTypes: []string{"text/html"}}, "GET", "", big, map[string]string{"Content-Type": "text/plain"}, ""},
		{"an included type", &snapshot.Compress{MinResponseBodyBytes: 1024, Encodings: []string{"gzip"}, IncludedContentTypes: []string{"text/html"}}, "GET", "", big, map[string]string{"Content-Type": "Text/HTML; charset=utf-8"}, "gzip"},
		{"HEAD", defaultCompress(), "HEAD", "", big, map[string]string{"Content-Type": "text/plain"}, ""},
		{"partial content", defaultCompress(), "GET", "", big, map[string]string{"Content-Type": "text/plain", "Content-Range": "bytes 0-4999/9000"}, "gzip"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			backend := backendWriting(tt.body, 512, tt.header)
			if tt.name == "partial content" {
				inner := backend
				backend = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					w.Header().Set("Content-Type", "text/plain")
					w.WriteHeader(http.StatusPartialContent)
					inner.ServeHTTP(w, r)
				})
				tt.want = ""
			}
			h := Chain([]*snapshot.Middleware{{Compress: tt.cfg}}, backend)
			r := httptest.NewRequest(tt.method, "/", nil)
			r.Header.Set("Accept-Encoding", "gzip")
			if tt.reqType != "" {
				r.Header.Set("Content-Type", tt.reqType)
			}
			w := httptest.NewRecorder()
			h.ServeHTTP(w, r)
			if got := w.Header().Get("Content-Encoding"); got != tt.want {
				t.Fatalf("Content-Encoding %q, want %q", got, tt.want)
			}
			if tt.method == "HEAD" {
				return
			}
			if got := decode(t, map[string]string{"gzip": "gzip"}[tt.want], w.Body.Bytes()); got != tt.body {
				t.Errorf("body differs: %d bytes, want %d", len(got), len(tt.body))
			}
		})
	}
}

// A body without Content-Type gets one detected from its bytes, and is then compressed
// by that type.
func TestCompressDetectsMissingContentType(t *testing.T) {
	page := "<html><body>" + strings.Repeat("<p>hello</p>", 200) + "</body></html>"
	h := Chain([]*snapshot.Middleware{{Compress: &snapshot.Compress{MinResponseBodyBytes: 1024, Encodings: []string{"gzip"}, IncludedContentTypes: []string{"text/html"}}}},
		backendWriting(page, 4096, nil))
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	r.Header.Set("Accept-Encoding", "gzip")
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	if ct, ce := w.Header().Get("Content-Type"), w.Header().Get("Content-Encoding"); ct != "text/html; charset=utf-8" || ce != "gzip" {
		t.Errorf("Content-Type %q, Content-Encoding %q; want text/html and gzip", ct, ce)
	}
}

// A stream flushed before minBytes is compressed and flushed through the encoder, so
// what was flushed can be decoded at once.
func TestCompressFlushes(t *testing.T) {
	h := Chain([]*snapshot.Middleware{{Compress: defaultCompress()}}, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		_, _ = io.WriteString(w, "first")
		w.(http.Flusher).Flush()
		_, _ = io.WriteString(w, " second")
	}))
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	r.Header.Set("Accept-Encoding", "gzip")
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	if !w.Flushed || w.Header().Get("Content-Encoding") != "gzip" {
		t.Fatalf("flushed %v, Content-Encoding %q", w.Flushed, w.Header().Get("Content-Encoding"))
	}
	if got := decode(t, "gzip", w.Body.Bytes()); got != "first second" {
		t.Errorf("body %q", got)
	}
}

// BenchmarkCompress: a 64 KiB body of varied text (words in a pseudo-random order, so
// not a trivially repeating one) through each encoding, as throughput.
func BenchmarkCompress(b *testing.B) {
	words := strings.Fields("the gateway terminates client TLS routes by host and path re-encrypts to verified backends and says why a TLS path fails")
	var sb strings.Builder
	x := uint32(1)
	for sb.Len() < 64<<10 {
		x = x*1664525 + 1013904223
		sb.WriteString(words[int(x>>16)%len(words)])
		sb.WriteByte(' ')
	}
	body := sb.String()
	for _, enc := range []string{"gzip", "br", "zstd"} {
		b.Run(enc, func(b *testing.B) {
			h := Chain([]*snapshot.Middleware{{Compress: defaultCompress()}}, backendWriting(body, 8192, map[string]string{"Content-Type": "text/plain"}))
			r := httptest.NewRequest(http.MethodGet, "/", nil)
			r.Header.Set("Accept-Encoding", enc)
			out := &countingWriter{h: http.Header{}}
			h.ServeHTTP(out, r)
			if out.h.Get("Content-Encoding") != enc {
				b.Fatalf("not compressed with %s", enc)
			}
			b.SetBytes(int64(len(body)))
			b.ReportAllocs()
			for b.Loop() {
				h.ServeHTTP(&countingWriter{h: http.Header{}}, r)
			}
			// After the loop: its start clears metrics reported before it.
			b.ReportMetric(float64(out.n)/float64(len(body))*100, "%size")
		})
	}
}

// countingWriter is a ResponseWriter that counts the body bytes.
type countingWriter struct {
	h http.Header
	n int
}

func (w *countingWriter) Header() http.Header         { return w.h }
func (w *countingWriter) Write(p []byte) (int, error) { w.n += len(p); return len(p), nil }
func (w *countingWriter) WriteHeader(int)             {}

// FuzzCompressChoose: whatever Accept-Encoding a client sends, the choice is one of the
// configured encodings or none, never something else.
func FuzzCompressChoose(f *testing.F) {
	for _, s := range []string{"gzip", "br;q=0.9, zstd;q=1", "*", "identity", "", "gzip;q=0", "GZIP ; q=0.5", "*;q=0, br", "zstd;q=1e9", "gzip;q=NaN"} {
		f.Add(s, true)
		f.Add(s, false)
	}
	f.Fuzz(func(t *testing.T, accept string, withDefault bool) {
		cfg := &snapshot.Compress{MinResponseBodyBytes: 1024, Encodings: []string{"br", "gzip"}}
		if withDefault {
			cfg.DefaultEncoding = "gzip"
		}
		m := newCompress(cfg, http.NotFoundHandler()).(*compress)
		got := m.choose(http.Header{"Accept-Encoding": {accept}})
		if got != "" && got != "br" && got != "gzip" {
			t.Fatalf("Accept-Encoding %q chose %q", accept, got)
		}
	})
}
