package standalone

import (
	"bytes"
	"compress/gzip"
	"crypto/tls"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/andybalholm/brotli"
	"github.com/klauspost/compress/zstd"
)

// TestTransformMiddlewares drives the regex rewrites, contentType and compress through
// the gateway's real TLS entry point to a real TLS backend: what the backend receives,
// what the client gets, curl --compressed included; and a regex RE2 refuses fails its
// route closed naming the field and where, while the others serve.
func TestTransformMiddlewares(t *testing.T) {
	t.Parallel()
	p := newPKI(t)
	big := strings.Repeat("the quick brown fox jumps over the lazy dog\n", 500) // 22 KB
	backend := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case strings.HasSuffix(r.URL.Path, "/notype"):
			w.Header()["Content-Type"] = nil // this backend sends no Content-Type at all
			_, _ = io.WriteString(w, "<html><body>no type</body></html>")
		case strings.HasSuffix(r.URL.Path, "/big"):
			w.Header().Set("Content-Type", "text/plain; charset=utf-8")
			w.Header().Set("Vary", "Origin")
			_, _ = io.WriteString(w, big)
		case strings.HasSuffix(r.URL.Path, "/encoded"):
			w.Header().Set("Content-Type", "text/plain")
			w.Header().Set("Content-Encoding", "x-custom")
			_, _ = io.WriteString(w, big)
		default:
			_, _ = fmt.Fprintf(w, "uri=%s replaced=%q prefix=%q", r.URL.RequestURI(), r.Header.Values("X-Replaced-Path"), r.Header.Values("X-Forwarded-Prefix"))
		}
	}))
	backend.TLS = &tls.Config{Certificates: []tls.Certificate{p.backend.TLS}}
	backend.StartTLS()
	t.Cleanup(backend.Close)

	dir := writeFolder(t, map[string]string{
		"secrets.yaml":   p.secretsYAML(),
		"transport.yaml": transportYAML,
		"services.yaml":  serviceYAML(t, "svc-a", addrOf(backend)),
		"rewrite.yaml": middlewareRoute("rewrite", "rewrite", "api-v2", "") +
			middlewareYAML("api-v2", `  replacePathRegex: {regex: "^/api/v1/(.*)", replacement: "/api/v2/$1"}`+"\n"),
		"slash.yaml": middlewareRoute("slash", "slash", "extra-slash", "") +
			middlewareYAML("extra-slash", `  replacePathRegex: {regex: "^/api/v1", replacement: "/api/v2/"}`+"\n"),
		"strip.yaml": middlewareRoute("strip", "strip", "tenant", "") +
			middlewareYAML("tenant", `  stripPrefixRegex: {regex: ["/tenant/[a-z0-9-]+"]}`+"\n"),
		"redirect.yaml": middlewareRoute("old", "old", "moved", "") +
			middlewareYAML("moved", `  redirectRegex: {regex: "^https://old\\.example\\.test(:[0-9]+)?/(.*)", replacement: "https://new.example.test${1}/${2}", permanent: true}`+"\n"),
		"detect.yaml": middlewareRoute("detect", "detect", "detect-type", "") +
			middlewareYAML("detect-type", "  contentType: {}\n"),
		"compress.yaml": middlewareRoute("zip", "zip", "squeeze", "") +
			middlewareYAML("squeeze", "  compress: {}\n"),
		"broken.yaml": middlewareRoute("broken", "broken", "lookahead", "") +
			middlewareYAML("lookahead", `  replacePathRegex: {regex: "^/(?!admin)(.*)", replacement: "/public/$1"}`+"\n"),
	})
	gw := serveFolder(t, dir)
	c := gw.httpsClient(p.edgeCA, true)
	noFollow := *c
	noFollow.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }

	t.Run("replacePathRegex", func(t *testing.T) {
		waitBody(t, c, "https://rewrite.example.test/api/v1/users/7?x=1", http.StatusOK, `uri=/api/v2/users/7?x=1 replaced=["/api/v1/users/7"] prefix=[]`)
		waitBody(t, c, "https://rewrite.example.test/other", http.StatusOK, `uri=/other replaced=[] prefix=[]`)
		// A replacement that leaves an empty segment (/api/v2//users) is refused, as in
		// Traefik: the backend would read another path than the one routed.
		if code, _, err := get(c, "https://slash.example.test/api/v1/users"); err != nil || code != http.StatusBadRequest {
			t.Errorf("a rewrite to /api/v2//users: %d %v; want 400", code, err)
		}
	})

	t.Run("stripPrefixRegex", func(t *testing.T) {
		waitBody(t, c, "https://strip.example.test/tenant/acme-1/orders?page=2", http.StatusOK, `uri=/orders?page=2 replaced=[] prefix=["/tenant/acme-1"]`)
		waitBody(t, c, "https://strip.example.test/tenant/", http.StatusOK, `uri=/tenant/ replaced=[] prefix=[]`)
	})

	t.Run("redirectRegex", func(t *testing.T) {
		port := port(t, gw.websecure)
		req, _ := http.NewRequest(http.MethodGet, "https://old.example.test:"+port+"/a/b?c=d", nil)
		resp, err := noFollow.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		_ = resp.Body.Close()
		if want := "https://new.example.test:" + port + "/a/b?c=d"; resp.StatusCode != http.StatusMovedPermanently || resp.Header.Get("Location") != want {
			t.Errorf("GET: %d Location %q; want 301 %q", resp.StatusCode, resp.Header.Get("Location"), want)
		}
		req, _ = http.NewRequest(http.MethodPost, "https://old.example.test:"+port+"/form", strings.NewReader("x=1"))
		resp, err = noFollow.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		_ = resp.Body.Close()
		if resp.StatusCode != http.StatusPermanentRedirect {
			t.Errorf("POST: %d; want 308", resp.StatusCode)
		}
	})

	t.Run("contentType", func(t *testing.T) {
		// As in Traefik v3: no Content-Type from the backend, none to the client...
		header, _ := mustGet(t, c, "https://rewrite.example.test/notype", nil)
		if v, ok := header["Content-Type"]; ok {
			t.Errorf("without contentType the gateway added Content-Type %q", v)
		}
		// ...unless a contentType Middleware turns detection on.
		header, _ = mustGet(t, c, "https://detect.example.test/notype", nil)
		if got := header.Get("Content-Type"); got != "text/html; charset=utf-8" {
			t.Errorf("with contentType: Content-Type %q, want text/html; charset=utf-8", got)
		}
	})

	t.Run("compress", func(t *testing.T) {
		for _, enc := range []string{"gzip", "br", "zstd"} {
			header, raw := mustGet(t, c, "https://zip.example.test/big", map[string]string{"Accept-Encoding": enc})
			if ce := header.Get("Content-Encoding"); ce != enc {
				t.Fatalf("Accept-Encoding %s: Content-Encoding %q", enc, ce)
			}
			if got := decodeBody(t, enc, raw); got != big {
				t.Errorf("%s: decoded body differs (%d bytes, want %d)", enc, len(got), len(big))
			}
			if vary := header.Values("Vary"); strings.Join(vary, ",") != "Origin,Accept-Encoding" {
				t.Errorf("%s: Vary %q, want the backend's Origin and Accept-Encoding", enc, vary)
			}
			t.Logf("%s: %d bytes became %d (%.1f%%)", enc, len(big), len(raw), 100*float64(len(raw))/float64(len(big)))
		}
		// Already encoded by the backend: sent as it is.
		header, raw := mustGet(t, c, "https://zip.example.test/encoded", map[string]string{"Accept-Encoding": "gzip"})
		if header.Get("Content-Encoding") != "x-custom" || string(raw) != big {
			t.Errorf("a response with its own Content-Encoding was changed: %q, %d bytes", header.Get("Content-Encoding"), len(raw))
		}
		// Small bodies are not compressed.
		header, _ = mustGet(t, c, "https://zip.example.test/small", map[string]string{"Accept-Encoding": "gzip"})
		if header.Get("Content-Encoding") != "" {
			t.Errorf("a small body was compressed")
		}
		// Real curl --compressed over HTTP/2.
		ca := writePEM(t, "edge-ca.crt", p.edgeCA.PEM)
		port := port(t, gw.websecure)
		out, code := runTool(t, dir, "curl", "-sS", "--http2", "--compressed", "--cacert", ca, "-D", "-",
			"--resolve", "zip.example.test:"+port+":127.0.0.1", "https://zip.example.test:"+port+"/big")
		head, body, _ := strings.Cut(out, "\r\n\r\n")
		if code != 0 || !strings.Contains(strings.ToLower(head), "content-encoding: ") || body != big {
			t.Errorf("curl --compressed: exit %d, headers %q, %d body bytes (want %d, decoded)", code, head, len(body), len(big))
		}
	})

	t.Run("a regex RE2 refuses fails closed", func(t *testing.T) {
		if code, header := failureOf(t, c, "https://broken.example.test/x"); code != http.StatusServiceUnavailable || header != "InvalidRef" {
			t.Errorf("route through a lookahead: %d %q; want 503 InvalidRef", code, header)
		}
		wantCondition(t, gw, "Middleware/web/lookahead", "Ready", "False", "spec.replacePathRegex.regex", "(?!", "at character 3", "lookahead")
		waitBody(t, c, "https://rewrite.example.test/api/v1/x", http.StatusOK, `uri=/api/v2/x replaced=["/api/v1/x"] prefix=[]`)
	})
}

