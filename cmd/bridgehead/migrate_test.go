package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

const migrateList = `apiVersion: v1
kind: List
items:
- apiVersion: networking.k8s.io/v1
  kind: Ingress
  metadata:
    name: payments
    namespace: shop
    resourceVersion: "812"
    annotations:
      nginx.ingress.kubernetes.io/backend-protocol: HTTPS
      nginx.ingress.kubernetes.io/proxy-ssl-secret: shop/payments-backend
      nginx.ingress.kubernetes.io/proxy-ssl-verify: "on"
      nginx.ingress.kubernetes.io/proxy-ssl-verify-depth: "2"
  spec:
    ingressClassName: nginx
    tls: [{hosts: [pay.example.test], secretName: pay-tls}]
    rules:
    - host: pay.example.test
      http: {paths: [{path: /, pathType: Prefix, backend: {service: {name: payments, port: {name: https}}}}]}
- apiVersion: networking.k8s.io/v1
  kind: Ingress
  metadata:
    name: login
    namespace: shop
    annotations:
      nginx.ingress.kubernetes.io/auth-url: https://auth.example.test/check
  spec:
    ingressClassName: nginx
    rules:
    - host: login.example.test
      http: {paths: [{path: /, pathType: Prefix, backend: {service: {name: login, port: {number: 80}}}}]}
`

// TestMigrateReportsEveryAnnotationFromKubectlOutput: what `kubectl get ingress -A -o yaml`
// prints, on standard input, gets a verdict per annotation; an Ingress with an annotation
// the gateway refuses is not converted; the exit code says that behaviour changes.
func TestMigrateReportsEveryAnnotationFromKubectlOutput(t *testing.T) {
	var stdout, stderr bytes.Buffer
	code := migrateCommand([]string{"-"}, strings.NewReader(migrateList), &stdout, &stderr)
	if code != 1 {
		t.Fatalf("exit %d, want 1 (behaviour changes)\nstdout:\n%s\nstderr:\n%s", code, stdout.String(), stderr.String())
	}
	out := stdout.String()
	for _, want := range []string{
		"Ingress shop/payments (class nginx, ingress-nginx defaults)",
		`served              nginx.ingress.kubernetes.io/proxy-ssl-secret: "shop/payments-backend"`,
		`served differently  nginx.ingress.kubernetes.io/proxy-ssl-verify-depth: "2"`,
		"=> converted to 1 ServersTransport, 1 Middleware, 2 IngressRoutes",
		`refused             nginx.ingress.kubernetes.io/auth-url: "https://auth.example.test/check"`,
		"a forwardAuth Middleware",
		"=> not converted",
		"2 Ingresses: 0 served as written, 1 served with differences, 1 not converted",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("the report lacks %q:\n%s", want, out)
		}
	}

	stdout.Reset()
	if code := migrateCommand([]string{"-o", "yaml", "-"}, strings.NewReader(migrateList), &stdout, &stderr); code != 1 {
		t.Fatalf("-o yaml: exit %d, want 1", code)
	}
	y := stdout.String()
	for _, want := range []string{
		"kind: ServersTransport", "secret: payments-backend", "certificatesSecrets:\n  - payments-backend",
		"kind: IngressRoute", "serversTransport: payments", "statusCode: 308",
		"# Ingress shop/login is not converted:",
	} {
		if !strings.Contains(y, want) {
			t.Errorf("-o yaml lacks %q:\n%s", want, y)
		}
	}
	if strings.Contains(y, "login.example.test") {
		t.Errorf("-o yaml routes the refused Ingress:\n%s", y)
	}
}

// TestMigrateExitsZeroWhenServedAsWritten: an Ingress whose annotations are all served the
// way its controller served them converts without a difference.
func TestMigrateExitsZeroWhenServedAsWritten(t *testing.T) {
	dir := t.TempDir()
	ing := `apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: api
  namespace: shop
  annotations:
    haproxy.org/server-ssl: "true"
    haproxy.org/server-ca: shop/api-ca
spec:
  ingressClassName: haproxy
  tls: [{hosts: [api.example.test], secretName: api-tls}]
  rules:
  - host: api.example.test
    http: {paths: [{path: /, pathType: Prefix, backend: {service: {name: api, port: {number: 8443}}}}]}
`
	if err := os.WriteFile(filepath.Join(dir, "ingress.yaml"), []byte(ing), 0o600); err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	if code := migrateCommand([]string{dir}, strings.NewReader(""), &stdout, &stderr); code != 0 {
		t.Fatalf("exit %d, want 0\n%s%s", code, stdout.String(), stderr.String())
	}
	if !strings.Contains(stdout.String(), "1 Ingress: 1 served as written") {
		t.Errorf("report:\n%s", stdout.String())
	}
}

