package crdvalidation

import (
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
)

// Multi-layer routing: a parent route has no services, a child names its parents by name
// (and namespace). The API server takes what Traefik's CRD takes; what only translate can
// judge (a missing parent, a cycle) is the status's to say.
var _ = Describe("IngressRoute parentRefs", func() {
	routes := func(withServices bool) []any {
		r := map[string]any{"match": "PathPrefix(`/api`)"}
		if withServices {
			r["services"] = []any{map[string]any{"name": "app", "port": int64(80)}}
		}
		return []any{r}
	}
	many := make([]any, 17)
	for i := range many {
		many[i] = map[string]any{"name": "p"}
	}
	DescribeTable("an IngressRoute",
		func(name string, spec map[string]any, wantError string) {
			err := k8s.Create(ctx(), object("IngressRoute", name, spec))
			if wantError == "" {
				Expect(err).NotTo(HaveOccurred())
				return
			}
			Expect(apierrors.IsInvalid(err)).To(BeTrue(), "want Invalid, got %v", err)
			Expect(err.Error()).To(ContainSubstring(wantError))
		},
		Entry("a parent route without services", "pr-parent", map[string]any{"routes": routes(false)}, ""),
		Entry("a parent route with an empty services list", "pr-parent-empty", map[string]any{"routes": []any{
			map[string]any{"match": "PathPrefix(`/`)", "services": []any{}}}}, ""),
		Entry("a child naming its parent", "pr-child", map[string]any{"routes": routes(true),
			"parentRefs": []any{map[string]any{"name": "pr-parent"}, map[string]any{"name": "other", "namespace": "platform"}}}, ""),
		Entry("a parentRef without a name", "pr-no-name", map[string]any{"routes": routes(true),
			"parentRefs": []any{map[string]any{"namespace": "default"}}}, "spec.parentRefs[0].name: Required value"),
		Entry("a parentRef with an empty name", "pr-empty-name", map[string]any{"routes": routes(true),
			"parentRefs": []any{map[string]any{"name": ""}}}, "spec.parentRefs[0].name"),
		Entry("seventeen parents", "pr-many", map[string]any{"routes": routes(true), "parentRefs": many}, "spec.parentRefs: Too many"),
	)
})
