package main

import (
	"bytes"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bridgehead/bridgehead/internal/pki"
)

// The CLI tests run the command in-process, as `bridgehead diagnose` and `bridgehead
// lint` would, on a folder of hand-written manifests and a real TLS backend.

var (
	cliEdgeCA    = pki.MustCA("CLI Edge CA")
	cliBackendCA = pki.MustCA("CLI Backend CA")
	cliOtherCA   = pki.MustCA("CLI Other CA")
)

func indentPEM(pem []byte) string {
	return "    " + strings.ReplaceAll(strings.TrimSpace(string(pem)), "\n", "\n    ")
}

// folderFiles are the manifests of IngressRoute web/app to Service backend (port https,
// endpoint port given), verified by ServersTransport backend against the CA in Secret
// backend-ca, split across files the way a team keeps them.
func folderFiles(backendPort string, trusted *pki.CA) map[string]string {
	app := cliEdgeCA.MustIssue("app.example.test", pki.Options{DNSNames: []string{"app.example.test"}})
	return map[string]string{
		"route.yaml": `apiVersion: gateway.bridgehead.dev/v1alpha1
kind: IngressRoute
metadata: {name: app, namespace: web}
spec:
  routes:
  - match: Host(` + "`app.example.test`" + `)
    services:
    - {name: backend, port: https, serversTransport: backend}
  tls: {secretName: app-tls}
---
apiVersion: gateway.bridgehead.dev/v1alpha1
kind: ServersTransport
metadata: {name: backend, namespace: web}
spec:
  rootCAs: [{secret: backend-ca}]
`,
		"service.yaml": `apiVersion: v1
kind: Service
metadata: {name: backend, namespace: web}
spec:
  ports: [{name: https, port: 443}]
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata:
  name: backend-local
  namespace: web
  labels: {kubernetes.io/service-name: backend}
addressType: IPv4
ports: [{name: https, port: ` + backendPort + `}]
endpoints: [{addresses: [127.0.0.1]}]
`,
		"secrets.yaml": fmt.Sprintf(`apiVersion: v1
kind: Secret
metadata: {name: app-tls, namespace: web}
type: kubernetes.io/tls
stringData:
  tls.crt: |
%s
  tls.key: |
%s
---
apiVersion: v1
kind: Secret
metadata: {name: backend-ca, namespace: web}
stringData:
  ca.crt: |
%s
`, indentPEM(app.CertPEM), indentPEM(app.KeyPEM), indentPEM(trusted.PEM)),
	}
}

func writeFiles(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, data := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(data), 0o600); err != nil {
			t.Fatal(err)
		}
	}
}

func startTLSBackend(t *testing.T) string {
	t.Helper()
	leaf := cliBackendCA.MustIssue("backend", pki.Options{DNSNames: []string{"backend.web.svc"}})
	b := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("ok")) }))
	b.TLS = &tls.Config{Certificates: []tls.Certificate{leaf.TLS}}
	b.Config.ErrorLog = log.New(io.Discard, "", 0) // the handshakes the tests break
	b.StartTLS()
	t.Cleanup(b.Close)
	_, port, _ := net.SplitHostPort(b.Listener.Addr().String())
	return port
}

func runCLI(args ...string) (int, string, string) {
	var stdout, stderr bytes.Buffer
	code := run(args, &stdout, &stderr)
	return code, stdout.String(), stderr.String()
}

// TestDiagnoseFolder: a broken folder exits 1 with the cause and the fix, whatever the
// order of flags and route; the mended folder exits 0.
func TestDiagnoseFolder(t *testing.T) {
	port := startTLSBackend(t)
	dir := t.TempDir()
	writeFiles(t, dir, folderFiles(port, cliOtherCA))
	for _, args := range [][]string{
		{"diagnose", "--config-dir", dir, "ingressroute/app", "-n", "web"},
		{"diagnose", "ingressroute/app", "-n", "web", "--config-dir", dir},
		{"diagnose", "--config-dir", dir}, // every route
	} {
		code, out, errOut := runCLI(args...)
		if code != 1 {
			t.Errorf("%v: exit %d, want 1\n%s%s", args, code, out, errOut)
		}
		for _, want := range []string{
			"IngressRoute web/app (route.yaml#1)",
			"FAIL  Endpoint 127.0.0.1:" + port + ": UnknownAuthority",
			`fix:   add the CA certificate of "CN=CLI Backend CA,O=Bridgehead tests" to spec.rootCAs of ServersTransport web/backend`,
			"Result: FAIL",
		} {
			if !strings.Contains(out, want) {
				t.Errorf("%v: the output does not say %q:\n%s", args, want, out)
			}
		}
	}

	writeFiles(t, dir, folderFiles(port, cliBackendCA))
	if code, out, errOut := runCLI("diagnose", "--config-dir", dir, "ingressroute/app", "-n", "web"); code != 0 || !strings.Contains(out, "Result: OK") {
		t.Errorf("mended folder: exit %d, want 0\n%s%s", code, out, errOut)
	}
}

