package middleware

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/bridgehead/bridgehead/internal/snapshot"
)

// echo answers with the request body it read, its Content-Length, and size bytes of x.
func echo(size int) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		w.Header().Set("X-Got", strings.Join([]string{string(body), "len", itoa(r.ContentLength)}, " "))
		w.WriteHeader(http.StatusCreated)
		for range size {
			_, _ = w.Write([]byte("x"))
		}
	})
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// TestBuffering: a request body up to the limit reaches the backend whole, with a
// Content-Length (even one the client sent chunked, and one held in a temporary file
// past memRequestBodyBytes); a larger one gets 413 without reaching the backend; a
// response larger than maxResponseBodyBytes becomes 500; temporary files are removed.
func TestBuffering(t *testing.T) {
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	cfg := &snapshot.Buffering{MaxRequestBodyBytes: 10, MemRequestBodyBytes: 4, MaxResponseBodyBytes: 8, MemResponseBodyBytes: 2}
	serve := func(body string, respSize int) *httptest.ResponseRecorder {
		reached := false
		next := echo(respSize)
		h := newBuffering(cfg, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { reached = true; next.ServeHTTP(w, r) }))
		r := httptest.NewRequest(http.MethodPost, "/", io.NopCloser(strings.NewReader(body)))
		r.ContentLength = -1 // as a chunked upload arrives
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, r)
		if rec.Code == http.StatusRequestEntityTooLarge && reached {
			t.Error("a request refused with 413 reached the backend")
		}
		return rec
	}
	if rec := serve("0123456789", 8); rec.Code != http.StatusCreated || rec.Header().Get("X-Got") != "0123456789 len 10" || rec.Body.String() != "xxxxxxxx" || rec.Header().Get("Content-Length") != "8" {
		t.Errorf("10-byte request, 8-byte response: %d %q %q CL %q", rec.Code, rec.Header().Get("X-Got"), rec.Body.String(), rec.Header().Get("Content-Length"))
	}
	if rec := serve("0123456789A", 1); rec.Code != http.StatusRequestEntityTooLarge {
		t.Errorf("11-byte request: %d; want 413", rec.Code)
	}
	if rec := serve("ok", 9); rec.Code != http.StatusInternalServerError || bytes.Contains(rec.Body.Bytes(), []byte("x")) {
		t.Errorf("9-byte response: %d %q; want 500 without the body", rec.Code, rec.Body.String())
	}
	if left, _ := filepath.Glob(filepath.Join(tmp, "*")); len(left) > 0 {
		t.Errorf("temporary files left: %v", left)
	}
}
