package translate

import (
	"crypto/tls"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/bridgehead/bridgehead/internal/pki"
	"github.com/bridgehead/bridgehead/internal/snapshot"
)

func frontendHTTPS(name string, port int32, host string) gwv1.Listener {
	l := gwv1.Listener{Name: gwv1.SectionName(name), Port: port, Protocol: gwv1.HTTPSProtocolType,
		TLS: &gwv1.ListenerTLSConfig{CertificateRefs: []gwv1.SecretObjectReference{{Name: "edge"}}}}
	if host != "" {
		l.Hostname = ptr.To(gwv1.Hostname(host))
	}
	return l
}

func validation(mode gwv1.FrontendValidationModeType, refs ...gwv1.ObjectReference) *gwv1.FrontendTLSValidation {
	return &gwv1.FrontendTLSValidation{Mode: mode, CACertificateRefs: refs}
}

func cmRef(name, namespace string) gwv1.ObjectReference {
	r := gwv1.ObjectReference{Kind: "ConfigMap", Name: gwv1.ObjectName(name)}
	if namespace != "" {
		r.Namespace = ptr.To(gwv1.Namespace(namespace))
	}
	return r
}

func frontendInputs(t *testing.T, gw *gwv1.Gateway) *Inputs {
	in := gwTLSInputs(t, gw)
	ca := pki.MustCA("client CA")
	in.ConfigMaps = []*corev1.ConfigMap{
		{ObjectMeta: metav1.ObjectMeta{Namespace: "web", Name: "client-ca"}, Data: map[string]string{"ca.crt": string(ca.PEM)}},
		{ObjectMeta: metav1.ObjectMeta{Namespace: "other", Name: "client-ca"}, Data: map[string]string{"ca.crt": string(ca.PEM)}},
		{ObjectMeta: metav1.ObjectMeta{Namespace: "web", Name: "garbage"}, Data: map[string]string{"ca.crt": "not PEM"}},
	}
	return in
}

func policyByID(snap *snapshot.Snapshot, id string) *snapshot.Policy {
	for _, p := range snap.TLS.Policies {
		if p.ID == id {
			return p
		}
	}
	return nil
}

func hostPolicy(snap *snapshot.Snapshot, name string) *snapshot.HostTLS {
	for _, h := range snap.TLS.Hosts {
		if h.Name == name {
			return h
		}
	}
	return nil
}

func listenerConds(t *testing.T, st Statuses, gw, l string) map[string]metav1.Condition {
	out := map[string]metav1.Condition{}
	for _, c := range listenerStatus(t, st, gw, l).Conditions {
		out[c.Type] = c
	}
	return out
}

