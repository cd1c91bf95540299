package dataplane

import (
	"net/http"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/bridgehead/bridgehead/internal/pki"
	"github.com/bridgehead/bridgehead/internal/translate"
)

// BackendTLSPolicy through the real proxy on 127.0.0.1: an HTTPS listener terminates,
// and each route's backend is a real TLS server on loopback that the gateway verifies
// with the policy on its Service. What a client sees (status and Bridgehead-Error) and
// what the policy's status says are both checked.

func caConfigMap(name string, ca *pki.CA) *corev1.ConfigMap {
	return &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}, Data: map[string]string{"ca.crt": string(ca.PEM)}}
}

func backendTLSPolicy(name, svc, hostname string, age time.Duration, edit ...func(*gwv1.BackendTLSPolicy)) *gwv1.BackendTLSPolicy {
	p := &gwv1.BackendTLSPolicy{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, Generation: 3, CreationTimestamp: metav1.NewTime(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).Add(-age))},
		Spec: gwv1.BackendTLSPolicySpec{
			TargetRefs: []gwv1.LocalPolicyTargetReferenceWithSectionName{{LocalPolicyTargetReference: gwv1.LocalPolicyTargetReference{Kind: "Service", Name: gwv1.ObjectName(svc)}}},
			Validation: gwv1.BackendTLSPolicyValidation{
				CACertificateRefs: []gwv1.LocalObjectReference{{Kind: "ConfigMap", Name: "backend-ca"}},
				Hostname:          gwv1.PreciseHostname(hostname),
			},
		},
	}
	for _, e := range edit {
		e(p)
	}
	return p
}

// gwHTTPSRoute routes host on the Gateway's https listener to Service svc port 443.
func gwHTTPSRoute(name, host, svc string) *gwv1.HTTPRoute {
	return &gwv1.HTTPRoute{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}, Spec: gwv1.HTTPRouteSpec{
		CommonRouteSpec: gwv1.CommonRouteSpec{ParentRefs: []gwv1.ParentReference{{Name: "gw"}}},
		Hostnames:       []gwv1.Hostname{gwv1.Hostname(host)},
		Rules:           []gwv1.HTTPRouteRule{{BackendRefs: []gwv1.HTTPBackendRef{{BackendRef: gwRef(svc)}}}}}}
}

func policyCondition(t *testing.T, st translate.Statuses, name, typ string) metav1.Condition {
	t.Helper()
	s := st[translate.Key{Kind: translate.KindBackendTLSPolicy, Namespace: ns, Name: name}]
	if s == nil || s.GatewayAPI == nil || len(s.GatewayAPI.Ancestors) == 0 {
		t.Fatalf("BackendTLSPolicy %s has no ancestor status: %+v", name, s)
	}
	a := s.GatewayAPI.Ancestors[0]
	if a.AncestorRef.Name != "gw" || string(a.ControllerName) != translate.GatewayController {
		t.Fatalf("BackendTLSPolicy %s: ancestor %+v", name, a)
	}
	for _, c := range a.Conditions {
		if c.Type == typ {
			if c.ObservedGeneration != 3 {
				t.Errorf("BackendTLSPolicy %s: %s has observedGeneration %d, want 3", name, typ, c.ObservedGeneration)
			}
			return c
		}
	}
	t.Fatalf("BackendTLSPolicy %s has no %s condition: %+v", name, typ, a.Conditions)
	return metav1.Condition{}
}

