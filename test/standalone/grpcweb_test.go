package standalone

import (
	"bytes"
	"crypto/tls"
	"encoding/base64"
	be "encoding/binary"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// grpcFrame is one gRPC length-prefixed message (flag 0).
func grpcFrame(msg string) []byte {
	b := make([]byte, 5, 5+len(msg))
	be.BigEndian.PutUint32(b[1:], uint32(len(msg)))
	return append(b, msg...)
}

// grpcWebFrames splits a gRPC-Web body into its data messages and its trailer block.
func grpcWebFrames(t *testing.T, body []byte) (msgs []string, trailers string) {
	t.Helper()
	for len(body) > 0 {
		if len(body) < 5 {
			t.Fatalf("a frame is cut short: % x", body)
		}
		n := be.BigEndian.Uint32(body[1:5])
		if uint32(len(body)-5) < n {
			t.Fatalf("frame of %d bytes, %d left", n, len(body)-5)
		}
		payload := string(body[5 : 5+n])
		if body[0]&0x80 != 0 {
			trailers = payload
		} else {
			msgs = append(msgs, payload)
		}
		body = body[5+n:]
	}
	return msgs, trailers
}

// TestGrpcWeb: a browser's gRPC-Web call (binary and base64 text) goes to an HTTPS
// backend as gRPC over HTTP/2 with te: trailers, and the backend's HTTP/2 trailers come
// back in the body as the gRPC-Web trailer frame; the CORS preflight is answered for an
// allowed origin only; a plain request passes untouched. Real curl too.
func TestGrpcWeb(t *testing.T) {
	t.Parallel()
	p := newPKI(t)
	backend := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Content-Type") != "application/grpc+proto" {
			_, _ = io.WriteString(w, "plain "+r.Proto+" "+r.Header.Get("Content-Type"))
			return
		}
		body, _ := io.ReadAll(r.Body)
		if r.ProtoMajor != 2 || r.Header.Get("Te") != "trailers" || len(body) < 5 {
			http.Error(w, "not gRPC: "+r.Proto+" te="+r.Header.Get("Te"), http.StatusBadRequest)
			return
		}
		// Answer as grpc-go does: headers, messages, then undeclared HTTP/2 trailers.
		w.Header().Set("Content-Type", "application/grpc+proto")
		w.Header().Set("X-Served-By", "echo")
		_, _ = w.Write(grpcFrame("echo:" + string(body[5:])))
		_, _ = w.Write(grpcFrame("second"))
		w.Header().Set(http.TrailerPrefix+"Grpc-Status", "0")
		w.Header().Set(http.TrailerPrefix+"Grpc-Message", "ok")
	}))
	backend.EnableHTTP2 = true
	backend.TLS = &tls.Config{Certificates: []tls.Certificate{p.backend.TLS}}
	backend.StartTLS()
	t.Cleanup(backend.Close)

	dir := writeFolder(t, map[string]string{
		"secrets.yaml":   p.secretsYAML(),
		"transport.yaml": transportYAML,
		"services.yaml":  serviceYAML(t, "svc-a", addrOf(backend)),
		"grpc.yaml": middlewareRoute("grpc", "grpc", "browsers", "") +
			middlewareYAML("browsers", `  grpcWeb: {allowOrigins: ["https://app.example.test"]}`+"\n"),
	})
	gw := serveFolder(t, dir)
	c := gw.httpsClient(p.edgeCA, false) // HTTP/1.1, as many browsers' gRPC-Web calls arrive
	waitBody(t, c, "https://grpc.example.test/plain", http.StatusOK, "plain HTTP/2.0 ")

	type answer struct {
		StatusCode int
		Header     http.Header
		Trailer    http.Header
	}
	call := func(contentType string, body []byte) (answer, []byte) {
		t.Helper()
		req, _ := http.NewRequest(http.MethodPost, "https://grpc.example.test/echo.Echo/Say", bytes.NewReader(body))
		req.Header.Set("Content-Type", contentType)
		req.Header.Set("X-Grpc-Web", "1")
		req.Header.Set("Origin", "https://app.example.test")
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer func() { _ = resp.Body.Close() }()
		out, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatal(err)
		}
		return answer{resp.StatusCode, resp.Header, resp.Trailer}, out
	}

	t.Run("binary", func(t *testing.T) {
		resp, body := call("application/grpc-web+proto", grpcFrame("hi"))
		if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "application/grpc-web+proto" {
			t.Fatalf("%d %q %q", resp.StatusCode, resp.Header.Get("Content-Type"), body)
		}
		msgs, trailers := grpcWebFrames(t, body)
		if strings.Join(msgs, "|") != "echo:hi|second" || trailers != "grpc-message: ok\r\ngrpc-status: 0\r\n" {
			t.Errorf("messages %q, trailer frame %q", msgs, trailers)
		}
		if resp.Trailer.Get("Grpc-Status") != "" {
			t.Errorf("grpc-status also sent as an HTTP trailer")
		}
		if got := resp.Header.Get("Access-Control-Allow-Origin"); got != "https://app.example.test" || !strings.Contains(resp.Header.Get("Access-Control-Expose-Headers"), "grpc-status") {
			t.Errorf("CORS: allow-origin %q, expose %q", got, resp.Header.Get("Access-Control-Expose-Headers"))
		}
	})

	t.Run("text", func(t *testing.T) {
		resp, body := call("application/grpc-web-text+proto", []byte(base64.StdEncoding.EncodeToString(grpcFrame("hi"))))
		if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "application/grpc-web-text+proto" {
			t.Fatalf("%d %q %q", resp.StatusCode, resp.Header.Get("Content-Type"), body)
		}
		raw, err := base64.StdEncoding.DecodeString(string(body))
		if err != nil {
			t.Fatalf("the -text answer is not base64: %v (%q)", err, body)
		}
		if msgs, trailers := grpcWebFrames(t, raw); strings.Join(msgs, "|") != "echo:hi|second" || !strings.Contains(trailers, "grpc-status: 0\r\n") {
			t.Errorf("messages %q, trailer frame %q", msgs, trailers)
		}
	})

	t.Run("preflight", func(t *testing.T) {
		for origin, want := range map[string]string{"https://app.example.test": "https://app.example.test", "https://evil.example": ""} {
			req, _ := http.NewRequest(http.MethodOptions, "https://grpc.example.test/echo.Echo/Say", nil)
			req.Header.Set("Origin", origin)
			req.Header.Set("Access-Control-Request-Method", "POST")
			req.Header.Set("Access-Control-Request-Headers", "content-type,x-grpc-web,x-user-agent")
			resp, err := c.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			_ = resp.Body.Close()
			if got := resp.Header.Get("Access-Control-Allow-Origin"); resp.StatusCode != http.StatusNoContent || got != want {
				t.Errorf("preflight from %s: %d allow-origin %q; want 204 %q", origin, resp.StatusCode, got, want)
			}
		}
	})

	t.Run("curl", func(t *testing.T) {
		ca := writePEM(t, "edge-ca.crt", p.edgeCA.PEM)
		in := filepath.Join(t.TempDir(), "req.bin")
		if err := os.WriteFile(in, grpcFrame("curl"), 0o600); err != nil {
			t.Fatal(err)
		}
		out := filepath.Join(t.TempDir(), "resp.bin")
		port := port(t, gw.websecure)
		printed, code := runTool(t, dir, "curl", "-sS", "--cacert", ca, "-o", out, "-w", "%{http_code} %{content_type}",
			"-H", "Content-Type: application/grpc-web+proto", "-H", "X-Grpc-Web: 1", "--data-binary", "@"+in,
			"--resolve", "grpc.example.test:"+port+":127.0.0.1", "https://grpc.example.test:"+port+"/echo.Echo/Say")
		body, _ := os.ReadFile(out)
		if code != 0 || printed != "200 application/grpc-web+proto" {
			t.Fatalf("curl: exit %d, printed %q", code, printed)
		}
		if msgs, trailers := grpcWebFrames(t, body); len(msgs) != 2 || msgs[0] != "echo:curl" || !strings.Contains(trailers, "grpc-status: 0") {
			t.Errorf("curl got messages %q, trailers %q", msgs, trailers)
		}
	})
}
