package ingressannotations

import (
	"net/http"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	bhv1 "github.com/bridgehead/bridgehead/api/v1alpha1"
)

func ingress(ann map[string]string, paths ...string) *networkingv1.Ingress {
	ing := &networkingv1.Ingress{ObjectMeta: metav1.ObjectMeta{Namespace: "shop", Name: "web", Annotations: ann}}
	if len(paths) > 0 {
		rule := networkingv1.IngressRule{Host: "shop.example", IngressRuleValue: networkingv1.IngressRuleValue{HTTP: &networkingv1.HTTPIngressRuleValue{}}}
		for _, p := range paths {
			rule.HTTP.Paths = append(rule.HTTP.Paths, networkingv1.HTTPIngressPath{Path: p})
		}
		ing.Spec.Rules = []networkingv1.IngressRule{rule}
	}
	return ing
}

func read(ann map[string]string, paths ...string) Result {
	return Read(Input{Ingress: ingress(ann, paths...)})
}

func mustFinding(t *testing.T, r Result, key string, want Disposition, msgParts ...string) Finding {
	t.Helper()
	f, ok := r.Finding(key)
	if !ok {
		t.Fatalf("no finding for %s; findings: %+v", key, r.Findings)
	}
	if f.Disposition != want {
		t.Fatalf("%s: disposition %s, want %s (%s)", key, f.Disposition, want, f.Message)
	}
	for _, p := range msgParts {
		if !strings.Contains(f.Message, p) {
			t.Errorf("%s: message %q does not mention %q", key, f.Message, p)
		}
	}
	return f
}

func TestNginxUpstreamTLS(t *testing.T) {
	r := read(map[string]string{
		"nginx.ingress.kubernetes.io/backend-protocol":      "HTTPS",
		"nginx.ingress.kubernetes.io/proxy-ssl-secret":      "shop/backend-tls",
		"nginx.ingress.kubernetes.io/proxy-ssl-verify":      "on",
		"nginx.ingress.kubernetes.io/proxy-ssl-name":        "api.internal",
		"nginx.ingress.kubernetes.io/proxy-ssl-server-name": "on",
		"nginx.ingress.kubernetes.io/proxy-ssl-protocols":   "TLSv1.2 TLSv1.3",
	})
	if r.Scheme != SchemeHTTPS {
		t.Fatalf("scheme %q", r.Scheme)
	}
	tr := r.Transport
	if tr == nil {
		t.Fatal("no transport")
	}
	if tr.Namespace != "shop" || len(tr.Spec.RootCAs) != 1 || string(*tr.Spec.RootCAs[0].Secret) != "backend-tls" || tr.Spec.RootCAs[0].Key != "" {
		t.Errorf("roots %+v in %s", tr.Spec.RootCAs, tr.Namespace)
	}
	if len(tr.Spec.CertificatesSecrets) != 1 || tr.Spec.CertificatesSecrets[0] != "backend-tls" {
		t.Errorf("client certificate %v", tr.Spec.CertificatesSecrets)
	}
	if tr.Spec.ServerName != "api.internal" || tr.Spec.InsecureSkipVerify {
		t.Errorf("serverName %q insecure %v", tr.Spec.ServerName, tr.Spec.InsecureSkipVerify)
	}
	if tr.Spec.MinVersion != bhv1.VersionTLS12 || tr.Spec.MaxVersion != bhv1.VersionTLS13 {
		t.Errorf("versions %s-%s", tr.Spec.MinVersion, tr.Spec.MaxVersion)
	}
	if !tr.OldControllerVerified {
		t.Error("proxy-ssl-verify on: nginx verified too")
	}
	for _, f := range r.Findings {
		if f.Disposition != Served {
			t.Errorf("%s: %s %s", f.Annotation, f.Disposition, f.Message)
		}
	}
}

