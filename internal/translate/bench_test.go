package translate

import (
	"fmt"
	"testing"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	bhv1 "github.com/bridgehead/bridgehead/api/v1alpha1"
	"github.com/bridgehead/bridgehead/internal/snapshot"
)

// scaleInputs builds n IngressRoutes, each with its own https Service and EndpointSlice,
// all re-encrypting through one ServersTransport and terminating with one certificate.
func scaleInputs(b *testing.B, n int) *Inputs {
	in := &Inputs{}
	web := resolveFixtures(&testing.T{}, nil, map[string]string{"tls.crt": "@wildcard.crt", "tls.key": "@wildcard.key"})
	ca := resolveFixtures(&testing.T{}, nil, map[string]string{"ca.crt": "@backend-ca.crt"})
	in.Secrets = []*corev1.Secret{
		{ObjectMeta: metav1.ObjectMeta{Namespace: "web", Name: "wildcard"}, Data: web},
		{ObjectMeta: metav1.ObjectMeta{Namespace: "web", Name: "backend-ca"}, Data: ca},
	}
	in.ServersTransports = []*bhv1.ServersTransport{{ObjectMeta: metav1.ObjectMeta{Namespace: "web", Name: "backends"},
		Spec: bhv1.ServersTransportSpec{UpstreamTLS: bhv1.UpstreamTLS{RootCAs: []bhv1.RootCA{{Secret: ptr.To(bhv1.SecretName("backend-ca"))}}}}}}
	for i := range n {
		name := fmt.Sprintf("app-%05d", i)
		in.IngressRoutes = append(in.IngressRoutes, &bhv1.IngressRoute{
			ObjectMeta: metav1.ObjectMeta{Namespace: "web", Name: name},
			Spec: bhv1.IngressRouteSpec{
				Routes: []bhv1.Route{{Match: fmt.Sprintf("Host(`%s.example.com`) && PathPrefix(`/api`)", name),
					Services: []bhv1.Service{{Name: name, Port: "https", ServersTransport: "backends"}}}},
				TLS: &bhv1.TLS{SecretName: "wildcard"},
			},
		})
		in.Services = append(in.Services, &corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: "web", Name: name},
			Spec: corev1.ServiceSpec{Ports: []corev1.ServicePort{{Name: "https", Port: 443}}}})
		in.EndpointSlices = append(in.EndpointSlices, &discoveryv1.EndpointSlice{
			ObjectMeta:  metav1.ObjectMeta{Namespace: "web", Name: name + "-x", Labels: map[string]string{discoveryv1.LabelServiceName: name}},
			AddressType: discoveryv1.AddressTypeIPv4,
			Ports:       []discoveryv1.EndpointPort{{Name: ptr.To("https"), Port: ptr.To[int32](8443)}},
			Endpoints: []discoveryv1.Endpoint{
				{Addresses: []string{fmt.Sprintf("10.1.%d.%d", i/250, i%250+1)}},
				{Addresses: []string{fmt.Sprintf("10.2.%d.%d", i/250, i%250+1)}},
			},
		})
	}
	return in
}

func benchmarkTranslate(b *testing.B, n int) {
	in := scaleInputs(b, n)
	opts := DefaultOptions()
	opts.Now = goldenNow
	b.ReportAllocs()
	for b.Loop() {
		snap, _ := Translate(in, opts)
		if len(snap.HTTPRoutes) != n {
			b.Fatalf("got %d routes", len(snap.HTTPRoutes))
		}
	}
}

func BenchmarkTranslate1k(b *testing.B)  { benchmarkTranslate(b, 1000) }
func BenchmarkTranslate10k(b *testing.B) { benchmarkTranslate(b, 10000) }

// warmMemo gives every input a resourceVersion and translates them once with a new memo,
// as the rebuild before a benchmark's does; the options it returns carry that memo.
func warmMemo(in *Inputs) (Options, *snapshot.Snapshot) {
	in.Visit(func(_ Key, o metav1.Object) metav1.Object { o.SetResourceVersion("1"); return nil })
	opts := DefaultOptions()
	opts.Now = goldenNow
	opts.Memo = &Memo{}
	snap, _ := Translate(in, opts)
	return opts, snap
}

