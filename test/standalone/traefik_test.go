package standalone

import (
	"crypto/tls"
	"net/http"
	"regexp"
	"strings"
	"testing"
)

// traefikYAML is what a Traefik user has: an IngressRoute to an https service through a
// ServersTransport (rootCAsSecrets, serverName, certificatesSecrets), client mTLS at the
// edge with a TLSOption, and Traefik fields whose values ask for what Bridgehead does
// (syntax: v3, nativeLB: false, strategy: wrr). GROUP is the API group.
const traefikYAML = `apiVersion: GROUP/v1alpha1
kind: IngressRoute
metadata:
  name: app
  namespace: web
spec:
  entryPoints:
    - websecure
  routes:
    - match: Host(` + "`app.example.test`" + `)
      kind: Rule
      syntax: v3
      services:
        - name: svc-a
          port: 443
          scheme: https
          serversTransport: backends
          nativeLB: false
          strategy: wrr
  tls:
    secretName: edge-tls
    options:
      name: mtls
---
apiVersion: GROUP/v1alpha1
kind: ServersTransport
metadata:
  name: backends
  namespace: web
spec:
  serverName: backend.web.svc
  rootCAsSecrets:
    - backend-ca
  certificatesSecrets:
    - gateway-client
---
apiVersion: GROUP/v1alpha1
kind: TLSOption
metadata:
  name: mtls
  namespace: web
spec:
  minVersion: VersionTLS12
  clientAuth:
    secretNames:
      - client-ca
    clientAuthType: RequireAndVerifyClientCert
`

// TestTraefikManifestsAsTheyAre serves Traefik manifests unchanged, in both of Traefik's
// API groups: end-to-end TLS works (the client presents its certificate at the edge, the
// gateway presents its own to a backend that requires one and verifies it by name and
// private root), and every object is Ready.
func TestTraefikManifestsAsTheyAre(t *testing.T) {
	t.Parallel()
	for _, group := range []string{"traefik.containo.us", "traefik.io"} {
		t.Run(group, func(t *testing.T) {
			t.Parallel()
			p := newPKI(t)
			backend := tlsBackend(t, p, "A", true)
			dir := writeFolder(t, map[string]string{
				"secrets.yaml": p.secretsYAML(),
				"service.yaml": serviceYAML(t, "svc-a", addrOf(backend)),
				"traefik.yaml": strings.ReplaceAll(traefikYAML, "GROUP", group),
			})

			out, code := runTool(t, dir, binary, "status", "--config-dir", ".", "--gateway-namespace", ns)
			if code != 0 || strings.Contains(out, "UnsupportedField") {
				t.Errorf("bridgehead status: exit %d, want 0 and every object Ready:\n%s", code, out)
			}

			gw := serveFolder(t, dir)
			st := gw.status()
			for _, obj := range []string{"IngressRoute/web/app", "ServersTransport/web/backends", "TLSOption/web/mtls"} {
				if status, reason, msg, _ := st.condition(obj, "Ready"); status != "True" {
					t.Errorf("/status: %s Ready = %q %q %q, want True", obj, status, reason, msg)
				}
			}
			if len(st.Problems) != 0 {
				t.Errorf("/status: problems %v", st.Problems)
			}

			// End to end with real curl: the client's certificate at the edge, the
			// gateway's at the backend.
			ca := writePEM(t, "edge-ca.crt", p.edgeCA.PEM)
			cert, key := writePEM(t, "alice.crt", p.alice.CertPEM), writePEM(t, "alice.key", p.alice.KeyPEM)
			port := port(t, gw.websecure)
			resolve := "app.example.test:" + port + ":127.0.0.1"
			url := "https://app.example.test:" + port + "/"
			for _, proto := range []string{"--http1.1", "--http2"} {
				out, code := runTool(t, dir, "curl", "-sS", proto, "--cacert", ca, "--cert", cert, "--key", key, "--resolve", resolve, "-w", "\n%{http_code}", url)
				if want := "A client=bridgehead-gateway\n200"; code != 0 || out != want {
					t.Errorf("curl %s with alice's certificate: exit %d, printed %q, want %q", proto, code, out, want)
				}
			}
			out, code = runTool(t, dir, "curl", "-sS", "--http1.1", "--cacert", ca, "--resolve", resolve, url)
			if code == 0 || !strings.Contains(out, "alert certificate required") {
				t.Errorf("curl without a client certificate: exit %d, printed %q, want the handshake refused (certificate required)", code, out)
			}

			// And the same through Go's client on HTTP/2, to see the status code.
			client := gw.httpsClient(p.edgeCA, true, withClientCert(p))
			if code, body, err := get(client, "https://app.example.test/"); err != nil || code != http.StatusOK || body != "A client=bridgehead-gateway" {
				t.Errorf("Go client with alice's certificate: %d %q %v", code, body, err)
			}
		})
	}
}

