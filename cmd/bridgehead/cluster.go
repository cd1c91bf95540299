package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/go-logr/logr"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	"k8s.io/klog/v2"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	"github.com/bridgehead/bridgehead/controllers"
	"github.com/bridgehead/bridgehead/internal/snapshot"
	"github.com/bridgehead/bridgehead/internal/source/kube"
	"github.com/bridgehead/bridgehead/internal/statuspage"
	"github.com/bridgehead/bridgehead/internal/translate"
)

// clusterFlags are the serve flags that only matter in cluster mode: which Ingresses are
// served, what their status says, and how replicas elect the one that writes status.
type clusterFlags struct {
	ingressClass   string
	withoutClass   bool
	publishService string
	publishAddress string
	redirectPort   string
	leaseName      string
	leaseDuration  time.Duration
	renewDeadline  time.Duration
	retryPeriod    time.Duration
	apiQPS         float64
	apiBurst       int
}

func (c *clusterFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&c.ingressClass, "ingress-class", translate.DefaultIngressClass,
		"serve the Ingresses of this IngressClass (its spec.controller must be "+translate.IngressController+"), and those with the legacy kubernetes.io/ingress.class annotation set to it")
	fs.BoolVar(&c.withoutClass, "ingress-without-class", false,
		"also serve Ingresses that name no class when no IngressClass is the cluster's default, as Traefik does (off: they are listed as not served by status and lint, and logged once)")
	fs.StringVar(&c.publishService, "publish-service", "",
		"NAMESPACE/NAME of the Service in front of the gateway; its addresses go into status.loadBalancer of every served Ingress")
	fs.StringVar(&c.publishAddress, "publish-address", "",
		"comma-separated IPs or host names to put into status.loadBalancer of every served Ingress (instead of --publish-service)")
	fs.StringVar(&c.redirectPort, "redirect-port", "",
		"the port clients reach websecure on, for HTTPS redirects (--redirect-to-https, and Ingresses with bridgehead.dev/ssl-redirect); default 443, left out of the URL")
	fs.StringVar(&c.leaseName, "leader-election-id", "bridgehead-status-writer", "name of the Lease (in --gateway-namespace) that elects the replica writing status")
	fs.DurationVar(&c.leaseDuration, "leader-elect-lease-duration", 30*time.Second, "how long other replicas wait before replacing a leader that stopped renewing")
	fs.DurationVar(&c.renewDeadline, "leader-elect-renew-deadline", 15*time.Second, "how long the leader retries renewing before it stops writing status")
	fs.DurationVar(&c.retryPeriod, "leader-elect-retry-period", 7500*time.Millisecond, "how often replicas try to acquire or renew the Lease")
	// client-go's own default (5 per second) would take over half an hour to write the
	// statuses of 10,000 routes after a start; the API server's priority and fairness
	// still protects it from a gateway that writes faster.
	fs.Float64Var(&c.apiQPS, "kube-api-qps", 50, "requests per second to the API server (status writes, Events, leader election), sustained")
	fs.IntVar(&c.apiBurst, "kube-api-burst", 100, "requests to the API server allowed in a burst above --kube-api-qps")
}

func (c *clusterFlags) apply(o *translate.Options) {
	o.IngressClass = c.ingressClass
	o.IngressWithoutClass = c.withoutClass
	o.RedirectPort = c.redirectPort
}

// gatewayConfig turns the flags into the controller's configuration.
func (f *serveFlags) gatewayConfig(store *snapshot.Store) (controllers.Config, error) {
	c := f.cluster
	cfg := controllers.Config{Options: f.translateOptions(), Store: store, WatchTraefik: f.watchTraefik}
	if c.apiQPS <= 0 || c.apiBurst < 1 {
		return cfg, fmt.Errorf("--kube-api-qps %v, --kube-api-burst %d: both must be positive (defaults 50 and 100)", c.apiQPS, c.apiBurst)
	}
	if c.publishService != "" && c.publishAddress != "" {
		return cfg, fmt.Errorf("--publish-service and --publish-address: set one of them")
	}
	if c.publishService != "" {
		ns, name, ok := strings.Cut(c.publishService, "/")
		if !ok || ns == "" || name == "" {
			return cfg, fmt.Errorf("--publish-service %q: write NAMESPACE/NAME", c.publishService)
		}
		cfg.PublishService = types.NamespacedName{Namespace: ns, Name: name}
		cfg.EntryPointPorts = f.proxy.ownListenerPorts()
	}
	for _, a := range strings.Split(c.publishAddress, ",") {
		if a = strings.TrimSpace(a); a != "" {
			cfg.PublishAddresses = append(cfg.PublishAddresses, a)
		}
	}
	if c.redirectPort != "" {
		if p, err := strconv.Atoi(c.redirectPort); err != nil || p < 1 || p > 65535 {
			return cfg, fmt.Errorf("--redirect-port %q: want a port number", c.redirectPort)
		}
	}
	if f.leaderElect {
		cfg.LeaderElection = &controllers.LeaderElection{
			Namespace:     f.namespace,
			Name:          c.leaseName,
			Identity:      identity(),
			LeaseDuration: c.leaseDuration,
			RenewDeadline: c.renewDeadline,
			RetryPeriod:   c.retryPeriod,
		}
	}
	return cfg, nil
}