// BenchmarkTranslate10kOneChanged is a rebuild after one IngressRoute of 10,000 changed,
// with the memo of the rebuild before (as lastgood's Keeper passes it): the other 9,999
// are replayed.
func BenchmarkTranslate10kOneChanged(b *testing.B) {
	in := scaleInputs(b, 10000)
	opts, _ := warmMemo(in)
	b.ReportAllocs()
	version := 1
	for b.Loop() {
		version++
		changed := in.IngressRoutes[version%len(in.IngressRoutes)].DeepCopy()
		changed.ResourceVersion = fmt.Sprint(version)
		in.IngressRoutes[version%len(in.IngressRoutes)] = changed
		snap, _ := Translate(in, opts)
		if len(snap.HTTPRoutes) != 10000 {
			b.Fatalf("got %d routes", len(snap.HTTPRoutes))
		}
	}
}

// BenchmarkTranslate10kOthersOneChanged is BenchmarkTranslate10kOneChanged for the two
// other route kinds a cluster of 10,000 routes is made of: Ingresses (ingress-nginx
// users) and Gateway API HTTPRoutes, each for its own host and Service, TLS at the edge;
// and the HTTPRoutes beside one GRPCRoute on their listener (the two kinds' conflicts are
// checked at every build, and no HTTPRoute is remembered, memo_httproute.go); and the
// HTTPRoutes to verified backends, a BackendTLSPolicy per Service and the Gateway's client
// certificate, with one route changed or one Service's endpoints.
func BenchmarkTranslate10kOthersOneChanged(b *testing.B) {
	// endpoints: the change is not to a route but to the endpoints of one route's Service
	// (a pod of 10,000 Services rolled).
	const besideGRPC, verified, endpoints = "HTTPRouteBesideAGRPCRoute", "HTTPRouteToBackendTLS", "HTTPRouteToBackendTLSEndpointsChanged"
	for _, name := range []string{KindIngress, KindHTTPRoute, besideGRPC, verified, endpoints} {
		b.Run(name, func(b *testing.B) {
			kind := name
			if name == besideGRPC || name == verified || name == endpoints {
				kind = KindHTTPRoute
			}
			in := scaleInputs(b, 10000)
			routes := in.IngressRoutes
			in.IngressRoutes = nil
			for i, ir := range routes {
				host := fmt.Sprintf("%s.example.com", ir.Name)
				switch kind {
				case KindIngress:
					in.Ingresses = append(in.Ingresses, &networkingv1.Ingress{
						ObjectMeta: metav1.ObjectMeta{Namespace: "web", Name: ir.Name, Generation: 1},
						Spec: networkingv1.IngressSpec{
							IngressClassName: ptr.To(DefaultIngressClass),
							TLS:              []networkingv1.IngressTLS{{Hosts: []string{host}, SecretName: "wildcard"}},
							Rules: []networkingv1.IngressRule{{Host: host, IngressRuleValue: networkingv1.IngressRuleValue{HTTP: &networkingv1.HTTPIngressRuleValue{
								Paths: []networkingv1.HTTPIngressPath{{Path: "/api", PathType: ptr.To(networkingv1.PathTypePrefix),
									Backend: networkingv1.IngressBackend{Service: &networkingv1.IngressServiceBackend{Name: ir.Name, Port: networkingv1.ServiceBackendPort{Name: "https"}}}}},
							}}}},
						},
					})
				case KindHTTPRoute:
					in.HTTPRoutes = append(in.HTTPRoutes, &gwv1.HTTPRoute{
						ObjectMeta: metav1.ObjectMeta{Namespace: "web", Name: ir.Name, Generation: 1},
						Spec: gwv1.HTTPRouteSpec{
							CommonRouteSpec: gwv1.CommonRouteSpec{ParentRefs: []gwv1.ParentReference{{Name: "gw"}}},
							Hostnames:       []gwv1.Hostname{gwv1.Hostname(host)},
							Rules: []gwv1.HTTPRouteRule{{
								Matches: []gwv1.HTTPRouteMatch{{Path: &gwv1.HTTPPathMatch{Type: ptr.To(gwv1.PathMatchPathPrefix), Value: ptr.To("/api")}}},
								BackendRefs: []gwv1.HTTPBackendRef{{BackendRef: gwv1.BackendRef{BackendObjectReference: gwv1.BackendObjectReference{
									Name: gwv1.ObjectName(ir.Name), Port: ptr.To[gwv1.PortNumber](443)}}}},
							}},
						},
					})
					in.Services[i].Spec.Ports[0].Name = ""
				}
			}
			if kind == KindHTTPRoute {
				in.GatewayClasses = []*gwv1.GatewayClass{{ObjectMeta: metav1.ObjectMeta{Name: "bh", Generation: 1}, Spec: gwv1.GatewayClassSpec{ControllerName: GatewayController}}}
				in.Gateways = []*gwv1.Gateway{{ObjectMeta: metav1.ObjectMeta{Namespace: "web", Name: "gw", Generation: 1},
					Spec: gwv1.GatewaySpec{GatewayClassName: "bh", Listeners: []gwv1.Listener{{Name: "https", Port: 443, Protocol: gwv1.HTTPSProtocolType,
						Hostname:      ptr.To[gwv1.Hostname]("*.example.com"),
						AllowedRoutes: &gwv1.AllowedRoutes{Namespaces: &gwv1.RouteNamespaces{From: ptr.To(gwv1.NamespacesFromSame)}},
						TLS:           &gwv1.ListenerTLSConfig{CertificateRefs: []gwv1.SecretObjectReference{{Name: "wildcard"}}}}}}}}
			}
			if name == verified || name == endpoints {
				// End-to-end TLS on the Gateway API: a BackendTLSPolicy per Service, and the
				// Gateway's client certificate for the backends that ask for one.
				for _, svc := range in.Services {
					in.BackendTLSPolicies = append(in.BackendTLSPolicies, &gwv1.BackendTLSPolicy{
						ObjectMeta: metav1.ObjectMeta{Namespace: "web", Name: svc.Name, Generation: 1},
						Spec: gwv1.BackendTLSPolicySpec{
							TargetRefs: []gwv1.LocalPolicyTargetReferenceWithSectionName{{LocalPolicyTargetReference: gwv1.LocalPolicyTargetReference{Kind: "Service", Name: gwv1.ObjectName(svc.Name)}}},
							Validation: gwv1.BackendTLSPolicyValidation{Hostname: gwv1.PreciseHostname(svc.Name + ".web.svc"),
								CACertificateRefs: []gwv1.LocalObjectReference{{Kind: KindSecret, Name: "backend-ca"}}},
						},
					})
				}
				in.Gateways[0].Spec.TLS = &gwv1.GatewayTLSConfig{Backend: &gwv1.GatewayBackendTLS{ClientCertificateRef: &gwv1.SecretObjectReference{Name: "wildcard"}}}
			}
			if name == besideGRPC {
				in.GRPCRoutes = []*gwv1.GRPCRoute{{ObjectMeta: metav1.ObjectMeta{Namespace: "web", Name: "grpc", Generation: 1},
					Spec: gwv1.GRPCRouteSpec{CommonRouteSpec: gwv1.CommonRouteSpec{ParentRefs: []gwv1.ParentReference{{Name: "gw"}}},
						Hostnames: []gwv1.Hostname{"grpc.example.com"},
						Rules: []gwv1.GRPCRouteRule{{BackendRefs: []gwv1.GRPCBackendRef{{BackendRef: gwv1.BackendRef{BackendObjectReference: gwv1.BackendObjectReference{
							Name: gwv1.ObjectName(in.Services[0].Name), Port: ptr.To[gwv1.PortNumber](443)}}}}}}}}}
			}
			// An Ingress with TLS is served on both entry points: two routes each.
			opts, snap := warmMemo(in)
			want := len(snap.HTTPRoutes)
			if want < 10000 {
				b.Fatalf("got %d routes", want)
			}
			if be := snap.HTTPRoutes[0].Backends[0]; (name == verified || name == endpoints) && (be.Scheme != "https" || be.Transport != "BackendTLSPolicy/web/"+be.Service.Name+"@web/gw") {
				b.Fatalf("the backend is not verified with the policy and the client certificate: %s %s", be.Scheme, be.Transport)
			}
			b.ReportAllocs()
			version := 1
			for b.Loop() {
				version++
				i := version % 10000
				switch kind {
				case KindIngress:
					changed := in.Ingresses[i].DeepCopy()
					changed.ResourceVersion = fmt.Sprint(version)
					in.Ingresses[i] = changed
				case KindHTTPRoute:
					if name == endpoints {
						es := in.EndpointSlices[i].DeepCopy()
						es.ResourceVersion = fmt.Sprint(version)
						es.Endpoints[0].Addresses[0] = fmt.Sprintf("10.3.%d.%d", version/250%250, version%250+1)
						in.EndpointSlices[i] = es
						break
					}
					changed := in.HTTPRoutes[i].DeepCopy()
					changed.ResourceVersion, changed.Generation = fmt.Sprint(version), int64(version)
					in.HTTPRoutes[i] = changed
				}
				snap, _ := Translate(in, opts)
				if len(snap.HTTPRoutes) != want {
					b.Fatalf("got %d routes, want %d", len(snap.HTTPRoutes), want)
				}
			}
		})
	}
}