// TestDiagnoseJSON: -o json is a machine-readable report whose hops carry kind, object,
// verdict, reason, message and fix.
func TestDiagnoseJSON(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, folderFiles(startTLSBackend(t), cliOtherCA))
	code, out, errOut := runCLI("diagnose", "--config-dir", dir, "ingressroute/app", "-n", "web", "-o", "json")
	if code != 1 {
		t.Fatalf("exit %d, want 1\n%s%s", code, out, errOut)
	}
	var report struct {
		Verdict  string `json:"verdict"`
		Sections []struct {
			Target string `json:"target"`
			Origin string `json:"origin"`
			Hops   []struct {
				Kind, Object, Verdict, Reason, Message, Fix string
			} `json:"hops"`
		} `json:"sections"`
	}
	if err := json.Unmarshal([]byte(out), &report); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, out)
	}
	if report.Verdict != "FAIL" || len(report.Sections) != 1 || report.Sections[0].Target != "IngressRoute web/app" || report.Sections[0].Origin != "route.yaml#1" {
		t.Fatalf("unexpected report: %+v", report)
	}
	var found bool
	for _, h := range report.Sections[0].Hops {
		if h.Kind == "Endpoint" && h.Verdict == "FAIL" && h.Reason == "UnknownAuthority" && h.Message != "" && strings.Contains(h.Fix, "spec.rootCAs") {
			found = true
		}
	}
	if !found {
		t.Errorf("no failed Endpoint hop with reason, message and fix:\n%s", out)
	}
}

// TestDiagnoseUsage: what cannot be diagnosed exits 2 and says why; a route that does not
// exist is a broken diagnosis (1).
func TestDiagnoseUsage(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, folderFiles("8443", cliBackendCA))
	for _, tc := range []struct {
		args []string
		says string
	}{
		{[]string{"diagnose"}, "name a route"},
		{[]string{"diagnose", "--config-dir", dir, "deployment/app"}, `unknown kind "deployment"`},
		{[]string{"diagnose", "--config-dir", dir, "app"}, "ingressroute/NAME"},
		{[]string{"diagnose", "--config-dir", dir, "ingressroute/a", "ingressroute/b"}, "one route or URL at a time"},
		{[]string{"diagnose", "--config-dir", dir, "-o", "yaml"}, "use text or json"},
		{[]string{"diagnose", "--config-dir", dir, "https://app.example.test/"}, "--config-dir and --kubeconfig do not apply"},
		{[]string{"diagnose", "--config-dir", filepath.Join(dir, "missing")}, "no such file or directory"},
		{[]string{"diagnose", "https://app.example.test/", "--resolve", "nonsense"}, "use host:port:address"},
		{[]string{"diagnose", "--no-such-flag"}, "flag provided but not defined"},
	} {
		code, out, errOut := runCLI(tc.args...)
		if code != 2 || !strings.Contains(errOut, tc.says) {
			t.Errorf("%v: exit %d, want 2 saying %q\nstdout: %s\nstderr: %s", tc.args, code, tc.says, out, errOut)
		}
	}
	code, out, _ := runCLI("diagnose", "--config-dir", dir, "ingressroute/nope", "-n", "web")
	if code != 1 || !strings.Contains(out, "IngressRoute web/nope not found") || !strings.Contains(out, "namespace web has: app") {
		t.Errorf("missing route: exit %d, want 1 naming the routes there:\n%s", code, out)
	}
	if code, _, _ := runCLI("diagnose", "-h"); code != 0 {
		t.Errorf("-h: exit %d, want 0", code)
	}
}

// TestDiagnoseURLCommand: a URL nothing listens on is a broken connection (1).
func TestDiagnoseURLCommand(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	_ = ln.Close()
	_, port, _ := net.SplitHostPort(addr)
	code, out, errOut := runCLI("diagnose", "https://app.example.test:"+port+"/", "--resolve", "app.example.test:"+port+":127.0.0.1")
	if code != 1 || !strings.Contains(out, "FAIL  Connection 127.0.0.1:"+port+": ConnectionRefused") {
		t.Errorf("exit %d, want 1 with a refused connection:\n%s%s", code, out, errOut)
	}
}
