package dataplane

import (
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	bhv1 "github.com/bridgehead/bridgehead/api/v1alpha1"
	"github.com/bridgehead/bridgehead/internal/translate"
	"github.com/bridgehead/bridgehead/proxy"
)

// A ServersTransport whose CA Secret is missing fails closed (502), and says which Secret:
// in the route's condition, and in the Bridgehead-Error header (reason, then
// namespace/name). The response body names only the reason, and --error-header=false
// keeps the name in.
func TestMissingCASecretIsNamed(t *testing.T) {
	p := newPKI()
	b := tlsBackend(t, p.backend("backend.web.svc"))
	route := routeSpec{name: "app", match: "Host(`app.example.com`)", svc: "backend", transport: "backend", secret: "app-tls"}
	broken := e2e(p, addrOf(b), serversTransport("backend", "backend.web.svc", []string{"backend-roots"}, nil), route)

	for _, header := range []bool{true, false} {
		g := startGateway(t, broken, func(c *proxy.Config) { c.ErrorHeader = header })
		st := g.apply(broken...)[translate.Key{Kind: translate.KindIngressRoute, Namespace: ns, Name: "app"}]
		c := st.Condition(bhv1.ConditionReady)
		if c == nil || c.Status != metav1.ConditionFalse || c.Reason != string(bhv1.ReasonCASecretNotFound) ||
			!strings.Contains(c.Message, `Secret "backend-roots" (CA certificates) not found in namespace web`) {
			t.Fatalf("Ready = %+v, want False CASecretNotFound naming Secret web/backend-roots", c)
		}

		code, reason, body := get(t, g.httpsClient(p.edgeCA), "https://app.example.com/")
		if code != 502 {
			t.Fatalf("error header %v: got %d, want 502 (fail closed)", header, code)
		}
		if strings.Contains(body, "backend-roots") || !strings.Contains(body, "(CASecretNotFound)") {
			t.Errorf("body %q: want the reason only, never the Secret's name", body)
		}
		want := "CASecretNotFound web/backend-roots"
		if !header {
			want = ""
		}
		if reason != want {
			t.Errorf("error header %v: Bridgehead-Error %q, want %q", header, reason, want)
		}

		// Once the Secret exists, the route serves.
		objs := append(g.objects, caSecret("backend-roots", p.backendCA))
		g.apply(objs...)
		if code, _, body := get(t, g.httpsClient(p.edgeCA), "https://app.example.com/"); code != 200 || body != "backend:backend.web.svc" {
			t.Fatalf("after the Secret is created: %d %q", code, body)
		}
	}
}
