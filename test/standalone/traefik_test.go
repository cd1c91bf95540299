package standalone

import (
	"net/http"
	"strings"
	"testing"
)

// traefikYAML is what a Traefik user has: an IngressRoute to an https service through a
// ServersTransport (rootCAsSecrets, serverName, certificatesSecrets), client mTLS at the
// edge with a TLSOption, and two fields Bridgehead does not implement (nativeLB and
// tls.certResolver). GROUP is the API group.
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
      services:
        - name: svc-a
          port: 443
          scheme: https
          serversTransport: backends
          nativeLB: true
  tls:
    secretName: edge-tls
    certResolver: letsencrypt
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

// The ignored fields the Compatibility condition must name.
var traefikIgnored = []string{"spec.routes[0].services[0].nativeLB", "spec.tls.certResolver"}

// TestTraefikManifestsAsTheyAre serves Traefik manifests unchanged, in both of Traefik's
// API groups: end-to-end TLS works (the client presents its certificate at the edge, the
// gateway presents its own to a backend that requires one and verifies it by name and
// private root), and the fields Bridgehead ignores are named in a Compatibility warning,
// in `bridgehead status` and in the admin /status.
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

			// bridgehead status: served (exit 0), with the ignored fields named.
			out, code := runTool(t, dir, binary, "status", "--config-dir", ".", "--gateway-namespace", ns)
			if code != 0 {
				t.Errorf("bridgehead status: exit %d, want 0 (ignored fields warn, they do not break):\n%s", code, out)
			}
			compat := ""
			for _, line := range strings.Split(out, "\n") {
				if strings.HasPrefix(line, "  IngressRoute/web/app: compatibility: ") {
					compat = line
				}
			}
			for _, f := range traefikIgnored {
				if !strings.Contains(compat, f) {
					t.Errorf("bridgehead status: no compatibility line for IngressRoute/web/app naming %s:\n%s", f, out)
				}
			}

			gw := serveFolder(t, dir)
			st := gw.status()
			status, reason, msg, ok := st.condition("IngressRoute/web/app", "Compatibility")
			if !ok || status != "True" {
				t.Errorf("/status: IngressRoute/web/app Compatibility = %q %q %q, want True", status, reason, msg)
			}
			for _, f := range traefikIgnored {
				if !strings.Contains(msg, f) {
					t.Errorf("/status: the Compatibility message does not name %s: %q", f, msg)
				}
			}
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
