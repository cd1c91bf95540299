package standalone

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bridgehead/bridgehead/internal/pki"
)

// Other controllers' backend-TLS annotations, served as those controllers define them,
// through real TLS handshakes on loopback: the gateway process reads a folder, the
// backends are Go TLS servers with the test PKI's certificates.

// annotatedIngress is an Ingress of class bridgehead for HOST.example.test over TLS to
// Service svc (its port named https), with the given annotations (YAML lines, indented
// four spaces).
func annotatedIngress(name, host, svc string, annotations ...string) string {
	ann := ""
	for _, a := range annotations {
		ann += "    " + a + "\n"
	}
	if ann != "" {
		ann = "  annotations:\n" + ann
	}
	return fmt.Sprintf(`---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: %[1]s
  namespace: web
%[4]sspec:
  ingressClassName: bridgehead
  tls:
  - hosts: [%[2]s.example.test]
    secretName: edge-tls
  rules:
  - host: %[2]s.example.test
    http:
      paths:
      - path: /
        pathType: Prefix
        backend: {service: {name: %[3]s, port: {name: https}}}
`, name, host, svc, ann)
}

const ingressClassYAML = `apiVersion: networking.k8s.io/v1
kind: IngressClass
metadata: {name: bridgehead}
spec: {controller: bridgehead.dev/ingress-controller}
`

// opaqueSecret writes a Secret of type Opaque with the given keys.
func opaqueSecret(name string, data map[string][]byte) string {
	var b strings.Builder
	fmt.Fprintf(&b, "---\napiVersion: v1\nkind: Secret\nmetadata:\n  name: %s\n  namespace: %s\ntype: Opaque\nstringData:\n", name, ns)
	for _, k := range []string{"ca.crt", "tls.crt", "tls.key"} {
		if v, ok := data[k]; ok {
			fmt.Fprintf(&b, "  %s: |\n    %s\n", k, strings.ReplaceAll(strings.TrimSpace(string(v)), "\n", "\n    "))
		}
	}
	return b.String()
}

// waitBody waits (bounded) until GET url answers want, and fails the test otherwise.
func waitBody(t *testing.T, c *http.Client, url string, wantCode int, want string) {
	t.Helper()
	var code int
	var body string
	var err error
	if _, ok := eventually(reloadLimit, func() bool {
		code, body, err = get(c, url)
		return err == nil && code == wantCode && (want == "" || body == want)
	}); !ok {
		t.Fatalf("GET %s: %d %q (%v); want %d %q", url, code, body, err, wantCode, want)
	}
}

func wantCondition(t *testing.T, gw *gatewayProc, object, typ, status string, parts ...string) {
	t.Helper()
	var st, reason, msg string
	ok := false
	eventually(reloadLimit, func() bool {
		st, reason, msg, _ = gw.status().condition(object, typ)
		if st != status {
			return false
		}
		for _, p := range parts {
			if !strings.Contains(msg, p) {
				return false
			}
		}
		ok = true
		return true
	})
	if !ok {
		t.Fatalf("%s %s = %s %s %q; want %s mentioning %q", object, typ, st, reason, msg, status, parts)
	}
}

