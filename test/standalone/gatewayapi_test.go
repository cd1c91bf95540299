package standalone

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bridgehead/bridgehead/internal/source/manifests"
	"github.com/bridgehead/bridgehead/internal/translate"
)

// plainBackendYAML is a selector-less Service (port 80, named http: plain HTTP) with an
// EndpointSlice naming addr.
func plainBackendYAML(t *testing.T, name, addr string) string {
	t.Helper()
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf(`---
apiVersion: v1
kind: Service
metadata: {name: %[1]s, namespace: %[2]s}
spec:
  ports: [{name: http, port: 80}]
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata:
  name: %[1]s-local
  namespace: %[2]s
  labels: {kubernetes.io/service-name: %[1]s}
addressType: IPv4
ports: [{name: http, port: %[4]s}]
endpoints: [{addresses: [%[3]s]}]
`, name, ns, host, port)
}

// gatewayFolderYAML: the class, a Gateway with HTTP (80), HTTPS (443) and a listener on
// a port no entry point has, a route on both good listeners, and a route whose hostname
// no listener takes.
const gatewayFolderYAML = `apiVersion: gateway.networking.k8s.io/v1
kind: GatewayClass
metadata: {name: bridgehead}
spec: {controllerName: gateway.bridgehead.dev/gateway-controller}
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: edge, namespace: web}
spec:
  gatewayClassName: bridgehead
  listeners:
  - {name: http, port: 80, protocol: HTTP}
  - name: https
    port: 443
    protocol: HTTPS
    hostname: "*.example.test"
    tls: {certificateRefs: [{name: edge-tls}]}
  - {name: odd-port, port: 1234, protocol: HTTP}
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: app, namespace: web}
spec:
  parentRefs: [{name: edge, sectionName: http}, {name: edge, sectionName: https}]
  hostnames: [app.example.test]
  rules:
  - backendRefs: [{name: plain, port: 80}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: elsewhere, namespace: web}
spec:
  parentRefs: [{name: edge, sectionName: https}]
  hostnames: [app.other.test]
  rules:
  - backendRefs: [{name: plain, port: 80}]
`

