package middleware

import (
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/bridgehead/bridgehead/internal/snapshot"
)

// TestErrorPagesKeepTheStatusAndDropTheBody: a caught status is answered with the page
// (its headers, the original or rewritten status); an uncaught one passes untouched;
// without Backends the page is a plain 503 body under the caught status, never the
// backend's answer.
func TestErrorPagesKeepTheStatusAndDropTheBody(t *testing.T) {
	backend := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Secret", "leak")
		code := map[string]int{"/gone": 410, "/boom": 500, "/ok": 200}[r.URL.Path]
		w.WriteHeader(code)
		_, _ = io.WriteString(w, "backend body")
	})
	var asked string
	page := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		asked = r.URL.RequestURI() + " " + r.Host + " " + r.Header.Get("X-Keep") + "|" + r.Header.Get("X-Drop")
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(http.StatusOK) // ignored: the client is owed the caught status
		_, _ = io.WriteString(w, "page")
	})
	cfg := &snapshot.ErrorPage{
		Status:   []snapshot.StatusRange{{Low: 500, High: 599}, {Low: 410, High: 410}},
		Rewrites: []snapshot.StatusRewrite{{From: snapshot.StatusRange{Low: 410, High: 410}, To: 404}},
		Query:    "{status}/{originalStatus}?u={url}",
		Headers:  []string{"x-keep"},
		Service:  &snapshot.Backend{},
	}
	h := newErrorPages(cfg, func(*snapshot.Backend) http.Handler { return page }, backend)
	for _, tc := range []struct {
		path, body, asked string
		code              int
	}{
		{"/boom", "page", "/500/500?u=http%3A%2F%2Fshop.example%2Fboom shop.example k|", 500},
		{"/gone", "page", "/404/410?u=http%3A%2F%2Fshop.example%2Fgone shop.example k|", 404},
		{"/ok", "backend body", "", 200},
	} {
		asked = ""
		r := httptest.NewRequest(http.MethodGet, "http://shop.example"+tc.path, nil)
		r.Header.Set("X-Keep", "k")
		r.Header.Set("X-Drop", "d")
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if w.Code != tc.code || w.Body.String() != tc.body || asked != tc.asked {
			t.Errorf("%s: %d %q, page asked %q; want %d %q, %q", tc.path, w.Code, w.Body.String(), asked, tc.code, tc.body, tc.asked)
		}
		if leaked := w.Header().Get("X-Secret") != ""; leaked == (tc.code != 200) {
			t.Errorf("%s: X-Secret %q; the backend's headers go out only with its own answer", tc.path, w.Header().Get("X-Secret"))
		}
	}
	w := httptest.NewRecorder()
	newErrorPages(cfg, nil, backend).ServeHTTP(w, httptest.NewRequest(http.MethodGet, "http://shop.example/boom", nil))
	if w.Code != 500 || w.Body.String() == "backend body" {
		t.Errorf("without Backends: %d %q; want 500 without the backend's body", w.Code, w.Body.String())
	}
}
