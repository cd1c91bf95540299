package standalone

import (
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestStatusCommandShowsTheRunningGatewaysVerdicts: `bridgehead status --config-dir DIR`
// asks the gateway serving DIR (on --admin-address), so it shows what only real requests
// reveal — a backend that wants a client certificate — which translating the folder alone
// cannot; pointed at an address where no gateway serves DIR, it says the table is static.
func TestStatusCommandShowsTheRunningGatewaysVerdicts(t *testing.T) {
	t.Parallel()
	p, dir := clientCertRequiredFolder(t)
	gw := serveFolder(t, dir)
	if code, _, err := get(gw.httpsClient(p.edgeCA, false), "https://app.example.test/"); err != nil || code != http.StatusBadGateway {
		t.Fatalf("without a client certificate for the backend: %d %v; want 502", code, err)
	}

	var out string
	var code int
	if _, ok := eventually(5*time.Second, func() bool {
		out, code = runTool(t, dir, binary, "status", "--config-dir", ".", "--gateway-namespace", ns, "--admin-address", gw.admin)
		return strings.Contains(out, "ClientCertificateRequired")
	}); !ok {
		t.Fatalf("status does not show the runtime verdict:\n%s", out)
	}
	if code != 1 || !strings.HasPrefix(out, "live: the gateway serving ") {
		t.Errorf("status against the running gateway: exit %d, want 1 (a route is broken), and a live table:\n%s", code, out)
	}

	// Nothing serves this folder at the web entry point's address: translate alone says Ready.
	out, code = runTool(t, dir, binary, "status", "--config-dir", ".", "--gateway-namespace", ns, "--admin-address", gw.web)
	if code != 0 || !strings.HasPrefix(out, "static: ") || strings.Contains(out, "ClientCertificateRequired") {
		t.Errorf("status without the gateway: exit %d, want 0 and a static table without runtime verdicts:\n%s", code, out)
	}
}
