package ingressannotations

import "testing"

// BenchmarkRead measures one Ingress with a typical migrated set of annotations: Read
// runs on every translation of every Ingress and in the Secret index.
func BenchmarkRead(b *testing.B) {
	ing := ingress(map[string]string{
		"nginx.ingress.kubernetes.io/backend-protocol":       "HTTPS",
		"nginx.ingress.kubernetes.io/proxy-ssl-secret":       "shop/backend-tls",
		"nginx.ingress.kubernetes.io/proxy-ssl-verify":       "on",
		"nginx.ingress.kubernetes.io/proxy-ssl-name":         "api.internal",
		"nginx.ingress.kubernetes.io/whitelist-source-range": "10.0.0.0/8",
		"nginx.ingress.kubernetes.io/auth-tls-secret":        "shop/clients",
		"nginx.ingress.kubernetes.io/rewrite-target":         "/$2",
		"kubernetes.io/ingress.class":                        "bridgehead",
	}, "/api(/|$)(.*)")
	b.ReportAllocs()
	for b.Loop() {
		_ = Read(Input{Ingress: ing})
	}
}
