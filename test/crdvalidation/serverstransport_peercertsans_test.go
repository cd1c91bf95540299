package crdvalidation

import (
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// peerCertSANs takes Traefik's {type, value} entries and plain strings alike, and keeps
// each as written; an object entry is checked by the schema (type's enum, value's length),
// what the schema cannot express (a number) is the gateway's to refuse by name.
var _ = Describe("ServersTransport peerCertSANs", func() {
	DescribeTable("a ServersTransport",
		func(name string, sans []any, wantError string) {
			err := k8s.Create(ctx(), object("ServersTransport", name, map[string]any{"peerCertSANs": sans}))
			if wantError != "" {
				Expect(apierrors.IsInvalid(err)).To(BeTrue(), "want Invalid, got %v", err)
				Expect(err.Error()).To(ContainSubstring(wantError))
				return
			}
			Expect(err).NotTo(HaveOccurred())
			got := &unstructured.Unstructured{}
			got.SetAPIVersion("gateway.bridgehead.dev/v1alpha1")
			got.SetKind("ServersTransport")
			Expect(k8s.Get(ctx(), client.ObjectKey{Namespace: "default", Name: name}, got)).To(Succeed())
			stored, _, _ := unstructured.NestedSlice(got.Object, "spec", "peerCertSANs")
			Expect(stored).To(Equal(sans), "each entry is stored as written")
		},
		Entry("both forms", "sans-both", []any{
			"backend.web.svc",
			map[string]any{"type": "DNSName", "value": "backend.example"},
			map[string]any{"type": "URI", "value": "spiffe://cluster.local/ns/web/sa/backend"},
		}, ""),
		Entry("another type", "sans-type", []any{map[string]any{"type": "Email", "value": "a@example.com"}},
			`spec.peerCertSANs[0].type: Unsupported value: "Email"`),
		Entry("an empty value", "sans-empty", []any{map[string]any{"type": "URI", "value": ""}},
			"spec.peerCertSANs[0].value"),
		Entry("thirty-three entries", "sans-many", func() []any {
			out := make([]any, 33)
			for i := range out {
				out[i] = "a.example"
			}
			return out
		}(), "spec.peerCertSANs: Too many"),
	)
})
