package crdvalidation

import (
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
)

var _ = Describe("Middleware inFlightReq", func() {
	DescribeTable("values",
		func(name string, inFlightReq map[string]any, wantError string) {
			err := k8s.Create(ctx(), middleware("inflight-"+name, map[string]any{"inFlightReq": inFlightReq}))
			if wantError == "" {
				Expect(err).NotTo(HaveOccurred())
				return
			}
			Expect(apierrors.IsInvalid(err)).To(BeTrue(), "want Invalid, got %v", err)
			Expect(err.Error()).To(ContainSubstring(wantError))
		},
		Entry("amount", "amount", map[string]any{"amount": int64(10)}, ""),
		Entry("by header", "header", map[string]any{"amount": int64(10), "sourceCriterion": map[string]any{"requestHeaderName": "X-Tenant"}}, ""),
		Entry("amount 0 admits nobody", "zero", map[string]any{"amount": int64(0)}, "spec.inFlightReq.amount"),
		Entry("no amount", "none", map[string]any{}, "spec.inFlightReq.amount: Required value"),
		Entry("two criteria", "two", map[string]any{"amount": int64(1), "sourceCriterion": map[string]any{"requestHost": true, "ipStrategy": map[string]any{}}},
			"set at most one of ipStrategy, requestHeaderName and requestHost"),
	)
})

var _ = Describe("Middleware chain", func() {
	It("accepts a list of references and refuses an empty one", func() {
		Expect(k8s.Create(ctx(), middleware("chain-two", map[string]any{
			"chain": map[string]any{"middlewares": []any{map[string]any{"name": "a"}, map[string]any{"name": "b", "namespace": "other"}}},
		}))).To(Succeed())
		err := k8s.Create(ctx(), middleware("chain-empty", map[string]any{"chain": map[string]any{"middlewares": []any{}}}))
		Expect(apierrors.IsInvalid(err)).To(BeTrue(), "want Invalid, got %v", err)
		Expect(err.Error()).To(ContainSubstring("spec.chain.middlewares"))
	})
})
