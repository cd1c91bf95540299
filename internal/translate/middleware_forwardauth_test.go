package translate

import (
	"net"
	"net/url"
	"testing"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	bhv1 "github.com/bridgehead/bridgehead/api/v1alpha1"
	"github.com/bridgehead/bridgehead/internal/snapshot"
)

// FuzzForwardAuthAddress: whatever the address, translation does not panic, the snapshot
// validates, and a forwardAuth that is served names an http(s) URL and endpoints the
// data plane can dial (host:port), or a failure it answers instead.
func FuzzForwardAuthAddress(f *testing.F) {
	for _, s := range []string{
		"http://auth.web.svc:8080/verify", "https://auth.web.svc.cluster.local/", "http://127.0.0.1:9091/",
		"http://[::1]:9091/x?y=1", "https://user:pw@auth.example.com/", "http://auth.web.svc:http/", "http://.web.svc/",
		"http://auth..svc/", "ftp://auth.web.svc/", "http://", "http://auth.other.svc/", "HTTP://AUTH.WEB.SVC./", "http://idle.web.svc/",
		"http://auth.web.svc:99999/", "http://[fe80::1%25eth0]:80/", "",
	} {
		f.Add(s)
	}
	slice := &discoveryv1.EndpointSlice{
		ObjectMeta:  metav1.ObjectMeta{Name: "auth-1", Namespace: "web", Labels: map[string]string{discoveryv1.LabelServiceName: "auth"}},
		AddressType: discoveryv1.AddressTypeIPv4,
		Ports:       []discoveryv1.EndpointPort{{Name: ptr.To("http"), Port: ptr.To(int32(9000))}},
		Endpoints:   []discoveryv1.Endpoint{{Addresses: []string{"10.0.0.5"}}},
	}
	f.Fuzz(func(t *testing.T, address string) {
		in := &Inputs{
			Middlewares: []*bhv1.Middleware{{ObjectMeta: metav1.ObjectMeta{Name: "auth", Namespace: "web"},
				Spec: bhv1.MiddlewareSpec{ForwardAuth: &bhv1.ForwardAuth{Address: address}}}},
			Services: []*corev1.Service{
				{ObjectMeta: metav1.ObjectMeta{Name: "auth", Namespace: "web"}, Spec: corev1.ServiceSpec{Ports: []corev1.ServicePort{{Name: "http", Port: 8080}, {Name: "http80", Port: 80}}}},
				{ObjectMeta: metav1.ObjectMeta{Name: "idle", Namespace: "web"}, Spec: corev1.ServiceSpec{Ports: []corev1.ServicePort{{Name: "http", Port: 80}}}},
			},
			EndpointSlices: []*discoveryv1.EndpointSlice{slice},
		}
		snap, statuses := Translate(in, DefaultOptions())
		if err := snap.Validate(); err != nil {
			t.Fatalf("address %q: %v", address, err)
		}
		st := statuses[Key{Kind: KindMiddleware, Namespace: "web", Name: "auth"}]
		if st == nil {
			t.Fatalf("address %q: no status", address)
		}
		out := compiledForwardAuth(t, in)
		if out == nil {
			return
		}
		u, err := url.Parse(out.Address)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") {
			t.Fatalf("address %q served, but it is not an http(s) URL (%v)", address, err)
		}
		if out.Server == nil {
			t.Fatalf("address %q served without a server", address)
		}
		if out.Server.Failure == nil && len(out.Server.Endpoints) == 0 {
			t.Fatalf("address %q served with neither endpoints nor a failure", address)
		}
		for _, ep := range out.Server.Endpoints {
			if _, _, err := net.SplitHostPort(ep.Address); err != nil {
				t.Fatalf("address %q: endpoint %q is not host:port: %v", address, ep.Address, err)
			}
		}
	})
}

// compiledForwardAuth translates a route through the forwardAuth and returns its compiled
// value, or nil when the route does not serve it.
func compiledForwardAuth(t *testing.T, in *Inputs) *snapshot.ForwardAuth {
	in.IngressRoutes = []*bhv1.IngressRoute{{ObjectMeta: metav1.ObjectMeta{Name: "app", Namespace: "web"},
		Spec: bhv1.IngressRouteSpec{EntryPoints: []string{"web"}, Routes: []bhv1.Route{{Match: "PathPrefix(`/`)",
			Middlewares: []bhv1.ObjectReference{{Name: "auth"}}, Services: []bhv1.Service{{Name: "auth", Port: "8080"}}}}}}}
	snap, _ := Translate(in, DefaultOptions())
	if err := snap.Validate(); err != nil {
		t.Fatalf("with a route: %v", err)
	}
	for _, r := range snap.HTTPRoutes {
		for _, m := range r.Middlewares {
			if m.ForwardAuth != nil {
				return m.ForwardAuth
			}
		}
	}
	return nil
}
