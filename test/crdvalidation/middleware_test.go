package crdvalidation

import (
	"fmt"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// middleware is a Middleware in namespace default with the given spec.
func middleware(name string, spec map[string]any) *unstructured.Unstructured {
	u := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "gateway.bridgehead.dev/v1alpha1",
		"kind":       "Middleware",
		"metadata":   map[string]any{"name": name, "namespace": "default"},
		"spec":       spec,
	}}
	return u
}

// The extensions' schema rules, value by value: what a migrating user writes must pass,
// and only what can never work is refused.
var _ = Describe("Middleware extensions", func() {
	DescribeTable("redirectScheme.statusCode",
		func(code int64, accepted bool) {
			obj := middleware(fmt.Sprintf("redirect-%d", code), map[string]any{
				"redirectScheme": map[string]any{"scheme": "https", "statusCode": code},
			})
			err := k8s.Create(ctx(), obj)
			if accepted {
				Expect(err).NotTo(HaveOccurred())
				return
			}
			Expect(apierrors.IsInvalid(err)).To(BeTrue(), "want Invalid, got %v", err)
			Expect(err.Error()).To(ContainSubstring(fmt.Sprintf("spec.redirectScheme.statusCode: Unsupported value: %d", code)))
			Expect(err.Error()).To(ContainSubstring(`supported values: "301", "302", "303", "307", "308"`))
		},
		Entry("301", int64(301), true),
		Entry("302", int64(302), true),
		Entry("303", int64(303), true),
		Entry("307", int64(307), true),
		Entry("308", int64(308), true),
		Entry("300 (not a redirect a browser follows)", int64(300), false),
		Entry("304 (not a redirect)", int64(304), false),
		Entry("200", int64(200), false),
	)

	DescribeTable("tlsClientSubject.pattern",
		func(name, pattern string, accepted bool) {
			err := k8s.Create(ctx(), middleware("subject-"+name, map[string]any{
				"tlsClientSubject": map[string]any{"pattern": pattern},
			}))
			if accepted {
				Expect(err).NotTo(HaveOccurred())
				return
			}
			Expect(apierrors.IsInvalid(err)).To(BeTrue(), "want Invalid, got %v", err)
			Expect(err.Error()).To(ContainSubstring("spec.tlsClientSubject.pattern"))
			Expect(err.Error()).To(ContainSubstring("lookahead or lookbehind"))
		},
		Entry("alternatives", "alternatives", "CN=(alice|bob)", true),
		Entry("anchored with flags", "anchored-with-flags", "(?i)^cn=alice,", true),
		Entry("named groups", "named-groups", "^CN=(?P<user>[a-z]+)(?<rest>,.*)?$", true),
		Entry("an escaped paren before ?=", "an-escaped-paren-before", `O=ACME \(?=`, true),
		Entry("lookahead", "lookahead", "^CN=(?=alice)", false),
		Entry("negative lookahead", "negative-lookahead", "^CN=(?!mallory)", false),
		Entry("lookbehind", "lookbehind", "(?<=CN=)alice", false),
		Entry("negative lookbehind", "negative-lookbehind", "(?<!O=Evil,)CN=alice", false),
	)

	DescribeTable("basicAuth",
		func(name string, spec map[string]any, wantErr string) {
			err := k8s.Create(ctx(), middleware("basic-"+name, spec))
			if wantErr == "" {
				Expect(err).NotTo(HaveOccurred())
				return
			}
			Expect(apierrors.IsInvalid(err)).To(BeTrue(), "want Invalid, got %v", err)
			Expect(err.Error()).To(ContainSubstring(wantErr))
		},
		Entry("Traefik's fields", "traefik", map[string]any{"basicAuth": map[string]any{
			"secret": "users", "realm": "Staff only", "removeHeader": true, "headerField": "X-WebAuth-User"}}, ""),
		Entry("no secret", "no-secret", map[string]any{"basicAuth": map[string]any{"realm": "x"}}, "spec.basicAuth.secret: Required value"),
		Entry("a quote in the realm", "quoted-realm", map[string]any{"basicAuth": map[string]any{"secret": "users", "realm": `a"b`}},
			"realm must not contain a double quote"),
		Entry("a headerField that is no header name", "bad-header", map[string]any{"basicAuth": map[string]any{"secret": "users", "headerField": "X User"}},
			"spec.basicAuth.headerField"),
		Entry("beside another middleware", "two-types", map[string]any{"basicAuth": map[string]any{"secret": "users"}, "addPrefix": map[string]any{"prefix": "/a"}},
			"set exactly one middleware"),
	)

	DescribeTable("digestAuth",
		func(name string, spec map[string]any, wantErr string) {
			err := k8s.Create(ctx(), middleware("digest-"+name, spec))
			if wantErr == "" {
				Expect(err).NotTo(HaveOccurred())
				return
			}
			Expect(apierrors.IsInvalid(err)).To(BeTrue(), "want Invalid, got %v", err)
			Expect(err.Error()).To(ContainSubstring(wantErr))
		},
		Entry("Traefik's fields", "traefik", map[string]any{"digestAuth": map[string]any{
			"secret": "users", "realm": "Staff only", "removeHeader": true, "headerField": "X-WebAuth-User"}}, ""),
		Entry("no secret", "no-secret", map[string]any{"digestAuth": map[string]any{"realm": "x"}}, "spec.digestAuth.secret: Required value"),
		Entry("a quote in the realm", "quoted-realm", map[string]any{"digestAuth": map[string]any{"secret": "users", "realm": `a"b`}},
			"realm must not contain a double quote"),
		Entry("beside basicAuth", "with-basic", map[string]any{"digestAuth": map[string]any{"secret": "users"}, "basicAuth": map[string]any{"secret": "users"}},
			"set exactly one middleware"),
	)
})
