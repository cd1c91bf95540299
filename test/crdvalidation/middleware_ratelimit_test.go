package crdvalidation

import (
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
)

// rateLimit as Traefik users write it is accepted; what Traefik itself refuses (two
// sourceCriteria, negative numbers) is refused by the API server, naming the field.
var _ = Describe("Middleware rateLimit", func() {
	DescribeTable("values",
		func(name string, rateLimit map[string]any, wantError string) {
			err := k8s.Create(ctx(), middleware("ratelimit-"+name, map[string]any{"rateLimit": rateLimit}))
			if wantError == "" {
				Expect(err).NotTo(HaveOccurred())
				return
			}
			Expect(apierrors.IsInvalid(err)).To(BeTrue(), "want Invalid, got %v", err)
			Expect(err.Error()).To(ContainSubstring(wantError))
		},
		Entry("average only", "average", map[string]any{"average": int64(100)}, ""),
		Entry("period as a duration", "period-duration", map[string]any{"average": int64(6), "period": "1m", "burst": int64(3)}, ""),
		Entry("period in seconds", "period-seconds", map[string]any{"average": int64(6), "period": int64(60)}, ""),
		Entry("by header", "header", map[string]any{"average": int64(5), "sourceCriterion": map[string]any{"requestHeaderName": "X-Tenant"}}, ""),
		Entry("by host", "host", map[string]any{"average": int64(5), "sourceCriterion": map[string]any{"requestHost": true}}, ""),
		Entry("by X-Forwarded-For", "xff", map[string]any{"average": int64(5), "sourceCriterion": map[string]any{"ipStrategy": map[string]any{"depth": int64(1)}}}, ""),
		Entry("requestHost false beside ipStrategy", "host-false", map[string]any{"average": int64(5), "sourceCriterion": map[string]any{"requestHost": false, "ipStrategy": map[string]any{}}}, ""),
		Entry("two criteria", "two", map[string]any{"average": int64(5), "sourceCriterion": map[string]any{"requestHost": true, "requestHeaderName": "X-Tenant"}},
			"set at most one of ipStrategy, requestHeaderName and requestHost"),
		Entry("negative average", "negative", map[string]any{"average": int64(-1)}, "spec.rateLimit.average"),
		Entry("negative burst", "negative-burst", map[string]any{"average": int64(1), "burst": int64(-1)}, "spec.rateLimit.burst"),
		Entry("excludedIPs not an address", "excluded", map[string]any{"average": int64(1), "sourceCriterion": map[string]any{"ipStrategy": map[string]any{"excludedIPs": []any{"lb.example.com"}}}},
			"each excludedIPs entry must be an IP address or a CIDR"),
	)
})
