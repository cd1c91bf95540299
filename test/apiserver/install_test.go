package apiserver

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/yaml"

	"github.com/bridgehead/bridgehead/internal/testenv"
)

// helm runs the pinned helm that `make helm` links into bin/.
func helm(args ...string) *exec.Cmd {
	GinkgoHelper()
	path := filepath.Join(testenv.RepoRoot(), "bin", "helm")
	if _, err := os.Stat(path); err != nil {
		Fail("bin/helm is missing: run `make helm` (make test does)")
	}
	cmd := exec.Command(path, args...)
	cmd.Dir = testenv.RepoRoot()
	return cmd
}

func output(cmd *exec.Cmd) []byte {
	GinkgoHelper()
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	Expect(err).NotTo(HaveOccurred(), "%s: %s", strings.Join(cmd.Args, " "), stderr.String())
	return out
}

// applyDryRun sends manifests to the API server with kubectl apply --dry-run=server: the
// server validates and admits them (schemas, RBAC escalation checks, CRD validation) but
// stores nothing.
func applyDryRun(manifests []byte) string {
	GinkgoHelper()
	cmd := kubectl("apply", "--dry-run=server", "-f", "-")
	cmd.Stdin = bytes.NewReader(manifests)
	return string(output(cmd))
}

// objects splits a multi-document YAML stream.
func objects(manifests []byte) []*unstructured.Unstructured {
	GinkgoHelper()
	var out []*unstructured.Unstructured
	r := utilyaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(manifests)))
	for {
		doc, err := r.Read()
		if err != nil {
			break
		}
		u := &unstructured.Unstructured{}
		if err := yaml.Unmarshal(doc, &u.Object); err != nil || len(u.Object) == 0 {
			continue
		}
		out = append(out, u)
	}
	return out
}

func key(u *unstructured.Unstructured) string {
	return u.GetKind() + "/" + u.GetNamespace() + "/" + u.GetName()
}

// permissions flattens RBAC rules into "group resource verb" triples.
func permissions(u *unstructured.Unstructured) []string {
	rules, _, _ := unstructured.NestedSlice(u.Object, "rules")
	set := map[string]bool{}
	for _, r := range rules {
		rule := r.(map[string]any)
		strs := func(k string) []string {
			var out []string
			for _, v := range rule[k].([]any) {
				out = append(out, fmt.Sprint(v))
			}
			return out
		}
		for _, g := range strs("apiGroups") {
			for _, res := range strs("resources") {
				for _, v := range strs("verbs") {
					set[g+" "+res+" "+v] = true
				}
			}
		}
	}
	out := make([]string, 0, len(set))
	for p := range set {
		out = append(out, p)
	}
	sort.Strings(out)
	return out
}

