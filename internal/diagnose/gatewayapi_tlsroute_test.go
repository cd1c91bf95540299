package diagnose

import (
	"bytes"
	"context"
	"net"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/bridgehead/bridgehead/internal/translate"
)

// tlsRouteInputs: a Passthrough listener for *.example.com, a TLSRoute for db.example.com
// to Service db, whose one endpoint is a TLS server on 127.0.0.1.
func tlsRouteInputs(t *testing.T) *translate.Inputs {
	t.Helper()
	backend := httptest.NewTLSServer(nil)
	t.Cleanup(backend.Close)
	host, port, _ := net.SplitHostPort(backend.Listener.Addr().String())
	p, _ := strconv.Atoi(port)
	return &translate.Inputs{
		GatewayClasses: []*gwv1.GatewayClass{{ObjectMeta: metav1.ObjectMeta{Name: "bh"}, Spec: gwv1.GatewayClassSpec{ControllerName: translate.GatewayController}}},
		Gateways: []*gwv1.Gateway{{ObjectMeta: metav1.ObjectMeta{Namespace: "web", Name: "gw"}, Spec: gwv1.GatewaySpec{GatewayClassName: "bh",
			Listeners: []gwv1.Listener{{Name: "pass", Port: 443, Protocol: gwv1.TLSProtocolType, Hostname: ptr.To(gwv1.Hostname("*.example.com")),
				TLS: &gwv1.ListenerTLSConfig{Mode: ptr.To(gwv1.TLSModePassthrough)}}}}}},
		TLSRoutes: []*gwv1.TLSRoute{{ObjectMeta: metav1.ObjectMeta{Namespace: "web", Name: "db"}, Spec: gwv1.TLSRouteSpec{
			CommonRouteSpec: gwv1.CommonRouteSpec{ParentRefs: []gwv1.ParentReference{{Name: "gw"}}},
			Hostnames:       []gwv1.Hostname{"db.example.com"},
			Rules: []gwv1.TLSRouteRule{{BackendRefs: []gwv1.BackendRef{{BackendObjectReference: gwv1.BackendObjectReference{
				Name: "db", Port: ptr.To[gwv1.PortNumber](443)}}}}}}}},
		Services: []*corev1.Service{{ObjectMeta: metav1.ObjectMeta{Namespace: "web", Name: "db"},
			Spec: corev1.ServiceSpec{Ports: []corev1.ServicePort{{Name: "https", Port: 443}}}}},
		EndpointSlices: []*discoveryv1.EndpointSlice{{
			ObjectMeta:  metav1.ObjectMeta{Namespace: "web", Name: "db-1", Labels: map[string]string{discoveryv1.LabelServiceName: "db"}},
			AddressType: discoveryv1.AddressTypeIPv4,
			Ports:       []discoveryv1.EndpointPort{{Name: ptr.To("https"), Port: ptr.To(int32(p))}},
			Endpoints:   []discoveryv1.Endpoint{{Addresses: []string{host}}},
		}},
	}
}

func diagnoseTLSRoute(t *testing.T, in *translate.Inputs) (*Report, string) {
	t.Helper()
	target, err := ParseTarget("tlsroute/db", "web")
	if err != nil {
		t.Fatal(err)
	}
	opts := translate.DefaultOptions()
	opts.Now = time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	r := Routes(ctx, in, []Target{target}, Options{Translate: opts, Probe: true, Timeout: 5 * time.Second})
	var buf bytes.Buffer
	r.WriteText(&buf)
	return r, buf.String()
}

func TestDiagnoseTLSRoute(t *testing.T) {
	t.Run("working: Gateway, listener, the route passed through by SNI, the Service and its endpoint", func(t *testing.T) {
		r, text := diagnoseTLSRoute(t, tlsRouteInputs(t))
		if r.Verdict != OK {
			t.Fatalf("verdict %s, want OK:\n%s", r.Verdict, text)
		}
		for _, want := range []string{"Gateway", "Listener", "HostSNI(`db.example.com`)", "passed through untouched", "Service", "web/db", "forwards the connection's bytes as they are"} {
			if !strings.Contains(text, want) {
				t.Errorf("the report does not say %q:\n%s", want, text)
			}
		}
	})
	t.Run("missing Service: BackendNotFound, and the connections are closed", func(t *testing.T) {
		in := tlsRouteInputs(t)
		in.TLSRoutes[0].Spec.Rules[0].BackendRefs[0].Name = "gone"
		r, text := diagnoseTLSRoute(t, in)
		if r.Verdict != Fail {
			t.Fatalf("verdict %s, want Fail:\n%s", r.Verdict, text)
		}
		for _, want := range []string{"BackendNotFound", `"gone"`, "connections matching HostSNI(`db.example.com`) are closed"} {
			if !strings.Contains(text, want) {
				t.Errorf("the report does not say %q:\n%s", want, text)
			}
		}
	})
}
