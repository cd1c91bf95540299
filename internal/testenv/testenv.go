// Package testenv starts a real kube-apiserver and etcd (envtest) with Bridgehead's CRDs
// installed, for test suites across the repository.
package testenv

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"

	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
)

// RepoRoot is the repository's top directory, found from this file's location so tests
// work from any package directory.
func RepoRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..")
}

// Env is a running control plane.
type Env struct {
	*envtest.Environment
	Config *rest.Config
	// Kubeconfig is the path of a kubeconfig file for real clients such as kubectl.
	Kubeconfig string
	// Kubectl is the path of the kubectl built beside the control plane.
	Kubectl string
}

// Start starts kube-apiserver and etcd from $KUBEBUILDER_ASSETS (set by `make test`) and
// installs the CRDs from config/crd/bases and the Gateway API's Standard channel (config/crd/gateway-api). dir receives the kubeconfig file.
func Start(dir string) (*Env, error) {
	assets := os.Getenv("KUBEBUILDER_ASSETS")
	if assets == "" {
		return nil, fmt.Errorf("KUBEBUILDER_ASSETS is not set: run the tests with `make test` (or `make test-integration`), which builds kube-apiserver and etcd from source and sets it")
	}
	env := &envtest.Environment{
		CRDDirectoryPaths:     []string{filepath.Join(RepoRoot(), "config", "crd", "bases"), filepath.Join(RepoRoot(), "config", "crd", "gateway-api")},
		ErrorIfCRDPathMissing: true,
		BinaryAssetsDirectory: assets,
	}
	cfg, err := env.Start()
	if err != nil {
		// Start may fail after it launched etcd and kube-apiserver (e.g. a CRD the server
		// refuses): stop them, or they outlive the test run.
		_ = env.Stop()
		return nil, fmt.Errorf("starting envtest from %s: %w", assets, err)
	}
	user, err := env.AddUser(envtest.User{Name: "admin", Groups: []string{"system:masters"}}, nil)
	if err != nil {
		_ = env.Stop()
		return nil, fmt.Errorf("adding an admin user: %w", err)
	}
	kubeconfig, err := user.KubeConfig()
	if err != nil {
		_ = env.Stop()
		return nil, fmt.Errorf("writing a kubeconfig: %w", err)
	}
	path := filepath.Join(dir, "kubeconfig")
	if err := os.WriteFile(path, kubeconfig, 0o600); err != nil {
		_ = env.Stop()
		return nil, err
	}
	return &Env{Environment: env, Config: cfg, Kubeconfig: path, Kubectl: filepath.Join(assets, "kubectl")}, nil
}
