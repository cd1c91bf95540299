package standalone

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// statusBackend is an HTTPS backend whose path /status/NNN answers status NNN (body
// "backend NNN", with a header the error page must not carry); other paths answer 200.
func statusBackend(t *testing.T, p *testPKI) *httptest.Server {
	t.Helper()
	return handlerBackend(t, p, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-From-Backend", "yes")
		if code, err := strconv.Atoi(strings.TrimPrefix(r.URL.Path, "/status/")); err == nil {
			w.WriteHeader(code)
			_, _ = fmt.Fprintf(w, "backend %d", code)
			return
		}
		_, _ = io.WriteString(w, "backend ok")
	})
}

// TestErrorPagesFromAService: the errors Middleware (status 500-599 and 404, rewrite 418
// to 404, query /{status}.html?orig={originalStatus}&url={url}) answers a backend's 503,
// 404 and 418 with the page its Service (over verified TLS, like a route's) returns for
// the query, with the original status (418 rewritten to 404), without the backend's body
// or headers; a 200 streams through untouched. An errors Middleware whose Service does
// not exist is not Ready naming spec.errors.service, and its route answers 503. Go's
// client over HTTP/2 and HTTP/1.1, and curl once.
func TestErrorPagesFromAService(t *testing.T) {
	p := newPKI(t)
	backend := statusBackend(t, p)
	var mu sync.Mutex
	var asked []string
	pages, _ := countingBackend(t, p, func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		asked = append(asked, r.Method+" "+r.URL.RequestURI()+" host="+r.Host+" accept="+r.Header.Get("Accept"))
		mu.Unlock()
		w.Header().Set("Content-Type", "text/html")
		_, _ = io.WriteString(w, "<h1>page "+strings.TrimSuffix(strings.TrimPrefix(r.URL.Path, "/"), ".html")+"</h1>")
	})
	dir := writeFolder(t, map[string]string{
		"secrets.yaml":   p.secretsYAML(),
		"transport.yaml": transportYAML,
		"services.yaml":  servicesYAML(t, "app", addrOf(backend)) + servicesYAML(t, "pages", addrOf(pages)),
		"routes.yaml": serviceRoute("app", "app", "app", "pages") + serviceRoute("broken", "broken", "app", "no-pages") +
			middlewareYAML("pages", `  errors:
    status: ["500-599", "404,418"]
    statusRewrites: {"418": 404}
    query: /{status}.html?orig={originalStatus}&url={url}
    service: {name: pages, port: https, serversTransport: backends}
`) + middlewareYAML("no-pages", "  errors: {status: [\"500-599\"], service: {name: nowhere, port: 80}}\n"),
	})
	gw := serveFolder(t, dir)
	for _, h2 := range []bool{true, false} {
		c := gw.httpsClient(p.edgeCA, h2)
		for _, tc := range []struct {
			path       string
			code       int
			body, page string
		}{
			{"/status/503", 503, "<h1>page 503</h1>", "/503.html?orig=503&url=https%3A%2F%2Fapp.example.test%2Fstatus%2F503%3Fq%3D1"},
			{"/status/404", 404, "<h1>page 404</h1>", "/404.html?orig=404&url=https%3A%2F%2Fapp.example.test%2Fstatus%2F404%3Fq%3D1"},
			{"/status/418", 404, "<h1>page 404</h1>", "/404.html?orig=418&url=https%3A%2F%2Fapp.example.test%2Fstatus%2F418%3Fq%3D1"},
			{"/status/200", 200, "backend 200", ""},
			{"/status/401", 401, "backend 401", ""},
		} {
			mu.Lock()
			asked = nil
			mu.Unlock()
			req, _ := http.NewRequest(http.MethodGet, "https://app.example.test"+tc.path+"?q=1", nil)
			req.Header.Set("Accept", "text/html")
			resp, err := c.Do(req)
			if err != nil {
				t.Fatalf("GET %s: %v", tc.path, err)
			}
			body, _ := io.ReadAll(resp.Body)
			_ = resp.Body.Close()
			mu.Lock()
			got := append([]string(nil), asked...)
			mu.Unlock()
			if resp.StatusCode != tc.code || string(body) != tc.body {
				t.Errorf("h2=%v GET %s: %d %q; want %d %q", h2, tc.path, resp.StatusCode, body, tc.code, tc.body)
			}
			if tc.page == "" {
				if len(got) != 0 || resp.Header.Get("X-From-Backend") != "yes" {
					t.Errorf("h2=%v GET %s: pages asked %q, X-From-Backend %q; want the backend's answer untouched", h2, tc.path, got, resp.Header.Get("X-From-Backend"))
				}
				continue
			}
			if want := "GET " + tc.page + " host=app.example.test accept=text/html"; len(got) != 1 || got[0] != want {
				t.Errorf("h2=%v GET %s: the pages Service was asked %q; want [%s]", h2, tc.path, got, want)
			}
			if resp.Header.Get("X-From-Backend") != "" || resp.Header.Get("Content-Type") != "text/html" {
				t.Errorf("h2=%v GET %s: headers %v; want the page's (text/html), none of the backend's", h2, tc.path, resp.Header)
			}
		}
	}

	wantCondition(t, gw, "Middleware/web/no-pages", "Ready", "False", "spec.errors.service", `Service "nowhere" not found`)
	c := gw.httpsClient(p.edgeCA, false)
	if code, _, err := get(c, "https://broken.example.test/status/500"); err != nil || code != http.StatusServiceUnavailable {
		t.Errorf("a route whose errors Middleware has no Service: %d %v; want 503 (fails closed)", code, err)
	}

	ca := writePEM(t, "edge-ca.crt", p.edgeCA.PEM)
	port := port(t, gw.websecure)
	out, exit := runTool(t, dir, "curl", "-sS", "--cacert", ca, "--resolve", "app.example.test:"+port+":127.0.0.1",
		"-w", " %{http_code}", "https://app.example.test:"+port+"/status/502")
	if exit != 0 || out != "<h1>page 502</h1> 502" {
		t.Errorf("curl of a 502: exit %d, printed %q; want the page with status 502", exit, out)
	}
}
