package standalone

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// tlsEntryPointYAML: a Gateway whose HTTPS listener and TLS Passthrough listener name the
// port of a TLS user entry point (--entrypoint tls2=127.0.0.1:PORT/tls), an IngressRoute
// with tls on that entry point, and one without tls there (which it cannot serve).
func tlsEntryPointYAML(port string) string {
	return strings.ReplaceAll(`apiVersion: gateway.networking.k8s.io/v1
kind: GatewayClass
metadata: {name: bridgehead}
spec: {controllerName: gateway.bridgehead.dev/gateway-controller}
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: second, namespace: web}
spec:
  gatewayClassName: bridgehead
  listeners:
  - name: https
    port: PORT
    protocol: HTTPS
    hostname: app.example.test
    tls: {certificateRefs: [{name: edge-tls}]}
  - name: pass
    port: PORT
    protocol: TLS
    hostname: pass.example.test
    tls: {mode: Passthrough}
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: app, namespace: web}
spec:
  parentRefs: [{name: second, sectionName: https}]
  hostnames: [app.example.test]
  rules:
  - backendRefs: [{name: plain, port: 80}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: TLSRoute
metadata: {name: pass, namespace: web}
spec:
  parentRefs: [{name: second, sectionName: pass}]
  hostnames: [pass.example.test]
  rules:
  - backendRefs: [{name: tlsback, port: 443}]
---
apiVersion: traefik.io/v1alpha1
kind: IngressRoute
metadata: {name: legacy, namespace: web}
spec:
  entryPoints: [tls2]
  routes:
  - match: Host(`+"`legacy.example.test`"+`)
    services: [{name: plain, port: 80}]
  tls: {secretName: edge-tls}
---
apiVersion: traefik.io/v1alpha1
kind: IngressRoute
metadata: {name: no-tls, namespace: web}
spec:
  entryPoints: [tls2]
  routes:
  - match: Host(`+"`plain.example.test`"+`)
    services: [{name: plain, port: 80}]
`, "PORT", port)
}

// TestServeWithTLSEntryPoint runs `bridgehead serve` with a TLS user entry point: real curl
// and openssl s_client on loopback reach an HTTPS listener on its port (terminated with
// the listener's certificate, chosen by SNI), a TLS Passthrough listener on the same port
// (the backend's own certificate reaches the client), and an IngressRoute with tls on it;
// an IngressRoute without tls there is not Ready, saying why and what to change.
func TestServeWithTLSEntryPoint(t *testing.T) {
	t.Parallel()
	p := newPKI(t)
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, "plain backend saw "+r.Host+"\n")
	}))
	t.Cleanup(backend.Close)
	passBackend := tlsBackend(t, p, "passed-through", false)
	tlsPort := freePort(t)
	dir := writeFolder(t, map[string]string{
		"secrets.yaml":  p.secretsYAML(),
		"backends.yaml": plainBackendYAML(t, "plain", addrOf(backend)) + serviceYAML(t, "tlsback", addrOf(passBackend)),
		"gateway.yaml":  tlsEntryPointYAML(tlsPort),
	})
	gw := startBridgehead(t, dir, append([]string{"serve", "--config-dir", ".", "--gateway-namespace", ns,
		"--entrypoint", "tls2=127.0.0.1:" + tlsPort + "/tls"}, servePorts...)...)
	gw.waitLoaded()
	if gw.addrs["tls2"] != "127.0.0.1:"+tlsPort {
		t.Fatalf("the serving line has tls2 at %q, want 127.0.0.1:%s: %v", gw.addrs["tls2"], tlsPort, gw.addrs)
	}
	gw.waitPrinted(
		"Gateway/web/second: listener https (1 routes attached): Accepted=True(Accepted) Programmed=True(Programmed)",
		"Gateway/web/second: listener pass (1 routes attached): Accepted=True(Accepted) Programmed=True(Programmed)",
		"TLSRoute/web/pass: parent Gateway second section pass: Accepted=True(Accepted) ResolvedRefs=True(ResolvedRefs)")

	st := gw.status()
	if status, reason, msg, _ := st.condition("IngressRoute/web/legacy", "Ready"); status != "True" {
		t.Errorf("/status: IngressRoute legacy Ready = %q %q %q, want True", status, reason, msg)
	}
	if status, reason, msg, _ := st.condition("IngressRoute/web/no-tls", "Ready"); status != "False" || reason != "UnknownEntryPoint" ||
		!strings.Contains(msg, `spec.entryPoints[0] "tls2" is a TLS entry point`) || !strings.Contains(msg, "add tls: {}") {
		t.Errorf("/status: IngressRoute no-tls Ready = %q %q %q, want False UnknownEntryPoint naming tls2 and the fix", status, reason, msg)
	}

	// HTTPS listener and IngressRoute: real curl verifies the edge certificate for the name.
	edgeCA := writePEM(t, "edge-ca.crt", p.edgeCA.PEM)
	for _, host := range []string{"app.example.test", "legacy.example.test"} {
		out, code := runTool(t, dir, "curl", "-sS", "--cacert", edgeCA, "--resolve", host+":"+tlsPort+":127.0.0.1", "https://"+host+":"+tlsPort+"/")
		if code != 0 || out != "plain backend saw "+host+":"+tlsPort+"\n" {
			t.Errorf("curl https://%s:%s/: exit %d, %q", host, tlsPort, code, out)
		}
	}
	// openssl s_client: the listener's certificate is served for its SNI, the backend's own
	// (passed through untouched) for the passthrough listener's.
	for sni, want := range map[string]string{"app.example.test": "CN=example.test", "pass.example.test": "CN=backend.web.svc"} {
		ca := edgeCA
		if sni == "pass.example.test" {
			ca = writePEM(t, "backend-ca.crt", p.backendCA.PEM)
		}
		out, _ := runTool(t, dir, "openssl", "s_client", "-connect", "127.0.0.1:"+tlsPort, "-servername", sni, "-CAfile", ca, "-verify_return_error", "-brief", "-no_ign_eof")
		subject := ""
		for _, line := range strings.Split(out, "\n") {
			if strings.HasPrefix(line, "Peer certificate:") {
				subject = strings.ReplaceAll(strings.TrimSpace(strings.TrimPrefix(line, "Peer certificate:")), " ", "")
			}
		}
		if subject != want || !strings.Contains(out, "Verification: OK") {
			t.Errorf("openssl s_client -servername %s: peer %q, want %q, verified:\n%s", sni, subject, want, out)
		}
	}
	// A plain HTTP request to the TLS entry point is not served (closed, never routed).
	if out, code := runTool(t, dir, "curl", "-sS", "-o", "/dev/null", "-w", "%{http_code}", "http://127.0.0.1:"+tlsPort+"/"); code == 0 && out != "000" {
		t.Errorf("plain HTTP on the TLS entry point: HTTP %s", out)
	}
}
