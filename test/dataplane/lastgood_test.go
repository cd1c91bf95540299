package dataplane

import (
	"crypto/sha256"
	"crypto/tls"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	bhv1 "github.com/bridgehead/bridgehead/api/v1alpha1"
	"github.com/bridgehead/bridgehead/internal/translate"
)

// TestGarbagePEMKeepsTheLastGoodCertificate: an edge certificate Secret overwritten with
// garbage must not replace the working certificate with the self-signed default (every
// client would refuse it); the last good certificate keeps serving, and the route says
// that the new data was refused and why.
func TestGarbagePEMKeepsTheLastGoodCertificate(t *testing.T) {
	p := newPKI()
	b := tlsBackend(t, p.backend("backend.web.svc"))
	objs := e2e(p, addrOf(b), serversTransport("backend", "backend.web.svc", []string{"backend-ca"}, nil),
		routeSpec{name: "app", match: "Host(`app.example.com`)", svc: "backend", transport: "backend", secret: "app-tls"})
	g := startGateway(t, objs)
	want := sha256.Sum256(p.edge.TLS.Certificate[0])
	if got := g.servedCertificate(t, "app.example.com"); got != want {
		t.Fatal("the gateway does not serve the route's certificate to begin with")
	}

	broken := tlsSecret("app-tls", p.edge)
	broken.Data["tls.crt"] = []byte("-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydGlmaWNhdGU=\n-----END CERTIFICATE-----\n")
	statuses := g.apply(replace(objs, broken)...)

	if got := g.servedCertificate(t, "app.example.com"); got != want {
		t.Error("garbage PEM in the Secret replaced the working certificate")
	}
	c := g.httpsClient(p.edgeCA)
	if code, reason, _ := get(t, c, "https://app.example.com/"); code != http.StatusOK {
		t.Errorf("GET through the last good certificate: %d %s", code, reason)
	}
	warn := statuses[translate.Key{Kind: translate.KindIngressRoute, Namespace: ns, Name: "app"}].Condition(bhv1.ConditionWarnings)
	if warn == nil || warn.Reason != string(bhv1.ReasonDataRefused) ||
		!strings.Contains(warn.Message, "Secret web/app-tls: its new data is refused") || !strings.Contains(warn.Message, "do not form a usable certificate") {
		t.Errorf("the IngressRoute does not say the Secret's new data was refused: %+v", warn)
	}
}

// TestBrokenMatchKeepsItsRoute: an IngressRoute whose match no longer parses must not drop
// its route and let the traffic fall through to a catch-all route (another backend); its
// last good version keeps serving, and its status says so.
func TestBrokenMatchKeepsItsRoute(t *testing.T) {
	app := plainBackend(t, "app")
	catchAll := plainBackend(t, "catch-all")
	route := &bhv1.IngressRoute{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "app", Generation: 1},
		Spec: bhv1.IngressRouteSpec{Routes: []bhv1.Route{{Match: "Host(`app.example.com`) && PathPrefix(`/shop`)",
			Services: []bhv1.Service{{Name: "app", Port: "80"}}}}}}
	fallback := &bhv1.IngressRoute{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "catch-all", Generation: 1},
		Spec: bhv1.IngressRouteSpec{Routes: []bhv1.Route{{Match: "PathPrefix(`/`)",
			Services: []bhv1.Service{{Name: "catch-all", Port: "80"}}}}}}
	objs := append([]client.Object{route, fallback}, plainService("app", addrOf(app))...)
	objs = append(objs, plainService("catch-all", addrOf(catchAll))...)
	g := startGateway(t, objs)
	if body := g.plainGet(t, "app.example.com", "/shop/cart"); body != "app" {
		t.Fatalf("before the edit: %q", body)
	}

	edited := route.DeepCopy()
	edited.Generation = 2
	edited.Spec.Routes[0].Match = "Host(`app.example.com`) && PathPrefix(`/shop`"
	statuses := g.apply(replace(objs, edited)...)
	if body := g.plainGet(t, "app.example.com", "/shop/cart"); body != "app" {
		t.Errorf("after a broken edit, /shop/cart was answered by %q: the last good route should keep serving it", body)
	}
	st := statuses[translate.Key{Kind: translate.KindIngressRoute, Namespace: ns, Name: "app"}]
	ready, accepted := st.Condition(bhv1.ConditionReady), st.Condition(bhv1.ConditionAccepted)
	if ready.Reason != string(bhv1.ReasonServingLastGood) || ready.ObservedGeneration != 2 ||
		!strings.Contains(accepted.Message, "generation 2 is refused: spec.routes[0].match") ||
		!strings.Contains(accepted.Message, "generation 1, the last that was accepted, keeps serving") {
		t.Errorf("status does not say which generation serves and why the newest does not:\nAccepted: %+v\nReady: %+v", accepted, ready)
	}
}

