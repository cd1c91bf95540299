package crdvalidation

import (
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

func ingressRouteUDP(name string, spec map[string]any) *unstructured.Unstructured {
	u := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "gateway.bridgehead.dev/v1alpha1", "kind": "IngressRouteUDP",
		"metadata": map[string]any{"name": name, "namespace": "default"}, "spec": spec,
	}}
	return u
}

var _ = Describe("IngressRouteUDP", func() {
	service := func(fields map[string]any) map[string]any {
		s := map[string]any{"name": "dns", "port": int64(53)}
		for k, v := range fields {
			s[k] = v
		}
		return s
	}
	routes := func(services ...any) map[string]any {
		return map[string]any{"entryPoints": []any{"dns"}, "routes": []any{map[string]any{"services": services}}}
	}
	DescribeTable("values",
		func(name string, spec map[string]any, wantError string) {
			err := k8s.Create(ctx(), ingressRouteUDP("udp-"+name, spec))
			if wantError == "" {
				Expect(err).NotTo(HaveOccurred())
				return
			}
			Expect(apierrors.IsInvalid(err)).To(BeTrue(), "want Invalid, got %v", err)
			Expect(err.Error()).To(ContainSubstring(wantError))
		},
		Entry("port by number, weights", "weights", routes(service(map[string]any{"weight": int64(3)}), service(map[string]any{"name": "dns2", "port": "dns"})), ""),
		Entry("no entry points: every UDP one", "all", map[string]any{"routes": []any{map[string]any{"services": []any{service(nil)}}}}, ""),
		Entry("port out of range", "port", routes(service(map[string]any{"port": int64(70000)})), "port must be a number from 1 to 65535 or the name of a Service port"),
		Entry("port name not a Service port name", "portname", routes(service(map[string]any{"port": "DNS_UDP"})), "port must be a number from 1 to 65535 or the name of a Service port"),
		Entry("negative weight", "weight", routes(service(map[string]any{"weight": int64(-1)})), "spec.routes[0].services[0].weight"),
		Entry("no services", "noservices", routes(), "spec.routes[0].services"),
		Entry("no routes", "noroutes", map[string]any{"routes": []any{}}, "spec.routes"),
		Entry("an empty entry point name", "emptyep", map[string]any{"entryPoints": []any{""}, "routes": []any{map[string]any{"services": []any{service(nil)}}}}, "spec.entryPoints[0]"),
	)
})
