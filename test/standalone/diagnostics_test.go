package standalone

import (
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestBackendTLSFailureReachesTheStatus sends a request through a ServersTransport that
// has no client certificate to a backend that requires one: the client gets 502 with the
// reason in Bridgehead-Error, and the reason reaches the IngressRoute's status, in the
// admin /status and in the printed table. Adding certificatesSecrets to the file fixes
// it without a restart.
func TestBackendTLSFailureReachesTheStatus(t *testing.T) {
	t.Parallel()
	p, dir := clientCertRequiredFolder(t)
	gw := serveFolder(t, dir)
	client := gw.httpsClient(p.edgeCA, true)

	code, header := failureOf(t, client, "https://app.example.test/")
	const reason = "ClientCertificateRequired"
	if code != http.StatusBadGateway || header != reason {
		t.Fatalf("without certificatesSecrets: %d, Bridgehead-Error %q; want 502 %s", code, header, reason)
	}

	var got string
	if took, ok := eventually(5*time.Second, func() bool {
		status, r, msg, _ := gw.status().condition("IngressRoute/web/app", "Ready")
		got = status + " " + r + " " + msg
		return status == "False" && r == reason
	}); ok {
		t.Logf("the failure reached /status after %s", took.Round(time.Millisecond))
	} else {
		t.Errorf("/status: IngressRoute/web/app Ready = %s; want False %s", got, reason)
	}
	row := "IngressRoute/web/app           False  " + reason
	if printed := gw.waitPrinted(row, "certificatesSecrets"); !strings.Contains(printed, row) || !strings.Contains(printed, "certificatesSecrets") {
		t.Errorf("the printed status does not show %s with the fix (certificatesSecrets):\n%s", reason, printed)
	}

	writeFile(t, filepath.Join(dir, "transport.yaml"), transportYAML+"  certificatesSecrets: [gateway-client]\n")
	if _, ok := eventually(reloadLimit, func() bool {
		code, body, err := get(client, "https://app.example.test/")
		return err == nil && code == http.StatusOK && body == "A client=bridgehead-gateway"
	}); !ok {
		t.Fatalf("with certificatesSecrets, the backend did not answer within %s", reloadLimit)
	}
	if took, ok := eventually(5*time.Second, func() bool {
		status, r, msg, _ := gw.status().condition("IngressRoute/web/app", "Ready")
		got = status + " " + r + " " + msg
		return status == "True"
	}); ok {
		t.Logf("Ready again %s after the fix was served", took.Round(time.Millisecond))
	} else {
		t.Errorf("/status after the fix: IngressRoute/web/app Ready = %s; want True", got)
	}
}
