package standalone

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestAdminStatusPageInChromium opens the admin port's status page in headless Chromium
// while one route works and another fails its backend handshake: the page shows the
// failing object first as not ready with its reason, both hosts with their certificate and
// client TLS policy, each backend endpoint with the verdict of the last real request, and
// the failure in "Recent failures". A screenshot is kept in the test's output folder.
func TestAdminStatusPageInChromium(t *testing.T) {
	t.Parallel()
	chromium, err := exec.LookPath("chromium")
	if err != nil {
		t.Skip("chromium is not installed (make test-deps installs it)")
	}
	p := newPKI(t)
	strict := tlsBackend(t, p, "A", true) // wants a client certificate the transport lacks
	plain := tlsBackend(t, p, "B", false)
	dir := writeFolder(t, map[string]string{
		"secrets.yaml":   p.secretsYAML(),
		"backends.yaml":  serviceYAML(t, "svc-a", addrOf(strict)) + "---\n" + serviceYAML(t, "svc-b", addrOf(plain)),
		"transport.yaml": transportYAML,
		"app.yaml":       namedRoute("app", "app", "svc-a"),
		"shop.yaml":      namedRoute("shop", "shop", "svc-b"),
	})
	gw := serveFolder(t, dir)
	client := gw.httpsClient(p.edgeCA, false)
	for _, host := range []string{"app", "shop"} {
		if _, _, err := get(client, "https://"+host+".example.test/"); err != nil {
			t.Fatal(err)
		}
	}

	url := "http://" + gw.admin + "/"
	var dom string
	_, ok := eventually(15*time.Second, func() bool {
		dom = dumpDOM(t, chromium, url)
		return strings.Contains(dom, `data-failure="ClientCertificateRequired"`) &&
			regexp.MustCompile(`data-route="web/shop/0" data-endpoint="[^"]+" data-verdict="OK"`).MatchString(dom)
	})
	if !ok {
		t.Fatalf("the status page did not show the backend verdicts within 15s:\n%s", dom)
	}
	for _, want := range []string{
		`2 of 3 objects not ready`,
		`data-object="IngressRoute/web/app" data-ready="False"`,
		`data-object="IngressRoute/web/shop" data-ready="True"`,
		`data-host="app.example.test"`,
		`data-host="shop.example.test"`,
		`data-route="web/app/0"`,
		`data-verdict="ClientCertificateRequired"`,
		`data-certificate="web/edge-tls"`,
	} {
		if !strings.Contains(dom, want) {
			t.Errorf("the page lacks %s:\n%s", want, dom)
		}
	}
	// Problems first: the failing object's row comes before the working one's.
	if strings.Index(dom, `data-object="IngressRoute/web/app"`) > strings.Index(dom, `data-object="IngressRoute/web/shop"`) {
		t.Errorf("the not-ready object is not listed first:\n%s", dom)
	}

	out := os.Getenv("BRIDGEHEAD_TEST_ARTIFACTS")
	if out == "" {
		out = t.TempDir()
	}
	shot := filepath.Join(out, "status-page.png")
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, chromium, append(headless(t), "--window-size=1400,1000", "--screenshot="+shot, url)...)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("chromium --screenshot: %v\n%s", err, b)
	}
	if fi, err := os.Stat(shot); err != nil || fi.Size() < 10_000 {
		t.Fatalf("no screenshot of the page at %s (%v)", shot, err)
	}
	t.Logf("screenshot of the status page: %s", shot)
}

// headless are the flags that run Chromium without a display, as root, with a profile of
// its own that the test removes — and with no name resolving, and no background service,
// so the browser can reach nothing but the loopback address it is given.
func headless(t *testing.T) []string {
	return []string{"--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run",
		"--disable-extensions", "--disable-background-networking", "--disable-component-update",
		"--disable-sync", "--disable-domain-reliability", "--no-default-browser-check",
		"--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1", "--user-data-dir=" + t.TempDir()}
}

// dumpDOM loads url in headless Chromium and returns the DOM as the browser built it.
func dumpDOM(t *testing.T, chromium, url string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	b, err := exec.CommandContext(ctx, chromium, append(headless(t), "--dump-dom", url)...).Output()
	if err != nil {
		t.Fatalf("chromium --dump-dom %s: %v", url, err)
	}
	return string(b)
}