// TestMigratePassesOverOtherKinds: a chart's rendered output or an application's folder
// holds Deployments beside its Ingresses; they are not migrate's input and do not fail it,
// while a document migrate does read and cannot admit still does (exit 2, named).
func TestMigratePassesOverOtherKinds(t *testing.T) {
	const deployment = `apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: shop}
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec: {containers: [{name: web, image: registry.example/web:1}]}
`
	const ingress = `apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: web, namespace: shop}
spec:
  ingressClassName: nginx
  rules:
  - host: web.example.test
    http: {paths: [{path: /, pathType: Prefix, backend: {service: {name: web, port: {number: 80}}}}]}
`
	run := func(docs ...string) (int, string, string) {
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, "app.yaml"), []byte(strings.Join(docs, "---\n")), 0o600); err != nil {
			t.Fatal(err)
		}
		var stdout, stderr bytes.Buffer
		code := migrateCommand([]string{dir}, strings.NewReader(""), &stdout, &stderr)
		return code, stdout.String(), stderr.String()
	}

	code, stdout, stderr := run(deployment, ingress)
	if code != 0 || stderr != "" || !strings.Contains(stdout, "1 served as written") {
		t.Errorf("Ingress beside a Deployment: exit %d, want 0 with nothing on stderr\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}

	brokenService := "apiVersion: v1\nkind: Service\nmetadata: {name: web, namespace: shop}\nspec: {portz: []}\n"
	code, _, stderr = run(deployment, ingress, brokenService)
	if code != 2 || !strings.Contains(stderr, "app.yaml#3") || strings.Contains(stderr, "Deployment") {
		t.Errorf("a Service that does not decode: exit %d, want 2 naming app.yaml#3 (and not the Deployment)\nstderr:\n%s", code, stderr)
	}
}

// TestMigrateRefusesOwnAnnotationsTheGatewayRefuses: bridgehead.dev references in a form
// the gateway does not read (Traefik's name@kubernetescrd, a namespace where only a name
// goes) fail the Ingress closed there, so migrate must not convert it as served.
func TestMigrateRefusesOwnAnnotationsTheGatewayRefuses(t *testing.T) {
	for _, c := range []struct{ annotation, value, says string }{
		{"bridgehead.dev/middlewares", "auth, shop-auth@kubernetescrd", `"shop-auth@kubernetescrd" is not a Middleware reference`},
		{"bridgehead.dev/tls-options", "a/b/c", `"a/b/c" is not a TLSOption reference`},
		{"bridgehead.dev/servers-transport", "other/backend-tls", `"other/backend-tls" is not the name of a ServersTransport: write the name of one in namespace shop`},
		{"bridgehead.dev/backend-protocol", "htps", `"htps" is not a backend protocol`},
	} {
		t.Run(c.annotation, func(t *testing.T) {
			ing := "apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata:\n  name: web\n  namespace: shop\n  annotations:\n    " +
				c.annotation + ": " + strconv.Quote(c.value) + "\nspec:\n  ingressClassName: bridgehead\n  rules:\n  - host: web.example.test\n" +
				"    http: {paths: [{path: /, pathType: Prefix, backend: {service: {name: web, port: {number: 80}}}}]}\n"
			var stdout, stderr bytes.Buffer
			code := migrateCommand([]string{"-"}, strings.NewReader(ing), &stdout, &stderr)
			if code != 1 || !strings.Contains(stdout.String(), c.says) || !strings.Contains(stdout.String(), "1 not converted") {
				t.Errorf("exit %d, want 1 with the Ingress not converted because %s\nstdout:\n%s\nstderr:\n%s", code, c.says, stdout.String(), stderr.String())
			}
		})
	}
}

func TestMigrateUsageErrors(t *testing.T) {
	for _, args := range [][]string{{}, {"-o", "json", "x.yaml"}, {"--controller", "traefik", "x.yaml"}, {filepath.Join(t.TempDir(), "missing.yaml")}} {
		var stdout, stderr bytes.Buffer
		if code := migrateCommand(args, strings.NewReader(""), &stdout, &stderr); code != 2 {
			t.Errorf("migrate %v: exit %d, want 2 (usage)", args, code)
		}
		if stderr.Len() == 0 {
			t.Errorf("migrate %v: no message on stderr", args)
		}
	}
}