// TestNginxProxySSLAnnotationsServeVerifiedMTLS: backend-protocol HTTPS with
// proxy-ssl-secret (ca.crt + tls.crt/tls.key in one Secret), proxy-ssl-verify "on" and
// proxy-ssl-name reach a backend that requires a client certificate, verified. A
// malformed value is refused with a status naming the annotation, the value and the fix:
// an Ingress that never served fails closed (503), one that served keeps its last good
// version; the other Ingresses keep serving.
func TestNginxProxySSLAnnotationsServeVerifiedMTLS(t *testing.T) {
	t.Parallel()
	p := newPKI(t)
	mtls := tlsBackend(t, p, "A", true)
	other := tlsBackend(t, p, "B", false)
	annotations := func(verify string) string {
		return annotatedIngress("app", "app", "svc-a",
			"nginx.ingress.kubernetes.io/backend-protocol: HTTPS",
			"nginx.ingress.kubernetes.io/proxy-ssl-secret: web/backend-mtls",
			"nginx.ingress.kubernetes.io/proxy-ssl-verify: "+verify,
			"nginx.ingress.kubernetes.io/proxy-ssl-name: backend.web.svc",
			`nginx.ingress.kubernetes.io/proxy-ssl-server-name: "on"`)
	}
	dir := writeFolder(t, map[string]string{
		"class.yaml":    ingressClassYAML,
		"secrets.yaml":  p.secretsYAML() + opaqueSecret("backend-mtls", map[string][]byte{"ca.crt": p.backendCA.PEM, "tls.crt": p.gatewayClient.CertPEM, "tls.key": p.gatewayClient.KeyPEM}),
		"services.yaml": serviceYAML(t, "svc-a", addrOf(mtls)) + serviceYAML(t, "svc-b", addrOf(other)),
		"app.yaml":      annotations(`"on"`),
		"other.yaml": annotatedIngress("other", "other", "svc-b",
			"nginx.ingress.kubernetes.io/backend-protocol: HTTPS",
			"nginx.ingress.kubernetes.io/proxy-ssl-secret: web/backend-ca",
			"nginx.ingress.kubernetes.io/proxy-ssl-name: backend.web.svc"),
		"broken.yaml": annotatedIngress("broken", "broken", "svc-b",
			"nginx.ingress.kubernetes.io/backend-protocol: HTTPS",
			"nginx.ingress.kubernetes.io/proxy-ssl-secret: backend-ca"),
	})
	gw := serveFolder(t, dir)
	client := gw.httpsClient(p.edgeCA, false)
	waitBody(t, client, "https://app.example.test/", http.StatusOK, "A client=bridgehead-gateway")
	wantCondition(t, gw, "Ingress/web/app", "Ready", "True")
	waitBody(t, client, "https://other.example.test/", http.StatusOK, "B")
	if code, header := failureOf(t, client, "https://broken.example.test/"); code != http.StatusServiceUnavailable || header != "UnsupportedValue" {
		t.Errorf("proxy-ssl-secret without a namespace: %d %q; want 503 UnsupportedValue", code, header)
	}
	wantCondition(t, gw, "Ingress/web/broken", "Ready", "False", "nginx.ingress.kubernetes.io/proxy-ssl-secret", `"backend-ca"`, "NAMESPACE/NAME")

	writeFile(t, filepath.Join(dir, "app.yaml"), annotations("maybe"))
	wantCondition(t, gw, "Ingress/web/app", "Ready", "False", "nginx.ingress.kubernetes.io/proxy-ssl-verify", `"maybe"`, `"on" nor "off"`, "last version that was accepted keeps serving")
	waitBody(t, client, "https://app.example.test/", http.StatusOK, "A client=bridgehead-gateway")
	waitBody(t, client, "https://other.example.test/", http.StatusOK, "B")
}

// TestNginxHTTPSIsVerifiedWhereNginxWasNot: ingress-nginx does not verify an HTTPS
// backend without proxy-ssl-verify "on"; Bridgehead does, so a backend with a private CA
// fails (502 UnknownAuthority) and the status says the old controller did not verify and
// how to fix it. proxy-ssl-verify "off" then serves, with a warning.
func TestNginxHTTPSIsVerifiedWhereNginxWasNot(t *testing.T) {
	t.Parallel()
	p := newPKI(t)
	backend := tlsBackend(t, p, "A", false)
	ingress := func(extra ...string) string {
		return annotatedIngress("app", "app", "svc-a", append([]string{
			"nginx.ingress.kubernetes.io/backend-protocol: HTTPS",
			"nginx.ingress.kubernetes.io/proxy-ssl-name: backend.web.svc"}, extra...)...)
	}
	dir := writeFolder(t, map[string]string{
		"class.yaml":    ingressClassYAML,
		"secrets.yaml":  p.secretsYAML(),
		"services.yaml": serviceYAML(t, "svc-a", addrOf(backend)),
		"app.yaml":      ingress(),
	})
	gw := serveFolder(t, dir)
	client := gw.httpsClient(p.edgeCA, false)
	if code, header := failureOf(t, client, "https://app.example.test/"); code != http.StatusBadGateway || header != "UnknownAuthority" {
		t.Fatalf("unverifiable backend: %d %q; want 502 UnknownAuthority", code, header)
	}
	wantCondition(t, gw, "Ingress/web/app", "BackendTLSReady", "False", "ingress-nginx did not verify", `proxy-ssl-verify: "off"`, "proxy-ssl-secret")
	wantCondition(t, gw, "Ingress/web/app", "Warnings", "True", "where ingress-nginx did not verify them")

	writeFile(t, filepath.Join(dir, "app.yaml"), ingress(`nginx.ingress.kubernetes.io/proxy-ssl-verify: "off"`))
	waitBody(t, client, "https://app.example.test/", http.StatusOK, "A")
	wantCondition(t, gw, "Ingress/web/app", "Warnings", "True", "NOT verified")
}

