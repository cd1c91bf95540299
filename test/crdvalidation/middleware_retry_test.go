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
		Expect(err.Error()).To(ContainSubstring("set exactly one middleware"))
	})
})

// errors as Traefik users write it is accepted; a status that is no status, or a missing
// service, is refused by the API server naming the field.
var _ = Describe("Middleware errors", func() {
	svc := map[string]any{"name": "pages", "port": int64(80)}
	DescribeTable("values",
		func(name string, errorsSpec map[string]any, wantError string) {
			err := k8s.Create(ctx(), middleware("errors-"+name, map[string]any{"errors": errorsSpec}))
			if wantError == "" {
				Expect(err).NotTo(HaveOccurred())
				return
			}
			Expect(apierrors.IsInvalid(err)).To(BeTrue(), "want Invalid, got %v", err)
			Expect(err.Error()).To(ContainSubstring(wantError))
		},
		Entry("ranges and a query", "ranges", map[string]any{"status": []any{"500-599", "404,418"}, "service": svc, "query": "/{status}.html"}, ""),
		Entry("rewrites and headers", "rewrites", map[string]any{"status": []any{"418"}, "statusRewrites": map[string]any{"418": int64(404)}, "errorRequestHeaders": []any{"Accept"}, "service": map[string]any{"name": "pages", "port": "http"}}, ""),
		Entry("a status that is no status", "bad-status", map[string]any{"status": []any{"5xx"}, "service": svc}, "spec.errors.status[0]"),
		Entry("no service", "no-service", map[string]any{"status": []any{"500"}}, "spec.errors.service: Required value"),
		Entry("no status", "no-status", map[string]any{"service": svc}, "spec.errors.status: Required value"),
		Entry("a port out of range", "bad-port", map[string]any{"status": []any{"500"}, "service": map[string]any{"name": "pages", "port": int64(70000)}}, "port must be a number from 1 to 65535"),
	)
})

// circuitBreaker as Traefik users write it is accepted (translate parses the expression
// and names the position of a mistake); a missing expression, a duration that is none
// and a responseCode that is no status are refused by the API server.
var _ = Describe("Middleware circuitBreaker", func() {
	DescribeTable("values",
		func(name string, cb map[string]any, wantError string) {
			err := k8s.Create(ctx(), middleware("cb-"+name, map[string]any{"circuitBreaker": cb}))
			if wantError == "" {
				Expect(err).NotTo(HaveOccurred())
				return
			}
			Expect(apierrors.IsInvalid(err)).To(BeTrue(), "want Invalid, got %v", err)
			Expect(err.Error()).To(ContainSubstring(wantError))
		},
		Entry("expression only", "expr", map[string]any{"expression": "NetworkErrorRatio() > 0.30"}, ""),
		Entry("every field", "all", map[string]any{"expression": "ResponseCodeRatio(500, 600, 0, 600) > 0.25", "checkPeriod": "1s", "fallbackDuration": int64(30), "recoveryDuration": "1m", "responseCode": int64(429)}, ""),
		Entry("no expression", "none", map[string]any{"checkPeriod": "1s"}, "spec.circuitBreaker.expression: Required value"),
		Entry("a duration that is none", "bad-duration", map[string]any{"expression": "NetworkErrorRatio() > 0.5", "fallbackDuration": "soon"}, "fallbackDuration must be a number of seconds or a duration"),
		Entry("a responseCode that is no status", "bad-code", map[string]any{"expression": "NetworkErrorRatio() > 0.5", "responseCode": int64(42)}, "spec.circuitBreaker.responseCode"),
	)
})
