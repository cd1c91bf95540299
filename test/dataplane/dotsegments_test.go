package dataplane

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"testing"
	"time"

	"sigs.k8s.io/controller-runtime/pkg/client"
)

// rawGet sends path exactly as written (no client-side cleaning) and returns the answer's
// status, headers and body.
func rawGet(t *testing.T, addr, host, path string) (int, http.Header, string) {
	t.Helper()
	conn, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	_ = conn.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.WriteString(conn, "GET "+path+" HTTP/1.1\r\nHost: "+host+"\r\nConnection: close\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, string(body)
}

// TestDotSegmentsAreResolvedBeforeRouting: GET /public/../admin is a request for /admin.
// Routed as sent, it matched PathPrefix(`/public`) and reached the public backend, which
// may resolve it to /admin and serve what another route guards (CVE-2025-32431 was this
// in Traefik). Encoded dots are the same request. The backend gets the resolved path.
func TestDotSegmentsAreResolvedBeforeRouting(t *testing.T) {
	public := startHTTPBackend(t)
	admin := startHandler(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Seen-Path", r.URL.Path)
		_, _ = io.WriteString(w, "admin backend")
	}))
	objs := []client.Object{
		ingressRoute(routeSpec{name: "public", match: "Host(`app.example.com`) && PathPrefix(`/public`)", svc: "public", scheme: "http", entryPoints: []string{"web"}}),
		ingressRoute(routeSpec{name: "admin", match: "Host(`app.example.com`) && PathPrefix(`/admin`)", svc: "admin", scheme: "http", entryPoints: []string{"web"}}),
	}
	objs = append(objs, service("public", "http", addrOf(public))...)
	objs = append(objs, service("admin", "http", addrOf(admin))...)
	g := startGateway(t, objs)

	for path, want := range map[string]struct{ backend, seen string }{
		"/public/../admin/secret":       {"admin backend", "/admin/secret"},
		"/public/%2e%2e/admin/secret":   {"admin backend", "/admin/secret"},
		"/public/%2E%2E/%2E/admin/":     {"admin backend", "/admin/"},
		"/public/./a/../b":              {"plain backend", "/public/b"},
		"/public/.well-known/../x/.a/.": {"plain backend", "/public/x/.a/"},
	} {
		code, header, body := rawGet(t, g.web, "app.example.com", path)
		if code != http.StatusOK || body != want.backend || header.Get("X-Seen-Path") != want.seen {
			t.Errorf("GET %s: %d from %q, which saw %q; want %q to see %q", path, code, body, header.Get("X-Seen-Path"), want.backend, want.seen)
		}
	}
}