// TestHAProxySeedServesThroughVerifiedTLS: the Ingress of the HAProxy field report
// (seeds/01), class changed to bridgehead: server-ssl with server-ca (the CA at tls.crt,
// as HAProxy reads it) serves through verified TLS. A server-ca that did not sign the
// backend fails (502 UnknownAuthority), and server-ssl alone serves unverified, as HAProxy
// does, with a warning.
func TestHAProxySeedServesThroughVerifiedTLS(t *testing.T) {
	t.Parallel()
	p := newPKI(t)
	backend := tlsBackend(t, p, "A", false)
	seed := func(ann ...string) string {
		return strings.Replace(annotatedIngress("my-app", "my-app", "backend", ann...), "  ingressClassName: bridgehead\n", "", 1)
	}
	classAnnotation := "kubernetes.io/ingress.class: bridgehead"
	dir := writeFolder(t, map[string]string{
		"class.yaml":    ingressClassYAML,
		"secrets.yaml":  p.secretsYAML() + opaqueSecret("ca", map[string][]byte{"tls.crt": p.backendCA.PEM}),
		"services.yaml": serviceYAML(t, "backend", addrOf(backend)),
		"ingress.yaml": seed("haproxy.org/server-ca: web/ca", `haproxy.org/server-ssl: "true"`,
			`haproxy.org/ssl-redirect: "true"`, classAnnotation),
	})
	gw := serveFolder(t, dir)
	client := gw.httpsClient(p.edgeCA, false)
	waitBody(t, client, "https://my-app.example.test/", http.StatusOK, "A")

	writeFile(t, filepath.Join(dir, "ingress.yaml"), seed("haproxy.org/server-ca: web/client-ca", `haproxy.org/server-ssl: "true"`, classAnnotation))
	waitBody(t, client, "https://my-app.example.test/", http.StatusBadGateway, "")
	if code, header := failureOf(t, client, "https://my-app.example.test/"); code != http.StatusBadGateway || header != "UnknownAuthority" {
		t.Errorf("server-ca of another CA: %d %q; want 502 UnknownAuthority", code, header)
	}

	writeFile(t, filepath.Join(dir, "ingress.yaml"), seed(`haproxy.org/server-ssl: "true"`, classAnnotation))
	waitBody(t, client, "https://my-app.example.test/", http.StatusOK, "A")
	wantCondition(t, gw, "Ingress/web/my-app", "Warnings", "True", "haproxy.org/server-ssl", "WITHOUT verifying", "haproxy.org/server-ca")

	writeFile(t, filepath.Join(dir, "ingress.yaml"), seed(`haproxy.org/server-ssl: "yes please"`, classAnnotation))
	wantCondition(t, gw, "Ingress/web/my-app", "Ready", "False", "haproxy.org/server-ssl", `"yes please"`, `write "true" or "false"`, "keeps serving")
	waitBody(t, client, "https://my-app.example.test/", http.StatusOK, "A")
}