// BenchmarkTranslateMixedOneChanged is a cluster halfway through a migration to the Gateway
// API: n IngressRoutes (scaleInputs) beside n HTTPRoutes of their own hosts, one Gateway
// for those, and one HTTPRoute changed per build, with the memo.
func BenchmarkTranslateMixedOneChanged(b *testing.B) {
	for _, n := range []int{100, 1000} {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			in := scaleInputs(b, n)
			for i := range n {
				host := fmt.Sprintf("gw-%05d.example.com", i)
				in.HTTPRoutes = append(in.HTTPRoutes, &gwv1.HTTPRoute{
					ObjectMeta: metav1.ObjectMeta{Namespace: "web", Name: fmt.Sprintf("gw-%05d", i), Generation: 1},
					Spec: gwv1.HTTPRouteSpec{
						CommonRouteSpec: gwv1.CommonRouteSpec{ParentRefs: []gwv1.ParentReference{{Name: "gw"}}},
						Hostnames:       []gwv1.Hostname{gwv1.Hostname(host)},
						Rules: []gwv1.HTTPRouteRule{{BackendRefs: []gwv1.HTTPBackendRef{{BackendRef: gwv1.BackendRef{BackendObjectReference: gwv1.BackendObjectReference{
							Name: gwv1.ObjectName(in.Services[i].Name), Port: ptr.To[gwv1.PortNumber](443)}}}}}},
					},
				})
			}
			in.GatewayClasses = []*gwv1.GatewayClass{{ObjectMeta: metav1.ObjectMeta{Name: "bh", Generation: 1}, Spec: gwv1.GatewayClassSpec{ControllerName: GatewayController}}}
			in.Gateways = []*gwv1.Gateway{{ObjectMeta: metav1.ObjectMeta{Namespace: "web", Name: "gw", Generation: 1},
				Spec: gwv1.GatewaySpec{GatewayClassName: "bh", Listeners: []gwv1.Listener{{Name: "https", Port: 443, Protocol: gwv1.HTTPSProtocolType,
					Hostname: ptr.To[gwv1.Hostname]("*.example.com"),
					TLS:      &gwv1.ListenerTLSConfig{CertificateRefs: []gwv1.SecretObjectReference{{Name: "wildcard"}}}}}}}}
			opts, _ := warmMemo(in)
			b.ReportAllocs()
			version := 1
			for b.Loop() {
				version++
				i := version % n
				changed := in.HTTPRoutes[i].DeepCopy()
				changed.ResourceVersion, changed.Generation = fmt.Sprint(version), int64(version)
				in.HTTPRoutes[i] = changed
				if snap, _ := Translate(in, opts); len(snap.HTTPRoutes) != 2*n {
					b.Fatalf("got %d routes, want %d", len(snap.HTTPRoutes), 2*n)
				}
			}
		})
	}
}
