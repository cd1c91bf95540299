package crdvalidation

import (
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
)

// forwardAuth's schema: every field of Traefik's CRD as Traefik users write it passes;
// what can never work is refused with the field named.
var _ = Describe("Middleware forwardAuth", func() {
	DescribeTable("forwardAuth",
		func(name string, spec map[string]any, wantErr string) {
			err := k8s.Create(ctx(), middleware("fwd-"+name, spec))
			if wantErr == "" {
				Expect(err).NotTo(HaveOccurred())
				return
			}
			Expect(apierrors.IsInvalid(err)).To(BeTrue(), "want Invalid, got %v", err)
			Expect(err.Error()).To(ContainSubstring(wantErr))
		},
		Entry("Traefik's fields", "traefik", map[string]any{"forwardAuth": map[string]any{
			"address": "https://auth.default.svc:8443/verify", "trustForwardHeader": true,
			"authResponseHeaders": []any{"X-Auth-User", "X-Secret"}, "authResponseHeadersRegex": "^X-Claim-",
			"authRequestHeaders": []any{"Accept", "Authorization"}, "addAuthCookiesToResponse": []any{"session"},
			"maxResponseBodySize": int64(4096), "forwardBody": true, "maxBodySize": int64(-1),
			"preserveLocationHeader": true, "preserveRequestMethod": true, "authSigninURL": "https://login.example.com/",
			"tls": map[string]any{"caSecret": "auth-ca", "certSecret": "gateway-client", "insecureSkipVerify": false, "caOptional": true},
		}}, ""),
		Entry("only an address", "minimal", map[string]any{"forwardAuth": map[string]any{"address": "http://127.0.0.1:9091/"}}, ""),
		Entry("no address", "no-address", map[string]any{"forwardAuth": map[string]any{"trustForwardHeader": true}},
			"spec.forwardAuth.address: Required value"),
		Entry("an address that is not http(s)", "ftp", map[string]any{"forwardAuth": map[string]any{"address": "ftp://auth.default.svc/"}},
			"address must be an http:// or https:// URL"),
		Entry("a header name with a space", "bad-header", map[string]any{"forwardAuth": map[string]any{
			"address": "http://auth.default.svc/", "authResponseHeaders": []any{"X Auth"}}}, "spec.forwardAuth.authResponseHeaders[0]"),
		Entry("a size below -1", "bad-size", map[string]any{"forwardAuth": map[string]any{
			"address": "http://auth.default.svc/", "maxBodySize": int64(-2)}}, "spec.forwardAuth.maxBodySize"),
		Entry("beside basicAuth", "with-basic", map[string]any{"forwardAuth": map[string]any{"address": "http://auth.default.svc/"},
			"basicAuth": map[string]any{"secret": "users"}}, "set exactly one middleware"),
	)
})
