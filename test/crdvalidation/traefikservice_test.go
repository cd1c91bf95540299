package crdvalidation

import (
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

func object(kind, name string, spec map[string]any) *unstructured.Unstructured {
	return &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "gateway.bridgehead.dev/v1alpha1",
		"kind":       kind,
		"metadata":   map[string]any{"name": name, "namespace": "default"},
		"spec":       spec,
	}}
}

// A service entry names a Service (port required) or a TraefikService (no port): the
// message for a missing port says both, instead of a bare "port: Required value".
var _ = Describe("TraefikService references", func() {
	route := func(service map[string]any) map[string]any {
		return map[string]any{"routes": []any{map[string]any{"match": "Host(`a.example`)", "services": []any{service}}}}
	}
	DescribeTable("a route's service entry",
		func(name string, service map[string]any, wantError string) {
			err := k8s.Create(ctx(), object("IngressRoute", name, route(service)))
			if wantError == "" {
				Expect(err).NotTo(HaveOccurred())
				return
			}
			Expect(apierrors.IsInvalid(err)).To(BeTrue(), "want Invalid, got %v", err)
			Expect(err.Error()).To(ContainSubstring(wantError))
		},
		Entry("a Service with a port", "svc-port", map[string]any{"name": "app", "port": int64(80)}, ""),
		Entry("a TraefikService without a port", "ts-no-port", map[string]any{"name": "split", "kind": "TraefikService"}, ""),
		Entry("a Service without a port", "svc-no-port", map[string]any{"name": "app"},
			"port is required when kind is Service (the default): name the Service port by number or name, or set kind: TraefikService"),
		Entry("kind Service without a port", "kind-svc-no-port", map[string]any{"name": "app", "kind": "Service"},
			"port is required when kind is Service"),
		Entry("another kind", "other-kind", map[string]any{"name": "app", "kind": "Ingress", "port": int64(80)},
			`Unsupported value: "Ingress"`),
	)

	DescribeTable("a TraefikService",
		func(name string, spec map[string]any, wantError string) {
			err := k8s.Create(ctx(), object("TraefikService", name, spec))
			if wantError == "" {
				Expect(err).NotTo(HaveOccurred())
				return
			}
			Expect(apierrors.IsInvalid(err)).To(BeTrue(), "want Invalid, got %v", err)
			Expect(err.Error()).To(ContainSubstring(wantError))
		},
		Entry("weighted over a Service and a nested TraefikService", "nested", map[string]any{"weighted": map[string]any{"services": []any{
			map[string]any{"name": "app", "port": "https", "weight": int64(3)},
			map[string]any{"name": "canary", "kind": "TraefikService", "weight": int64(1)},
		}}}, ""),
		Entry("no variant", "empty", map[string]any{},
			"set exactly one of weighted (balance over services by weight), mirroring (a main service whose requests are copied to mirrors), failover (a service and its fallback) and highestRandomWeight (services chosen per client address)"),
		Entry("failover from a Service to a TraefikService", "failover", map[string]any{"failover": map[string]any{
			"service":  map[string]any{"name": "app", "port": int64(80), "healthCheck": map[string]any{"path": "/healthz", "interval": "5s"}},
			"fallback": map[string]any{"name": "standby", "kind": "TraefikService"},
		}}, ""),
		Entry("highestRandomWeight over a Service and a TraefikService", "hrw", map[string]any{"highestRandomWeight": map[string]any{"services": []any{
			map[string]any{"name": "app", "port": int64(80), "weight": int64(2)},
			map[string]any{"name": "split", "kind": "TraefikService"},
		}}}, ""),
		Entry("highestRandomWeight without services", "hrw-empty", map[string]any{"highestRandomWeight": map[string]any{"services": []any{}}}, "spec.highestRandomWeight.services"),
		Entry("failover without a fallback", "failover-no-fallback", map[string]any{"failover": map[string]any{
			"service": map[string]any{"name": "app", "port": int64(80)},
		}}, "spec.failover.fallback: Required value"),
		Entry("a failover fallback Service without a port", "failover-fallback-no-port", map[string]any{"failover": map[string]any{
			"service":  map[string]any{"name": "app", "port": int64(80)},
			"fallback": map[string]any{"name": "standby"},
		}}, "port is required when kind is Service"),
		Entry("failover beside weighted", "failover-and-weighted", map[string]any{
			"weighted": map[string]any{"services": []any{map[string]any{"name": "app", "port": int64(80)}}},
			"failover": map[string]any{"service": map[string]any{"name": "app", "port": int64(80)}, "fallback": map[string]any{"name": "b", "port": int64(80)}},
		}, "set exactly one of weighted"),
		Entry("both weighted and mirroring", "both", map[string]any{
			"weighted":  map[string]any{"services": []any{map[string]any{"name": "app", "port": int64(80)}}},
			"mirroring": map[string]any{"name": "app", "port": int64(80)},
		}, "set exactly one of weighted"),
		Entry("weighted with sticky", "sticky", map[string]any{"weighted": map[string]any{
			"sticky":   map[string]any{"cookie": map[string]any{"name": "tier", "secure": true, "httpOnly": true, "sameSite": "lax", "maxAge": int64(60), "path": "/"}},
			"services": []any{map[string]any{"name": "app", "port": int64(80)}, map[string]any{"name": "canary", "kind": "TraefikService"}},
		}}, ""),
		Entry("a sticky cookie with a bad sameSite", "sticky-samesite", map[string]any{"weighted": map[string]any{
			"sticky":   map[string]any{"cookie": map[string]any{"sameSite": "sometimes"}},
			"services": []any{map[string]any{"name": "app", "port": int64(80)}},
		}}, `spec.weighted.sticky.cookie.sameSite: Unsupported value: "sometimes"`),
		Entry("mirroring a Service to a Service and a TraefikService", "mirroring", map[string]any{"mirroring": map[string]any{
			"name": "app", "port": "https", "mirrorBody": false, "maxBodySize": int64(1024),
			"mirrors": []any{
				map[string]any{"name": "shadow", "port": int64(80), "percent": int64(25)},
				map[string]any{"name": "split", "kind": "TraefikService", "percent": int64(100)},
			},
		}}, ""),
		Entry("mirroring a TraefikService without a port", "mirroring-ts", map[string]any{"mirroring": map[string]any{
			"name": "split", "kind": "TraefikService",
		}}, ""),
		Entry("mirroring a Service without a port", "mirroring-no-port", map[string]any{"mirroring": map[string]any{
			"name": "app",
		}}, "port is required when kind is Service"),
		Entry("a mirror without a port", "mirror-no-port", map[string]any{"mirroring": map[string]any{
			"name": "app", "port": int64(80), "mirrors": []any{map[string]any{"name": "shadow", "percent": int64(10)}},
		}}, "port is required when kind is Service"),
		Entry("a mirror over 100 percent", "mirror-percent", map[string]any{"mirroring": map[string]any{
			"name": "app", "port": int64(80), "mirrors": []any{map[string]any{"name": "shadow", "port": int64(80), "percent": int64(101)}},
		}}, "spec.mirroring.mirrors[0].percent"),
		Entry("a mirror under 0 percent", "mirror-negative", map[string]any{"mirroring": map[string]any{
			"name": "app", "port": int64(80), "mirrors": []any{map[string]any{"name": "shadow", "port": int64(80), "percent": int64(-1)}},
		}}, "spec.mirroring.mirrors[0].percent"),
		Entry("no services", "no-services", map[string]any{"weighted": map[string]any{"services": []any{}}}, "spec.weighted.services"),
		Entry("a Service entry without a port", "entry-no-port", map[string]any{"weighted": map[string]any{"services": []any{
			map[string]any{"name": "app"},
		}}}, "port is required when kind is Service"),
		Entry("a negative weight", "negative", map[string]any{"weighted": map[string]any{"services": []any{
			map[string]any{"name": "app", "port": int64(80), "weight": int64(-1)},
		}}}, "spec.weighted.services[0].weight"),
	)
})