// TestHAProxyIngressSecureAnnotations: HAProxy Ingress's secure-backends with
// secure-verify-ca-secret, secure-crt-secret and secure-sni reach a backend that requires
// a client certificate, verified; a malformed secure-sni is refused, and the last good
// version keeps serving.
func TestHAProxyIngressSecureAnnotations(t *testing.T) {
	t.Parallel()
	p := newPKI(t)
	backend := tlsBackend(t, p, "A", true)
	ingress := func(sni string) string {
		return annotatedIngress("app", "app", "svc-a",
			`haproxy-ingress.github.io/secure-backends: "true"`,
			"haproxy-ingress.github.io/secure-verify-ca-secret: backend-ca",
			"haproxy-ingress.github.io/secure-crt-secret: gateway-client",
			"haproxy-ingress.github.io/secure-sni: "+sni)
	}
	dir := writeFolder(t, map[string]string{
		"class.yaml":    ingressClassYAML,
		"secrets.yaml":  p.secretsYAML(),
		"services.yaml": serviceYAML(t, "svc-a", addrOf(backend)),
		"app.yaml":      ingress("backend.web.svc"),
	})
	gw := serveFolder(t, dir)
	client := gw.httpsClient(p.edgeCA, false)
	waitBody(t, client, "https://app.example.test/", http.StatusOK, "A client=bridgehead-gateway")
	wantCondition(t, gw, "Ingress/web/app", "Ready", "True")

	writeFile(t, filepath.Join(dir, "app.yaml"), ingress(`"not a host"`))
	wantCondition(t, gw, "Ingress/web/app", "Ready", "False", "haproxy-ingress.github.io/secure-sni", `"not a host"`, "neither sni, host nor a host name")
	waitBody(t, client, "https://app.example.test/", http.StatusOK, "A client=bridgehead-gateway")
}

// plainClient sends every request to the gateway's web entry point, without following
// redirects.
func (p *gatewayProc) plainClient() *http.Client {
	tr := &http.Transport{DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
		return (&net.Dialer{}).DialContext(ctx, network, p.web)
	}}
	p.t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Timeout: 10 * time.Second, Transport: tr,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

// TestAllowListAndRedirectAnnotations: nginx's whitelist-source-range and HAProxy's
// allow-list admit only the listed clients (this test's client is 127.0.0.1: 403 outside
// the list, served inside it); ssl-redirect redirects plain HTTP with ingress-nginx's 308,
// or HAProxy's ssl-redirect-code; a malformed range fails the Ingress closed.
func TestAllowListAndRedirectAnnotations(t *testing.T) {
	t.Parallel()
	p := newPKI(t)
	backend := tlsBackend(t, p, "A", false)
	transport := "bridgehead.dev/servers-transport: backends"
	dir := writeFolder(t, map[string]string{
		"class.yaml":     ingressClassYAML,
		"secrets.yaml":   p.secretsYAML(),
		"transport.yaml": transportYAML,
		"services.yaml":  serviceYAML(t, "svc-a", addrOf(backend)),
		"nginx.yaml": annotatedIngress("nginx", "nginx", "svc-a", transport,
			"nginx.ingress.kubernetes.io/whitelist-source-range: 10.0.0.0/8", `nginx.ingress.kubernetes.io/ssl-redirect: "true"`),
		"local.yaml": annotatedIngress("local", "local", "svc-a", transport,
			"nginx.ingress.kubernetes.io/allowlist-source-range: 127.0.0.0/8, ::1"),
		"haproxy.yaml": annotatedIngress("haproxy", "haproxy", "svc-a", transport,
			"haproxy.org/allow-list: 127.0.0.1", `haproxy.org/ssl-redirect: "true"`, `haproxy.org/ssl-redirect-code: "303"`),
		"broken.yaml": annotatedIngress("broken", "broken", "svc-a", transport,
			"haproxy.org/allow-list: 10.0.0.0/33"),
	})
	gw := serveFolder(t, dir)
	client := gw.httpsClient(p.edgeCA, false)
	waitBody(t, client, "https://local.example.test/", http.StatusOK, "A")
	waitBody(t, client, "https://haproxy.example.test/", http.StatusOK, "A")
	waitBody(t, client, "https://nginx.example.test/", http.StatusForbidden, "")

	plain := gw.plainClient()
	for host, code := range map[string]int{"nginx": http.StatusPermanentRedirect, "haproxy": http.StatusSeeOther} {
		resp, err := plain.Get("http://" + host + ".example.test/p?q=1")
		if err != nil {
			t.Fatal(err)
		}
		_ = resp.Body.Close()
		if resp.StatusCode != code || resp.Header.Get("Location") != "https://"+host+".example.test/p?q=1" {
			t.Errorf("http://%s.example.test/: %d Location %q; want %d to https", host, resp.StatusCode, resp.Header.Get("Location"), code)
		}
	}

	if code, header := failureOf(t, client, "https://broken.example.test/"); code != http.StatusServiceUnavailable || header != "UnsupportedValue" {
		t.Errorf("malformed allow-list: %d %q; want 503 UnsupportedValue", code, header)
	}
	wantCondition(t, gw, "Ingress/web/broken", "Ready", "False", "haproxy.org/allow-list", `"10.0.0.0/33"`, "CIDR")
}

