package e2e

import (
	"fmt"
	"net/http"
	"os/exec"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	appsv1 "k8s.io/api/apps/v1"
	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	policyv1 "k8s.io/api/policy/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	bhv1 "github.com/bridgehead/bridgehead/api/v1alpha1"
	"github.com/bridgehead/bridgehead/internal/pki"
)

const appsNS = "e2e-apps"

// rbacDenied matches the API server's answer when RBAC refuses the gateway's service
// account, as it appears in the JSON log (quotes escaped). Other "forbidden" answers exist
// (an Event for an object in a namespace being deleted) and are no RBAC problem.
var rbacDenied = `is forbidden: User \\?"system:serviceaccount:` + gatewayNS + `:`

// helmInstall installs (or upgrades to) the chart with the locally built image, published
// on the node's bridge through a NodePort: what the README's "Run it in a cluster" does.
func helmInstall(extra ...string) string {
	GinkgoHelper()
	args := []string{"--kubeconfig", cluster.Kubeconfig(), "upgrade", "--install", release, "charts/bridgehead",
		"--namespace", gatewayNS, "--create-namespace", "--wait", "--timeout", "180s",
		"--set", "image.repository=docker.io/bridgehead/bridgehead", "--set", "image.tag=dev", "--set", "image.pullPolicy=Never",
		"--set", "service.type=NodePort", "--set", fmt.Sprintf("service.nodePorts.websecure=%d", websecureNodePort),
		"--set", "service.nodePorts.web=30080"}
	return run(helmBin, append(args, extra...)...)
}

// routeReady reads an IngressRoute's Ready condition.
func routeReady(g Gomega, ns, name string) metav1.Condition {
	var r bhv1.IngressRoute
	g.Expect(k8s.Get(bg(), types.NamespacedName{Namespace: ns, Name: name}, &r)).To(Succeed())
	for _, c := range r.Status.Conditions {
		if c.Type == "Ready" {
			return c
		}
	}
	return metav1.Condition{}
}

func ingressRouteYAML(ns, name, host, svc, transport, tlsSecret string) string {
	return fmt.Sprintf(`apiVersion: gateway.bridgehead.dev/v1alpha1
kind: IngressRoute
metadata: {name: %s, namespace: %s}
spec:
  entryPoints: [websecure]
  routes:
  - match: Host(%s)
    services:
    - {name: %s, port: https, serversTransport: %s}
  tls: {secretName: %s}
`, name, ns, "`"+host+"`", svc, transport, tlsSecret)
}

func transportYAML(ns, name, caSecret string) string {
	return fmt.Sprintf(`apiVersion: gateway.bridgehead.dev/v1alpha1
kind: ServersTransport
metadata: {name: %s, namespace: %s}
spec:
  rootCAs: [{secret: %s}]
`, name, ns, caSecret)
}

func namespaceYAML(ns string) string {
	return fmt.Sprintf("apiVersion: v1\nkind: Namespace\nmetadata: {name: %s}\n", ns)
}

// readyEndpoints are the ready addresses of a Service's EndpointSlices.
func readyEndpoints(g Gomega, ns, svc string) []string {
	slices, err := cs.DiscoveryV1().EndpointSlices(ns).List(bg(), metav1.ListOptions{LabelSelector: discoveryv1.LabelServiceName + "=" + svc})
	g.Expect(err).NotTo(HaveOccurred())
	var out []string
	for _, s := range slices.Items {
		for _, e := range s.Endpoints {
			if e.Conditions.Ready != nil && *e.Conditions.Ready {
				out = append(out, e.Addresses...)
			}
		}
	}
	return out
}

func scaleTo(ns, deploy string, n int) {
	GinkgoHelper()
	mustKubectl("", "-n", ns, "scale", "deployment/"+deploy, fmt.Sprintf("--replicas=%d", n))
}

func podsOf(g Gomega, ns, app string) []corev1.Pod {
	pods, err := cs.CoreV1().Pods(ns).List(bg(), metav1.ListOptions{LabelSelector: "app=" + app})
	g.Expect(err).NotTo(HaveOccurred())
	return pods.Items
}

