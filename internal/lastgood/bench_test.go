package lastgood

import (
	"fmt"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	bhv1 "github.com/bridgehead/bridgehead/api/v1alpha1"
	"github.com/bridgehead/bridgehead/internal/translate"
)

// BenchmarkKeeper10kOneChanged is a rebuild after one of 10,000 IngressRoutes changed, as
// the gateway does it: through the Keeper, whose own bookkeeping (which version of each
// object was last good) is what this measures beyond translate's
// BenchmarkTranslate10kOneChanged.
func BenchmarkKeeper10kOneChanged(b *testing.B) {
	in := &translate.Inputs{Services: []*corev1.Service{{ObjectMeta: meta("app", 1),
		Spec: corev1.ServiceSpec{Ports: []corev1.ServicePort{{Name: "https", Port: 443}}}}}}
	for i := range 10000 {
		name := fmt.Sprintf("app-%05d", i)
		in.IngressRoutes = append(in.IngressRoutes, &bhv1.IngressRoute{
			ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, Generation: 1, ResourceVersion: "1"},
			Spec: bhv1.IngressRouteSpec{Routes: []bhv1.Route{{Match: fmt.Sprintf("Host(`%s.example.com`)", name),
				Services: []bhv1.Service{{Name: "app", Port: "https"}}}}},
		})
	}
	opts := translate.DefaultOptions()
	var k Keeper
	k.Translate(in, opts)
	b.ReportAllocs()
	version := 1
	for b.Loop() {
		version++
		i := version % len(in.IngressRoutes)
		changed := in.IngressRoutes[i].DeepCopy()
		changed.ResourceVersion = fmt.Sprint(version)
		in.IngressRoutes[i] = changed
		if snap, _ := k.Translate(in, opts); len(snap.HTTPRoutes) != 10000 {
			b.Fatalf("got %d routes", len(snap.HTTPRoutes))
		}
	}
}
