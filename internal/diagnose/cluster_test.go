package diagnose

import (
	"context"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"

	bhv1 "github.com/bridgehead/bridgehead/api/v1alpha1"
	"github.com/bridgehead/bridgehead/internal/source/kube"
	"github.com/bridgehead/bridgehead/internal/translate"
)

func clusterScheme(t *testing.T) *runtime.Scheme {
	t.Helper()
	s := runtime.NewScheme()
	if err := clientgoscheme.AddToScheme(s); err != nil {
		t.Fatal(err)
	}
	if err := bhv1.AddToScheme(s); err != nil {
		t.Fatal(err)
	}
	return s
}

func route(ns, name, match string, options *bhv1.ObjectReference, svcNS string) *bhv1.IngressRoute {
	return &bhv1.IngressRoute{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}, Spec: bhv1.IngressRouteSpec{
		Routes: []bhv1.Route{{Match: match, Services: []bhv1.Service{{Name: "backend", Namespace: svcNS, Port: "https"}}}},
		TLS:    &bhv1.TLS{Options: options},
	}}
}

func secret(ns, name string) *corev1.Secret {
	return &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}}
}

// TestFromCluster: everything the gateway reads, in every namespace, or only in the
// watched ones, as the gateway with --watch-namespaces.
func TestFromCluster(t *testing.T) {
	c := fake.NewClientBuilder().WithScheme(clusterScheme(t)).WithObjects(
		route("web", "app", "Host(`app.example.test`)", nil, "backends"),
		route("other", "unrelated", "Host(`other.example.test`)", nil, ""),
		secret("web", "a"), secret("bridgehead", "e"), secret("other", "f"),
	).Build()
	in, problems, err := FromCluster(context.Background(), c, kube.Options{})
	if err != nil || len(problems) != 0 {
		t.Fatal(err, problems)
	}
	if len(in.IngressRoutes) != 2 || len(in.Secrets) != 3 {
		t.Fatalf("want every route and Secret, got %d routes and %d Secrets", len(in.IngressRoutes), len(in.Secrets))
	}
	in, _, err = FromCluster(context.Background(), c, kube.Options{Namespaces: []string{"web", "bridgehead"}})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, s := range in.Secrets {
		got = append(got, s.Namespace+"/"+s.Name)
	}
	if len(in.IngressRoutes) != 1 || strings.Join(got, ",") != "bridgehead/e,web/a" {
		t.Fatalf("want the watched namespaces only, got %d routes and Secrets %v", len(in.IngressRoutes), got)
	}
}

// TestFromClusterForbidden: a list the credentials may not make is an error that says
// what diagnose reads and how to narrow it.
func TestFromClusterForbidden(t *testing.T) {
	c := fake.NewClientBuilder().WithScheme(clusterScheme(t)).WithInterceptorFuncs(interceptor.Funcs{
		List: func(ctx context.Context, cl client.WithWatch, list client.ObjectList, opts ...client.ListOption) error {
			if _, ok := list.(*corev1.SecretList); ok {
				return apierrors.NewForbidden(schema.GroupResource{Resource: "secrets"}, "", nil)
			}
			return cl.List(ctx, list, opts...)
		},
	}).Build()
	_, _, err := FromCluster(context.Background(), c, kube.Options{})
	if err == nil || !strings.Contains(err.Error(), "--watch-namespaces") || !strings.Contains(err.Error(), "Secrets") {
		t.Fatalf("want a forbidden error naming Secrets and --watch-namespaces, got %v", err)
	}
}

func TestParseTarget(t *testing.T) {
	for in, want := range map[string]Target{
		"ingressroute/app":  {translate.KindIngressRoute, "web", "app"},
		"IngressRoutes/app": {translate.KindIngressRoute, "web", "app"},
		"ir/app":            {translate.KindIngressRoute, "web", "app"},
		"ingressroute.gateway.bridgehead.dev/app": {translate.KindIngressRoute, "web", "app"},
		"ingressroutetcp/db":                      {translate.KindIngressRouteTCP, "web", "db"},
	} {
		if got, err := ParseTarget(in, "web"); err != nil || got != want {
			t.Errorf("ParseTarget(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	if got, _ := ParseTarget("ir/app", ""); got.Namespace != "default" {
		t.Errorf("no namespace: got %q, want default", got.Namespace)
	}
	for _, bad := range []string{"app", "service/app", "ingressroute/", "ingressroute/a/b"} {
		if _, err := ParseTarget(bad, "web"); err == nil {
			t.Errorf("ParseTarget(%q): want an error", bad)
		}
	}
}

func TestCertificateCovers(t *testing.T) {
	dns, ips := []string{"app.example.test", "*.apps.example.test"}, []string{"10.0.0.1"}
	for host, want := range map[string]bool{
		"app.example.test": true, "APP.example.test.": true, "a.apps.example.test": true, "*.apps.example.test": true,
		"a.b.apps.example.test": false, "apps.example.test": false, "10.0.0.1": true, "other.example.test": false,
	} {
		if got := certificateCovers(dns, ips, host); got != want {
			t.Errorf("covers(%q) = %v, want %v", host, got, want)
		}
	}
	if !sansAccept([]string{"10.0.0.1", "spiffe://x/y", "b.example.test"}, []string{"b.example.test"}) || sansAccept([]string{"spiffe://x/y"}, []string{"spiffe://x/y"}) {
		t.Error("sansAccept: DNS names match, URIs are no host names")
	}
	if got := serverNameFor([]string{"*.example.test", "10.0.0.1", "b.example.test"}); got != "b.example.test" {
		t.Errorf("serverNameFor: %q", got)
	}
}
