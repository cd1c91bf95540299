package translate

import (
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/bridgehead/bridgehead/internal/pki"
	"github.com/bridgehead/bridgehead/internal/snapshot"
)

func testBackendTLSPolicy(name string, age time.Duration, section string, edit ...func(*gwv1.BackendTLSPolicy)) *gwv1.BackendTLSPolicy {
	p := &gwv1.BackendTLSPolicy{
		ObjectMeta: metav1.ObjectMeta{Namespace: "web", Name: name, Generation: 2, CreationTimestamp: metav1.NewTime(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).Add(-age))},
		Spec: gwv1.BackendTLSPolicySpec{
			TargetRefs: []gwv1.LocalPolicyTargetReferenceWithSectionName{{LocalPolicyTargetReference: gwv1.LocalPolicyTargetReference{Kind: "Service", Name: "app"}}},
			Validation: gwv1.BackendTLSPolicyValidation{CACertificateRefs: []gwv1.LocalObjectReference{{Kind: "ConfigMap", Name: "ca"}}, Hostname: "app.internal"},
		},
	}
	if section != "" {
		p.Spec.TargetRefs[0].SectionName = ptr.To(gwv1.SectionName(section))
	}
	for _, e := range edit {
		e(p)
	}
	return p
}

func btlsInputs(policies ...*gwv1.BackendTLSPolicy) *Inputs {
	in := gwTestInputs("", testHTTPRoute("app", 0, nil))
	in.ConfigMaps = []*corev1.ConfigMap{{ObjectMeta: metav1.ObjectMeta{Namespace: "web", Name: "ca"}, Data: map[string]string{"ca.crt": string(pki.MustCA("backend CA").PEM)}}}
	in.BackendTLSPolicies = policies
	return in
}

func btlsBackend(t *testing.T, snap *snapshot.Snapshot) *snapshot.Backend {
	t.Helper()
	if len(snap.HTTPRoutes) == 0 || len(snap.HTTPRoutes[0].Backends) == 0 {
		t.Fatalf("no route backend in the snapshot")
	}
	return snap.HTTPRoutes[0].Backends[0]
}

// policyConds are the conditions of a policy's first ancestor, by type.
func policyConds(t *testing.T, st Statuses, name string) map[string]metav1.Condition {
	t.Helper()
	s := st[Key{Kind: KindBackendTLSPolicy, Namespace: "web", Name: name}]
	if s == nil || s.GatewayAPI == nil || len(s.GatewayAPI.Ancestors) != 1 {
		t.Fatalf("policy %s: want one ancestor, got %+v", name, s)
	}
	out := map[string]metav1.Condition{}
	for _, c := range s.GatewayAPI.Ancestors[0].Conditions {
		out[c.Type] = c
	}
	return out
}

func TestBackendTLSPolicyMakesTheBackendVerifiedTLS(t *testing.T) {
	snap, st := Translate(btlsInputs(testBackendTLSPolicy("app-tls", 0, "")), DefaultOptions())
	if err := snap.Validate(); err != nil {
		t.Fatal(err)
	}
	b := btlsBackend(t, snap)
	if b.Scheme != "https" || b.ServerName != "app.internal" || len(b.VerifyNames) != 1 || b.VerifyNames[0] != "app.internal" ||
		b.Transport != "BackendTLSPolicy/web/app-tls" || b.Failure != nil {
		t.Fatalf("backend %+v", b)
	}
	c := policyConds(t, st, "app-tls")
	if c["Accepted"].Status != metav1.ConditionTrue || c["ResolvedRefs"].Status != metav1.ConditionTrue || c["Accepted"].ObservedGeneration != 2 {
		t.Fatalf("conditions %+v", c)
	}
}

