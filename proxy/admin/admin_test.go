package admin

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// What a kubelet probe and a Prometheus scraper see on the admin port, and a page the
// command added.
func TestPortAnswersProbesMetricsAndAddedPages(t *testing.T) {
	notReady := errors.New("no snapshot yet")
	readyErr := notReady
	p := New(func() error { return readyErr }, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = io.WriteString(w, "bridgehead_requests_total 1\n")
	}))
	p.Handle("GET /snapshot/hash", http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = io.WriteString(w, "abc\n")
	}))
	srv := httptest.NewUnstartedServer(nil)
	srv.Config = p.Server(nil)
	srv.Start()
	defer srv.Close()

	get := func(path string) (int, string) {
		t.Helper()
		resp, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer func() { _ = resp.Body.Close() }()
		body, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(body)
	}
	if code, body := get("/healthz"); code != 200 || body != "ok\n" {
		t.Errorf("/healthz: %d %q, want 200 ok", code, body)
	}
	if code, body := get("/readyz"); code != 503 || !strings.Contains(body, notReady.Error()) {
		t.Errorf("/readyz before the first snapshot: %d %q, want 503 naming why", code, body)
	}
	readyErr = nil
	if code, body := get("/readyz"); code != 200 || body != "ok\n" {
		t.Errorf("/readyz when ready: %d %q, want 200 ok", code, body)
	}
	if code, body := get("/metrics"); code != 200 || !strings.Contains(body, "bridgehead_requests_total") {
		t.Errorf("/metrics: %d %q", code, body)
	}
	if code, body := get("/snapshot/hash"); code != 200 || body != "abc\n" {
		t.Errorf("added page: %d %q", code, body)
	}
	if code, _ := get("/nothing"); code != 404 {
		t.Errorf("unknown path: %d, want 404", code)
	}
}
