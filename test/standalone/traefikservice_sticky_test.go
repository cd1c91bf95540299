package standalone

import (
	"io"
	"net/http"
	"net/http/cookiejar"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// stickyRoutes: sticky.example.test goes to the TraefikService "pinned", sticky with
// cookie "tier" over svc-a and the nested TraefikService "canaries", which pins further
// with a cookie of its own over svc-b and svc-c.
const stickyRoutes = `apiVersion: gateway.bridgehead.dev/v1alpha1
kind: IngressRoute
metadata: {name: sticky, namespace: web}
spec:
  entryPoints: [websecure]
  routes:
  - match: Host(` + "`sticky.example.test`" + `)
    services: [{name: pinned, kind: TraefikService}]
  tls: {secretName: edge-tls}
---
apiVersion: gateway.bridgehead.dev/v1alpha1
kind: TraefikService
metadata: {name: pinned, namespace: web}
spec:
  weighted:
    sticky:
      cookie: {name: tier, httpOnly: true, secure: true, sameSite: lax, maxAge: 600}
    services:
    - {name: svc-a, port: https, serversTransport: backends}
    - {name: canaries, kind: TraefikService}
---
apiVersion: gateway.bridgehead.dev/v1alpha1
kind: TraefikService
metadata: {name: canaries, namespace: web}
spec:
  weighted:
    sticky:
      cookie: {name: canary}
    services:
    - {name: svc-b, port: https, serversTransport: backends}
    - {name: svc-c, port: https, serversTransport: backends}
`

// TestTraefikServiceWeightedSticky: over real TLS, a client without cookies is balanced
// (A half the time, B and C a quarter each) and told which service it got; a client that
// keeps its cookies stays on one backend for every later request, through both levels
// (Traefik's nested sticky); a cookie naming no entry is replaced; curl with a cookie
// jar stays too.
func TestTraefikServiceWeightedSticky(t *testing.T) {
	t.Parallel()
	p := newPKI(t)
	a, b, c := tlsBackend(t, p, "A", false), tlsBackend(t, p, "B", false), tlsBackend(t, p, "C", false)
	dir := writeFolder(t, map[string]string{
		"secrets.yaml":   p.secretsYAML(),
		"backends.yaml":  serviceYAML(t, "svc-a", addrOf(a)) + serviceYAML(t, "svc-b", addrOf(b)) + serviceYAML(t, "svc-c", addrOf(c)),
		"transport.yaml": transportYAML,
		"routes.yaml":    stickyRoutes,
	})
	gw := serveFolder(t, dir)
	const url = "https://sticky.example.test/"
	anon := gw.httpsClient(p.edgeCA, true)
	waitBody(t, anon, url, http.StatusOK, "")
	wantCondition(t, gw, "TraefikService/web/pinned", "Ready", "True")

	// Without cookies: balanced, and each answer pins with the outer cookie.
	seen := map[string]int{}
	for range 40 {
		req, _ := http.NewRequest(http.MethodGet, url, nil)
		body, cookies := answerAndCookies(t, anon, req)
		seen[body]++
		set := strings.Join(cookies, " | ")
		if !strings.Contains(set, "tier=") || !strings.Contains(set, "Max-Age=600; HttpOnly; Secure; SameSite=Lax") || !strings.Contains(set, "Path=/") {
			t.Fatalf("answer %q set cookies %q; want tier with Path=/, Max-Age=600, HttpOnly, Secure, SameSite=Lax", body, set)
		}
		if (body == "A") == strings.Contains(set, "canary=") {
			t.Errorf("answer %q set cookies %q; the nested cookie belongs to B and C only", body, set)
		}
	}
	t.Logf("40 requests without cookies: %v", seen)
	if seen["A"] != 20 || seen["B"]+seen["C"] != 20 {
		t.Errorf("without cookies: %v; want A 20 and B+C 20 (weights 1:1)", seen)
	}

	// With cookies: eight clients, each pinned after its first answer for 25 more.
	pinned := map[string]int{}
	for range 8 {
		jar, _ := cookiejar.New(nil)
		cl := gw.httpsClient(p.edgeCA, false)
		cl.Jar = jar
		_, first, err := get(cl, url)
		if err != nil {
			t.Fatal(err)
		}
		pinned[first]++
		for range 25 {
			if _, body, err := get(cl, url); err != nil || body != first {
				t.Fatalf("a client pinned to %s got %q (%v)", first, body, err)
			}
		}
	}
	t.Logf("8 clients with cookies, 26 requests each: pinned to %v, every later answer from the same backend", pinned)

	// A cookie naming no entry is replaced by one that does.
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	req.AddCookie(&http.Cookie{Name: "tier", Value: "not-an-entry"})
	if _, cookies := answerAndCookies(t, anon, req); len(cookies) == 0 || !strings.HasPrefix(cookies[0], "tier=") || strings.Contains(cookies[0], "not-an-entry") {
		t.Errorf("a stale cookie got Set-Cookie %q; want a new tier cookie", cookies)
	}

	// curl with a cookie jar: the first answer pins, the next five follow.
	ca := writePEM(t, "edge-ca.crt", p.edgeCA.PEM)
	port := port(t, gw.websecure)
	jar := filepath.Join(t.TempDir(), "cookies.txt")
	args := []string{"-sS", "--cacert", ca, "--resolve", "sticky.example.test:" + port + ":127.0.0.1", "-c", jar, "-b", jar, "-w", "\n"}
	var answers []string
	for range 6 {
		out, code := runTool(t, dir, "curl", append(args, "https://sticky.example.test:"+port+"/")...)
		if code != 0 {
			t.Fatalf("curl: exit %d: %s", code, out)
		}
		answers = append(answers, strings.TrimSpace(out))
	}
	saved, _ := os.ReadFile(jar)
	t.Logf("curl with a cookie jar, 6 runs: %v", answers)
	for _, got := range answers[1:] {
		if got != answers[0] {
			t.Errorf("curl with a cookie jar answered %v; want one backend throughout", answers)
			break
		}
	}
	if !strings.Contains(string(saved), "tier") {
		t.Errorf("curl's cookie jar has no tier cookie:\n%s", saved)
	}
}

// answerAndCookies sends req and returns the body and the Set-Cookie values.
func answerAndCookies(t *testing.T, c *http.Client, req *http.Request) (string, []string) {
	t.Helper()
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b), resp.Header.Values("Set-Cookie")
}
