package dataplane

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/bridgehead/bridgehead/internal/pki"
)

// /metrics is read by Prometheus: its own parser must accept the whole page when a route
// name and a certificate subject hold what the text format escapes (backslash, quote,
// line feed), what it does not (tab, non-ASCII) and invalid UTF-8; and the values must
// read back as they are (invalid bytes as U+FFFD).
func TestMetricsPageParsesWithHostileLabelValues(t *testing.T) {
	routeName := "app\t\"x\"\\y\nz\u00e9\xff"
	subject := "edge\t\"q\"\\w\ne\u00e9"
	edgeCA := pki.MustCA("edge CA")
	edge := edgeCA.MustIssue(subject, pki.Options{DNSNames: []string{"app.example.com"}})
	b := startHTTPBackend(t)
	objs := []client.Object{tlsSecret("app-tls", edge),
		ingressRoute(routeSpec{name: routeName, match: "Host(`app.example.com`)", svc: "plain", scheme: "http", secret: "app-tls"}),
		ingressRoute(routeSpec{name: routeName + "-web", match: "Host(`app.example.com`)", svc: "plain", scheme: "http", entryPoints: []string{"web"}}),
	}
	g := startGateway(t, append(objs, service("plain", "http", addrOf(b))...))
	if code, _, _ := rawGet(t, g.web, "app.example.com", "/"); code != http.StatusOK {
		t.Fatalf("request through the route: %d", code)
	}

	resp, err := http.Get("http://" + g.admin + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(strings.NewReader(string(page)))
	if err != nil {
		t.Fatalf("Prometheus's parser refuses /metrics: %v\n%s", err, page)
	}
	values := map[string]bool{}
	for _, f := range families {
		for _, m := range f.GetMetric() {
			for _, l := range m.GetLabel() {
				values[l.GetName()+"="+l.GetValue()] = true
			}
		}
	}
	for _, want := range []string{
		"route=" + ns + "/" + strings.ToValidUTF8(routeName, "\uFFFD") + "-web/0",
		"subject=CN=" + strings.ReplaceAll(strings.ReplaceAll(subject, `\`, `\\`), `"`, `\"`), // as x509's Subject.String() writes it
	} {
		if !values[want] {
			t.Errorf("no label %q in /metrics:\n%s", want, page)
		}
	}
}