// ingress-nginx does not verify without proxy-ssl-verify "on"; Bridgehead does, and says so.
func TestNginxHTTPSVerifiedWhereNginxDidNot(t *testing.T) {
	r := read(map[string]string{"nginx.ingress.kubernetes.io/backend-protocol": "HTTPS"})
	if r.Transport == nil || r.Transport.Spec.InsecureSkipVerify || r.Transport.OldControllerVerified {
		t.Fatalf("transport %+v", r.Transport)
	}
	if !strings.Contains(r.Transport.VerifyFix, `proxy-ssl-verify: "off"`) || !strings.Contains(r.Transport.VerifyFix, "proxy-ssl-secret") {
		t.Errorf("fix %q", r.Transport.VerifyFix)
	}
	mustFinding(t, r, "nginx.ingress.kubernetes.io/backend-protocol", ServedDifferently, "verified", "proxy-ssl-secret")
}

func TestNginxVerifyOffIsInsecure(t *testing.T) {
	r := read(map[string]string{
		"nginx.ingress.kubernetes.io/backend-protocol": "GRPCS",
		"nginx.ingress.kubernetes.io/proxy-ssl-verify": "off",
	})
	if r.Scheme != SchemeH2 || !r.Transport.Spec.InsecureSkipVerify {
		t.Fatalf("scheme %s transport %+v", r.Scheme, r.Transport)
	}
	mustFinding(t, r, "nginx.ingress.kubernetes.io/proxy-ssl-verify", ServedInsecure, "NOT verified")
}

func TestNginxProxySSLSecretKeysFromLookup(t *testing.T) {
	secrets := func(ns, name string) (*corev1.Secret, bool) {
		if ns == "other" && name == "ca-only" {
			return &corev1.Secret{Data: map[string][]byte{"ca.crt": []byte("x")}}, true
		}
		return nil, false
	}
	r := Read(Input{Ingress: ingress(map[string]string{
		"nginx.ingress.kubernetes.io/backend-protocol": "HTTPS",
		"nginx.ingress.kubernetes.io/proxy-ssl-secret": "other/ca-only",
	}), Secrets: secrets})
	if r.Transport.Namespace != "other" || len(r.Transport.Spec.RootCAs) != 1 || len(r.Transport.Spec.CertificatesSecrets) != 0 {
		t.Fatalf("transport %+v", r.Transport)
	}
}

func TestHAProxyServerSSLWithoutCAIsUnverified(t *testing.T) {
	for _, prefix := range []string{"haproxy.org/", "haproxy.com/", "ingress.kubernetes.io/"} {
		r := read(map[string]string{prefix + "server-ssl": "true"})
		if r.Scheme != SchemeHTTPS || r.Transport == nil || !r.Transport.Spec.InsecureSkipVerify {
			t.Fatalf("%s: scheme %s transport %+v", prefix, r.Scheme, r.Transport)
		}
		mustFinding(t, r, prefix+"server-ssl", ServedInsecure, "WITHOUT verifying", prefix+"server-ca")
	}
}

// The HAProxy field report's annotations (seed 01): verified TLS against the CA at tls.crt.
func TestHAProxySeedAnnotations(t *testing.T) {
	r := Read(Input{Ingress: ingress(map[string]string{
		"haproxy.org/server-ca":    "capnajax/ca",
		"haproxy.org/server-ssl":   "true",
		"haproxy.org/ssl-redirect": "true",
	}), Defaults: Defaults{Controller: ControllerHAProxy}})
	tr := r.Transport
	if r.Scheme != SchemeHTTPS || tr == nil || tr.Spec.InsecureSkipVerify {
		t.Fatalf("scheme %s transport %+v", r.Scheme, tr)
	}
	if tr.Namespace != "capnajax" || tr.Spec.RootCAs[0].Key != "tls.crt" {
		t.Errorf("roots %+v in %s", tr.Spec.RootCAs, tr.Namespace)
	}
	if !r.Redirect.Enabled || r.Redirect.StatusCode != http.StatusFound {
		t.Errorf("redirect %+v", r.Redirect)
	}
	for _, f := range r.Findings {
		if f.Disposition != Served {
			t.Errorf("%s: %s %s", f.Annotation, f.Disposition, f.Message)
		}
	}
}