// mustGet sends a GET with header until it answers 200, and returns the answer's
// header and body (as sent: the Go client decodes nothing when Accept-Encoding is set).
func mustGet(t *testing.T, c *http.Client, url string, header map[string]string) (http.Header, []byte) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	var got http.Header
	var body []byte
	if _, ok := eventually(reloadLimit, func() bool {
		resp, err := c.Do(req)
		if err != nil {
			return false
		}
		defer func() { _ = resp.Body.Close() }()
		got = resp.Header
		body, err = io.ReadAll(resp.Body)
		return err == nil && resp.StatusCode == http.StatusOK
	}); !ok {
		t.Fatalf("GET %s: no 200", url)
	}
	return got, body
}

func decodeBody(t *testing.T, enc string, raw []byte) string {
	t.Helper()
	var r io.Reader
	switch enc {
	case "gzip":
		zr, err := gzipReader(raw)
		if err != nil {
			t.Fatal(err)
		}
		r = zr
	case "br":
		r = brotli.NewReader(bytes.NewReader(raw))
	case "zstd":
		d, err := zstd.NewReader(bytes.NewReader(raw))
		if err != nil {
			t.Fatal(err)
		}
		defer d.Close()
		r = d
	}
	out, err := io.ReadAll(r)
	if err != nil {
		t.Fatalf("%s does not decode: %v", enc, err)
	}
	return string(out)
}

func gzipReader(raw []byte) (io.Reader, error) { return gzip.NewReader(bytes.NewReader(raw)) }
