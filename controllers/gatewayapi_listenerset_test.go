package controllers

import (
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/bridgehead/bridgehead/internal/translate"
)

func listenerSetCondition(g Gomega, ns, name, typ string) *metav1.Condition {
	ls := &gwv1.ListenerSet{}
	g.Expect(k8s.Get(bg(), client.ObjectKey{Namespace: ns, Name: name}, ls)).To(Succeed())
	c := apimeta.FindStatusCondition(ls.Status.Conditions, typ)
	g.Expect(c).NotTo(BeNil(), "ListenerSet %s/%s has no %s condition yet", ns, name, typ)
	g.Expect(c.ObservedGeneration).To(Equal(ls.Generation))
	return c
}

var _ = Describe("Gateway API ListenerSets", func() {
	It("attaches a ListenerSet its Gateway allows, serves routes through it, and detaches it when the Gateway stops allowing it", func() {
		ns := "gwapi-listenerset"
		create(namespace(ns))
		create(httpService(ns, "echo", "10.9.0.2")...)
		create(&gwv1.GatewayClass{ObjectMeta: metav1.ObjectMeta{Name: "bridgehead-listenerset"},
			Spec: gwv1.GatewayClassSpec{ControllerName: translate.GatewayController}})
		create(&gwv1.Gateway{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "gw"},
			Spec: gwv1.GatewaySpec{GatewayClassName: "bridgehead-listenerset",
				AllowedListeners: &gwv1.AllowedListeners{Namespaces: &gwv1.ListenerNamespaces{From: ptr.To(gwv1.NamespacesFromSame)}},
				Listeners:        []gwv1.Listener{{Name: "http", Port: 80, Protocol: gwv1.HTTPProtocolType, Hostname: ptr.To[gwv1.Hostname]("gw.listenerset.example")}}}})
		create(&gwv1.ListenerSet{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "ls"},
			Spec: gwv1.ListenerSetSpec{ParentRef: gwv1.ParentGatewayReference{Name: "gw"},
				Listeners: []gwv1.ListenerEntry{{Name: "team", Port: 80, Protocol: gwv1.HTTPProtocolType, Hostname: ptr.To[gwv1.Hostname]("team.listenerset.example")}}}})
		create(&gwv1.HTTPRoute{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "team"},
			Spec: gwv1.HTTPRouteSpec{
				CommonRouteSpec: gwv1.CommonRouteSpec{ParentRefs: []gwv1.ParentReference{{Kind: ptr.To[gwv1.Kind]("ListenerSet"), Name: "ls"}}},
				Rules: []gwv1.HTTPRouteRule{{BackendRefs: []gwv1.HTTPBackendRef{{BackendRef: gwv1.BackendRef{
					BackendObjectReference: gwv1.BackendObjectReference{Name: "echo", Port: ptr.To[gwv1.PortNumber](8080)}}}}}},
			}})

		By("the ListenerSet is Accepted and Programmed, its listener takes the route, the Gateway counts it")
		Eventually(func(g Gomega) {
			g.Expect(listenerSetCondition(g, ns, "ls", string(gwv1.ListenerSetConditionAccepted)).Status).To(Equal(metav1.ConditionTrue))
			g.Expect(listenerSetCondition(g, ns, "ls", string(gwv1.ListenerSetConditionProgrammed)).Status).To(Equal(metav1.ConditionTrue))
			ls := &gwv1.ListenerSet{}
			g.Expect(k8s.Get(bg(), client.ObjectKey{Namespace: ns, Name: "ls"}, ls)).To(Succeed())
			g.Expect(ls.Status.Listeners).To(HaveLen(1))
			g.Expect(ls.Status.Listeners[0].AttachedRoutes).To(Equal(int32(1)))
			gw := &gwv1.Gateway{}
			g.Expect(k8s.Get(bg(), client.ObjectKey{Namespace: ns, Name: "gw"}, gw)).To(Succeed())
			g.Expect(gw.Status.AttachedListenerSets).To(Equal(ptr.To[int32](1)))
			g.Expect(gw.Status.Listeners).To(HaveLen(1), "a ListenerSet's listeners are not the Gateway's")
			g.Expect(parentCondition(g, ns, "team", string(gwv1.RouteConditionAccepted)).Status).To(Equal(metav1.ConditionTrue))
			routes := gatewayHTTPRoutes(ns, "team")
			g.Expect(routes).To(HaveLen(1))
			g.Expect(routes[0].Match).To(ContainSubstring("team.listenerset.example"))
		}).Should(Succeed())

		By("the Gateway stops allowing ListenerSets: NotAllowed, the route is no longer served")
		gw := &gwv1.Gateway{}
		Expect(k8s.Get(bg(), client.ObjectKey{Namespace: ns, Name: "gw"}, gw)).To(Succeed())
		gw.Spec.AllowedListeners = nil
		Expect(k8s.Update(bg(), gw)).To(Succeed())
		Eventually(func(g Gomega) {
			c := listenerSetCondition(g, ns, "ls", string(gwv1.ListenerSetConditionAccepted))
			g.Expect(c.Status).To(Equal(metav1.ConditionFalse))
			g.Expect(c.Reason).To(Equal(string(gwv1.ListenerSetReasonNotAllowed)))
			g.Expect(c.Message).To(ContainSubstring("allowedListeners"))
			gw := &gwv1.Gateway{}
			g.Expect(k8s.Get(bg(), client.ObjectKey{Namespace: ns, Name: "gw"}, gw)).To(Succeed())
			g.Expect(gw.Status.AttachedListenerSets).To(Equal(ptr.To[int32](0)))
			g.Expect(parentCondition(g, ns, "team", string(gwv1.RouteConditionAccepted)).Status).To(Equal(metav1.ConditionFalse))
			g.Expect(gatewayHTTPRoutes(ns, "team")).To(BeEmpty())
		}).Should(Succeed())
	})
})