// servedCertificate returns the fingerprint of the leaf the gateway presents for sni.
func (g *gateway) servedCertificate(t *testing.T, sni string) [32]byte {
	t.Helper()
	conn, err := tls.DialWithDialer(&net.Dialer{Timeout: 5 * time.Second}, "tcp", g.secure, &tls.Config{ServerName: sni, InsecureSkipVerify: true}) //nolint:gosec // the test reads what is presented
	if err != nil {
		t.Fatalf("TLS handshake for %s: %v", sni, err)
	}
	defer func() { _ = conn.Close() }()
	return sha256.Sum256(conn.ConnectionState().PeerCertificates[0].Raw)
}

// plainGet requests path on the web entry point with the given Host and returns the body.
func (g *gateway) plainGet(t *testing.T, host, path string) string {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, "http://"+g.web+path, nil)
	req.Host = host
	resp, err := (&http.Client{Timeout: 5 * time.Second}).Do(req)
	if err != nil {
		t.Fatalf("GET %s%s: %v", host, path, err)
	}
	defer func() { _ = resp.Body.Close() }()
	body, _ := io.ReadAll(resp.Body)
	return string(body)
}

// plainBackend is an HTTP backend that answers its name.
func plainBackend(t *testing.T, name string) *httptest.Server {
	b := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, name) }))
	t.Cleanup(b.Close)
	return b
}

// plainService is a Service on port 80 (plain http) whose endpoint is addr.
func plainService(name, addr string) []client.Object {
	host, port, _ := net.SplitHostPort(addr)
	p, _ := strconv.Atoi(port)
	return []client.Object{
		&corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
			Spec: corev1.ServiceSpec{Ports: []corev1.ServicePort{{Name: "http", Port: 80}}}},
		&discoveryv1.EndpointSlice{
			ObjectMeta:  metav1.ObjectMeta{Namespace: ns, Name: name + "-1", Labels: map[string]string{discoveryv1.LabelServiceName: name}},
			AddressType: discoveryv1.AddressTypeIPv4,
			Ports:       []discoveryv1.EndpointPort{{Name: ptr.To("http"), Port: ptr.To(int32(p))}},
			Endpoints:   []discoveryv1.Endpoint{{Addresses: []string{host}}},
		},
	}
}

// replace returns objs with the object of the same kind, namespace and name as o replaced by o.
func replace(objs []client.Object, o client.Object) []client.Object {
	out := make([]client.Object, 0, len(objs))
	for _, x := range objs {
		if x.GetName() == o.GetName() && x.GetNamespace() == o.GetNamespace() && sameKind(x, o) {
			x = o
		}
		out = append(out, x)
	}
	return out
}

func sameKind(a, b client.Object) bool {
	switch a.(type) {
	case *corev1.Secret:
		_, ok := b.(*corev1.Secret)
		return ok
	case *bhv1.IngressRoute:
		_, ok := b.(*bhv1.IngressRoute)
		return ok
	}
	return false
}
