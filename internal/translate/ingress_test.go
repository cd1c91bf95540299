package translate

import (
	"net/http/httptest"
	"net/netip"
	"testing"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	"github.com/bridgehead/bridgehead/internal/rule"
	"github.com/bridgehead/bridgehead/internal/snapshot"
)

func testIngress(name, class string, paths ...networkingv1.HTTPIngressPath) *networkingv1.Ingress {
	ing := &networkingv1.Ingress{
		ObjectMeta: metav1.ObjectMeta{Namespace: "web", Name: name, Generation: 1},
		Spec: networkingv1.IngressSpec{Rules: []networkingv1.IngressRule{{
			Host:             "a.example.com",
			IngressRuleValue: networkingv1.IngressRuleValue{HTTP: &networkingv1.HTTPIngressRuleValue{Paths: paths}},
		}}},
	}
	if class != "" {
		ing.Spec.IngressClassName = ptr.To(class)
	}
	return ing
}

func path(p string, pt networkingv1.PathType) networkingv1.HTTPIngressPath {
	return networkingv1.HTTPIngressPath{Path: p, PathType: ptr.To(pt), Backend: networkingv1.IngressBackend{
		Service: &networkingv1.IngressServiceBackend{Name: "app", Port: networkingv1.ServiceBackendPort{Number: 80}},
	}}
}

func appService() (*corev1.Service, *discoveryv1.EndpointSlice) {
	return &corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: "web", Name: "app"},
			Spec: corev1.ServiceSpec{Ports: []corev1.ServicePort{{Name: "http", Port: 80}}}},
		&discoveryv1.EndpointSlice{
			ObjectMeta:  metav1.ObjectMeta{Namespace: "web", Name: "app-1", Labels: map[string]string{discoveryv1.LabelServiceName: "app"}},
			AddressType: discoveryv1.AddressTypeIPv4,
			Ports:       []discoveryv1.EndpointPort{{Name: ptr.To("http"), Port: ptr.To[int32](8080)}},
			Endpoints:   []discoveryv1.Endpoint{{Addresses: []string{"10.0.0.20"}}},
		}
}

func ingressClass(name, controller string) *networkingv1.IngressClass {
	return &networkingv1.IngressClass{ObjectMeta: metav1.ObjectMeta{Name: name}, Spec: networkingv1.IngressClassSpec{Controller: controller}}
}

func translateIngresses(t *testing.T, opts Options, ings []*networkingv1.Ingress, classes ...*networkingv1.IngressClass) (*snapshot.Snapshot, Statuses) {
	t.Helper()
	svc, slice := appService()
	in := &Inputs{Ingresses: ings, IngressClasses: classes, Services: []*corev1.Service{svc}, EndpointSlices: []*discoveryv1.EndpointSlice{slice}}
	snap, st := Translate(in, opts)
	if err := snap.Validate(); err != nil {
		t.Fatal(err)
	}
	return snap, st
}

// routeFor returns the ID of the route the proxy would pick on web for host and path:
// routes are tried in snapshot order (priority), the first match wins.
func routeFor(t *testing.T, snap *snapshot.Snapshot, host, p string) string {
	t.Helper()
	req := httptest.NewRequest("GET", "http://"+host+p, nil)
	for _, r := range snap.HTTPRoutes {
		if r.TLS {
			continue
		}
		parsed, err := rule.Parse(r.Match, rule.HTTP)
		if err != nil {
			t.Fatalf("route %s: %v", r.ID, err)
		}
		if parsed.MatchHTTP(req, netip.MustParseAddr("192.0.2.1")) {
			return r.ID
		}
	}
	return ""
}

func TestIngressPathsMatchAsTheIngressAPISays(t *testing.T) {
	ing := testIngress("shop", "bridgehead",
		path("/", networkingv1.PathTypePrefix),
		path("/api", networkingv1.PathTypePrefix),
		path("/api/v1/", networkingv1.PathTypePrefix),
		path("/api/v1", networkingv1.PathTypeExact),
		path("/static", networkingv1.PathTypeImplementationSpecific),
	)
	snap, _ := translateIngresses(t, DefaultOptions(), []*networkingv1.Ingress{ing}, ingressClass("bridgehead", IngressController))
	id := func(i int) string { return "web/shop/ingress/rules[0].paths[" + string(rune('0'+i)) + "]/web" }
	for _, c := range []struct {
		path string
		want string
	}{
		{"/", id(0)},
		{"/apiary", id(0)},    // a prefix matches whole path elements only
		{"/api", id(1)},       // the prefix itself
		{"/api/", id(1)},      // and below it
		{"/api/users", id(1)}, //
		{"/api/v1", id(3)},    // Exact beats the prefix that also matches
		{"/api/v1/", id(2)},   // the longer prefix wins
		{"/api/v1/x", id(2)},  //
		{"/static/app.js", id(4)},
		{"/staticky", id(0)},
	} {
		if got := routeFor(t, snap, "a.example.com", c.path); got != c.want {
			t.Errorf("GET %s: routed to %q, want %q", c.path, got, c.want)
		}
	}
	if got := routeFor(t, snap, "b.example.com", "/"); got != "" {
		t.Errorf("another host must not match the Ingress's rules; got %s", got)
	}
}

