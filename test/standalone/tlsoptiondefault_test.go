package standalone

import (
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// defaultOptionYAML is a TLSOption named default in namespace ns (not the gateway's),
// requiring client certificates from the client CA when strict.
func defaultOptionYAML(p *testPKI, ns string, strict bool) string {
	doc := fmt.Sprintf(`apiVersion: gateway.bridgehead.dev/v1alpha1
kind: TLSOption
metadata:
  name: default
  namespace: %s
spec:
  minVersion: VersionTLS12
`, ns)
	if !strict {
		return doc
	}
	return doc + fmt.Sprintf(`  clientAuth:
    clientAuthType: RequireAndVerifyClientCert
    secretNames: [client-ca]
---
apiVersion: v1
kind: Secret
metadata:
  name: client-ca
  namespace: %s
stringData:
  ca.crt: |
    %s
`, ns, strings.ReplaceAll(strings.TrimSpace(string(p.clientCA.PEM)), "\n", "\n    "))
}

// TestTLSOptionDefaultOutsideTheGatewayNamespace: as in Traefik, a single TLSOption named
// default outside the gateway's namespace is the default of routes without one: a route
// that names none requires client certificates as it says. With a second, lenient
// default elsewhere, Traefik uses neither (its built-in default, without client
// certificates); Bridgehead refuses rather than serve with weaker client authentication,
// and neither is Ready, each naming the other.
func TestTLSOptionDefaultOutsideTheGatewayNamespace(t *testing.T) {
	t.Parallel()
	p := newPKI(t)
	files := backendFiles(t, p, false)
	files["app.yaml"] = namedRoute("app", "app", "svc-a")
	files["default.yaml"] = defaultOptionYAML(p, "team-a", true)
	dir := writeFolder(t, files)
	gw := serveFolder(t, dir)
	anonymous := gw.httpsClient(p.edgeCA, false)
	alice := gw.httpsClient(p.edgeCA, false, withClientCert(p))

	if code, body, err := get(alice, "https://app.example.test/"); err != nil || code != http.StatusOK || body != "A" {
		t.Fatalf("with a client certificate: %d %q %v; want 200 A", code, body, err)
	}
	if _, _, err := get(anonymous, "https://app.example.test/"); err == nil {
		t.Fatalf("without a client certificate the request was served: team-a/default (RequireAndVerifyClientCert) is not applied")
	}

	writeFile(t, filepath.Join(dir, "default-b.yaml"), defaultOptionYAML(p, "team-b", false))
	if _, ok := eventually(reloadLimit, func() bool {
		code, _, err := get(alice, "https://app.example.test/")
		return err != nil || code != http.StatusOK
	}); !ok {
		t.Fatalf("with two TLSOptions named default elsewhere, one strict, requests are still served")
	}
	if code, _, err := get(anonymous, "https://app.example.test/"); err == nil && code == http.StatusOK {
		t.Fatalf("without a client certificate, with conflicting defaults, the request was served")
	}
	var reason, msg string
	if _, ok := eventually(5*time.Second, func() bool {
		_, reason, msg, _ = gw.status().condition("TLSOption/team-b/default", "Ready")
		return reason == "TLSOptionConflict" && strings.Contains(msg, "team-a/default, team-b/default")
	}); !ok {
		t.Errorf("TLSOption team-b/default Ready: %s %s; want False TLSOptionConflict naming both", reason, msg)
	}
}