func TestBackendTLSPolicyRefusals(t *testing.T) {
	cases := []struct {
		name             string
		edit             func(*gwv1.BackendTLSPolicy)
		accepted, reason string // the Accepted condition's reason, and ResolvedRefs'
		mention          string
	}{
		{"options are refused by name", func(p *gwv1.BackendTLSPolicy) {
			p.Spec.Options = map[gwv1.AnnotationKey]gwv1.AnnotationValue{"example.com/min-version": "1.3"}
		}, "Invalid", "ResolvedRefs", "example.com/min-version"},
		{"an unknown well-known CA set", func(p *gwv1.BackendTLSPolicy) {
			p.Spec.Validation.CACertificateRefs = nil
			p.Spec.Validation.WellKnownCACertificates = ptr.To(gwv1.WellKnownCACertificatesType("example.com/corp"))
		}, "Invalid", "ResolvedRefs", "example.com/corp"},
		{"a CA reference of another kind", func(p *gwv1.BackendTLSPolicy) {
			p.Spec.Validation.CACertificateRefs[0].Kind = "Pod"
		}, "NoValidCACertificate", "InvalidKind", "Pod"},
		{"a CA ConfigMap that does not exist", func(p *gwv1.BackendTLSPolicy) {
			p.Spec.Validation.CACertificateRefs[0].Name = "nope"
		}, "NoValidCACertificate", "InvalidCACertificateRef", "nope"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			snap, st := Translate(btlsInputs(testBackendTLSPolicy("app-tls", 0, "", tc.edit)), DefaultOptions())
			if err := snap.Validate(); err != nil {
				t.Fatal(err)
			}
			c := policyConds(t, st, "app-tls")
			if c["Accepted"].Status != metav1.ConditionFalse || c["Accepted"].Reason != tc.accepted || c["ResolvedRefs"].Reason != tc.reason {
				t.Fatalf("Accepted %s %s: %s; ResolvedRefs %s: %s", c["Accepted"].Status, c["Accepted"].Reason, c["Accepted"].Message, c["ResolvedRefs"].Reason, c["ResolvedRefs"].Message)
			}
			if !strings.Contains(c["Accepted"].Message+c["ResolvedRefs"].Message, tc.mention) {
				t.Errorf("the conditions do not name %q: %+v", tc.mention, c)
			}
			// Fail closed: never plain HTTP to a Service the policy says needs TLS.
			if b := btlsBackend(t, snap); b.Failure == nil || b.Failure.Status < 500 || !strings.Contains(b.Failure.Message, "BackendTLSPolicy web/app-tls") {
				t.Fatalf("backend %+v, want a 5xx failure naming the policy", b)
			}
		})
	}
}

func TestBackendTLSPolicySystemRootsAndSANs(t *testing.T) {
	p := testBackendTLSPolicy("app-tls", 0, "", func(p *gwv1.BackendTLSPolicy) {
		p.Spec.Validation.CACertificateRefs = nil
		p.Spec.Validation.WellKnownCACertificates = ptr.To(gwv1.WellKnownCACertificatesSystem)
		p.Spec.Validation.SubjectAltNames = []gwv1.SubjectAltName{{Type: gwv1.HostnameSubjectAltNameType, Hostname: "App.Example.com"}, {Type: gwv1.URISubjectAltNameType, URI: "spiffe://c/ns/web/sa/app"}}
	})
	snap, _ := Translate(btlsInputs(p), DefaultOptions())
	b := btlsBackend(t, snap)
	var tr *snapshot.Transport
	for _, x := range snap.Transports {
		if x.ID == b.Transport {
			tr = x
		}
	}
	if tr == nil || tr.RootCAs != nil || !tr.PinsReplaceNames || len(tr.PeerCertDNSNames) != 1 || tr.PeerCertDNSNames[0] != "app.example.com" ||
		len(tr.PeerCertURIs) != 1 || b.ServerName != "app.internal" || len(b.VerifyNames) != 0 {
		t.Fatalf("backend %+v transport %+v", b, tr)
	}
}

// The spec's precedence: per target and section, the oldest policy wins and the others
// are Conflicted; a policy for one named port and one for the whole Service do not conflict,
// the port's is used for that port.
func TestBackendTLSPolicyPrecedence(t *testing.T) {
	in := btlsInputs(testBackendTLSPolicy("new", 0, ""), testBackendTLSPolicy("old", time.Hour, ""), testBackendTLSPolicy("port", 0, "http",
		func(p *gwv1.BackendTLSPolicy) { p.Spec.Validation.Hostname = "port.internal" }))
	snap, st := Translate(in, DefaultOptions())
	if b := btlsBackend(t, snap); b.Transport != "BackendTLSPolicy/web/port" || b.ServerName != "port.internal" {
		t.Fatalf("the port's policy should apply: %+v", b)
	}
	if c := policyConds(t, st, "port")["Accepted"]; c.Status != metav1.ConditionTrue {
		t.Errorf("port: %+v", c)
	}
	if c := policyConds(t, st, "new")["Accepted"]; c.Reason != "Conflicted" || !strings.Contains(c.Message, "web/old") {
		t.Errorf("new: %+v", c)
	}
	in.BackendTLSPolicies = in.BackendTLSPolicies[:2]
	snap, _ = Translate(in, DefaultOptions())
	if b := btlsBackend(t, snap); b.Transport != "BackendTLSPolicy/web/old" {
		t.Fatalf("the oldest policy should apply: %+v", b)
	}
}

