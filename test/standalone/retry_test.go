package standalone

import (
	"crypto/tls"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// servicesYAML is a selector-less Service whose endpoints are addrs (one EndpointSlice
// each, since their ports differ), its port named https.
func servicesYAML(t *testing.T, name string, addrs ...string) string {
	t.Helper()
	out := fmt.Sprintf("---\napiVersion: v1\nkind: Service\nmetadata: {name: %s, namespace: %s}\nspec:\n  ports:\n  - {name: https, port: 443}\n", name, ns)
	for i, addr := range addrs {
		host, port, err := net.SplitHostPort(addr)
		if err != nil {
			t.Fatal(err)
		}
		out += fmt.Sprintf(`---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata:
  name: %[1]s-%[2]d
  namespace: %[3]s
  labels: {kubernetes.io/service-name: %[1]s}
addressType: IPv4
ports:
- {name: https, port: %[5]s}
endpoints:
- addresses: [%[4]s]
`, name, i, ns, host, port)
	}
	return out
}

// serviceRoute is an IngressRoute for HOST.example.test through the Middlewares mws (may
// be empty) to Service svc.
func serviceRoute(name, host, svc string, mws ...string) string {
	list := ""
	for _, m := range mws {
		list += "{name: " + m + "}, "
	}
	return fmt.Sprintf(`---
apiVersion: gateway.bridgehead.dev/v1alpha1
kind: IngressRoute
metadata: {name: %s, namespace: web}
spec:
  entryPoints: [websecure]
  routes:
  - match: Host(`+"`%s.example.test`"+`)
    middlewares: [%s]
    services: [{name: %s, port: https, serversTransport: backends}]
  tls: {secretName: edge-tls}
`, name, host, strings.TrimSuffix(list, ", "), svc)
}

// deadEndpoint accepts connections and closes them at once, before any TLS handshake:
// a backend that cannot be reached. It counts the connections.
func deadEndpoint(t *testing.T) (string, *atomic.Int64) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ln.Close() })
	var n atomic.Int64
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			n.Add(1)
			_ = c.Close()
		}
	}()
	return ln.Addr().String(), &n
}

// countingBackend is an HTTPS backend (HTTP/1.1) that counts requests and records their
// bodies; answer writes the response, or hangs up without one.
func countingBackend(t *testing.T, p *testPKI, answer func(w http.ResponseWriter, r *http.Request)) (*httptest.Server, func() []string) {
	t.Helper()
	var mu sync.Mutex
	var seen []string
	b := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		mu.Lock()
		seen = append(seen, r.Method+" "+string(body))
		mu.Unlock()
		answer(w, r)
	}))
	b.TLS = &tls.Config{Certificates: []tls.Certificate{p.backend.TLS}}
	b.Config.ErrorLog = log.New(io.Discard, "", 0)
	b.StartTLS()
	t.Cleanup(b.Close)
	return b, func() []string { mu.Lock(); defer mu.Unlock(); return append([]string(nil), seen...) }
}

