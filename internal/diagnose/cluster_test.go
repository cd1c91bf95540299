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

// TestFromCluster: the target, the routes sharing its host, and every kind in the
// namespaces they touch are read; unrelated namespaces are not.
func TestFromCluster(t *testing.T) {
	c := fake.NewClientBuilder().WithScheme(clusterScheme(t)).WithObjects(
		route("web", "app", "Host(`app.example.test`)", nil, "backends"),
		route("admin", "app-admin", "Host(`app.example.test`) && PathPrefix(`/admin`)", &bhv1.ObjectReference{Name: "strict", Namespace: "security"}, ""),
		route("other", "unrelated", "Host(`other.example.test`)", nil, ""),
		secret("web", "a"), secret("backends", "b"), secret("admin", "c"), secret("security", "d"),
		secret("bridgehead", "e"), secret("other", "f"),
	).Build()
	target := Target{Kind: translate.KindIngressRoute, Namespace: "web", Name: "app"}
	in, targets, notes, err := FromCluster(context.Background(), c, "web", []Target{target}, "bridgehead")
	if err != nil {
		t.Fatal(err)
	}
	if len(targets) != 1 || targets[0] != target || len(notes) != 0 {
		t.Fatalf("targets %v, notes %v", targets, notes)
	}
	var routes, secrets []string
	for _, r := range in.IngressRoutes {
		routes = append(routes, r.Namespace+"/"+r.Name)
	}
	for _, s := range in.Secrets {
		secrets = append(secrets, s.Namespace+"/"+s.Name)
	}
	if got := strings.Join(routes, ","); got != "admin/app-admin,web/app" {
		t.Errorf("routes read: %s; want the target and the route sharing its host", got)
	}
	// web (target), backends (its Service), admin (route sharing the host), security (its
	// TLSOption), bridgehead (the gateway's namespace); not "other".
	if got := strings.Join(secrets, ","); got != "admin/c,backends/b,bridgehead/e,security/d,web/a" {
		t.Errorf("Secrets read: %s", got)
	}
}

// TestFromClusterForbidden: without the right to list cluster-wide, routes are read in the
// target's namespace, and what cannot be read is said, not silently missing.
func TestFromClusterForbidden(t *testing.T) {
	forbidden := func(what string) error {
		return apierrors.NewForbidden(schema.GroupResource{Resource: what}, "", nil)
	}
	c := fake.NewClientBuilder().WithScheme(clusterScheme(t)).WithObjects(
		route("web", "app", "Host(`app.example.test`)", nil, ""), secret("web", "a"),
	).WithInterceptorFuncs(interceptor.Funcs{List: func(ctx context.Context, c client.WithWatch, list client.ObjectList, opts ...client.ListOption) error {
		lo := &client.ListOptions{}
		lo.ApplyOptions(opts)
		switch list.(type) {
		case *bhv1.IngressRouteList, *bhv1.IngressRouteTCPList:
			if lo.Namespace == "" {
				return forbidden("ingressroutes")
			}
		case *corev1.SecretList:
			if lo.Namespace == "bridgehead" {
				return forbidden("secrets")
			}
		}
		return c.List(ctx, list, opts...)
	}}).Build()
	in, targets, notes, err := FromCluster(context.Background(), c, "web", nil, "bridgehead")
	if err != nil {
		t.Fatal(err)
	}
	if len(targets) != 1 || targets[0].Name != "app" || len(in.Secrets) != 1 {
		t.Fatalf("targets %v, secrets %d", targets, len(in.Secrets))
	}
	text := strings.Join(notes, "\n")
	for _, want := range []string{"routes could only be listed in namespace web", "could not list Secrets in namespace bridgehead"} {
		if !strings.Contains(text, want) {
			t.Errorf("the notes do not say %q:\n%s", want, text)
		}
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