// TestTraefikFieldsBridgeheadLacksAreRefused: a Traefik manifest that sets fields
// Bridgehead does not implement is not served — never served while they are ignored. The
// object is not Ready (UnsupportedField) with each field named, in `bridgehead status`
// and the admin /status, and its host gets no route.
func TestTraefikFieldsBridgeheadLacksAreRefused(t *testing.T) {
	t.Parallel()
	for _, group := range []string{"traefik.containo.us", "traefik.io"} {
		t.Run(group, func(t *testing.T) {
			t.Parallel()
			p := newPKI(t)
			backend := tlsBackend(t, p, "A", false)
			manifest := strings.ReplaceAll(traefikYAML, "GROUP", group)
			manifest = strings.Replace(manifest, "nativeLB: false", "nativeLB: true", 1)
			manifest = strings.Replace(manifest, "    secretName: edge-tls\n", "    secretName: edge-tls\n    certResolver: letsencrypt\n", 1)
			dir := writeFolder(t, map[string]string{
				"secrets.yaml": p.secretsYAML(),
				"service.yaml": serviceYAML(t, "svc-a", addrOf(backend)),
				"traefik.yaml": manifest,
			})
			lacking := []string{"spec.routes[0].services[0].nativeLB: only false is implemented", "spec.tls.certResolver: ACME is not built in"}

			out, code := runTool(t, dir, binary, "status", "--config-dir", ".", "--gateway-namespace", ns)
			if code != 1 || !regexp.MustCompile(`IngressRoute/web/app +False +UnsupportedField`).MatchString(out) {
				t.Errorf("bridgehead status: exit %d, want 1 with IngressRoute/web/app not Ready (UnsupportedField):\n%s", code, out)
			}
			for _, f := range lacking {
				if !strings.Contains(out, f) {
					t.Errorf("bridgehead status does not name %q:\n%s", f, out)
				}
			}
			lint, code := runTool(t, dir, binary, "lint", "--config-dir", ".", "--gateway-namespace", ns)
			if code != 1 || !strings.Contains(lint, "UnsupportedField") || !strings.Contains(lint, "spec.tls.certResolver") {
				t.Errorf("bridgehead lint: exit %d, want 1 naming the fields:\n%s", code, lint)
			}

			gw := serveFolder(t, dir)
			status, reason, msg, _ := gw.status().condition("IngressRoute/web/app", "Ready")
			if status != "False" || reason != "UnsupportedField" {
				t.Errorf("/status: IngressRoute/web/app Ready = %q %q %q, want False UnsupportedField", status, reason, msg)
			}
			for _, f := range lacking {
				if !strings.Contains(msg, f) {
					t.Errorf("/status: the Ready message does not name %q: %q", f, msg)
				}
			}
			// The route is not served: its host falls to the HTTPS router's 404, never the backend.
			client := gw.httpsClient(p.edgeCA, false, func(c *tls.Config) { c.InsecureSkipVerify = true })
			if code, body, err := get(client, "https://app.example.test/"); err != nil || code != http.StatusNotFound || strings.Contains(body, "A") {
				t.Errorf("GET app.example.test: %d %q %v, want 404 (the route is not served)", code, body, err)
			}
		})
	}
}