func TestHAProxyServerCAReadsCACrtWhenTLSCrtIsAbsent(t *testing.T) {
	secrets := func(ns, name string) (*corev1.Secret, bool) {
		return &corev1.Secret{Data: map[string][]byte{"ca.crt": []byte("x")}}, true
	}
	r := Read(Input{Ingress: ingress(map[string]string{"haproxy.org/server-ssl": "true", "haproxy.org/server-ca": "ca"}), Secrets: secrets})
	if r.Transport.Namespace != "shop" || r.Transport.Spec.RootCAs[0].Key != "" {
		t.Fatalf("roots %+v", r.Transport.Spec.RootCAs)
	}
}

func TestHAProxyServerProtoH2(t *testing.T) {
	r := read(map[string]string{"haproxy.org/server-ssl": "true", "haproxy.org/server-ca": "ca", "haproxy.org/server-proto": "h2"})
	if r.Scheme != SchemeH2 {
		t.Errorf("with server-ssl: %s", r.Scheme)
	}
	if r := read(map[string]string{"haproxy.org/server-proto": "h2"}); r.Scheme != SchemeH2C {
		t.Errorf("without server-ssl: %s", r.Scheme)
	}
}

func TestHAProxyIngressSecureBackends(t *testing.T) {
	r := read(map[string]string{
		"haproxy-ingress.github.io/backend-protocol":        "h2",
		"haproxy-ingress.github.io/secure-backends":         "true",
		"haproxy-ingress.github.io/secure-verify-ca-secret": "backend-ca",
		"haproxy-ingress.github.io/secure-sni":              "api.internal",
		"haproxy-ingress.github.io/secure-crt-secret":       "gateway-client",
	})
	tr := r.Transport
	if r.Scheme != SchemeH2 || tr == nil || tr.Spec.InsecureSkipVerify || tr.Spec.ServerName != "api.internal" {
		t.Fatalf("scheme %s transport %+v", r.Scheme, tr)
	}
	if string(*tr.Spec.RootCAs[0].Secret) != "backend-ca" || tr.Spec.CertificatesSecrets[0] != "gateway-client" {
		t.Errorf("transport %+v", tr.Spec)
	}
	r = read(map[string]string{"haproxy-ingress.github.io/secure-backends": "true"})
	if !r.Transport.Spec.InsecureSkipVerify {
		t.Error("secure-backends without a CA is unverified in HAProxy Ingress")
	}
	mustFinding(t, r, "haproxy-ingress.github.io/secure-backends", ServedInsecure, "secure-verify-ca-secret")
	r = read(map[string]string{"haproxy-ingress.github.io/backend-protocol": "h1-ssl", "haproxy-ingress.github.io/secure-sni": "sni"})
	mustFinding(t, r, "haproxy-ingress.github.io/secure-sni", ServedDifferently, "Service's DNS name")
}

