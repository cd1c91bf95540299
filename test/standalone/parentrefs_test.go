package standalone

import (
	"crypto/tls"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// multiLayerYAML is Traefik's multi-layer routing (v3.5+) as a Traefik user writes it:
// the parent api matches app.example.test/api on websecure with TLS and runs strip-api and
// tag; its children decide by the request those middlewares left: /users goes to users,
// anything else to rest. orphan names a parent that does not exist. GROUP is the API group.
const multiLayerYAML = `apiVersion: GROUP/v1alpha1
kind: IngressRoute
metadata: {name: api, namespace: web}
spec:
  entryPoints: [websecure]
  routes:
  - match: Host(` + "`app.example.test`" + `) && PathPrefix(` + "`/api`" + `)
    middlewares: [{name: strip-api}, {name: tag}]
  tls:
    secretName: edge-tls
---
apiVersion: GROUP/v1alpha1
kind: IngressRoute
metadata: {name: users, namespace: web}
spec:
  parentRefs: [{name: api}]
  routes:
  - match: Path(` + "`/users`" + `) && Header(` + "`X-Layer`" + `, ` + "`parent`" + `)
    services: [{name: svc-users, port: 443, serversTransport: backends}]
---
apiVersion: GROUP/v1alpha1
kind: IngressRoute
metadata: {name: rest, namespace: web}
spec:
  parentRefs: [{name: api, namespace: web}]
  routes:
  - match: PathPrefix(` + "`/`" + `)
    priority: 1
    services: [{name: svc-rest, port: 443, serversTransport: backends}]
---
apiVersion: GROUP/v1alpha1
kind: IngressRoute
metadata: {name: orphan, namespace: web}
spec:
  parentRefs: [{name: no-such-parent}]
  routes:
  - match: PathPrefix(` + "`/`" + `)
    services: [{name: svc-users, port: 443, serversTransport: backends}]
---
apiVersion: GROUP/v1alpha1
kind: Middleware
metadata: {name: strip-api, namespace: web}
spec:
  stripPrefix: {prefixes: [/api]}
---
apiVersion: GROUP/v1alpha1
kind: Middleware
metadata: {name: tag, namespace: web}
spec:
  headers: {customRequestHeaders: {X-Layer: parent}}
`

// TestMultiLayerRouting: a child IngressRoute's routes answer only below its parent's
// match, after the parent's middlewares (the stripped path, the added header) — through
// real TLS on loopback, with Go's client and curl, for both Traefik API groups. A child
// naming a missing parent is not Ready, naming the reference, and serves nothing.
func TestMultiLayerRouting(t *testing.T) {
	t.Parallel()
	for _, group := range []string{"traefik.io", "traefik.containo.us"} {
		t.Run(group, func(t *testing.T) {
			t.Parallel()
			p := newPKI(t)
			backend := func(name string) *httptest.Server {
				b := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					_, _ = fmt.Fprintf(w, "%s path=%s layer=%s", name, r.URL.Path, r.Header.Get("X-Layer"))
				}))
				b.TLS = &tls.Config{Certificates: []tls.Certificate{p.backend.TLS}}
				b.StartTLS()
				t.Cleanup(b.Close)
				return b
			}
			users, rest := backend("users"), backend("rest")
			dir := writeFolder(t, map[string]string{
				"secrets.yaml":   p.secretsYAML(),
				"transport.yaml": transportYAML,
				"services.yaml":  serviceYAML(t, "svc-users", addrOf(users)) + serviceYAML(t, "svc-rest", addrOf(rest)),
				"routes.yaml":    strings.ReplaceAll(multiLayerYAML, "GROUP", group),
			})
			gw := serveFolder(t, dir)
			for _, name := range []string{"api", "users", "rest"} {
				wantCondition(t, gw, "IngressRoute/web/"+name, "Ready", "True")
			}
			wantCondition(t, gw, "IngressRoute/web/orphan", "Ready", "False", "spec.parentRefs[0]: parent IngressRoute web/no-such-parent not found")

			client := gw.httpsClient(p.edgeCA, true)
			// No route claims other.example.test, so the gateway's generated certificate answers it.
			insecure := gw.httpsClient(p.edgeCA, false, func(c *tls.Config) { c.InsecureSkipVerify = true })
			for _, c := range []struct {
				url  string
				code int
				body string
			}{
				// The parent matched and stripped /api; the child matched what was left.
				{"https://app.example.test/api/users", http.StatusOK, "users path=/users layer=parent"},
				{"https://app.example.test/api/orders", http.StatusOK, "rest path=/orders layer=parent"},
				// Outside the parent's match, the children (and the orphan) never answer.
				{"https://app.example.test/users", http.StatusNotFound, ""},
				{"https://other.example.test/api/users", http.StatusNotFound, ""},
			} {
				cl := client
				if strings.Contains(c.url, "other.") {
					cl = insecure
				}
				code, body, err := get(cl, c.url)
				if err != nil || code != c.code || (c.body != "" && body != c.body) {
					t.Errorf("GET %s: %d %q %v; want %d %q", c.url, code, body, err, c.code, c.body)
				}
			}

			ca := writePEM(t, "edge-ca.crt", p.edgeCA.PEM)
			port := port(t, gw.websecure)
			out, code := runTool(t, dir, "curl", "-sS", "--cacert", ca, "--resolve", "app.example.test:"+port+":127.0.0.1",
				"-w", " %{http_code}", "https://app.example.test:"+port+"/api/users")
			if code != 0 || out != "users path=/users layer=parent 200" {
				t.Errorf("curl /api/users: exit %d, printed %q; want the users child behind the parent's middlewares", code, out)
			}
		})
	}
}
