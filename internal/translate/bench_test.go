package translate

import (
	"fmt"
	"testing"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	bhv1 "github.com/bridgehead/bridgehead/api/v1alpha1"
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

// BenchmarkTranslate10kOneChanged is a rebuild after one IngressRoute of 10,000 changed,
// with the memo of the rebuild before (as lastgood's Keeper passes it): the other 9,999
// are replayed.
func BenchmarkTranslate10kOneChanged(b *testing.B) {
	in := scaleInputs(b, 10000)
	in.Visit(func(_ Key, o metav1.Object) metav1.Object { o.SetResourceVersion("1"); return nil })
	opts := DefaultOptions()
	opts.Now = goldenNow
	opts.Memo = &Memo{}
	Translate(in, opts)
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