// TestClientCertificateAnnotations: ingress-nginx's auth-tls-secret with
// auth-tls-verify-client "on" requires a client certificate from the CA at the TLS
// handshake (none: the handshake fails; alice's: served), and plain HTTP to the Ingress
// answers 403; HAProxy's client-ca with client-crt-optional lets clients without a
// certificate in; auth-tls-match-cn admits only the subjects it matches (403 to others).
// A malformed auth-tls-verify-client fails the Ingress closed.
func TestClientCertificateAnnotations(t *testing.T) {
	t.Parallel()
	p := newPKI(t)
	backend := tlsBackend(t, p, "A", false)
	transport := "bridgehead.dev/servers-transport: backends"
	dir := writeFolder(t, map[string]string{
		"class.yaml":     ingressClassYAML,
		"secrets.yaml":   p.secretsYAML(),
		"transport.yaml": transportYAML,
		"services.yaml":  serviceYAML(t, "svc-a", addrOf(backend)),
		"nginx.yaml": annotatedIngress("nginx", "nginx", "svc-a", transport,
			"nginx.ingress.kubernetes.io/auth-tls-secret: web/client-ca", `nginx.ingress.kubernetes.io/auth-tls-verify-client: "on"`),
		"haproxy.yaml": annotatedIngress("haproxy", "haproxy", "svc-a", transport,
			"haproxy.org/client-ca: web/client-ca", `haproxy.org/client-crt-optional: "true"`),
		"broken.yaml": annotatedIngress("broken", "broken", "svc-a", transport,
			"nginx.ingress.kubernetes.io/auth-tls-secret: web/client-ca", "nginx.ingress.kubernetes.io/auth-tls-verify-client: sometimes"),
		"bob.yaml": annotatedIngress("bob", "bob", "svc-a", transport,
			"nginx.ingress.kubernetes.io/auth-tls-secret: web/client-ca", `nginx.ingress.kubernetes.io/auth-tls-match-cn: "CN=bob"`),
		"friends.yaml": annotatedIngress("friends", "friends", "svc-a", transport,
			"nginx.ingress.kubernetes.io/auth-tls-secret: web/client-ca", `nginx.ingress.kubernetes.io/auth-tls-match-cn: "CN=(alice|bob)"`),
	})
	gw := serveFolder(t, dir)
	anonymous := gw.httpsClient(p.edgeCA, false)
	alice := gw.httpsClient(p.edgeCA, false, withClientCert(p))

	waitBody(t, alice, "https://nginx.example.test/", http.StatusOK, "A")
	if _, _, err := get(anonymous, "https://nginx.example.test/"); err == nil {
		t.Error("nginx auth-tls-verify-client on: a client without a certificate was served")
	}
	resp, err := gw.plainClient().Get("http://nginx.example.test/")
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden || resp.Header.Get("Bridgehead-Error") != "ClientCertificateRequired" {
		t.Errorf("plain HTTP to a client-certificate Ingress: %d %q; want 403 ClientCertificateRequired", resp.StatusCode, resp.Header.Get("Bridgehead-Error"))
	}

	waitBody(t, alice, "https://friends.example.test/", http.StatusOK, "A")
	waitBody(t, alice, "https://bob.example.test/", http.StatusForbidden, "")

	waitBody(t, anonymous, "https://haproxy.example.test/", http.StatusOK, "A")
	waitBody(t, alice, "https://haproxy.example.test/", http.StatusOK, "A")
	wantCondition(t, gw, "Ingress/web/haproxy", "Warnings", "True", "haproxy.org/client-ca", "ConfigMap")

	if code, header := failureOf(t, alice, "https://broken.example.test/"); code != http.StatusServiceUnavailable || header != "UnsupportedValue" {
		t.Errorf("malformed auth-tls-verify-client: %d %q; want 503 UnsupportedValue", code, header)
	}
	wantCondition(t, gw, "Ingress/web/broken", "Ready", "False", "nginx.ingress.kubernetes.io/auth-tls-verify-client", `"sometimes"`, "optional_no_ca")
}