var _ = Describe("installing Bridgehead", Ordered, func() {
	var helmDefault, kustomized []byte

	BeforeAll(func() {
		// The release namespace exists (helm install --create-namespace, or the
		// Namespace in config/default): a server-side dry run cannot create it first.
		for _, ns := range []string{"bridgehead-helm", "team-a", "team-b"} {
			create(namespace(ns))
		}
		helmDefault = output(helm("template", "bridgehead", "charts/bridgehead", "--namespace", "bridgehead", "--include-crds"))
		kustomized = output(kubectl("kustomize", "config/default"))
	})

	It("has a Helm chart that lints cleanly, with the defaults and with every option on", func() {
		output(helm("lint", "--strict", "charts/bridgehead"))
		output(helm("lint", "--strict", "charts/bridgehead", "--set", "serviceMonitor.enabled=true",
			"--set", "watchNamespaces={team-a,team-b}", "--set", "ingressClass.default=true", "--set", "publish.addresses={203.0.113.7}",
			"--set-json", `entryPoints=[{"name":"dns","port":5353,"servicePort":53,"protocol":"UDP"},{"name":"pg","port":5432,"nodePort":30432},{"name":"https2","port":9443,"protocol":"TLS"}]`))
	})

	It("opens entryPoints on the container and the Service (UDP for IngressRouteUDP, TCP for a TLS one), and passes them to serve", func() {
		rendered := output(helm("template", "udp", "charts/bridgehead", "--namespace", "bridgehead-helm",
			"--set-json", `entryPoints=[{"name":"dns","port":5353,"servicePort":53,"protocol":"UDP"},{"name":"pg","port":5432},{"name":"https2","port":9443,"protocol":"TLS"}]`))
		Expect(string(rendered)).To(And(
			ContainSubstring("- --entrypoint=dns=:5353/udp"), ContainSubstring("- --entrypoint=pg=:5432/tcp"), ContainSubstring("- --entrypoint=https2=:9443/tls"),
			ContainSubstring("- --udp-timeout=3s")))
		// A TLS entry point is a TCP port on the container and the Service (the API server
		// knows no TLS port protocol; the dry run below would refuse one).
		Expect(string(rendered)).To(And(
			MatchRegexp(`- name: https2\n\s+containerPort: 9443\n\s+protocol: TCP\n`),
			MatchRegexp(`- name: https2\n\s+port: 9443\n\s+targetPort: https2\n\s+protocol: TCP\n`)))
		out := applyDryRun(rendered)
		Expect(out).To(ContainSubstring("service/bridgehead-udp created (server dry run)"))
		Expect(out).To(ContainSubstring("deployment.apps/bridgehead-udp created (server dry run)"))
		_, err := helm("template", "udp", "charts/bridgehead", "--set-json", `entryPoints=[{"name":"DNS_1","port":53}]`).Output()
		Expect(err).To(HaveOccurred(), "a name that is not a port name must not render")
		_, err = helm("template", "udp", "charts/bridgehead", "--set-json", `entryPoints=[{"name":"h","port":9443,"protocol":"HTTPS"}]`).Output()
		Expect(err).To(HaveOccurred(), "a protocol serve does not take must not render")
	})

	It("renders a Helm chart the API server accepts", func() {
		out := applyDryRun(output(helm("template", "edge", "charts/bridgehead", "--namespace", "bridgehead-helm", "--include-crds")))
		Expect(out).To(ContainSubstring("deployment.apps/bridgehead-edge created (server dry run)"))
		Expect(out).To(ContainSubstring("clusterrole.rbac.authorization.k8s.io/bridgehead-edge created (server dry run)"))
		Expect(out).To(ContainSubstring("customresourcedefinition.apiextensions.k8s.io/ingressroutes.gateway.bridgehead.dev configured (server dry run)"))
	})

	It("renders, for a list of watched namespaces, Roles in those namespaces only", func() {
		manifests := output(helm("template", "edge", "charts/bridgehead", "--namespace", "bridgehead-helm",
			"--set", "watchNamespaces={team-a,team-b}"))
		var roles []string
		for _, u := range objects(manifests) {
			switch u.GetKind() {
			case "Role":
				roles = append(roles, u.GetNamespace()+"/"+u.GetName())
			case "ClusterRole":
				Expect(permissions(u)).To(Equal([]string{
					" namespaces get", " namespaces list", " namespaces watch",
					"gateway.networking.k8s.io gatewayclasses get", "gateway.networking.k8s.io gatewayclasses list", "gateway.networking.k8s.io gatewayclasses watch",
					"gateway.networking.k8s.io gatewayclasses/status get", "gateway.networking.k8s.io gatewayclasses/status patch", "gateway.networking.k8s.io gatewayclasses/status update",
					"networking.k8s.io ingressclasses get", "networking.k8s.io ingressclasses list", "networking.k8s.io ingressclasses watch",
				}), "only the cluster-scoped kinds (IngressClasses, Namespaces for selectors, GatewayClasses) are read cluster-wide")
			case "Deployment":
				Expect(fmt.Sprint(u.Object)).To(ContainSubstring("--watch-namespaces=bridgehead-helm,team-a,team-b"))
			}
		}
		Expect(roles).To(ConsistOf("team-a/bridgehead-edge-watch", "team-b/bridgehead-edge-watch",
			"bridgehead-helm/bridgehead-edge-watch", "bridgehead-helm/bridgehead-edge"))
		Expect(applyDryRun(manifests)).To(ContainSubstring("role.rbac.authorization.k8s.io/bridgehead-edge-watch created (server dry run)"))
	})

	It("has a kustomize install (kubectl apply -k config/default) the API server accepts", func() {
		out := string(output(kubectl("apply", "--dry-run=server", "-k", "config/default")))
		Expect(out).To(ContainSubstring("deployment.apps/bridgehead created (server dry run)"))
		Expect(out).To(ContainSubstring("ingressclass.networking.k8s.io/bridgehead configured (server dry run)"))
	})

	It("installs the same objects with the same settings through Helm and kustomize", func() {
		byKey := func(manifests []byte) map[string]*unstructured.Unstructured {
			m := map[string]*unstructured.Unstructured{}
			for _, u := range objects(manifests) {
				if u.GetKind() != "Namespace" { // helm install --create-namespace makes it
					m[key(u)] = u
				}
			}
			return m
		}
		h, k := byKey(helmDefault), byKey(kustomized)
		// The chart also installs the Gateway API's Standard CRDs (crds/, when missing) and a
		// GatewayClass; the kustomize install leaves the Gateway API to the cluster's own
		// installation of it (config/default says so).
		for name, u := range h {
			if u.GetKind() == "GatewayClass" || (u.GetKind() == "CustomResourceDefinition" && strings.HasSuffix(u.GetName(), ".gateway.networking.k8s.io")) {
				delete(h, name)
			}
		}
		keys := func(m map[string]*unstructured.Unstructured) []string {
			var out []string
			for k := range m {
				out = append(out, k)
			}
			sort.Strings(out)
			return out
		}
		Expect(keys(h)).To(Equal(keys(k)))
		for name, hu := range h {
			ku := k[name]
			switch hu.GetKind() {
			case "ClusterRole", "Role":
				Expect(permissions(hu)).To(Equal(permissions(ku)), "%s: the chart's rules must match the generated config/rbac/role.yaml", name)
			case "Deployment", "Service", "PodDisruptionBudget", "IngressClass", "CustomResourceDefinition":
				Expect(hu.Object["spec"]).To(Equal(ku.Object["spec"]), name)
			case "ClusterRoleBinding", "RoleBinding":
				Expect(hu.Object["subjects"]).To(Equal(ku.Object["subjects"]), name)
				Expect(hu.Object["roleRef"]).To(Equal(ku.Object["roleRef"]), name)
			}
		}
	})

	It("runs the gateway locked down: non-root, read-only root file system, no privilege escalation, no capabilities", func() {
		for _, u := range objects(helmDefault) {
			if u.GetKind() != "Deployment" {
				continue
			}
			pod, _, _ := unstructured.NestedMap(u.Object, "spec", "template", "spec")
			Expect(pod["securityContext"]).To(HaveKeyWithValue("runAsNonRoot", true))
			c := pod["containers"].([]any)[0].(map[string]any)
			Expect(c["securityContext"]).To(And(
				HaveKeyWithValue("readOnlyRootFilesystem", true),
				HaveKeyWithValue("allowPrivilegeEscalation", false),
				HaveKeyWithValue("capabilities", map[string]any{"drop": []any{"ALL"}}),
			))
			for _, p := range c["ports"].([]any) {
				Expect(p.(map[string]any)["containerPort"]).To(BeNumerically(">=", 1024), "binds to non-privileged ports")
			}
			Expect(c["readinessProbe"]).To(HaveKeyWithValue("httpGet", map[string]any{"path": "/readyz", "port": "admin"}))
			Expect(c["livenessProbe"]).To(HaveKeyWithValue("httpGet", map[string]any{"path": "/healthz", "port": "admin"}))
		}
	})
})
