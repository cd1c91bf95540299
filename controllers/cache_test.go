package controllers

import (
	"maps"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"

	bhv1 "github.com/bridgehead/bridgehead/api/v1alpha1"
)

var _ = Describe("the cache transform", func() {
	It("drops kubectl's last applied configuration, except from Ingresses, whose status updates send their metadata", func() {
		applied := map[string]string{lastApplied: `{"big":"copy"}`, "team": "shop"}
		traefik := &unstructured.Unstructured{} // as Traefik's kinds are read
		traefik.SetAPIVersion("traefik.io/v1alpha1")
		traefik.SetKind("IngressRoute")
		traefik.SetName("t")
		traefik.SetAnnotations(maps.Clone(applied))
		for _, obj := range []client.Object{
			&bhv1.IngressRoute{ObjectMeta: metav1.ObjectMeta{Name: "r", Annotations: maps.Clone(applied)}},
			&corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "s", Annotations: maps.Clone(applied)}},
			traefik,
		} {
			out, err := CacheTransform()(obj)
			Expect(err).NotTo(HaveOccurred())
			Expect(out.(client.Object).GetAnnotations()).To(Equal(map[string]string{"team": "shop"}), "%T", obj)
			again, err := CacheTransform()(out)
			Expect(err).NotTo(HaveOccurred())
			Expect(again.(client.Object).GetAnnotations()).To(Equal(map[string]string{"team": "shop"}), "%T, transformed again", obj)
		}
		ing := &networkingv1.Ingress{ObjectMeta: metav1.ObjectMeta{Name: "i", Annotations: maps.Clone(applied)}}
		out, err := CacheTransform()(ing)
		Expect(err).NotTo(HaveOccurred())
		Expect(out.(client.Object).GetAnnotations()).To(Equal(applied))
	})

	It("leaves the annotation on the server when the status of an applied IngressRoute is written", func() {
		const ns = "cache-transform"
		Expect(k8s.Create(bg(), &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}})).To(Succeed())
		ir := route(ns, "applied", "applied.cache.test", "missing", "", "", "")
		ir.Spec.TLS = nil
		ir.Annotations = map[string]string{lastApplied: `{"kind":"IngressRoute"}`}
		Expect(k8s.Create(bg(), ir)).To(Succeed())
		Eventually(func(g Gomega) {
			got := &bhv1.IngressRoute{}
			g.Expect(k8s.Get(bg(), client.ObjectKeyFromObject(ir), got)).To(Succeed())
			g.Expect(apimeta.FindStatusCondition(got.Status.Conditions, string(bhv1.ConditionReady))).NotTo(BeNil(), "no status written yet")
			g.Expect(got.Annotations).To(HaveKeyWithValue(lastApplied, `{"kind":"IngressRoute"}`))
		}).WithTimeout(10 * time.Second).Should(Succeed())
	})
})
