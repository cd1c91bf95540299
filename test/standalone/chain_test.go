package standalone

import (
	"crypto/tls"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
)

// TestChainRunsItsMiddlewaresInOrder: a chain of a rateLimit and an inner chain
// (stripPrefix, then a request header) acts as the route listing them would: the backend
// sees the path stripped and the header set, the second request at once gets 429; a
// chain that closes a cycle is not Ready, naming the loop, and its route answers 503
// while the other keeps serving.
func TestChainRunsItsMiddlewaresInOrder(t *testing.T) {
	p := newPKI(t)
	backend := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = fmt.Fprintf(w, "path=%s via=%s", r.URL.Path, r.Header.Get("X-Via"))
	}))
	backend.TLS = &tls.Config{Certificates: []tls.Certificate{p.backend.TLS}}
	backend.StartTLS()
	t.Cleanup(backend.Close)
	dir := writeFolder(t, map[string]string{
		"secrets.yaml":   p.secretsYAML(),
		"transport.yaml": transportYAML,
		"services.yaml":  serviceYAML(t, "svc-a", addrOf(backend)),
		"chain.yaml": middlewareRoute("api", "api", "api-chain", "") +
			middlewareYAML("api-chain", "  chain: {middlewares: [{name: one-a-minute}, {name: inner}]}\n") +
			middlewareYAML("inner", "  chain: {middlewares: [{name: strip-api}, {name: via}]}\n") +
			middlewareYAML("strip-api", "  stripPrefix: {prefixes: [/api]}\n") +
			middlewareYAML("via", "  headers: {customRequestHeaders: {X-Via: chain}}\n") +
			middlewareYAML("one-a-minute", "  rateLimit: {average: 1, period: 1m}\n"),
		"loop.yaml": middlewareRoute("loop", "loop", "loop-a", "") +
			middlewareYAML("loop-a", "  chain: {middlewares: [{name: via}, {name: loop-b}]}\n") +
			middlewareYAML("loop-b", "  chain: {middlewares: [{name: loop-a}]}\n"),
	})
	gw := serveFolder(t, dir)
	wantCondition(t, gw, "Middleware/web/loop-b", "Ready", "False", "closes a cycle of chains (web/loop-a -> web/loop-b -> web/loop-a)")
	if code, header := failureOf(t, gw.httpsClient(p.edgeCA, false), "https://loop.example.test/"); code != http.StatusServiceUnavailable || header != "InvalidRef" {
		t.Errorf("route through a cycle: %d %q; want 503 InvalidRef", code, header)
	}
	// Real curl, twice: the chain's rateLimit admits the first only.
	ca := writePEM(t, "edge-ca.crt", p.edgeCA.PEM)
	port := port(t, gw.websecure)
	var outs []string
	for range 2 {
		out, code := runTool(t, dir, "curl", "-sS", "--cacert", ca, "--resolve", "api.example.test:"+port+":127.0.0.1",
			"-w", " %{http_code}", "https://api.example.test:"+port+"/api/orders")
		if code != 0 {
			t.Fatalf("curl: exit %d: %s", code, out)
		}
		outs = append(outs, out)
	}
	if outs[0] != "path=/orders via=chain 200" || outs[1] != "Too Many Requests\n 429" {
		t.Errorf("two curls through the chain: %q; want the stripped path and header, then 429", outs)
	}
}
