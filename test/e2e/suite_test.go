// Package e2e tests Bridgehead as users run it: the image built from source
// (hack/image.sh), installed with the Helm chart on a real single-node Kubernetes
// (test/node: etcd, kube-apiserver, kube-controller-manager, kube-scheduler, containerd,
// kubelet, kube-proxy), with backends as real pods behind Services, and clients on this
// machine reaching the gateway through its NodePort on the pod bridge.
//
// Traffic goes only to the bridge the node creates (10.245.0.0/24) and to pod addresses
// on it. The suite needs root; `make test-e2e` runs it (and `make test`).
package e2e

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/tools/clientcmd"
	"sigs.k8s.io/controller-runtime/pkg/client"

	bhv1 "github.com/bridgehead/bridgehead/api/v1alpha1"
	"github.com/bridgehead/bridgehead/internal/pki"
	"github.com/bridgehead/bridgehead/internal/testenv"
	"github.com/bridgehead/bridgehead/test/node"
)

const (
	gatewayNS = "bridgehead-system"
	release   = "bh"
	// gatewayName is the chart's full name for the release: Deployment, Service, Lease prefix.
	gatewayName = "bridgehead-bh"
	image       = "docker.io/bridgehead/bridgehead:dev"
	// websecureNodePort is where clients on this machine reach the gateway: the Service's
	// NodePort on the node's bridge address.
	websecureNodePort = 30443
)

var (
	cluster     *node.Cluster
	startedNode bool // the suite started the node, so it takes it down
	k8s         client.Client
	cs          *kubernetes.Clientset
	repo        = testenv.RepoRoot()
	kubectlBin  string
	helmBin     = filepath.Join(testenv.RepoRoot(), "bin", "helm")
	gatewayAddr = fmt.Sprintf("%s:%d", node.BridgeIP, websecureNodePort)
	edgeCA      = pki.MustCA("Bridgehead e2e edge CA")
	backendCA   = pki.MustCA("Bridgehead e2e backend CA")
)

func TestE2E(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "Bridgehead on a real single-node Kubernetes")
}

var _ = BeforeSuite(func(ctx SpecContext) {
	if os.Geteuid() != 0 {
		Skip("the end-to-end suite runs a real node (network namespaces, mounts, cgroups): it needs root")
	}
	SetDefaultEventuallyTimeout(60 * time.Second)
	SetDefaultEventuallyPollingInterval(250 * time.Millisecond)

	assets := os.Getenv("KUBEBUILDER_ASSETS")
	if assets == "" {
		assets = strings.TrimSpace(run(filepath.Join(repo, "hack", "envtest.sh")))
	}
	kubectlBin = filepath.Join(assets, "kubectl")
	Expect(helmBin).To(BeAnExistingFile(), "bin/helm is missing: run `make helm` (make test-e2e does)")

	start := time.Now()
	run(filepath.Join(repo, "hack", "image.sh"), filepath.Join(repo, "bin"))
	fmt.Fprintf(GinkgoWriter, "images built in %s\n", time.Since(start).Round(time.Second))

	cfg := node.Config{StateDir: node.DefaultStateDir(), BinDir: assets, PauseImageTar: filepath.Join(repo, "bin", "pause-image.tar")}
	_, attachErr := node.Attach(cfg, nil)
	startedNode = attachErr != nil
	start = time.Now()
	var err error
	cluster, err = node.Up(ctx, cfg, GinkgoWriter)
	Expect(err).NotTo(HaveOccurred())
	AddReportEntry("node up", time.Since(start).Round(time.Second).String())
	Expect(cluster.Import(ctx, filepath.Join(repo, "bin", "bridgehead-image.tar"))).To(Succeed())

	rc, err := clientcmd.BuildConfigFromFlags("", cluster.Kubeconfig())
	Expect(err).NotTo(HaveOccurred())
	scheme := runtime.NewScheme()
	Expect(clientgoscheme.AddToScheme(scheme)).To(Succeed())
	Expect(bhv1.AddToScheme(scheme)).To(Succeed())
	Expect(apiextensionsv1.AddToScheme(scheme)).To(Succeed())
	k8s, err = client.New(rc, client.Options{Scheme: scheme})
	Expect(err).NotTo(HaveOccurred())
	cs, err = kubernetes.NewForConfig(rc)
	Expect(err).NotTo(HaveOccurred())
}, NodeTimeout(40*time.Minute))

var _ = AfterSuite(func(ctx SpecContext) {
	if cluster == nil {
		return
	}
	if !startedNode {
		// Someone's `make cluster-up`: leave their node, take our release and namespaces.
		_, _ = exec.Command(helmBin, "--kubeconfig", cluster.Kubeconfig(), "uninstall", release, "-n", gatewayNS, "--wait").CombinedOutput()
		for _, ns := range testNamespaces {
			_, _ = exec.Command(kubectlBin, "--kubeconfig", cluster.Kubeconfig(), "delete", "namespace", ns, "--ignore-not-found", "--wait=false").CombinedOutput()
		}
		return
	}
	Expect(cluster.Down(ctx)).To(Succeed())
	// `make cluster-down` runs the same Down; nothing may be left on the machine.
	Expect(cluster.Leftovers()).To(BeEmpty())
}, NodeTimeout(5*time.Minute))

// testNamespaces are the namespaces the specs create (besides the gateway's).
var testNamespaces = []string{"e2e-apps", "e2e-scale", "demo", "e2e-routes", gatewayNS}

// run runs a command to completion and returns its standard output; it fails the spec,
// with the output, when the command fails.
func run(name string, args ...string) string {
	GinkgoHelper()
	cmd := exec.Command(name, args...)
	cmd.Dir = repo
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	Expect(err).NotTo(HaveOccurred(), "%s %s: %s%s", name, strings.Join(args, " "), out, stderr.String())
	return string(out)
}

// kubectl runs the real kubectl against the node, stdin optional.
func kubectl(stdin string, args ...string) (string, error) {
	cmd := exec.Command(kubectlBin, append([]string{"--kubeconfig", cluster.Kubeconfig()}, args...)...)
	if stdin != "" {
		cmd.Stdin = strings.NewReader(stdin)
	}
	out, err := cmd.CombinedOutput()
	return string(out), err
}

func mustKubectl(stdin string, args ...string) string {
	GinkgoHelper()
	out, err := kubectl(stdin, args...)
	Expect(err).NotTo(HaveOccurred(), "kubectl %s: %s", strings.Join(args, " "), out)
	return out
}

func bg() context.Context { return context.Background() }