// TestRetryOnUnreachableEndpoint: a Service has two endpoints, one that closes every
// connection before the TLS handshake. With retry (attempts 3, initialInterval 50ms)
// every request, a POST with a body included, is answered 200 by the live endpoint (the
// second attempt), and curl too; the same endpoints without retry answer 502 to the
// request that met the dead one. A backend that received the request and hung up, and one
// that answered 503, are not asked again: the client gets 502 and 503, and each backend
// saw the request once.
func TestRetryOnUnreachableEndpoint(t *testing.T) {
	p := newPKI(t)
	live, liveSeen := countingBackend(t, p, func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "A") })
	dead, deadConns := deadEndpoint(t)
	dead2, _ := deadEndpoint(t)
	hangup, hangupSeen := countingBackend(t, p, func(w http.ResponseWriter, _ *http.Request) {
		c, _, err := http.NewResponseController(w).Hijack()
		if err == nil {
			_ = c.Close()
		}
	})
	busy, busySeen := countingBackend(t, p, func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusServiceUnavailable) })
	dir := writeFolder(t, map[string]string{
		"secrets.yaml":   p.secretsYAML(),
		"transport.yaml": transportYAML,
		"services.yaml": servicesYAML(t, "flaky", dead, addrOf(live)) + servicesYAML(t, "flaky-bare", dead2, addrOf(live)) +
			servicesYAML(t, "hangup", addrOf(hangup)) + servicesYAML(t, "busy", addrOf(busy)),
		"routes.yaml": serviceRoute("retry", "retry", "flaky", "retry") + serviceRoute("bare", "bare", "flaky-bare") +
			serviceRoute("hangup", "hangup", "hangup", "retry") + serviceRoute("busy", "busy", "busy", "retry") +
			middlewareYAML("retry", "  retry: {attempts: 3, initialInterval: 50ms}\n"),
	})
	gw := serveFolder(t, dir)
	c := gw.httpsClient(p.edgeCA, true)

	const n = 20
	start := time.Now()
	for i := range n {
		code, body, err := get(c, "https://retry.example.test/")
		if err != nil || code != http.StatusOK || body != "A" {
			t.Fatalf("request %d through retry: %d %q %v; want 200 from the live endpoint", i, code, body, err)
		}
	}
	req, _ := http.NewRequest(http.MethodPost, "https://retry.example.test/", strings.NewReader("payload"))
	if code, body := do(t, c, req); code != http.StatusOK || body != "A" {
		t.Errorf("a POST through retry: %d %q; want 200", code, body)
	}
	retried := retriedFailures(gw, "web/retry/0")
	t.Logf("retry: %d requests answered 200 in %v; %d attempts met the dead endpoint and were retried (it took %d connections, probes included)", n+1, time.Since(start), retried, deadConns.Load())
	if retried == 0 {
		t.Errorf("no attempt met the dead endpoint; the test proves nothing")
	}
	if got := liveSeen(); len(got) != n+1 || got[n] != "POST payload" {
		t.Errorf("the live endpoint saw %d requests, last %q; want %d, the POST with its whole body once", len(got), got[len(got)-1], n+1)
	}

	saw502 := false
	for range 4 {
		code, _, err := get(c, "https://bare.example.test/")
		if err == nil && code == http.StatusBadGateway {
			saw502 = true
			break
		}
	}
	if !saw502 {
		t.Errorf("without retry, no request met the dead endpoint's 502 in 4 tries")
	}

	req, _ = http.NewRequest(http.MethodPost, "https://hangup.example.test/", strings.NewReader("once"))
	if code, _ := do(t, c, req); code != http.StatusBadGateway {
		t.Errorf("a backend that hung up after the request: %d; want 502", code)
	}
	if got := hangupSeen(); len(got) != 1 || got[0] != "POST once" {
		t.Errorf("the backend that hung up saw %q; want the POST exactly once (it is never sent twice)", got)
	}
	if code, _, err := get(c, "https://busy.example.test/"); err != nil || code != http.StatusServiceUnavailable {
		t.Errorf("a backend answering 503: %d %v; want 503 (an answer is not retried)", code, err)
	}
	if got := busySeen(); len(got) != 1 {
		t.Errorf("the backend answering 503 saw %d requests; want 1", len(got))
	}

	ca := writePEM(t, "edge-ca.crt", p.edgeCA.PEM)
	port := port(t, gw.websecure)
	before := deadConns.Load()
	for range 3 {
		out, exit := runTool(t, dir, "curl", "-sS", "--cacert", ca, "--resolve", "retry.example.test:"+port+":127.0.0.1",
			"-w", " %{http_code}", "https://retry.example.test:"+port+"/")
		if exit != 0 || out != "A 200" {
			t.Errorf("curl through retry: exit %d, printed %q; want A 200", exit, out)
		}
	}
	t.Logf("curl: 3 requests, the dead endpoint took %d more connections (it stays ejected for 10s after a failure)", deadConns.Load()-before)
}

// retriedFailures counts the gateway's log lines of failed attempts on route that were
// left to the next attempt.
func retriedFailures(gw *gatewayProc, route string) int {
	n := 0
	for _, line := range strings.Split(gw.stderr.String(), "\n") {
		var e struct {
			Msg     string `json:"msg"`
			Route   string `json:"route"`
			Retried bool   `json:"retried"`
		}
		if json.Unmarshal([]byte(line), &e) == nil && e.Msg == "upstream request failed" && e.Route == route && e.Retried {
			n++
		}
	}
	return n
}