func TestMalformedValuesNameTheFix(t *testing.T) {
	cases := []struct{ key, value, fix string }{
		{"nginx.ingress.kubernetes.io/backend-protocol", "HTTP3", "HTTP, HTTPS, GRPC or GRPCS"},
		{"nginx.ingress.kubernetes.io/proxy-ssl-secret", "backend-tls", "NAMESPACE/NAME"},
		{"nginx.ingress.kubernetes.io/proxy-ssl-verify", "maybe", `"on" nor "off"`},
		{"nginx.ingress.kubernetes.io/proxy-ssl-verify-depth", "deep", "whole number"},
		{"nginx.ingress.kubernetes.io/proxy-ssl-name", "not a host", "host name"},
		{"nginx.ingress.kubernetes.io/proxy-ssl-server-name", "api.internal", `"on" nor "off"`},
		{"nginx.ingress.kubernetes.io/proxy-ssl-protocols", "TLSv9", "TLSv1.2 TLSv1.3"},
		{"nginx.ingress.kubernetes.io/auth-tls-secret", "Bad_Name", "NAMESPACE/NAME"},
		{"nginx.ingress.kubernetes.io/auth-tls-verify-client", "sometimes", "optional_no_ca"},
		{"nginx.ingress.kubernetes.io/auth-tls-match-cn", "alice", "CN="},
		{"nginx.ingress.kubernetes.io/ssl-redirect", "yes please", `"true" or "false"`},
		{"nginx.ingress.kubernetes.io/whitelist-source-range", "10.0.0.0/33", "CIDR"},
		{"nginx.ingress.kubernetes.io/rewrite-target", "api", "starting with /"},
		{"nginx.ingress.kubernetes.io/upstream-vhost", "a b", "host name"},
		{"haproxy.org/server-ssl", "sure", `"true" or "false"`},
		{"haproxy.org/server-ca", "ns/Bad_Name", "NAME or NAMESPACE/NAME"},
		{"haproxy.org/server-proto", "h3", "h2"},
		{"haproxy.org/ssl-redirect-code", "305", "301, 302, 303, 307, 308"},
		{"haproxy.org/allow-list", "somewhere", "IP address"},
		{"haproxy.org/path-rewrite", "a b c", "REGEX REPLACEMENT"},
		{"haproxy-ingress.github.io/backend-protocol", "h3", "h1, h2, h1-ssl or h2-ssl"},
		{"haproxy-ingress.github.io/secure-sni", "not a host", "sni, host"},
	}
	for _, c := range cases {
		r := read(map[string]string{c.key: c.value}, "/")
		f := mustFinding(t, r, c.key, Malformed, c.fix)
		if f.Value != c.value || !f.Disposition.Blocking() {
			t.Errorf("%s: %+v", c.key, f)
		}
	}
}

func TestRefusedValues(t *testing.T) {
	cases := []struct {
		ann  map[string]string
		key  string
		why  string
		path string
	}{
		{map[string]string{"nginx.ingress.kubernetes.io/backend-protocol": "FCGI"}, "nginx.ingress.kubernetes.io/backend-protocol", "not supported", "/"},
		{map[string]string{"nginx.ingress.kubernetes.io/rewrite-target": "/$1/x"}, "nginx.ingress.kubernetes.io/rewrite-target", "captures", "/api/(.*)"},
		{map[string]string{"haproxy.org/path-rewrite": `^/(.*)/v1 /\1`}, "haproxy.org/path-rewrite", "captures", "/"},
		{map[string]string{"haproxy.org/allow-list": "patterns/ips"}, "haproxy.org/allow-list", "pattern file", "/"},
		{map[string]string{"nginx.ingress.kubernetes.io/auth-tls-verify-client": "on"}, "nginx.ingress.kubernetes.io/auth-tls-verify-client", "names no client CA", "/"},
	}
	for _, c := range cases {
		r := read(c.ann, c.path)
		mustFinding(t, r, c.key, Refused, c.why)
		if len(r.Blocking()) == 0 {
			t.Errorf("%s: not blocking", c.key)
		}
	}
}