// TestUpstreamVhostAndPassCertificateAnnotations: upstream-vhost sets the Host the
// backend sees; auth-tls-pass-certificate-to-upstream passes the verified client
// certificate to it (in X-Forwarded-Tls-Client-Cert).
func TestUpstreamVhostAndPassCertificateAnnotations(t *testing.T) {
	t.Parallel()
	p := newPKI(t)
	backend := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = fmt.Fprintf(w, "host=%s cert=%t", r.Host, r.Header.Get("X-Forwarded-Tls-Client-Cert") != "")
	}))
	backend.TLS = &tls.Config{Certificates: []tls.Certificate{p.backend.TLS}}
	backend.StartTLS()
	t.Cleanup(backend.Close)
	dir := writeFolder(t, map[string]string{
		"class.yaml":     ingressClassYAML,
		"secrets.yaml":   p.secretsYAML(),
		"transport.yaml": transportYAML,
		"services.yaml":  serviceYAML(t, "svc-a", addrOf(backend)),
		"app.yaml": annotatedIngress("app", "app", "svc-a", "bridgehead.dev/servers-transport: backends",
			"nginx.ingress.kubernetes.io/auth-tls-secret: web/client-ca",
			`nginx.ingress.kubernetes.io/auth-tls-pass-certificate-to-upstream: "true"`,
			"nginx.ingress.kubernetes.io/upstream-vhost: internal.example.svc"),
	})
	gw := serveFolder(t, dir)
	waitBody(t, gw.httpsClient(p.edgeCA, false, withClientCert(p)), "https://app.example.test/", http.StatusOK, "host=internal.example.svc cert=true")
	wantCondition(t, gw, "Ingress/web/app", "Warnings", "True", "X-Forwarded-Tls-Client-Cert")
}

// rewriteIngress is an Ingress for HOST.example.test with one ImplementationSpecific path.
func rewriteIngress(name, path string, annotations ...string) string {
	return strings.Replace(annotatedIngress(name, name, "svc-a", annotations...),
		"      - path: /\n        pathType: Prefix\n", "      - path: "+path+"\n        pathType: ImplementationSpecific\n", 1)
}