// identity names this replica in the Lease: the pod name (or host name) and a random
// suffix, so a restarted pod never mistakes the old lease for its own.
func identity() string {
	name := os.Getenv("POD_NAME")
	if name == "" {
		name, _ = os.Hostname()
	}
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	return name + "_" + hex.EncodeToString(b)
}

// runCluster serves from the Kubernetes API: the controller builds snapshots from its
// cache on every replica; the leader alone writes status.
func runCluster(ctx context.Context, f *serveFlags, store *snapshot.Store, log *slog.Logger, stdout, stderr io.Writer) error {
	gwCfg, err := f.gatewayConfig(store)
	if err != nil {
		return err
	}
	restCfg, err := f.apiConfig()
	if err != nil {
		return err
	}
	scheme, err := kube.NewScheme()
	if err != nil {
		return err
	}
	// One log format for everything the process writes: client-go (leader election,
	// reflectors) logs through klog, controller-runtime's packages through its global
	// logger; both go to the same JSON handler as ours, so log pipelines parse every line.
	logger := logr.FromSlogHandler(log.Handler())
	klog.SetLogger(logger)
	ctrl.SetLogger(logger)
	opts := ctrl.Options{
		Scheme:                 scheme,
		Logger:                 logger,
		Metrics:                metricsserver.Options{BindAddress: "0"},
		HealthProbeBindAddress: "0",
		// The manager's own leader election would stop the caches (and the traffic) when
		// the lease is lost; controllers.LeaderElection stops only the status writers.
		LeaderElection: false,
	}
	// The cache keeps every watched object: without managedFields, and with our kinds'
	// statuses as digests (see controllers.CacheTransform).
	opts.Cache.DefaultTransform = controllers.CacheTransform()
	if f.watchNamespaces != "" {
		opts.Cache.DefaultNamespaces = map[string]cache.Config{}
		for _, ns := range strings.Split(f.watchNamespaces, ",") {
			opts.Cache.DefaultNamespaces[strings.TrimSpace(ns)] = cache.Config{}
		}
	}
	mgr, err := ctrl.NewManager(restCfg, opts)
	if err != nil {
		return fmt.Errorf("creating the controller manager: %w", err)
	}
	gw, err := controllers.Setup(ctx, mgr, gwCfg)
	if err != nil {
		return err
	}
	srv, err := f.newProxy(store, func() error { return gw.ReadyCheck(nil) }, log, stdout)
	if err != nil {
		return err
	}
	srv.HandleAdmin("GET /snapshot/hash", snapshotHash(store))
	identity := ""
	if le := gwCfg.LeaderElection; le != nil {
		identity = le.Identity
	}
	srv.HandleAdmin("GET /leader", leaderStatus(gw, identity))
	srv.HandleAdmin("GET /{$}", statuspage.Handler(func() statuspage.Input {
		mode := "cluster, replica " + identity
		if gw.IsLeader() {
			mode += " (status writer)"
		}
		return statuspage.Input{Mode: mode, Snapshot: store.Load(), Statuses: gw.Statuses(),
			Observations: srv.Observations().Latest(), Now: time.Now(), ExpiryWarning: f.expiryWarning}
	}))
	if err := srv.Listen(); err != nil {
		return err
	}
	log.Info("bridgehead serving", "mode", "cluster", "addresses", srv.Addrs(), "ingressClass", gwCfg.Options.IngressClass, "identity", identity)
	go gw.WatchVerdicts(ctx, store, srv.Observations())
	errs := make(chan error, 2)
	go func() { errs <- mgr.Start(ctx) }()
	go func() { errs <- srv.Serve(ctx) }()
	err = <-errs
	if err == nil {
		err = <-errs
	}
	return err
}

// apiConfig is how the gateway talks to the API server: where (--kubeconfig, or in
// cluster), at what rate, and uncompressed.
func (f *serveFlags) apiConfig() (*rest.Config, error) {
	cfg, err := restConfig(f.kubeconfig)
	if err != nil {
		return nil, err
	}
	cfg.QPS, cfg.Burst = float32(f.cluster.apiQPS), f.cluster.apiBurst
	// Uncompressed answers, as kube-controller-manager and kube-scheduler ask for: the
	// gateway runs next to the API server, where gzip costs both sides CPU and buys no
	// time, and every watch held a gzip reader with its 32 KiB window (one per kind).
	cfg.DisableCompression = true
	return cfg, nil
}

func restConfig(kubeconfig string) (*rest.Config, error) {
	if kubeconfig != "" {
		return clientcmd.BuildConfigFromFlags("", kubeconfig)
	}
	return ctrl.GetConfig()
}

// snapshotHash serves the hash of the snapshot being served: replicas reading the same
// objects expose the same hash.
func snapshotHash(store *snapshot.Store) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		s := store.Load()
		if s == nil {
			http.Error(w, "no snapshot yet", http.StatusServiceUnavailable)
			return
		}
		_, _ = io.WriteString(w, s.Hash()+"\n")
	})
}

// leaderStatus says whether this replica holds the Lease and writes status, and how many
// status writes it has made.
func leaderStatus(gw *controllers.Rebuilder, identity string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(struct {
			Identity     string `json:"identity,omitempty"`
			Leader       bool   `json:"leader"`
			StatusWrites int64  `json:"statusWrites"`
		}{identity, gw.IsLeader(), gw.StatusWrites()})
	})
}