func TestGatewayAPIBackendTLSPolicy(t *testing.T) {
	p := newPKI()
	const name = "backend.example.com"
	good := p.backend(name)
	expired := p.backendCA.MustIssue(name, pki.Options{DNSNames: []string{name}, NotBefore: time.Now().Add(-48 * time.Hour), NotAfter: time.Now().Add(-24 * time.Hour)})
	spiffe := p.backendCA.MustIssue("workload", pki.Options{DNSNames: []string{"workload.internal"}, URIs: []string{"spiffe://cluster.local/ns/web/sa/app"}})
	gatewayID := p.backendCA.MustIssue("gateway", pki.Options{})

	backends := map[string]string{
		"ok":        addrOf(tlsBackend(t, good)),
		"untrusted": addrOf(tlsBackend(t, p.otherCA.MustIssue(name, pki.Options{DNSNames: []string{name}}))),
		"wrongname": addrOf(tlsBackend(t, p.backend("db.internal"))),
		"expired":   addrOf(tlsBackend(t, expired)),
		"wantscert": addrOf(tlsBackend(t, good, requireClientCert(p.backendCA))),
		"plain":     addrOf(startHTTPBackend(t)),
		"san":       addrOf(tlsBackend(t, spiffe)),
		"sanwrong":  addrOf(tlsBackend(t, spiffe)),
		"noca":      addrOf(tlsBackend(t, good)),
		"conflict":  addrOf(tlsBackend(t, good)),
	}
	gw := &gwv1.Gateway{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "gw", Generation: 2}, Spec: gwv1.GatewaySpec{GatewayClassName: "bh", Listeners: []gwv1.Listener{{
		Name: "https", Port: 443, Protocol: gwv1.HTTPSProtocolType, Hostname: ptr.To(gwv1.Hostname("*.example.com")),
		TLS: &gwv1.ListenerTLSConfig{CertificateRefs: []gwv1.SecretObjectReference{{Name: "app-tls"}}}}}}}
	edge := p.edgeCA.MustIssue("*.example.com", pki.Options{DNSNames: []string{"*.example.com"}})
	objs := []client.Object{gw, tlsSecret("app-tls", edge), caConfigMap("backend-ca", p.backendCA), tlsSecret("gateway-id", gatewayID)}
	for svc, addr := range backends {
		objs = append(objs, service(svc, "tls", addr)...)
		objs = append(objs, gwHTTPSRoute(svc, svc+".example.com", svc))
		switch svc {
		case "san":
			objs = append(objs, backendTLSPolicy(svc, svc, name, 0, func(p *gwv1.BackendTLSPolicy) {
				p.Spec.Validation.SubjectAltNames = []gwv1.SubjectAltName{{Type: gwv1.URISubjectAltNameType, URI: "spiffe://cluster.local/ns/web/sa/app"}}
			}))
		case "sanwrong":
			objs = append(objs, backendTLSPolicy(svc, svc, name, 0, func(p *gwv1.BackendTLSPolicy) {
				p.Spec.Validation.SubjectAltNames = []gwv1.SubjectAltName{{Type: gwv1.URISubjectAltNameType, URI: "spiffe://cluster.local/ns/web/sa/other"}}
			}))
		case "noca":
			objs = append(objs, backendTLSPolicy(svc, svc, name, 0, func(p *gwv1.BackendTLSPolicy) {
				p.Spec.Validation.CACertificateRefs[0].Name = "missing-ca"
			}))
		case "conflict":
			// The older policy wins: the newer one names a wrong hostname, so a 200 with
			// SNI backend.example.com shows which one is applied.
			objs = append(objs, backendTLSPolicy("conflict-old", svc, name, time.Hour),
				backendTLSPolicy("conflict-new", svc, "wrong.example.com", 0))
		default:
			objs = append(objs, backendTLSPolicy(svc, svc, name, 0))
		}
	}
	g := startGateway(t, nil)
	st := g.applyGatewayAPI(objs...)
	c := g.httpsClient(p.edgeCA)

	ok := []string{"ok", "san", "conflict"}
	for _, svc := range ok {
		t.Run(svc+": verified TLS to the backend, SNI is the policy's hostname", func(t *testing.T) {
			code, reason, body := get(t, c, "https://"+svc+".example.com/")
			if code != http.StatusOK || body != "backend:"+name {
				t.Fatalf("got %d %s %q, want 200 from the backend with SNI %s", code, reason, body, name)
			}
		})
	}
	for svc, want := range map[string]string{
		"untrusted": "UnknownAuthority", "wrongname": "NameMismatch", "expired": "CertificateExpired",
		"wantscert": "ClientCertificateRequired", "plain": "BackendNotTLS", "sanwrong": "NameMismatch",
	} {
		t.Run(svc+": the handshake's cause is the answer", func(t *testing.T) {
			code, reason, body := get(t, c, "https://"+svc+".example.com/")
			if code != http.StatusBadGateway || reason != want {
				t.Fatalf("got %d %q (%q), want 502 %s", code, reason, body, want)
			}
		})
	}
	t.Run("accepted policies say so through the Gateway", func(t *testing.T) {
		for _, n := range []string{"ok", "san", "untrusted", "conflict-old"} {
			if c := policyCondition(t, st, n, "Accepted"); c.Status != metav1.ConditionTrue || c.Reason != "Accepted" {
				t.Errorf("%s: Accepted %s %s: %s", n, c.Status, c.Reason, c.Message)
			}
			if c := policyCondition(t, st, n, "ResolvedRefs"); c.Status != metav1.ConditionTrue {
				t.Errorf("%s: ResolvedRefs %s %s: %s", n, c.Status, c.Reason, c.Message)
			}
		}
	})
	t.Run("a newer policy for the same Service is Conflicted", func(t *testing.T) {
		c := policyCondition(t, st, "conflict-new", "Accepted")
		if c.Status != metav1.ConditionFalse || c.Reason != "Conflicted" || !strings.Contains(c.Message, "conflict-old") {
			t.Fatalf("Accepted %s %s: %s", c.Status, c.Reason, c.Message)
		}
	})
	t.Run("a CA reference that does not resolve: NoValidCACertificate, InvalidCACertificateRef, and 5xx", func(t *testing.T) {
		a := policyCondition(t, st, "noca", "Accepted")
		r := policyCondition(t, st, "noca", "ResolvedRefs")
		if a.Status != metav1.ConditionFalse || a.Reason != "NoValidCACertificate" || r.Status != metav1.ConditionFalse || r.Reason != "InvalidCACertificateRef" ||
			!strings.Contains(r.Message, "missing-ca") {
			t.Fatalf("Accepted %s %s; ResolvedRefs %s %s: %s", a.Status, a.Reason, r.Status, r.Reason, r.Message)
		}
		code, reason, body := get(t, c, "https://noca.example.com/")
		if code < 500 || code > 503 {
			t.Fatalf("got %d %q (%q), want a 5xx", code, reason, body)
		}
	})

	t.Run("the Gateway's backend client certificate is presented to backends that ask", func(t *testing.T) {
		withCert := gw.DeepCopy()
		withCert.Spec.TLS = &gwv1.GatewayTLSConfig{Backend: &gwv1.GatewayBackendTLS{ClientCertificateRef: &gwv1.SecretObjectReference{Name: "gateway-id"}}}
		next := append([]client.Object{withCert}, objs[1:]...)
		st := g.applyGatewayAPI(next...)
		code, reason, body := get(t, c, "https://wantscert.example.com/")
		if code != http.StatusOK || body != "backend:"+name {
			t.Fatalf("got %d %s %q, want 200 with the Gateway's client certificate", code, reason, body)
		}
		if cond := gatewayCondition(t, st, "ResolvedRefs"); cond.Status != metav1.ConditionTrue {
			t.Fatalf("Gateway ResolvedRefs %s %s: %s", cond.Status, cond.Reason, cond.Message)
		}

		withCert.Spec.TLS.Backend.ClientCertificateRef.Name = "no-such-secret"
		st = g.applyGatewayAPI(next...)
		cond := gatewayCondition(t, st, "ResolvedRefs")
		if cond.Status != metav1.ConditionFalse || cond.Reason != "InvalidClientCertificateRef" || !strings.Contains(cond.Message, "no-such-secret") {
			t.Fatalf("Gateway ResolvedRefs %s %s: %s", cond.Status, cond.Reason, cond.Message)
		}
		if acc := gatewayCondition(t, st, "Accepted"); acc.Status != metav1.ConditionTrue {
			t.Fatalf("Gateway Accepted %s %s: %s", acc.Status, acc.Reason, acc.Message)
		}
		if code, reason, _ := get(t, c, "https://wantscert.example.com/"); code != http.StatusBadGateway || reason != "ClientCertificateRequired" {
			t.Fatalf("got %d %s, want 502 ClientCertificateRequired", code, reason)
		}
	})
}

func gatewayCondition(t *testing.T, st translate.Statuses, typ string) metav1.Condition {
	t.Helper()
	s := st[translate.Key{Kind: translate.KindGateway, Namespace: ns, Name: "gw"}]
	for _, c := range s.GatewayAPI.Gateway.Conditions {
		if c.Type == typ {
			return c
		}
	}
	t.Fatalf("Gateway has no %s condition: %+v", typ, s.GatewayAPI.Gateway.Conditions)
	return metav1.Condition{}
}
