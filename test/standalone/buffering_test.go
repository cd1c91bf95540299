package standalone

import (
	"crypto/tls"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// TestBufferingBoundsBodies: with maxRequestBodyBytes 1000 and maxResponseBodyBytes 2000,
// a chunked upload of 1000 bytes reaches the backend whole with a Content-Length, one
// of 1001 gets 413 (real curl) without reaching the backend, and a response of 2001
// bytes becomes 500, while one of 2000 is sent whole.
func TestBufferingBoundsBodies(t *testing.T) {
	p := newPKI(t)
	var mu sync.Mutex
	var uploads []string
	seen := func() []string { mu.Lock(); defer mu.Unlock(); return append([]string(nil), uploads...) }
	backend := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		mu.Lock()
		defer mu.Unlock()
		uploads = append(uploads, fmt.Sprintf("%d/%d/%v", len(body), r.ContentLength, r.TransferEncoding))
		n, _ := strconv.Atoi(r.URL.Query().Get("size"))
		_, _ = io.WriteString(w, strings.Repeat("x", n))
	}))
	backend.TLS = &tls.Config{Certificates: []tls.Certificate{p.backend.TLS}}
	backend.StartTLS()
	t.Cleanup(backend.Close)
	dir := writeFolder(t, map[string]string{
		"secrets.yaml":   p.secretsYAML(),
		"transport.yaml": transportYAML,
		"services.yaml":  serviceYAML(t, "svc-a", addrOf(backend)),
		"buffered.yaml": middlewareRoute("buffered", "buffered", "bounded", "") +
			middlewareYAML("bounded", "  buffering: {maxRequestBodyBytes: 1000, memRequestBodyBytes: 100, maxResponseBodyBytes: 2000, memResponseBodyBytes: 100}\n"),
	})
	gw := serveFolder(t, dir)
	c := gw.httpsClient(p.edgeCA, false)
	waitBody(t, c, "https://buffered.example.test/?size=2000", http.StatusOK, strings.Repeat("x", 2000))
	if code, body, err := get(c, "https://buffered.example.test/?size=2001"); err != nil || code != http.StatusInternalServerError || strings.Contains(body, "x") {
		t.Errorf("a 2001-byte response: %d %q %v; want 500 without it", code, body, err)
	}

	mu.Lock()
	uploads = nil
	mu.Unlock()
	req, _ := http.NewRequest(http.MethodPost, "https://buffered.example.test/", io.NopCloser(strings.NewReader(strings.Repeat("u", 1000))))
	req.ContentLength = -1 // sent chunked
	code, _ := do(t, c, req)
	if got := seen(); code != http.StatusOK || len(got) != 1 || got[0] != "1000/1000/[]" {
		t.Errorf("a chunked 1000-byte upload: %d, backend saw %q; want 200 and 1000 bytes with a Content-Length", code, got)
	}
	mu.Lock()
	uploads = nil
	mu.Unlock()
	ca := writePEM(t, "edge-ca.crt", p.edgeCA.PEM)
	port := port(t, gw.websecure)
	out, exit := runTool(t, dir, "curl", "-sS", "--cacert", ca, "-o", "/dev/null", "--resolve", "buffered.example.test:"+port+":127.0.0.1",
		"-w", "%{http_code}", "--data-binary", strings.Repeat("u", 1001), "https://buffered.example.test:"+port+"/")
	if got := seen(); exit != 0 || out != "413" || len(got) != 0 {
		t.Errorf("curl with a 1001-byte body: exit %d, printed %q, backend saw %q; want 413 and nothing", exit, out, got)
	}
}
