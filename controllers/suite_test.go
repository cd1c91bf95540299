package controllers

import (
	"context"
	"sync"
	"testing"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"k8s.io/apimachinery/pkg/runtime"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	"github.com/bridgehead/bridgehead/internal/snapshot"
	"github.com/bridgehead/bridgehead/internal/source/kube"
	"github.com/bridgehead/bridgehead/internal/testenv"
	"github.com/bridgehead/bridgehead/internal/translate"
)

var (
	env     *testenv.Env
	k8s     client.Client
	store   *snapshot.Store
	gateway *Rebuilder
	cancel  context.CancelFunc
	scheme  = newScheme()

	rebuildsMu sync.Mutex
	rebuilds   int
)

func TestControllers(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "Rebuilder (the gateway controller) against a real API server")
}

var _ = BeforeSuite(func() {
	ctrl.SetLogger(zap.New(zap.WriteTo(GinkgoWriter), zap.UseDevMode(true)))
	SetDefaultEventuallyTimeout(10 * time.Second)

	var err error
	env, err = testenv.Start(GinkgoT().TempDir())
	Expect(err).NotTo(HaveOccurred())
	k8s, err = client.New(env.Config, client.Options{Scheme: scheme})
	Expect(err).NotTo(HaveOccurred())

	mgr, err := ctrl.NewManager(env.Config, ctrl.Options{
		Scheme:                 scheme,
		Metrics:                metricsserver.Options{BindAddress: "0"},
		HealthProbeBindAddress: "0",
		// As the gateway runs: statuses kept as digests (the writer reads the server).
		Cache: cache.Options{DefaultTransform: CacheTransform()},
	})
	Expect(err).NotTo(HaveOccurred())

	var ctx context.Context
	ctx, cancel = context.WithCancel(context.Background())
	store = &snapshot.Store{}
	opts := translate.DefaultOptions()
	opts.GatewayNamespace = "bridgehead"
	// A user TCP entry point, for TCPRoute listeners (gatewayapi_tlsroute_test.go).
	opts.ListenerPorts = translate.DefaultListenerPorts()
	opts.ListenerPorts[9300] = translate.ListenerEntryPoint{Name: "tcp9300", Kind: "tcp"}
	gateway, err = Setup(ctx, mgr, Config{
		Options: opts,
		Store:   store,
		OnRebuild: func(*snapshot.Snapshot, translate.Statuses, error) {
			rebuildsMu.Lock()
			rebuilds++
			rebuildsMu.Unlock()
		},
	})
	Expect(err).NotTo(HaveOccurred())
	go func() {
		defer GinkgoRecover()
		Expect(mgr.Start(ctx)).To(Succeed())
	}()
})

var _ = AfterSuite(func() {
	if cancel != nil {
		cancel()
	}
	if env != nil {
		Expect(env.Stop()).To(Succeed())
	}
})

func newScheme() *runtime.Scheme {
	s, err := kube.NewScheme()
	if err != nil {
		panic(err)
	}
	return s
}

func rebuildCount() int {
	rebuildsMu.Lock()
	defer rebuildsMu.Unlock()
	return rebuilds
}
