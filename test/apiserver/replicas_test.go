package apiserver

import (
	"fmt"
	"net/http"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	bhv1 "github.com/bridgehead/bridgehead/api/v1alpha1"
	"github.com/bridgehead/bridgehead/internal/pki"
	"github.com/bridgehead/bridgehead/internal/translate"
)

// Two `bridgehead serve` processes against one API server, as two pods of the Deployment:
// both serve from their own cache, one writes status.
var _ = Describe("replicas", Ordered, func() {
	const (
		ns        = "replicas"
		host      = "shop.replicas.test"
		lease     = "replicas-test"
		published = "192.0.2.10"
		// Short lease timings keep the test quick; production defaults are 30s/15s/7.5s.
		leaseDuration = 4 * time.Second
		renewDeadline = 3 * time.Second
		retryPeriod   = 500 * time.Millisecond
	)
	edgeCA := pki.MustCA("edge CA")
	backendCA := pki.MustCA("private backend CA")
	var a, b *replica
	var args []string

	leaderAndFollower := func(g Gomega) (*replica, *replica) {
		la, lb := a.leader(g), b.leader(g)
		g.Expect(la.Leader).NotTo(Equal(lb.Leader), "exactly one replica leads: %+v %+v", la, lb)
		if la.Leader {
			return a, b
		}
		return b, a
	}

	BeforeAll(func() {
		backend := httpsBackend(backendCA.MustIssue("backend.replicas.svc", pki.Options{DNSNames: []string{"backend.replicas.svc"}}))
		create(namespace(ns),
			tlsSecret(ns, "shop-tls", edgeCA.MustIssue(host, pki.Options{DNSNames: []string{host}})),
			caSecret(ns, "backend-ca", backendCA),
			// The API server refuses loopback addresses in EndpointSlices: the backend on
			// this machine is reached through an ExternalName Service to localhost.
			&corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "backend"},
				Spec: corev1.ServiceSpec{Type: corev1.ServiceTypeExternalName, ExternalName: "localhost",
					Ports: []corev1.ServicePort{{Name: "https", Port: portOf(backend.Listener.Addr().String())}}}},
			&bhv1.ServersTransport{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "backend"},
				Spec: bhv1.ServersTransportSpec{UpstreamTLS: bhv1.UpstreamTLS{
					ServerName: "backend.replicas.svc", RootCAs: []bhv1.RootCA{{Secret: ptr.To(bhv1.SecretName("backend-ca"))}},
				}}},
		)
		ing := ingress(ns, "shop", host, "backend", networkingv1.ServiceBackendPort{Name: "https"}, map[string]string{
			translate.AnnotationBackendProtocol:  "https",
			translate.AnnotationServersTransport: "backend",
		})
		ing.Spec.TLS = []networkingv1.IngressTLS{{Hosts: []string{host}, SecretName: "shop-tls"}}
		create(ing)

		args = []string{"--watch-namespaces", ns + ",bridgehead", "--allow-external-name-services",
			"--publish-address", published, "--leader-election-id", lease,
			"--leader-elect-lease-duration", leaseDuration.String(),
			"--leader-elect-renew-deadline", renewDeadline.String(),
			"--leader-elect-retry-period", retryPeriod.String()}
		a = startReplica("replica-a", args...)
		b = startReplica("replica-b", args...)
	})

	It("answer 200 through TLS on both replicas, re-encrypted to a backend verified against its private CA", func() {
		for _, r := range []*replica{a, b} {
			c := tlsClient(edgeCA, r.addrs["websecure"])
			Eventually(func(g Gomega) {
				res, err := get(c, "https://"+host+"/cart")
				g.Expect(err).NotTo(HaveOccurred())
				g.Expect(res.status).To(Equal(http.StatusOK), "%s: %s %s", r.name, res.reason, res.body)
				g.Expect(res.body).To(Equal("backend: TLS, SNI backend.replicas.svc, path /cart\n"))
			}).Should(Succeed())
		}
	})

	It("serve identical snapshots: the same hash on both admin ports", func() {
		Eventually(func(g Gomega) {
			ha, hb := a.hash(g), b.hash(g)
			g.Expect(ha).To(HaveLen(64))
			g.Expect(ha).To(Equal(hb))
		}).Should(Succeed())
	})

	It("let only the holder of the Lease write status", func() {
		var leader, follower *replica
		Eventually(func(g Gomega) {
			leader, follower = leaderAndFollower(g)
			g.Expect(loadBalancer(g, ns, "shop")).To(Equal([]string{published}))
		}).Should(Succeed())
		l := &coordinationv1.Lease{}
		Expect(k8s.Get(bg(), client.ObjectKey{Namespace: "bridgehead", Name: lease}, l)).To(Succeed())
		Expect(*l.Spec.HolderIdentity).To(Equal(leader.leader(Default).Identity))

		// A new Ingress: status is written, by the leader alone. A replica counts a write
		// once the API server has answered it, so the address can be read before the count
		// moves: the count is waited for, not read once.
		writesBefore := leader.leader(Default).StatusWrites
		create(ingress(ns, "second", "second.replicas.test", "backend", networkingv1.ServiceBackendPort{Name: "https"}, nil))
		Eventually(func(g Gomega) { g.Expect(loadBalancer(g, ns, "second")).To(Equal([]string{published})) }).Should(Succeed())
		Eventually(func(g Gomega) { g.Expect(leader.leader(g).StatusWrites).To(BeNumerically(">", writesBefore)) }).
			Should(Succeed(), "the leader counts the status write it made")
		Consistently(func(g Gomega) { g.Expect(follower.leader(g).StatusWrites).To(BeZero()) }).WithTimeout(2 * time.Second).Should(Succeed())
	})

	It("stop writing status when they lose the Lease, and keep serving", func() {
		// Someone else holds the Lease now (as when the API server could not be reached
		// for longer than the renew deadline): both replicas must give up writing.
		// The leader renews the Lease meanwhile: an update that loses to a renewal (409
		// Conflict) reads the Lease again and retries.
		l := &coordinationv1.Lease{}
		Eventually(func(g Gomega) {
			g.Expect(k8s.Get(bg(), client.ObjectKey{Namespace: "bridgehead", Name: lease}, l)).To(Succeed())
			l.Spec.HolderIdentity = ptr.To("intruder")
			l.Spec.LeaseDurationSeconds = ptr.To[int32](3600)
			l.Spec.RenewTime = &metav1.MicroTime{Time: time.Now()}
			g.Expect(k8s.Update(bg(), l)).To(Succeed())
		}).Should(Succeed(), "the Lease is taken over")
		Eventually(func(g Gomega) {
			g.Expect(a.leader(g).Leader).To(BeFalse())
			g.Expect(b.leader(g).Leader).To(BeFalse())
		}).WithTimeout(renewDeadline + 3*time.Second).Should(Succeed())

		create(ingress(ns, "unwritten", "unwritten.replicas.test", "backend", networkingv1.ServiceBackendPort{Name: "https"},
			map[string]string{translate.AnnotationBackendProtocol: "https", translate.AnnotationServersTransport: "backend"}))
		for _, r := range []*replica{a, b} {
			c := plainClient(r.addrs["web"])
			Eventually(func(g Gomega) {
				res, err := get(c, "http://unwritten.replicas.test/")
				g.Expect(err).NotTo(HaveOccurred())
				g.Expect(res.status).To(Equal(http.StatusOK), "%s: %s %s", r.name, res.reason, res.body)
			}).Should(Succeed(), "traffic is not affected by the lost lease")
		}
		Consistently(func(g Gomega) { g.Expect(loadBalancer(g, ns, "unwritten")).To(BeEmpty()) }).
			WithTimeout(2*time.Second).Should(Succeed(), "nobody holds the lease, so nobody writes status")

		// The Lease is free again: one replica takes it and catches up.
		Expect(k8s.Delete(bg(), l)).To(Succeed())
		Eventually(func(g Gomega) {
			leaderAndFollower(g)
			g.Expect(loadBalancer(g, ns, "unwritten")).To(Equal([]string{published}))
		}).Should(Succeed())
	})

	It("move status writing to the survivor within the lease duration when the leader is killed, with no failed request on the survivor", func() {
		var leader, survivor *replica
		Eventually(func(g Gomega) { leader, survivor = leaderAndFollower(g) }).Should(Succeed())
		writesBefore := survivor.leader(Default).StatusWrites
		traffic := startLoad(tlsClient(edgeCA, survivor.addrs["websecure"]), "https://"+host+"/", http.StatusOK)

		killed := time.Now()
		leader.kill()
		var failover time.Duration
		Eventually(func(g Gomega) {
			g.Expect(survivor.leader(g).Leader).To(BeTrue())
			failover = time.Since(killed)
		}).WithTimeout(leaseDuration + 2*retryPeriod + 2*time.Second).WithPolling(50 * time.Millisecond).Should(Succeed())

		// Every status is current (the Ingresses' addresses, the ServersTransport's
		// conditions): the new leader's writers find nothing to write. Its cache keeps our
		// kinds' statuses as digests (controllers.CacheTransform), compared as such.
		Consistently(func(g Gomega) { g.Expect(survivor.leader(g).StatusWrites).To(Equal(writesBefore)) }).
			WithTimeout(2*time.Second).Should(Succeed(), "the new leader rewrote statuses that were current")

		// The new leader writes: a new Ingress gets its address, and the survivor (the only
		// replica left) counts that write. It counts it after the API server's answer, which
		// the test's read of the Ingress can beat: the count is waited for, not read once.
		create(ingress(ns, "after-failover", "after.replicas.test", "backend", networkingv1.ServiceBackendPort{Name: "https"}, nil))
		Eventually(func(g Gomega) { g.Expect(loadBalancer(g, ns, "after-failover")).To(Equal([]string{published})) }).Should(Succeed())
		Eventually(func(g Gomega) { g.Expect(survivor.leader(g).StatusWrites).To(BeNumerically(">", writesBefore)) }).
			Should(Succeed(), "the survivor counts the status write it made")

		ok, failures := traffic.finish()
		AddReportEntry("leader failover after SIGKILL", fmt.Sprintf("%v (lease duration %v, retry period %v); %d requests on the survivor meanwhile, %d failed",
			failover.Round(10*time.Millisecond), leaseDuration, retryPeriod, ok, len(failures)))
		fmt.Fprintf(GinkgoWriter, "failover took %v; %d requests served by the survivor meanwhile\n", failover, ok)
		Expect(failures).To(BeEmpty())
		Expect(ok).To(BeNumerically(">", 20), "the survivor served traffic throughout")
		// The lease runs from the last renewal the survivor saw (the leader renews every
		// retry period; the survivor looks every retry period, jittered by up to 20%), so
		// the takeover comes one lease duration after that, at the survivor's next try.
		Expect(failover).To(BeNumerically("<=", leaseDuration+3*retryPeriod), "the survivor takes over within the lease duration")
	})

	It("hand the Lease over at once when the leader shuts down gracefully (SIGTERM, as on a rolling update)", func() {
		leader := a // the survivor of the previous spec
		if a.killed {
			leader = b
		}
		Eventually(func(g Gomega) { g.Expect(leader.leader(g).Leader).To(BeTrue()) }).Should(Succeed())
		c := startReplica("replica-c", args...)
		Eventually(func(g Gomega) { g.Expect(c.hash(g)).To(Equal(leader.hash(g))) }).Should(Succeed())
		traffic := startLoad(tlsClient(edgeCA, c.addrs["websecure"]), "https://"+host+"/", http.StatusOK)

		stopped := time.Now()
		leader.stop()
		var handover time.Duration
		Eventually(func(g Gomega) {
			g.Expect(c.leader(g).Leader).To(BeTrue())
			handover = time.Since(stopped)
		}).WithTimeout(leaseDuration).WithPolling(50 * time.Millisecond).Should(Succeed())
		ok, failures := traffic.finish()
		AddReportEntry("leader handover after SIGTERM", fmt.Sprintf("%v after the old leader began shutting down (it drains for its grace period first); %d requests on the new leader meanwhile, %d failed",
			handover.Round(10*time.Millisecond), ok, len(failures)))
		Expect(failures).To(BeEmpty())
		Expect(handover).To(BeNumerically("<", leaseDuration), "a released Lease is taken without waiting for it to expire")
	})
})