// TestGatewayAPIFolder serves a folder of Gateway API YAML with `bridgehead serve`: real
// curl through the HTTP and the HTTPS listener (TLS terminated with the listener's
// certificate) to a loopback backend, and the statuses a user reads in folder mode — the
// printed table, /status and `bridgehead status` — showing the Gateway's addresses, each
// listener's conditions and each route's per parent, with the reason of what is refused.
func TestGatewayAPIFolder(t *testing.T) {
	t.Parallel()
	p := newPKI(t)
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, "plain backend saw "+r.Host+"\n")
	}))
	t.Cleanup(backend.Close)
	dir := writeFolder(t, map[string]string{
		"secrets.yaml": p.secretsYAML(),
		"backend.yaml": plainBackendYAML(t, "plain", backend.Listener.Addr().String()),
		"gateway.yaml": gatewayFolderYAML,
	})
	gw := serveFolder(t, dir)

	wantRows := []string{
		"Gateway/web/edge: addresses 127.0.0.1; Accepted=True(ListenersNotValid)",
		"Gateway/web/edge: listener http (1 routes attached): Accepted=True(Accepted) Programmed=True(Programmed)",
		"Gateway/web/edge: listener https (1 routes attached): Accepted=True(Accepted) Programmed=True(Programmed)",
		"Gateway/web/edge: listener odd-port (0 routes attached): Accepted=False(PortUnavailable)",
		"Accepted: port 1234 is not one of the gateway's entry points",
		"HTTPRoute/web/app: parent Gateway edge section http: Accepted=True(Accepted) ResolvedRefs=True(ResolvedRefs)",
		"HTTPRoute/web/elsewhere: parent Gateway edge section https: Accepted=False(NoMatchingListenerHostname)",
	}
	printed := gw.waitPrinted(wantRows...)
	for _, w := range wantRows {
		if !strings.Contains(printed, w) {
			t.Errorf("the printed status lacks %q:\n%s", w, printed)
		}
	}

	// Real curl, HTTP on the web entry point (the listener of port 80), HTTPS on
	// websecure (the listener of port 443), verifying the listener's certificate.
	ca := writePEM(t, "ca.crt", p.edgeCA.PEM)
	webPort, securePort := port(t, gw.web), port(t, gw.websecure)
	out, code := runTool(t, dir, "curl", "-sS", "--resolve", "app.example.test:"+webPort+":127.0.0.1", "http://app.example.test:"+webPort+"/")
	if code != 0 || out != "plain backend saw app.example.test:"+webPort+"\n" {
		t.Errorf("curl over HTTP: exit %d, %q", code, out)
	}
	out, code = runTool(t, dir, "curl", "-sS", "--cacert", ca, "--resolve", "app.example.test:"+securePort+":127.0.0.1", "https://app.example.test:"+securePort+"/")
	if code != 0 || out != "plain backend saw app.example.test:"+securePort+"\n" {
		t.Errorf("curl over HTTPS: exit %d, %q", code, out)
	}
	// A host no route attached for (elsewhere was refused): not served. (No certificate
	// of the folder names it: -k.)
	out, _ = runTool(t, dir, "curl", "-sS", "-k", "-o", "/dev/null", "-w", "%{http_code}", "--resolve", "app.other.test:"+securePort+":127.0.0.1", "https://app.other.test:"+securePort+"/")
	if out != "404" {
		t.Errorf("a host whose route is not accepted: HTTP %s, want 404", out)
	}

	// /status carries the Gateway API status as the controller would write it.
	raw, code := runTool(t, dir, "curl", "-sS", "http://"+gw.admin+"/status")
	if code != 0 {
		t.Fatalf("GET /status: %s", raw)
	}
	var doc struct {
		Objects []struct {
			Object     string                      `json:"object"`
			GatewayAPI *translate.GatewayAPIStatus `json:"gatewayAPI"`
		} `json:"objects"`
	}
	if err := json.Unmarshal([]byte(raw), &doc); err != nil {
		t.Fatal(err)
	}
	found := false
	for _, o := range doc.Objects {
		if o.Object != "Gateway/web/edge" || o.GatewayAPI == nil || o.GatewayAPI.Gateway == nil {
			continue
		}
		found = true
		st := o.GatewayAPI.Gateway
		if len(st.Addresses) != 1 || st.Addresses[0].Value != "127.0.0.1" {
			t.Errorf("Gateway addresses in /status: %+v, want 127.0.0.1 (where web and websecure listen)", st.Addresses)
		}
		if len(st.Listeners) != 3 {
			t.Errorf("listeners in /status: %+v", st.Listeners)
		}
	}
	// A route that served requests (so has runtime verdicts) keeps its parents.
	for _, o := range doc.Objects {
		if o.Object == "HTTPRoute/web/app" && (o.GatewayAPI == nil || len(o.GatewayAPI.Parents) != 2) {
			t.Errorf("HTTPRoute/web/app in /status after serving requests: %+v, want its two parents", o.GatewayAPI)
		}
	}
	if !found {
		t.Errorf("/status has no Gateway status for Gateway/web/edge:\n%s", raw)
	}

	// `bridgehead status` reads the live gateway and prints the same lines; the refused
	// listener and route make it exit non-zero.
	live, code := runTool(t, dir, binary, "status", "--config-dir", ".", "--admin-address", gw.admin)
	if code == 0 {
		t.Errorf("bridgehead status: exit 0 with a refused listener and route:\n%s", live)
	}
	for _, w := range append([]string{"live: "}, wantRows...) {
		if !strings.Contains(live, w) {
			t.Errorf("bridgehead status lacks %q:\n%s", w, live)
		}
	}
}