func TestPrecedence(t *testing.T) {
	r := read(map[string]string{
		"bridgehead.dev/backend-protocol":              "https",
		"nginx.ingress.kubernetes.io/backend-protocol": "HTTP",
		"haproxy.org/server-ssl":                       "true",
		"haproxy.com/server-ssl":                       "false",
	})
	if r.Scheme != SchemeHTTPS || r.SchemeFrom != "bridgehead.dev/backend-protocol" {
		t.Fatalf("scheme %s from %s", r.Scheme, r.SchemeFrom)
	}
	mustFinding(t, r, "nginx.ingress.kubernetes.io/backend-protocol", Overridden, `"HTTP"`, "bridgehead.dev/backend-protocol", `"https"`)
	mustFinding(t, r, "haproxy.org/server-ssl", Served, "says the same")
	mustFinding(t, r, "haproxy.com/server-ssl", Overridden, "bridgehead.dev/backend-protocol")
	if _, ok := r.Finding("bridgehead.dev/backend-protocol"); ok {
		t.Error("bridgehead.dev annotations are the gateway's to report")
	}

	r = read(map[string]string{
		"nginx.ingress.kubernetes.io/proxy-ssl-secret":      "shop/a",
		"haproxy-ingress.github.io/secure-verify-ca-secret": "b",
		"haproxy.org/server-ca":                             "c",
		"nginx.ingress.kubernetes.io/backend-protocol":      "HTTPS",
	})
	if string(*r.Transport.Spec.RootCAs[0].Secret) != "a" {
		t.Errorf("roots %+v", r.Transport.Spec.RootCAs)
	}
	mustFinding(t, r, "haproxy-ingress.github.io/secure-verify-ca-secret", Overridden, "nginx.ingress.kubernetes.io/proxy-ssl-secret")
	mustFinding(t, r, "haproxy.org/server-ca", Overridden, "nginx.ingress.kubernetes.io/proxy-ssl-secret")
}

func TestRedirectDefaultsAndCodes(t *testing.T) {
	if r := Read(Input{Ingress: ingress(nil), Defaults: Defaults{Controller: ControllerNginx}}); !r.Redirect.Enabled || r.Redirect.StatusCode != http.StatusPermanentRedirect {
		t.Errorf("nginx class: %+v", r.Redirect)
	}
	if r := Read(Input{Ingress: ingress(nil)}); r.Redirect.Enabled {
		t.Errorf("bridgehead class: %+v", r.Redirect)
	}
	r := Read(Input{Ingress: ingress(map[string]string{"nginx.ingress.kubernetes.io/ssl-redirect": "false"}), Defaults: Defaults{Controller: ControllerNginx}})
	if r.Redirect.Enabled {
		t.Errorf("ssl-redirect false: %+v", r.Redirect)
	}
	r = read(map[string]string{"haproxy.org/ssl-redirect": "true", "haproxy.org/ssl-redirect-code": "301"})
	if !r.Redirect.Enabled || r.Redirect.StatusCode != http.StatusMovedPermanently {
		t.Errorf("haproxy 301: %+v", r.Redirect)
	}
	for code, want := range map[string]int{"307": http.StatusTemporaryRedirect, "308": http.StatusPermanentRedirect} {
		r = read(map[string]string{"haproxy.org/ssl-redirect": "true", "haproxy.org/ssl-redirect-code": code})
		if !r.Redirect.Enabled || r.Redirect.StatusCode != want {
			t.Errorf("haproxy %s: %+v", code, r.Redirect)
		}
	}
	r = read(map[string]string{"nginx.ingress.kubernetes.io/force-ssl-redirect": "true"})
	if !r.Redirect.Enabled || !r.Redirect.Force || r.Redirect.StatusCode != http.StatusPermanentRedirect {
		t.Errorf("force: %+v", r.Redirect)
	}
	r = read(map[string]string{"haproxy-ingress.github.io/ssl-redirect": "true"})
	if r.Redirect.StatusCode != http.StatusFound {
		t.Errorf("haproxy-ingress: %+v", r.Redirect)
	}
}

