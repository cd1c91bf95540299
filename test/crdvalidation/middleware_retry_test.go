package crdvalidation

import (
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
)

// retry as Traefik users write it is accepted (the fields Bridgehead refuses, such as
// status, are refused by translate, naming them); what cannot be a duration or a count
// is refused by the API server, naming the field.
var _ = Describe("Middleware retry", func() {
	DescribeTable("values",
		func(name string, retry map[string]any, wantError string) {
			err := k8s.Create(ctx(), middleware("retry-"+name, map[string]any{"retry": retry}))
			if wantError == "" {
				Expect(err).NotTo(HaveOccurred())
				return
			}
			Expect(apierrors.IsInvalid(err)).To(BeTrue(), "want Invalid, got %v", err)
			Expect(err.Error()).To(ContainSubstring(wantError))
		},
		Entry("attempts and interval", "interval", map[string]any{"attempts": int64(4), "initialInterval": "100ms"}, ""),
		Entry("interval in seconds", "seconds", map[string]any{"attempts": int64(2), "initialInterval": int64(1), "timeout": "60s"}, ""),
		Entry("Traefik v3.7's fields", "v37", map[string]any{"attempts": int64(3), "status": []any{"500-599"}, "maxRequestBodyBytes": int64(-1), "retryNonIdempotentMethod": true}, ""),
		Entry("negative attempts", "negative", map[string]any{"attempts": int64(-1)}, "spec.retry.attempts"),
		Entry("an interval that is no duration", "bad-interval", map[string]any{"attempts": int64(2), "initialInterval": "soon"},
			"initialInterval must be a number of seconds or a duration such as 100ms, 1s or 1m30s"),
		Entry("a negative timeout", "bad-timeout", map[string]any{"attempts": int64(2), "timeout": int64(-5)},
			"timeout must be a number of seconds or a duration"),
		Entry("maxRequestBodyBytes below -1", "body", map[string]any{"attempts": int64(2), "maxRequestBodyBytes": int64(-2)}, "spec.retry.maxRequestBodyBytes"),
	)
	It("is one middleware: beside another it is refused", func() {
		err := k8s.Create(ctx(), middleware("retry-and-chain", map[string]any{"retry": map[string]any{"attempts": int64(2)}, "addPrefix": map[string]any{"prefix": "/a"}}))
		Expect(apierrors.IsInvalid(err)).To(BeTrue(), "want Invalid, got %v", err)
		Expect(err.Error()).To(ContainSubstring("buffering or retry"))
	})
})