func TestIngressClassFlag(t *testing.T) {
	opts := DefaultOptions()
	opts.IngressClass = "internal"
	legacy := testIngress("legacy", "", path("/legacy", networkingv1.PathTypePrefix))
	legacy.Annotations = map[string]string{AnnotationIngressClass: "internal"}
	_, st := translateIngresses(t, opts, []*networkingv1.Ingress{
		testIngress("public", "bridgehead", path("/", networkingv1.PathTypePrefix)),
		testIngress("private", "internal", path("/private", networkingv1.PathTypePrefix)),
		legacy,
	}, ingressClass("bridgehead", IngressController), ingressClass("internal", IngressController))
	var got []string
	for _, k := range st.Keys() {
		got = append(got, k.Name)
	}
	if len(got) != 2 || got[0] != "legacy" || got[1] != "private" {
		t.Errorf("with --ingress-class internal, served %v; want [legacy private]", got)
	}
}

func TestIngressRedirectPort(t *testing.T) {
	opts := DefaultOptions()
	opts.RedirectPort = "8443"
	ing := testIngress("web", "bridgehead", path("/", networkingv1.PathTypePrefix))
	ing.Annotations = map[string]string{AnnotationSSLRedirect: "true"}
	ing.Spec.TLS = []networkingv1.IngressTLS{{Hosts: []string{"a.example.com"}}}
	snap, _ := translateIngresses(t, opts, []*networkingv1.Ingress{ing}, ingressClass("bridgehead", IngressController))
	id := routeFor(t, snap, "a.example.com", "/login")
	var redirect *snapshot.RedirectScheme
	for _, r := range snap.HTTPRoutes {
		if r.ID == id && len(r.Middlewares) == 1 {
			redirect = r.Middlewares[0].RedirectScheme
		}
	}
	if redirect == nil || redirect.Scheme != "https" || redirect.Port != "8443" || !redirect.Permanent {
		t.Fatalf("GET http://a.example.com/login: want a permanent redirect to https on 8443, route %s has %+v", id, redirect)
	}
	if got := routeFor(t, snap, "a.example.com", "/.well-known/acme-challenge/token"); got != "" {
		t.Errorf("an ACME challenge must never be redirected; it matched %s", got)
	}
}

func TestMayServeIngress(t *testing.T) {
	withAnnotation := func(v string) *networkingv1.Ingress {
		ing := testIngress("x", "")
		ing.Annotations = map[string]string{AnnotationIngressClass: v}
		return ing
	}
	for _, c := range []struct {
		name string
		ing  *networkingv1.Ingress
		want bool
	}{
		{"our class", testIngress("x", "bridgehead"), true},
		{"no class (may be the default)", testIngress("x", ""), true},
		{"another class", testIngress("x", "nginx"), false},
		{"legacy annotation, ours", withAnnotation("bridgehead"), true},
		{"legacy annotation, another", withAnnotation("nginx"), false},
	} {
		if got := MayServeIngress(c.ing, ""); got != c.want {
			t.Errorf("%s: MayServeIngress = %v, want %v", c.name, got, c.want)
		}
	}
}

// TestTakenOverClassRedirectsAsItsController: with --ingress-class nginx the TLS hosts of
// an Ingress are redirected with ingress-nginx's 308 without any annotation, unless
// ssl-redirect says "false"; with --ingress-class haproxy, with HAProxy's 302; with the
// bridgehead class, only when asked.
func TestTakenOverClassRedirectsAsItsController(t *testing.T) {
	for _, tc := range []struct {
		class string
		ann   map[string]string
		want  int // 0: no redirect
	}{
		{"nginx", nil, 308},
		{"nginx", map[string]string{"nginx.ingress.kubernetes.io/ssl-redirect": "false"}, 0},
		{"haproxy", nil, 302},
		{"haproxy", map[string]string{"haproxy.org/ssl-redirect-code": "301"}, 301},
		{"bridgehead", nil, 0},
	} {
		opts := DefaultOptions()
		opts.IngressClass = tc.class
		ing := testIngress("web", tc.class, path("/", networkingv1.PathTypePrefix))
		ing.Annotations = tc.ann
		ing.Spec.TLS = []networkingv1.IngressTLS{{Hosts: []string{"a.example.com"}}}
		snap, _ := translateIngresses(t, opts, []*networkingv1.Ingress{ing}, ingressClass(tc.class, IngressController))
		id := routeFor(t, snap, "a.example.com", "/login")
		got := 0
		for _, r := range snap.HTTPRoutes {
			if r.ID == id && len(r.Middlewares) == 1 && r.Middlewares[0].RedirectScheme != nil {
				got = r.Middlewares[0].RedirectScheme.StatusCode
			}
		}
		if got != tc.want {
			t.Errorf("class %s, annotations %v: redirect %d, want %d (route %s)", tc.class, tc.ann, got, tc.want, id)
		}
	}
}