// gatewayLogs returns the logs of every gateway pod (and of their previous containers).
func gatewayLogs() string {
	var b strings.Builder
	for _, p := range gatewayPods(Default) {
		out, _ := kubectl("", "-n", gatewayNS, "logs", p.Name)
		b.WriteString(out)
	}
	return b.String()
}

var _ = Describe("Bridgehead installed with Helm on a real node", Ordered, func() {
	edgeLeaf := edgeCA.MustIssue("*.e2e.test", pki.Options{DNSNames: []string{"*.e2e.test"}})
	var echoURL = "https://echo.e2e.test/"

	AfterEach(func() {
		if CurrentSpecReport().Failed() {
			out, _ := kubectl("", "get", "pods", "-A", "-o", "wide")
			fmt.Fprintf(GinkgoWriter, "pods:\n%s\ngateway logs (tail):\n%s\n", out, lastLines(gatewayLogs(), 60))
		}
	})

	It("installs with helm: CRDs, both replicas Ready, real probes, the PDB and the securityContext honoured", func(ctx SpecContext) {
		start := time.Now()
		helmInstall()
		AddReportEntry("helm install --wait", time.Since(start).Round(time.Second).String())

		var crds apiextensionsv1.CustomResourceDefinitionList
		Expect(k8sList(&crds)).To(Succeed())
		var ours []string
		for _, c := range crds.Items {
			if c.Spec.Group == bhv1.GroupVersion.Group {
				ours = append(ours, c.Spec.Names.Kind)
			}
		}
		Expect(ours).To(ContainElements("IngressRoute", "IngressRouteTCP", "TLSOption", "ServersTransport", "Middleware"))

		var dep appsv1.Deployment
		Expect(k8s.Get(ctx, types.NamespacedName{Namespace: gatewayNS, Name: gatewayName}, &dep)).To(Succeed())
		Expect(dep.Status.ReadyReplicas).To(BeEquivalentTo(2))
		pods := gatewayPods(Default)
		Expect(pods).To(HaveLen(2))
		for _, p := range pods {
			Expect(podReady(p)).To(BeTrue(), "pod %s", p.Name)
			// The probes the kubelet runs answer on the pod's admin port.
			c := p.Spec.Containers[0]
			Expect(c.ReadinessProbe.HTTPGet.Path).To(Equal("/readyz"))
			Expect(c.LivenessProbe.HTTPGet.Path).To(Equal("/healthz"))
			for _, path := range []string{"/readyz", "/healthz"} {
				_, err := adminGet(p, path)
				Expect(err).NotTo(HaveOccurred(), "pod %s %s", p.Name, path)
			}
			// The securityContext is honoured by the runtime: every process of the gateway
			// container runs as 65532 without capabilities or privilege escalation, on a
			// read-only root.
			cg := podCgroup(p)
			var gateway []int
			for _, pid := range podProcesses(cg) {
				if strings.HasPrefix(comm(pid), "bridgehead") {
					gateway = append(gateway, pid)
				}
			}
			Expect(gateway).To(HaveLen(1), "one bridgehead process in pod %s", p.Name)
			// The Go runtime's soft memory limit is 90% of the pod's memory limit (the chart's
			// 512Mi), read from the container's cgroup (v1 on this node).
			logs, _ := kubectl("", "-n", gatewayNS, "logs", p.Name)
			Expect(logs).To(ContainSubstring(`"limitMiB":460,"cgroupLimitMiB":512`), "pod %s logs the memory limit it took from its cgroup", p.Name)
			for _, pid := range gateway {
				st := procStatus(pid)
				Expect(strings.Fields(st["Uid"])).To(HaveEach("65532"), "%s uid", comm(pid))
				Expect(st["CapEff"]).To(Equal("0000000000000000"), "%s capabilities", comm(pid))
				Expect(st["NoNewPrivs"]).To(Equal("1"), "%s no_new_privs", comm(pid))
				Expect(st["Seccomp"]).To(Equal("2"), "%s seccomp filter", comm(pid))
				Expect(rootReadOnly(pid)).To(BeTrue(), "%s root file system read-only", comm(pid))
			}
		}
		// The PodDisruptionBudget is computed by the real disruption controller.
		Eventually(func(g Gomega) {
			pdb, err := cs.PolicyV1().PodDisruptionBudgets(gatewayNS).Get(ctx, gatewayName, metav1.GetOptions{})
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(pdb.Status.ExpectedPods).To(BeEquivalentTo(2))
			g.Expect(pdb.Status.DisruptionsAllowed).To(BeEquivalentTo(1))
		}).Should(Succeed())
		// The PDB is enforced: one replica may be evicted (as `kubectl drain` does), the
		// second not while the first is down.
		Expect(cs.CoreV1().Pods(gatewayNS).EvictV1(ctx, &policyv1.Eviction{ObjectMeta: metav1.ObjectMeta{Name: pods[0].Name, Namespace: gatewayNS}})).To(Succeed())
		err := cs.CoreV1().Pods(gatewayNS).EvictV1(ctx, &policyv1.Eviction{ObjectMeta: metav1.ObjectMeta{Name: pods[1].Name, Namespace: gatewayNS}})
		Expect(apierrors.IsTooManyRequests(err)).To(BeTrue(), "the second eviction: %v", err)
		Eventually(func(g Gomega) {
			ready := 0
			for _, p := range gatewayPods(g) {
				if podReady(p) {
					ready++
				}
			}
			g.Expect(ready).To(Equal(2))
		}).Should(Succeed())
		pods = gatewayPods(Default)
		Expect(gatewayLogs()).NotTo(MatchRegexp(rbacDenied))
		mem := map[string]string{}
		for _, p := range pods {
			mem[p.Name] = mib(workingSet(podCgroup(p)))
		}
		AddReportEntry("gateway pod memory, no routes", mem)
	})

	It("routes to backend pods by their EndpointSlice addresses and verifies their certificates", func(ctx SpecContext) {
		mustKubectl(namespaceYAML(appsNS), "apply", "-f", "-")
		mustKubectl(string(pki.SecretsYAML("e2e", appsNS,
			tlsSecret("echo-tls", backendLeaf(appsNS, "echo", backendCA)),
			caSecret("backend-ca", backendCA),
			tlsSecret("edge-tls", edgeLeaf))), "apply", "-f", "-")
		mustKubectl(backendYAML(appsNS, "echo", 2, "echo-tls")+"---\n"+transportYAML(appsNS, "backends", "backend-ca")+"---\n"+
			ingressRouteYAML(appsNS, "echo", "echo.e2e.test", "echo", "backends", "edge-tls"), "apply", "-f", "-")

		c := gatewayClient(false)
		seen := map[string]bool{}
		Eventually(func(g Gomega) {
			r, err := get(c, echoURL)
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(r.status).To(Equal(http.StatusOK), "reason %q body %s", r.reason, r.body)
			seen[servedBy(r.body)] = true
			g.Expect(seen).To(HaveLen(2))
		}, 90*time.Second).Should(Succeed())
		for name := range seen {
			Expect(name).To(HavePrefix("echo-"))
		}
		// curl, as a user would, through the NodePort with the edge CA.
		out, err := exec.Command("curl", "--silent", "--show-error", "--max-time", "5", "--cacert", writeTemp("edge-ca.crt", edgeCA.PEM),
			"--resolve", "echo.e2e.test:"+fmt.Sprint(websecureNodePort)+":"+fmt.Sprint(gatewayAddr[:strings.LastIndexByte(gatewayAddr, ':')]),
			fmt.Sprintf("https://echo.e2e.test:%d/", websecureNodePort)).CombinedOutput()
		Expect(err).NotTo(HaveOccurred(), "%s", out)
		Expect(string(out)).To(ContainSubstring("Hello from the echo-"))
		Expect(string(out)).To(ContainSubstring("SNI \"echo.e2e-apps.svc\""))

		// Every gateway replica dials the pod addresses of the EndpointSlice (not the
		// Service's cluster IP): its status page lists each endpoint it used with a verdict.
		endpoints := readyEndpoints(Default, appsNS, "echo")
		Expect(endpoints).To(HaveLen(2))
		svc, err := cs.CoreV1().Services(appsNS).Get(ctx, "echo", metav1.GetOptions{})
		Expect(err).NotTo(HaveOccurred())
		for _, p := range gatewayPods(Default) {
			page, err := adminGet(p, "/")
			Expect(err).NotTo(HaveOccurred())
			for _, ip := range endpoints {
				Expect(page).To(ContainSubstring(ip+":8443"), "gateway %s status page", p.Name)
			}
			Expect(page).NotTo(ContainSubstring(svc.Spec.ClusterIP))
		}
		Eventually(func(g Gomega) {
			cond := routeReady(g, appsNS, "echo")
			g.Expect(cond.Status).To(Equal(metav1.ConditionTrue), "%s: %s", cond.Reason, cond.Message)
		}).Should(Succeed())
		mem := map[string]string{}
		for _, p := range gatewayPods(Default) {
			mem[p.Name] = mib(workingSet(podCgroup(p)))
		}
		AddReportEntry("gateway pod memory, 1 route", mem)
	})

	It("marks a route whose backend pods present an untrusted certificate Ready=False/UnknownAuthority within 5 s", func(ctx SpecContext) {
		rogueCA := pki.MustCA("Somebody else's CA")
		mustKubectl(string(pki.SecretsYAML("e2e", appsNS, tlsSecret("rogue-tls", backendLeaf(appsNS, "rogue", rogueCA)))), "apply", "-f", "-")
		mustKubectl(backendYAML(appsNS, "rogue", 1, "rogue-tls"), "apply", "-f", "-")
		Eventually(func(g Gomega) { g.Expect(readyEndpoints(g, appsNS, "rogue")).To(HaveLen(1)) }, 90*time.Second).Should(Succeed())
		mustKubectl(ingressRouteYAML(appsNS, "rogue", "rogue.e2e.test", "rogue", "backends", "edge-tls"), "apply", "-f", "-")
		start := time.Now()
		c := gatewayClient(false)
		var r reply
		Eventually(func(g Gomega) {
			var err error
			r, err = get(c, "https://rogue.e2e.test/")
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(r.status).To(Equal(http.StatusBadGateway))
		}, 20*time.Second).Should(Succeed())
		Expect(r.reason).To(Equal("UnknownAuthority"))
		Eventually(func(g Gomega) {
			cond := routeReady(g, appsNS, "rogue")
			g.Expect(cond.Status).To(Equal(metav1.ConditionFalse))
			g.Expect(cond.Reason).To(Equal("UnknownAuthority"))
		}, 5*time.Second, 100*time.Millisecond).Should(Succeed())
		AddReportEntry("untrusted backend -> Ready=False/UnknownAuthority after", time.Since(start).Round(10*time.Millisecond).String())
		cond := routeReady(Default, appsNS, "rogue")
		Expect(cond.Message).To(ContainSubstring("Somebody else's CA"))
	})

	It("scales a backend 2 -> 0 -> 3 under load: 503 with a reason while 0, no failed request otherwise", func(ctx SpecContext) {
		ns := "e2e-scale"
		mustKubectl(namespaceYAML(ns), "apply", "-f", "-")
		mustKubectl(string(pki.SecretsYAML("e2e", ns,
			tlsSecret("scaled-tls", backendLeaf(ns, "scaled", backendCA)), caSecret("backend-ca", backendCA), tlsSecret("edge-tls", edgeLeaf))), "apply", "-f", "-")
		mustKubectl(backendYAML(ns, "scaled", 2, "scaled-tls")+"---\n"+transportYAML(ns, "backends", "backend-ca")+"---\n"+
			ingressRouteYAML(ns, "scaled", "scaled.e2e.test", "scaled", "backends", "edge-tls"), "apply", "-f", "-")
		url := "https://scaled.e2e.test/"
		c := gatewayClient(false)
		Eventually(func(g Gomega) {
			r, err := get(c, url)
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(r.status).To(Equal(http.StatusOK))
		}, 90*time.Second).Should(Succeed())

		l := startLoad(url, 4, 100000, 4*time.Minute, func(phase string, r reply, err error) bool {
			switch {
			case err != nil:
				return false
			case phase == "0 replicas":
				return r.status == http.StatusServiceUnavailable && r.reason == "NoEndpoints"
			case phase == "scaling to 0" || phase == "scaling to 3":
				return r.status == http.StatusOK || (r.status == http.StatusServiceUnavailable && r.reason == "NoEndpoints")
			default:
				return r.status == http.StatusOK
			}
		})
		l.setPhase("2 replicas")
		waitRequests(l, "2 replicas", 300)
		l.setPhase("scaling to 0")
		scaleTo(ns, "scaled", 0)
		Eventually(func(g Gomega) { g.Expect(podsOf(g, ns, "scaled")).To(BeEmpty()) }, 90*time.Second).Should(Succeed())
		l.setPhase("0 replicas")
		waitRequests(l, "0 replicas", 200)
		l.setPhase("scaling to 3")
		scaleTo(ns, "scaled", 3)
		Eventually(func(g Gomega) {
			g.Expect(readyEndpoints(g, ns, "scaled")).To(HaveLen(3))
			seen := map[string]bool{}
			for i := 0; i < 30; i++ {
				r, err := get(c, url)
				g.Expect(err).NotTo(HaveOccurred())
				seen[servedBy(r.body)] = true
			}
			g.Expect(seen).To(HaveLen(3), "every new pod answers through the gateway")
		}, 90*time.Second).Should(Succeed())
		l.setPhase("3 replicas")
		waitRequests(l, "3 replicas", 300)
		l.finishAndReport("scale 2 -> 0 -> 3")
	})

	It("restarts the gateway (kubectl rollout restart) under load with no failed request", func(ctx SpecContext) {
		l := startLoad(echoURL, 4, 100000, 4*time.Minute, func(_ string, r reply, err error) bool {
			return err == nil && r.status == http.StatusOK
		})
		l.setPhase("steady")
		waitRequests(l, "steady", 300)
		l.setPhase("rollout restart")
		mustKubectl("", "-n", gatewayNS, "rollout", "restart", "deployment/"+gatewayName)
		mustKubectl("", "-n", gatewayNS, "rollout", "status", "deployment/"+gatewayName, "--timeout=240s")
		Eventually(func(g Gomega) {
			pods := gatewayPods(g)
			g.Expect(pods).To(HaveLen(2))
			for _, p := range pods {
				g.Expect(podReady(p)).To(BeTrue())
			}
		}).Should(Succeed())
		// Old pods have gone when their Terminating state ends.
		Eventually(func(g Gomega) {
			pods, err := cs.CoreV1().Pods(gatewayNS).List(bg(), metav1.ListOptions{LabelSelector: "app.kubernetes.io/name=bridgehead"})
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(pods.Items).To(HaveLen(2))
		}, 120*time.Second).Should(Succeed())
		l.setPhase("after")
		waitRequests(l, "after", 300)
		Expect(l.finishAndReport("rollout restart")).To(BeNumerically(">=", 1000))
	})

	It("deletes the leader pod under load: no request lost, status writes resume within the lease time", func(ctx SpecContext) {
		leaseName := gatewayName + "-status-writer"
		// After the rollout before this spec, the old leader released the lease (holder
		// "") and a new one takes it at its next retry: wait for a holder.
		var lease *coordinationv1.Lease
		Eventually(func(g Gomega) {
			var err error
			lease, err = cs.CoordinationV1().Leases(gatewayNS).Get(ctx, leaseName, metav1.GetOptions{})
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(lease.Spec.HolderIdentity).NotTo(BeNil())
			g.Expect(*lease.Spec.HolderIdentity).NotTo(BeEmpty())
		}, 60*time.Second, 200*time.Millisecond).Should(Succeed())
		leader, _, _ := strings.Cut(*lease.Spec.HolderIdentity, "_")
		leaseDuration := time.Duration(*lease.Spec.LeaseDurationSeconds) * time.Second

		l := startLoad(echoURL, 4, 100000, 3*time.Minute, func(_ string, r reply, err error) bool {
			return err == nil && r.status == http.StatusOK
		})
		l.setPhase("steady")
		waitRequests(l, "steady", 200)
		l.setPhase("leader deleted")
		start := time.Now()
		Expect(cs.CoreV1().Pods(gatewayNS).Delete(ctx, leader, metav1.DeleteOptions{})).To(Succeed())
		// A new route needs a status write: only a leader makes one.
		mustKubectl(ingressRouteYAML(appsNS, "after-leader", "after-leader.e2e.test", "echo", "backends", "edge-tls"), "apply", "-f", "-")
		Eventually(func(g Gomega) {
			cond := routeReady(g, appsNS, "after-leader")
			g.Expect(cond.Status).To(Equal(metav1.ConditionTrue))
		}, leaseDuration+5*time.Second, 100*time.Millisecond).Should(Succeed())
		resumed := time.Since(start)
		AddReportEntry("status written after the leader pod's deletion", resumed.Round(100*time.Millisecond).String())
		newLease, err := cs.CoordinationV1().Leases(gatewayNS).Get(ctx, leaseName, metav1.GetOptions{})
		Expect(err).NotTo(HaveOccurred())
		Expect(*newLease.Spec.HolderIdentity).NotTo(HavePrefix(leader + "_"))
		Eventually(func(g Gomega) { g.Expect(gatewayPods(g)).To(HaveLen(2)) }, 120*time.Second).Should(Succeed())
		Eventually(func(g Gomega) {
			for _, p := range gatewayPods(g) {
				g.Expect(podReady(p)).To(BeTrue())
			}
		}, 120*time.Second).Should(Succeed())
		l.setPhase("after")
		waitRequests(l, "after", 200)
		l.finishAndReport("leader deletion")
	})

	exampleSpecs()

	It("measures the gateway pods' memory with 1,000 routes", func(ctx SpecContext) {
		ns := "e2e-routes"
		mustKubectl(namespaceYAML(ns), "apply", "-f", "-")
		mustKubectl(string(pki.SecretsYAML("e2e", ns,
			tlsSecret("many-tls", backendLeaf(ns, "many", backendCA)), caSecret("backend-ca", backendCA), tlsSecret("edge-tls", edgeLeaf))), "apply", "-f", "-")
		var b strings.Builder
		b.WriteString(backendYAML(ns, "many", 1, "many-tls") + "---\n" + transportYAML(ns, "backends", "backend-ca"))
		const routes = 1000
		for i := 0; i < routes; i++ {
			b.WriteString("---\n" + ingressRouteYAML(ns, fmt.Sprintf("r%04d", i), fmt.Sprintf("r%04d.e2e.test", i), "many", "backends", "edge-tls"))
		}
		start := time.Now()
		mustKubectl(b.String(), "apply", "--server-side", "-f", "-")
		c := gatewayClient(false)
		Eventually(func(g Gomega) {
			for _, i := range []int{0, routes / 2, routes - 1} {
				r, err := get(c, fmt.Sprintf("https://r%04d.e2e.test/", i))
				g.Expect(err).NotTo(HaveOccurred())
				g.Expect(r.status).To(Equal(http.StatusOK))
			}
		}, 3*time.Minute).Should(Succeed())
		Eventually(func(g Gomega) {
			var list bhv1.IngressRouteList
			g.Expect(k8s.List(bg(), &list, client.InNamespace(ns))).To(Succeed())
			ready := 0
			for _, r := range list.Items {
				for _, cnd := range r.Status.Conditions {
					if cnd.Type == "Ready" && cnd.Status == metav1.ConditionTrue {
						ready++
					}
				}
			}
			g.Expect(ready).To(Equal(routes))
		}, 5*time.Minute, time.Second).Should(Succeed())
		AddReportEntry("1,000 routes served and Ready after", time.Since(start).Round(time.Second).String())
		mem := map[string]string{}
		for _, p := range gatewayPods(Default) {
			mem[p.Name] = mib(workingSet(podCgroup(p)))
		}
		AddReportEntry("gateway pod memory, 1,003 routes", mem)
		fmt.Fprintf(GinkgoWriter, "gateway pod memory with %d routes: %v\n", routes+3, mem)
	})

	AfterAll(func() {
		// RBAC sufficient: nothing the gateway asked the API server for was refused.
		Expect(gatewayLogs()).NotTo(MatchRegexp(rbacDenied))
	})
})

// waitRequests waits until the load made n requests in phase.
func waitRequests(l *load, phase string, n int) {
	GinkgoHelper()
	Eventually(func() int {
		l.mu.Lock()
		defer l.mu.Unlock()
		total := 0
		for k, v := range l.counts {
			if strings.HasPrefix(k, phase+": ") {
				total += v
			}
		}
		return total
	}, 2*time.Minute).Should(BeNumerically(">=", n))
}

func mib(b int64) string { return fmt.Sprintf("%.1f MiB", float64(b)/(1<<20)) }

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