// examplePending says why an example cannot be served yet, when it needs a part of the
// Gateway API that is still being built: a BackendTLSPolicy that gets no status (the kind
// is not translated yet), or a finding saying a field is "not served by Bridgehead yet".
// Anything else wrong with the example fails TestExamples as usual.
func examplePending(t *testing.T, name string) string {
	t.Helper()
	if name != "gateway-api" {
		return ""
	}
	dir := filepath.Join(repoRoot, "examples", name)
	res, err := manifests.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	_, statuses := translate.Translate(res.Inputs, translate.DefaultOptions())
	var why []string
	for _, p := range res.Inputs.BackendTLSPolicies {
		k := translate.Key{Kind: translate.KindBackendTLSPolicy, Namespace: p.Namespace, Name: p.Name}
		if st := statuses[k]; st == nil || len(st.Conditions) == 0 {
			why = append(why, k.String()+" gets no status: BackendTLSPolicy is not translated yet")
		}
	}
	for _, k := range statuses.Keys() {
		for _, f := range append(statuses[k].Blocking, statuses[k].Warnings...) {
			if strings.Contains(f.Message, "not served by Bridgehead yet") {
				why = append(why, k.String()+": "+f.Message)
			}
		}
	}
	if len(why) == 0 {
		return ""
	}
	return "PENDING examples/" + name + ": " + strings.Join(why, "; ")
}

// TestGatewayAPIMixedWorldsFolder: an HTTPRoute and an IngressRoute for one host on web.
// Real curl shows the HTTPRoute serving its paths and the IngressRoute the rest; the
// IngressRoute's Warnings name the HTTPRoute, in the printed table and /status.
func TestGatewayAPIMixedWorldsFolder(t *testing.T) {
	t.Parallel()
	answer := func(name string) *httptest.Server {
		s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			_, _ = io.WriteString(w, name+" "+r.URL.Path+"\n")
		}))
		t.Cleanup(s.Close)
		return s
	}
	gwBackend, irBackend := answer("httproute"), answer("ingressroute")
	dir := writeFolder(t, map[string]string{
		"backends.yaml": plainBackendYAML(t, "new", gwBackend.Listener.Addr().String()) + plainBackendYAML(t, "old", irBackend.Listener.Addr().String()),
		"gateway.yaml": `apiVersion: gateway.networking.k8s.io/v1
kind: GatewayClass
metadata: {name: bridgehead}
spec: {controllerName: gateway.bridgehead.dev/gateway-controller}
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: edge, namespace: web}
spec:
  gatewayClassName: bridgehead
  listeners: [{name: http, port: 80, protocol: HTTP}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: api, namespace: web}
spec:
  parentRefs: [{name: edge}]
  hostnames: [shop.example.test]
  rules:
  - matches: [{path: {type: PathPrefix, value: /api}}]
    backendRefs: [{name: new, port: 80}]
`,
		"ingressroute.yaml": "apiVersion: gateway.bridgehead.dev/v1alpha1\nkind: IngressRoute\nmetadata: {name: shop, namespace: web}\nspec:\n  entryPoints: [web]\n  routes:\n  - match: Host(`shop.example.test`)\n    services: [{name: old, port: 80}]\n",
	})
	gw := serveFolder(t, dir)
	const warning = "spec.routes[0]: requests for shop.example.test/api on entry point web are served by HTTPRoute web/api (Gateway API routes rank above IngressRoutes), not by this IngressRoute"
	if printed := gw.waitPrinted(warning); !strings.Contains(printed, "IngressRoute/web/shop: warning: "+warning) {
		t.Errorf("the printed status does not warn the IngressRoute:\n%s", printed)
	}
	if status, reason, msg, _ := gw.status().condition("IngressRoute/web/shop", "Warnings"); status != "True" || reason != "IneffectiveSetting" || !strings.Contains(msg, warning) {
		t.Errorf("/status IngressRoute Warnings = %s %s %q", status, reason, msg)
	}
	webPort := port(t, gw.web)
	for path, want := range map[string]string{"/api/items": "httproute /api/items\n", "/api": "httproute /api\n", "/cart": "ingressroute /cart\n", "/apiary": "ingressroute /apiary\n"} {
		out, code := runTool(t, dir, "curl", "-sS", "--resolve", "shop.example.test:"+webPort+":127.0.0.1", "http://shop.example.test:"+webPort+path)
		if code != 0 || out != want {
			t.Errorf("curl %s: exit %d, %q, want %q", path, code, out, want)
		}
	}
}