// The conformance test GatewayInvalidFrontendClientCertificateValidation: each listener
// gets the reason of its own port's configuration; the others keep serving.
func TestGatewayFrontendInvalidCACertificateRefsPerListener(t *testing.T) {
	gw := testGateway("gw", frontendHTTPS("https", 443, ""), frontendHTTPS("https-unresolved", 7443, "first.example.com"),
		frontendHTTPS("https-invalid-kind", 8443, "second.example.com"), frontendHTTPS("https-grant-missing", 6443, "fourth.example.com"),
		frontendHTTPS("https-garbage", 5443, "fifth.example.com"))
	gw.Spec.TLS = &gwv1.GatewayTLSConfig{Frontend: &gwv1.FrontendTLSConfig{
		Default: gwv1.TLSConfig{Validation: validation("", cmRef("client-ca", ""))},
		PerPort: []gwv1.TLSPortConfig{
			{Port: 7443, TLS: gwv1.TLSConfig{Validation: validation("", cmRef("does-not-exist", ""))}},
			{Port: 8443, TLS: gwv1.TLSConfig{Validation: validation("", gwv1.ObjectReference{Kind: "Service", Name: "app"})}},
			{Port: 6443, TLS: gwv1.TLSConfig{Validation: validation("", cmRef("client-ca", "other"))}},
			{Port: 5443, TLS: gwv1.TLSConfig{Validation: validation("", cmRef("garbage", ""))}},
		}}}
	opts := DefaultOptions()
	opts.ListenerPorts = DefaultListenerPorts()
	for _, p := range []int32{7443, 6443, 5443} {
		opts.ListenerPorts[p] = ListenerEntryPoint{Name: "websecure", Kind: EntryPointTLS}
	}
	snap, st := Translate(frontendInputs(t, gw), opts)

	c := listenerConds(t, st, "gw", "https")
	for _, typ := range []string{"Accepted", "ResolvedRefs", "Programmed"} {
		if c[typ].Status != metav1.ConditionTrue {
			t.Errorf("https %s = %s %s: %s", typ, c[typ].Status, c[typ].Reason, c[typ].Message)
		}
	}
	for _, tc := range []struct{ listener, resolved, field string }{
		{"https-unresolved", "InvalidCACertificateRef", "perPort[0]"},
		{"https-invalid-kind", "InvalidCACertificateKind", "perPort[1]"},
		{"https-grant-missing", "RefNotPermitted", "perPort[2]"},
		{"https-garbage", "InvalidCACertificateRef", "perPort[3]"},
	} {
		c := listenerConds(t, st, "gw", tc.listener)
		wantCondition(t, c, "ResolvedRefs", metav1.ConditionFalse, tc.resolved)
		wantCondition(t, c, "Accepted", metav1.ConditionFalse, "NoValidCACertificate")
		wantCondition(t, c, "Programmed", metav1.ConditionFalse, "Invalid")
		if !strings.Contains(c["ResolvedRefs"].Message, "spec.tls.frontend."+tc.field+".tls.validation.caCertificateRefs[0]") {
			t.Errorf("%s: the message should name the field: %s", tc.listener, c["ResolvedRefs"].Message)
		}
	}
	// The valid default is a policy that requires and verifies client certificates; the
	// hostname-less listener uses it as is.
	p := policyByID(snap, "gateway/web/gw/default")
	if p == nil || p.ClientAuth != tls.RequireAndVerifyClientCert || p.ClientCAs == nil || p.Failure != nil {
		t.Fatalf("default frontend policy: %+v", p)
	}
	// The broken ones refuse handshakes, so nothing is served without validation.
	for _, id := range []string{"gateway/web/gw/perPort[0]", "gateway/web/gw/perPort[1]@second.example.com"} {
		if p := policyByID(snap, id); p == nil || p.Failure == nil {
			t.Errorf("policy %s: want a Failure, got %+v", id, p)
		}
	}
}

// The conformance test GatewayFrontendInvalidDefaultClientCertificateValidation: an
// invalid default only affects HTTPS listeners; a perPort entry for an HTTP port is not
// used by anything.
func TestGatewayFrontendInvalidDefaultLeavesHTTPAlone(t *testing.T) {
	gw := testGateway("gw", frontendHTTPS("https", 443, ""), gwv1.Listener{Name: "http", Port: 80, Protocol: gwv1.HTTPProtocolType})
	gw.Spec.TLS = &gwv1.GatewayTLSConfig{Frontend: &gwv1.FrontendTLSConfig{
		Default: gwv1.TLSConfig{Validation: validation("", cmRef("does-not-exist", ""))},
		PerPort: []gwv1.TLSPortConfig{{Port: 80, TLS: gwv1.TLSConfig{Validation: validation("", cmRef("client-ca", ""))}}},
	}}
	_, st := Translate(frontendInputs(t, gw), DefaultOptions())
	c := listenerConds(t, st, "gw", "http")
	for _, typ := range []string{"Accepted", "ResolvedRefs", "Programmed"} {
		if c[typ].Status != metav1.ConditionTrue {
			t.Errorf("http %s = %s %s", typ, c[typ].Status, c[typ].Reason)
		}
	}
	c = listenerConds(t, st, "gw", "https")
	wantCondition(t, c, "ResolvedRefs", metav1.ConditionFalse, "InvalidCACertificateRef")
	wantCondition(t, c, "Accepted", metav1.ConditionFalse, "NoValidCACertificate")
	wantCondition(t, c, "Programmed", metav1.ConditionFalse, "Invalid")
}

