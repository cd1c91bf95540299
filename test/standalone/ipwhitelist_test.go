package standalone

import (
	"net/http"
	"strings"
	"testing"
)

// TestTraefikV2IPWhiteList: a Traefik v2 manifest (traefik.containo.us) with ipWhiteList
// is served as the ipAllowList it was renamed to: the loopback client is admitted where
// the list holds it and refused with 403 where it does not, and the Middleware's
// Warnings condition says to rename the field.
func TestTraefikV2IPWhiteList(t *testing.T) {
	p := newPKI(t)
	files := backendFiles(t, p, false)
	v2 := func(s string) string {
		return strings.ReplaceAll(s, "gateway.bridgehead.dev/v1alpha1", "traefik.containo.us/v1alpha1")
	}
	files["whitelist.yaml"] = v2(middlewareRoute("local", "local", "local-only", "") +
		middlewareRoute("office", "office", "office-only", "") +
		middlewareYAML("local-only", "  ipWhiteList: {sourceRange: [127.0.0.1/32]}\n") +
		middlewareYAML("office-only", "  ipWhiteList: {sourceRange: [192.0.2.0/24]}\n"))
	gw := serveFolder(t, writeFolder(t, files))
	wantCondition(t, gw, "Middleware/web/office-only", "Warnings", "True", "spec.ipWhiteList is Traefik v2's name", "rename it ipAllowList")
	c := gw.httpsClient(p.edgeCA, false)
	for host, want := range map[string]int{"local": http.StatusOK, "office": http.StatusForbidden} {
		if code, body, err := get(c, "https://"+host+".example.test/"); err != nil || code != want {
			t.Errorf("%s: %d %q %v; want %d", host, code, body, err, want)
		}
	}
}
