// Package apiserver tests Bridgehead in cluster mode against a real kube-apiserver and
// etcd (envtest, as `make run-cluster` starts them), the built `bridgehead` binary run as
// replicas against it, real TLS clients and backends, and the Helm chart and kustomize
// install applied to the API server with kubectl.
package apiserver

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"

	"github.com/bridgehead/bridgehead/internal/source/kube"
	"github.com/bridgehead/bridgehead/internal/testenv"
	"github.com/bridgehead/bridgehead/internal/translate"
)

var (
	env    *testenv.Env
	k8s    client.Client
	binary string // the bridgehead binary built for this run
	scheme = newScheme()
)

func TestCluster(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "Bridgehead in cluster mode against a real API server (no nodes)")
}

var _ = BeforeSuite(func() {
	ctrl.SetLogger(zap.New(zap.WriteTo(GinkgoWriter), zap.UseDevMode(true)))
	SetDefaultEventuallyTimeout(20 * time.Second)
	SetDefaultEventuallyPollingInterval(100 * time.Millisecond)

	dir := GinkgoT().TempDir()
	binary = filepath.Join(dir, "bridgehead")
	build := exec.Command("go", "build", "-o", dir+"/", "./cmd/bridgehead")
	build.Dir = testenv.RepoRoot()
	out, err := build.CombinedOutput()
	Expect(err).NotTo(HaveOccurred(), "building bridgehead: %s", out)

	env, err = testenv.Start(dir)
	Expect(err).NotTo(HaveOccurred())
	k8s, err = client.New(env.Config, client.Options{Scheme: scheme})
	Expect(err).NotTo(HaveOccurred())

	// What the chart and config/default install besides the gateway: its namespace (the
	// Lease, the default TLSOption) and the IngressClass.
	Expect(k8s.Create(bg(), &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "bridgehead"}})).To(Succeed())
	Expect(k8s.Create(bg(), &networkingv1.IngressClass{ObjectMeta: metav1.ObjectMeta{Name: "bridgehead"},
		Spec: networkingv1.IngressClassSpec{Controller: translate.IngressController}})).To(Succeed())
})

var _ = AfterSuite(func() {
	if env != nil {
		Expect(env.Stop()).To(Succeed())
	}
})

// newScheme holds what the gateway reads (kube.NewScheme: Kubernetes', ours, the Gateway API's).
func newScheme() *runtime.Scheme {
	s, err := kube.NewScheme()
	if err != nil {
		panic(err)
	}
	return s
}

// kubectl runs the kubectl built with the control plane against it.
func kubectl(args ...string) *exec.Cmd {
	cmd := exec.Command(env.Kubectl, append([]string{"--kubeconfig", env.Kubeconfig}, args...)...)
	cmd.Dir = testenv.RepoRoot()
	cmd.Env = append(os.Environ(), "KUBECONFIG="+env.Kubeconfig)
	return cmd
}
