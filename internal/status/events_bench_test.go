package status

import (
	"context"
	"strconv"
	"testing"

	"github.com/go-logr/logr"
	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/bridgehead/bridgehead/internal/translate"
)

// BenchmarkIngressReport10kUnchanged is the Ingress writer's share of a change at 10,000
// Ingresses: a build that hands every status over as it was (one Ingress changed, whose
// write is not counted here).
func BenchmarkIngressReport10kUnchanged(b *testing.B) {
	addrs := []networkingv1.IngressLoadBalancerIngress{{IP: "192.0.2.1"}}
	w := &IngressWriter{Log: logr.Discard(), primed: true,
		announced: map[translate.Key]announcement{},
		published: map[types.NamespacedName][]networkingv1.IngressLoadBalancerIngress{}}
	r := &IngressReport{Statuses: translate.Statuses{}, Publish: true, Addresses: addrs}
	for i := range 10000 {
		k := translate.Key{Kind: translate.KindIngress, Namespace: "scale", Name: "r" + strconv.Itoa(i)}
		st := &translate.ObjectStatus{}
		r.Statuses[k] = st
		w.announced[k] = announcement{status: st}
		w.published[types.NamespacedName{Namespace: k.Namespace, Name: k.Name}] = addrs
	}
	b.ReportAllocs()
	for b.Loop() {
		w.report(context.Background(), r, nil)
	}
}
