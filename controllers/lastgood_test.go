package controllers

import (
	"crypto/sha256"
	"encoding/hex"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	bhv1 "github.com/bridgehead/bridgehead/api/v1alpha1"
	"github.com/bridgehead/bridgehead/internal/pki"
	"github.com/bridgehead/bridgehead/internal/snapshot"
)

var _ = Describe("an edit the gateway cannot serve", Ordered, func() {
	const ns = "lastgood"
	edgeCA := pki.MustCA("edge CA")
	edge := edgeCA.MustIssue("lastgood.example.com", pki.Options{DNSNames: []string{"lastgood.example.com"}})
	good := route(ns, "shop", "lastgood.example.com", "shop", "", "shop-tls", "")

	BeforeAll(func() {
		create(append([]client.Object{namespace(ns), tlsSecret(ns, "shop-tls", edge), good}, httpsService(ns, "shop", "10.0.0.7")...)...)
		Eventually(func(g Gomega) {
			g.Expect(readyCondition(g, ns, "shop").Status).To(Equal(metav1.ConditionTrue))
		}).WithTimeout(30 * time.Second).Should(Succeed())
	})

	It("keeps the last good generation of an IngressRoute serving and says so on its status", func() {
		ir := &bhv1.IngressRoute{}
		Expect(k8s.Get(bg(), client.ObjectKey{Namespace: ns, Name: "shop"}, ir)).To(Succeed())
		ir.Spec.Routes[0].Match = "Host(`lastgood.example.com`) && PathPrefix(`/cart`"
		Expect(k8s.Update(bg(), ir)).To(Succeed())

		Eventually(func(g Gomega) {
			cur := &bhv1.IngressRoute{}
			g.Expect(k8s.Get(bg(), client.ObjectKey{Namespace: ns, Name: "shop"}, cur)).To(Succeed())
			ready := apimeta.FindStatusCondition(cur.Status.Conditions, string(bhv1.ConditionReady))
			accepted := apimeta.FindStatusCondition(cur.Status.Conditions, string(bhv1.ConditionAccepted))
			g.Expect(ready).NotTo(BeNil())
			g.Expect(ready.ObservedGeneration).To(Equal(cur.Generation))
			g.Expect(ready.Reason).To(Equal(string(bhv1.ReasonServingLastGood)))
			g.Expect(accepted.Message).To(ContainSubstring("generation 2 is refused: spec.routes[0].match"))
			g.Expect(accepted.Message).To(ContainSubstring("generation 1, the last that was accepted, keeps serving"))
		}).WithTimeout(30 * time.Second).Should(Succeed())
		r := routeInSnapshot(ns + "/shop/0")
		Expect(r).NotTo(BeNil(), "the route left the snapshot")
		Expect(r.Match).To(Equal("Host(`lastgood.example.com`)"), "the snapshot should hold the last good generation")
	})

	It("keeps serving the last good certificate when its Secret gets garbage", func() {
		sec := tlsSecret(ns, "shop-tls", edge)
		Expect(k8s.Get(bg(), client.ObjectKeyFromObject(sec), sec)).To(Succeed())
		sec.Data["tls.key"] = []byte("-----BEGIN PRIVATE KEY-----\nZ2FyYmFnZQ==\n-----END PRIVATE KEY-----\n")
		Expect(k8s.Update(bg(), sec)).To(Succeed())

		Eventually(func(g Gomega) {
			cur := &bhv1.IngressRoute{}
			g.Expect(k8s.Get(bg(), client.ObjectKey{Namespace: ns, Name: "shop"}, cur)).To(Succeed())
			w := apimeta.FindStatusCondition(cur.Status.Conditions, string(bhv1.ConditionWarnings))
			g.Expect(w).NotTo(BeNil())
			g.Expect(w.Message).To(ContainSubstring("Secret lastgood/shop-tls: its new data is refused"))
		}).WithTimeout(30 * time.Second).Should(Succeed())
		var served *snapshot.Certificate
		for _, h := range store.Load().TLS.Hosts {
			if h.Name == "lastgood.example.com" {
				served = h.Certificate
			}
		}
		Expect(served).NotTo(BeNil(), "lastgood.example.com gets the default certificate")
		sum := sha256.Sum256(edge.TLS.Certificate[0])
		Expect(served.Fingerprint).To(Equal(hex.EncodeToString(sum[:])), "another certificate than the last good one is served")
	})
})