func TestGatewayBackendClientCertificate(t *testing.T) {
	in := btlsInputs(testBackendTLSPolicy("app-tls", 0, ""))
	leaf := pki.MustCA("id CA").MustIssue("gateway", pki.Options{})
	in.Secrets = []*corev1.Secret{{ObjectMeta: metav1.ObjectMeta{Namespace: "other", Name: "id"}, Type: corev1.SecretTypeTLS,
		Data: map[string][]byte{"tls.crt": leaf.CertPEM, "tls.key": leaf.KeyPEM}}}
	in.Gateways[0].Spec.TLS = &gwv1.GatewayTLSConfig{Backend: &gwv1.GatewayBackendTLS{ClientCertificateRef: &gwv1.SecretObjectReference{Name: "id", Namespace: ptr.To(gwv1.Namespace("other"))}}}
	gwCond := func(st Statuses) metav1.Condition {
		for _, c := range st[Key{Kind: KindGateway, Namespace: "web", Name: "gw"}].GatewayAPI.Gateway.Conditions {
			if c.Type == "ResolvedRefs" {
				return c
			}
		}
		t.Fatal("no ResolvedRefs on the Gateway")
		return metav1.Condition{}
	}
	snap, st := Translate(in, DefaultOptions())
	if c := gwCond(st); c.Reason != "RefNotPermitted" || !strings.Contains(c.Message, "ReferenceGrant") {
		t.Fatalf("without a grant: %+v", c)
	}
	if b := btlsBackend(t, snap); b.Transport != "BackendTLSPolicy/web/app-tls" || b.Failure != nil {
		t.Fatalf("backend without the certificate: %+v", b)
	}
	in.ReferenceGrants = []*gwv1.ReferenceGrant{{ObjectMeta: metav1.ObjectMeta{Namespace: "other", Name: "g"}, Spec: gwv1.ReferenceGrantSpec{
		From: []gwv1.ReferenceGrantFrom{{Group: gwv1.GroupName, Kind: "Gateway", Namespace: "web"}},
		To:   []gwv1.ReferenceGrantTo{{Kind: "Secret"}}}}}
	snap, st = Translate(in, DefaultOptions())
	if c := gwCond(st); c.Status != metav1.ConditionTrue {
		t.Fatalf("with a grant: %+v", c)
	}
	b := btlsBackend(t, snap)
	for _, tr := range snap.Transports {
		if tr.ID == b.Transport && len(tr.ClientCertificates) == 1 && b.Transport == "BackendTLSPolicy/web/app-tls@web/gw" {
			return
		}
	}
	t.Fatalf("backend %+v has no transport with the Gateway's certificate", b)
}

// A policy on a Service with no ready endpoints is still in use through the route's
// Gateway, so it gets its status there (conformance BackendTLSPolicyObservedGenerationBump
// targets a Service without pods); the backend answers 503 until a pod is ready.
func TestBackendTLSPolicyOnAServiceWithoutEndpoints(t *testing.T) {
	in := btlsInputs(testBackendTLSPolicy("app-tls", 0, ""))
	in.EndpointSlices = nil
	snap, st := Translate(in, DefaultOptions())
	c := policyConds(t, st, "app-tls")
	if c["Accepted"].Status != metav1.ConditionTrue {
		t.Errorf("Accepted %+v, want True", c["Accepted"])
	}
	b := btlsBackend(t, snap)
	if b.Failure == nil || b.Failure.Status != 503 || b.Scheme != "https" {
		t.Errorf("backend scheme %q failure %+v, want https and 503 NoEndpoints", b.Scheme, b.Failure)
	}
}

// A route's backends are shared by every Gateway it is attached to, so a route on two
// Gateways with different backend client certificates gets the first one's, and says so.
func TestRouteOnGatewaysWithDifferentClientCertificates(t *testing.T) {
	in := btlsInputs(testBackendTLSPolicy("app-tls", 0, ""))
	ca := pki.MustCA("id CA")
	for _, name := range []string{"id-a", "id-b"} {
		leaf := ca.MustIssue(name, pki.Options{})
		in.Secrets = append(in.Secrets, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: "web", Name: name}, Type: corev1.SecretTypeTLS,
			Data: map[string][]byte{"tls.crt": leaf.CertPEM, "tls.key": leaf.KeyPEM}})
	}
	second := in.Gateways[0].DeepCopy()
	second.Name = "gw-b"
	in.Gateways = append(in.Gateways, second)
	for i, secret := range []string{"id-a", "id-b"} {
		in.Gateways[i].Spec.TLS = &gwv1.GatewayTLSConfig{Backend: &gwv1.GatewayBackendTLS{ClientCertificateRef: &gwv1.SecretObjectReference{Name: gwv1.ObjectName(secret)}}}
	}
	in.HTTPRoutes[0].Spec.ParentRefs = append(in.HTTPRoutes[0].Spec.ParentRefs, gwv1.ParentReference{Name: "gw-b"})
	snap, st := Translate(in, DefaultOptions())
	if b := btlsBackend(t, snap); b.Transport != "BackendTLSPolicy/web/app-tls@web/gw" {
		t.Errorf("backend transport %q, want the policy's with Gateway web/gw's certificate", b.Transport)
	}
	w := st[Key{Kind: KindHTTPRoute, Namespace: "web", Name: "app"}].Warnings
	if len(w) != 1 || !strings.Contains(w[0].Message, "attached to Gateways web/gw and web/gw-b, which present different backend client certificates; its TLS backends get the one of web/gw") {
		t.Errorf("route warnings %+v, want one naming both Gateways", w)
	}
}
