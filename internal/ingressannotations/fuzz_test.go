package ingressannotations

import (
	"strings"
	"testing"
)

// FuzzRead feeds arbitrary values to every annotation Read knows, several at once, and
// checks the invariants consumers rely on: no panic, one finding per annotation of a known
// family (bridgehead.dev excepted), and never a silent downgrade of verification.
func FuzzRead(f *testing.F) {
	f.Add("nginx.ingress.kubernetes.io/backend-protocol", "HTTPS", "nginx.ingress.kubernetes.io/proxy-ssl-secret", "shop/tls", "/")
	f.Add("haproxy.org/server-ssl", "true", "haproxy.org/server-ca", "capnajax/ca", "/")
	f.Add("nginx.ingress.kubernetes.io/rewrite-target", "/$2", "nginx.ingress.kubernetes.io/use-regex", "true", "/api(/|$)(.*)")
	f.Add("haproxy.org/path-rewrite", `^/api/(.*) /\1`, "haproxy.org/allow-list", "10.0.0.0/8", "/")
	f.Add("nginx.ingress.kubernetes.io/auth-tls-verify-client", "optional_no_ca", "nginx.ingress.kubernetes.io/auth-tls-match-cn", "CN=(", "/")
	f.Add("haproxy-ingress.github.io/backend-protocol", "h2-ssl", "haproxy-ingress.github.io/secure-sni", "host", "/")
	f.Add("bridgehead.dev/backend-protocol", "h2c", "ingress.kubernetes.io/server-proto", "h2", "")
	f.Fuzz(func(t *testing.T, k1, v1, k2, v2, path string) {
		ann := map[string]string{k1: v1, k2: v2}
		r := read(ann, path)
		for k := range ann {
			fam, _, ok := family(k)
			if !ok || fam == Bridgehead {
				continue
			}
			if _, found := r.Finding(k); !found {
				t.Fatalf("no finding for %s=%q", k, ann[k])
			}
		}
		for _, fd := range r.Findings {
			if fd.Message == "" && fd.Disposition != Served {
				t.Fatalf("%s: %s without a message", fd.Annotation, fd.Disposition)
			}
		}
		if tr := r.Transport; tr != nil && tr.Spec.InsecureSkipVerify {
			insecure := false
			for _, fd := range r.Findings {
				if fd.Disposition == ServedInsecure {
					insecure = true
				}
			}
			if !insecure {
				t.Fatalf("unverified transport without a ServedInsecure finding: %+v", r.Findings)
			}
		}
		for _, m := range r.Middlewares {
			if m.ReplacePath != "" && !strings.HasPrefix(m.ReplacePath, "/") {
				t.Fatalf("replacePath %q", m.ReplacePath)
			}
		}
	})
}