// A ReferenceGrant makes a CA in another namespace usable; AllowInsecureFallback asks for
// a certificate without requiring one and sets the Gateway's condition.
func TestGatewayFrontendGrantAndInsecureFallback(t *testing.T) {
	gw := testGateway("gw", frontendHTTPS("https", 443, "app.example.com"))
	gw.Spec.TLS = &gwv1.GatewayTLSConfig{Frontend: &gwv1.FrontendTLSConfig{
		Default: gwv1.TLSConfig{Validation: validation(gwv1.AllowInsecureFallback, cmRef("client-ca", "other"))}}}
	in := frontendInputs(t, gw)
	in.ReferenceGrants = []*gwv1.ReferenceGrant{{ObjectMeta: metav1.ObjectMeta{Namespace: "other", Name: "gw-ca"}, Spec: gwv1.ReferenceGrantSpec{
		From: []gwv1.ReferenceGrantFrom{{Group: gatewayGroup, Kind: KindGateway, Namespace: "web"}},
		To:   []gwv1.ReferenceGrantTo{{Group: "", Kind: "ConfigMap"}}}}}
	snap, st := Translate(in, DefaultOptions())
	c := listenerConds(t, st, "gw", "https")
	wantCondition(t, c, "ResolvedRefs", metav1.ConditionTrue, "ResolvedRefs")
	wantCondition(t, c, "Programmed", metav1.ConditionTrue, "Programmed")
	h := hostPolicy(snap, "app.example.com")
	if h == nil || h.Policy != "gateway/web/gw/default@app.example.com" {
		t.Fatalf("app.example.com: %+v", h)
	}
	if p := policyByID(snap, h.Policy); p == nil || p.ClientAuth != tls.RequestClientCert || p.ClientCAs == nil {
		t.Fatalf("insecure fallback policy: %+v", p)
	}
	found := false
	for _, c := range st[Key{Kind: KindGateway, Namespace: "web", Name: "gw"}].GatewayAPI.Gateway.Conditions {
		found = found || (c.Type == "InsecureFrontendValidationMode" && c.Status == metav1.ConditionTrue && c.Reason == "ConfigurationChanged")
	}
	if !found {
		t.Error("want InsecureFrontendValidationMode True ConfigurationChanged on the Gateway")
	}
	if refs := gatewayRefs(gw); len(refs) != 2 || refs[1] != Reference(KindConfigMap, "other", "client-ca") {
		t.Errorf("gatewayRefs = %v, want the edge Secret and the client CA ConfigMap", refs)
	}
}

// Route names on HTTPS listeners are negotiated under the listener's policy with its
// certificate; HTTPS listeners with different hostnames never share a policy ID.
func TestGatewayHTTPSRouteHostsClaimTheListenersPolicy(t *testing.T) {
	gw := testGateway("gw", frontendHTTPS("any", 443, ""), frontendHTTPS("one", 443, "one.example.com"), frontendHTTPS("wild", 443, "*.example.com"))
	in := gwTLSInputs(t, gw)
	route := func(name, section string, hosts ...gwv1.Hostname) *gwv1.HTTPRoute {
		r := testHTTPRoute(name, 0, hosts)
		r.Spec.ParentRefs = []gwv1.ParentReference{parent("gw", section)}
		return r
	}
	in.HTTPRoutes = []*gwv1.HTTPRoute{route("a", "any", "app.example.org"), route("b", "wild", "b.example.com"), route("c", "one")}
	snap, _ := Translate(in, DefaultOptions())
	def := snap.TLS.DefaultPolicy
	for name, want := range map[string]string{"app.example.org": def, "b.example.com": def + "@*.example.com",
		"*.example.com": def + "@*.example.com", "one.example.com": def + "@one.example.com"} {
		h := hostPolicy(snap, name)
		if h == nil || h.Policy != want || h.Failure != nil {
			t.Errorf("host %s: %+v, want policy %s", name, h, want)
			continue
		}
		if name != "app.example.org" && h.Certificate == nil {
			t.Errorf("host %s: no certificate (the listener's must be served)", name)
		}
	}
	for _, r := range snap.HTTPRoutes {
		if r.Source.Name == "b" && r.Policy != def+"@*.example.com" {
			t.Errorf("route %s: policy %s", r.ID, r.Policy)
		}
	}
}
