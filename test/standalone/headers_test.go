package standalone

import (
	"net/http"
	"strings"
	"testing"
)

const securityHeadersSpec = `  headers:
    stsSeconds: 31536000
    stsIncludeSubdomains: true
    frameDeny: true
    contentTypeNosniff: true
    referrerPolicy: no-referrer
    allowedHosts: [sec.example.test, plain.example.test]
    accessControlAllowOriginList: ["https://app.example.test"]
    accessControlAllowMethods: [GET, PUT]
    accessControlAllowHeaders: [X-Custom]
    accessControlMaxAge: 600
    addVaryHeader: true
`

// TestHeadersSecurityAndCORS: a Traefik headers middleware with security headers and CORS,
// through real TLS: Strict-Transport-Security on the HTTPS answer and not on the plain-HTTP
// one, the other security headers on both, a host outside allowedHosts refused with 500
// before the backend is reached, and a CORS preflight (sent by curl as a browser sends it)
// answered by the gateway with what the middleware allows.
func TestHeadersSecurityAndCORS(t *testing.T) {
	p := newPKI(t)
	files := backendFiles(t, p, false)
	files["sec.yaml"] = middlewareRoute("sec", "sec", "security", "") +
		middlewareRoute("plain", "plain", "security", "web") +
		middlewareRoute("other", "other", "security", "") +
		middlewareYAML("security", securityHeadersSpec)
	gw := serveFolder(t, writeFolder(t, files))
	c := gw.httpsClient(p.edgeCA, true)

	resp, err := c.Get("https://sec.example.test/")
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	want := map[string]string{
		"Strict-Transport-Security": "max-age=31536000; includeSubDomains",
		"X-Frame-Options":           "DENY",
		"X-Content-Type-Options":    "nosniff",
		"Referrer-Policy":           "no-referrer",
		"Vary":                      "Origin",
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("https: %d", resp.StatusCode)
	}
	for k, v := range want {
		if got := resp.Header.Get(k); got != v {
			t.Errorf("https: %s %q, want %q", k, got, v)
		}
	}

	plain, err := http.NewRequest(http.MethodGet, "http://"+gw.web+"/", nil)
	if err != nil {
		t.Fatal(err)
	}
	plain.Host = "plain.example.test"
	resp, err = http.DefaultClient.Do(plain)
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Strict-Transport-Security") != "" || resp.Header.Get("X-Frame-Options") != "DENY" {
		t.Errorf("plain http: %d, Strict-Transport-Security %q, X-Frame-Options %q; want 200, none, DENY",
			resp.StatusCode, resp.Header.Get("Strict-Transport-Security"), resp.Header.Get("X-Frame-Options"))
	}

	if code, body, err := get(c, "https://other.example.test/"); err != nil || code != http.StatusInternalServerError || body != "Bad Host\n" {
		t.Errorf("host outside allowedHosts: %d %q %v; want 500 Bad Host", code, body, err)
	}

	ca := writePEM(t, "edge-ca.crt", p.edgeCA.PEM)
	port := port(t, gw.websecure)
	out, code := runTool(t, t.TempDir(), "curl", "-sS", "-i", "--cacert", ca, "--resolve", "sec.example.test:"+port+":127.0.0.1",
		"-X", "OPTIONS", "-H", "Origin: https://app.example.test", "-H", "Access-Control-Request-Method: PUT",
		"https://sec.example.test:"+port+"/api")
	if code != 0 {
		t.Fatalf("curl: exit %d: %s", code, out)
	}
	lower := strings.ToLower(out)
	for _, line := range []string{
		"http/2 200", "access-control-allow-origin: https://app.example.test", "access-control-allow-methods: get,put",
		"access-control-allow-headers: x-custom", "access-control-max-age: 600", "content-length: 0",
	} {
		if !strings.Contains(lower, line) {
			t.Errorf("curl preflight: no %q in\n%s", line, out)
		}
	}
	if strings.Contains(out, `"backend"`) || strings.Contains(lower, "x-backend") {
		t.Errorf("the preflight reached the backend:\n%s", out)
	}
}