func TestClientAuth(t *testing.T) {
	r := read(map[string]string{
		"nginx.ingress.kubernetes.io/auth-tls-secret":        "shop/clients",
		"nginx.ingress.kubernetes.io/auth-tls-verify-client": "optional",
		"nginx.ingress.kubernetes.io/auth-tls-verify-depth":  "2",
		"nginx.ingress.kubernetes.io/auth-tls-match-cn":      "CN=(alice|bob)",
	})
	o := r.TLSOption
	if o == nil || o.Spec.ClientAuth.ClientAuthType != bhv1.VerifyClientCertIfGiven || o.Spec.ClientAuth.SecretNames[0] != "clients" || o.VerifyDepth != 2 {
		t.Fatalf("option %+v", o)
	}
	if len(r.Middlewares) != 1 || r.Middlewares[0].MatchCN != "CN=(alice|bob)" {
		t.Errorf("middlewares %+v", r.Middlewares)
	}
	r = read(map[string]string{"haproxy.org/client-ca": "other/clients"})
	if r.TLSOption.Namespace != "other" || r.TLSOption.Spec.ClientAuth.ClientAuthType != bhv1.RequireAndVerifyClientCert {
		t.Errorf("haproxy client-ca: %+v", r.TLSOption)
	}
	mustFinding(t, r, "haproxy.org/client-ca", ServedDifferently, "ConfigMap")
}

func TestMiddlewares(t *testing.T) {
	r := read(map[string]string{
		"nginx.ingress.kubernetes.io/whitelist-source-range": "10.0.0.0/8, 192.168.1.7",
		"nginx.ingress.kubernetes.io/rewrite-target":         "/$2",
		"nginx.ingress.kubernetes.io/upstream-vhost":         "internal.shop",
	}, "/api(/|$)(.*)", "/v1(/|$)(.*)")
	if len(r.Middlewares) != 3 {
		t.Fatalf("middlewares %+v", r.Middlewares)
	}
	if got := r.Middlewares[0].Spec.IPAllowList.SourceRange; strings.Join(got, ",") != "10.0.0.0/8,192.168.1.7" {
		t.Errorf("allow %v", got)
	}
	if got := r.Middlewares[1].Spec.StripPrefix.Prefixes; strings.Join(got, ",") != "/api,/v1" {
		t.Errorf("strip %v", got)
	}
	if r.Middlewares[2].Spec.Headers.CustomRequestHeaders["Host"] != "internal.shop" {
		t.Errorf("vhost %+v", r.Middlewares[2])
	}
	r = read(map[string]string{"nginx.ingress.kubernetes.io/rewrite-target": "/"}, "/something")
	if len(r.Middlewares) != 1 || r.Middlewares[0].ReplacePath != "/" {
		t.Errorf("replace %+v", r.Middlewares)
	}
	r = read(map[string]string{"haproxy.org/path-rewrite": `^/api/(.*) /\1`})
	if r.Middlewares[0].Spec.StripPrefix.Prefixes[0] != "/api" {
		t.Errorf("haproxy strip %+v", r.Middlewares)
	}
}

func TestUnknownAnnotationsAreNamed(t *testing.T) {
	r := read(map[string]string{
		"nginx.ingress.kubernetes.io/proxy-body-size": "8m",
		"haproxy.org/rate-limit-requests":             "10",
		"example.com/unrelated":                       "x",
		"bridgehead.dev/typo":                         "x",
	})
	mustFinding(t, r, "nginx.ingress.kubernetes.io/proxy-body-size", Unsupported, "not limited")
	mustFinding(t, r, "haproxy.org/rate-limit-requests", Unsupported, "does not read")
	if len(r.Findings) != 2 {
		t.Errorf("findings %+v", r.Findings)
	}
}

func TestTLSSettingsWithPlainHTTPHaveNoEffect(t *testing.T) {
	r := read(map[string]string{"nginx.ingress.kubernetes.io/backend-protocol": "HTTP", "nginx.ingress.kubernetes.io/proxy-ssl-secret": "shop/x"})
	if r.Transport != nil {
		t.Errorf("transport %+v", r.Transport)
	}
	mustFinding(t, r, "nginx.ingress.kubernetes.io/proxy-ssl-secret", ServedDifferently, "no effect")
}