// TestRewriteAnnotations: ingress-nginx's prefix-stripping rewrite (path
// /api(/|$)(.*), rewrite-target /$2) and rewrite to a fixed path, HAProxy's path-rewrite
// in both forms; a rewrite with other captures is refused and fails the Ingress closed.
func TestRewriteAnnotations(t *testing.T) {
	t.Parallel()
	p := newPKI(t)
	backend := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, r.URL.RequestURI())
	}))
	backend.TLS = &tls.Config{Certificates: []tls.Certificate{p.backend.TLS}}
	backend.StartTLS()
	t.Cleanup(backend.Close)
	st := "bridgehead.dev/servers-transport: backends"
	dir := writeFolder(t, map[string]string{
		"class.yaml":     ingressClassYAML,
		"secrets.yaml":   p.secretsYAML(),
		"transport.yaml": transportYAML,
		"services.yaml":  serviceYAML(t, "svc-a", addrOf(backend)),
		"strip.yaml":     rewriteIngress("strip", "/api(/|$)(.*)", st, "nginx.ingress.kubernetes.io/rewrite-target: /$2"),
		"fixed.yaml":     rewriteIngress("fixed", "/old", st, "nginx.ingress.kubernetes.io/rewrite-target: /new"),
		"hstrip.yaml":    rewriteIngress("hstrip", "/api", st, `haproxy.org/path-rewrite: ^/api/(.*) /\1`),
		"hset.yaml":      rewriteIngress("hset", "/", st, "haproxy.org/path-rewrite: /health"),
		"broken.yaml":    rewriteIngress("broken", "/(v1)/(.*)", st, "nginx.ingress.kubernetes.io/rewrite-target: /$2/$1"),
	})
	gw := serveFolder(t, dir)
	c := gw.httpsClient(p.edgeCA, false)
	waitBody(t, c, "https://strip.example.test/api/users?id=7", http.StatusOK, "/users?id=7")
	waitBody(t, c, "https://strip.example.test/api", http.StatusOK, "/")
	waitBody(t, c, "https://fixed.example.test/old/page?x=1", http.StatusOK, "/new?x=1")
	waitBody(t, c, "https://hstrip.example.test/api/users", http.StatusOK, "/users")
	waitBody(t, c, "https://hset.example.test/anything", http.StatusOK, "/health")
	if code, header := failureOf(t, c, "https://broken.example.test/(v1)/(.*)"); code != http.StatusServiceUnavailable || header != "UnsupportedValue" {
		t.Errorf("rewrite with captures: %d %q; want 503 UnsupportedValue", code, header)
	}
	wantCondition(t, gw, "Ingress/web/broken", "Ready", "False", "nginx.ingress.kubernetes.io/rewrite-target", `"/$2/$1"`, "stripPrefix")
}

// TestSSLPassthroughAnnotation: with ssl-passthrough the client's TLS reaches the
// backend untouched (the client sees the backend's own certificate for the host), for
// ingress-nginx's and HAProxy's spelling.
func TestSSLPassthroughAnnotation(t *testing.T) {
	t.Parallel()
	p := newPKI(t)
	own := func(host string) *httptest.Server {
		leaf := p.backendCA.MustIssue(host, pki.Options{DNSNames: []string{host}})
		srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			_, _ = io.WriteString(w, "terminated by the backend for "+r.TLS.ServerName)
		}))
		srv.TLS = &tls.Config{Certificates: []tls.Certificate{leaf.TLS}}
		srv.StartTLS()
		t.Cleanup(srv.Close)
		return srv
	}
	nginx, haproxy := own("pt.example.test"), own("hpt.example.test")
	dir := writeFolder(t, map[string]string{
		"class.yaml":    ingressClassYAML,
		"secrets.yaml":  p.secretsYAML(),
		"services.yaml": serviceYAML(t, "svc-pt", addrOf(nginx)) + serviceYAML(t, "svc-hpt", addrOf(haproxy)),
		"nginx.yaml":    annotatedIngress("pt", "pt", "svc-pt", `nginx.ingress.kubernetes.io/ssl-passthrough: "true"`),
		"haproxy.yaml":  annotatedIngress("hpt", "hpt", "svc-hpt", `haproxy.org/ssl-passthrough: "true"`),
	})
	gw := serveFolder(t, dir)
	c := gw.httpsClient(p.backendCA, false)
	waitBody(t, c, "https://pt.example.test/", http.StatusOK, "terminated by the backend for pt.example.test")
	waitBody(t, c, "https://hpt.example.test/x", http.StatusOK, "terminated by the backend for hpt.example.test")
}
