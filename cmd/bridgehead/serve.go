package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/pprof"
	"os"
	"os/signal"
	"runtime"
	"syscall"
	"time"

	"github.com/bridgehead/bridgehead/internal/gcpace"
	"github.com/bridgehead/bridgehead/internal/memlimit"
	"github.com/bridgehead/bridgehead/internal/snapshot"
	"github.com/bridgehead/bridgehead/internal/translate"
	"github.com/bridgehead/bridgehead/proxy"
)

// serveFlags are the flags of `bridgehead serve`.
type serveFlags struct {
	proxy           proxyFlags // what the proxy serves with (listeners, timeouts, logs)
	dataplane       string     // deprecated: the proxy always runs in this process
	configDir       string
	kubeconfig      string
	namespace       string
	watchNamespaces string
	crossNamespace  bool
	externalName    bool
	clusterDomain   string
	expiryWarning   time.Duration
	leaderElect     bool
	watchTraefik    bool
	tlsProfile      string
	cluster         clusterFlags // cluster mode only: Ingress and leader election (cluster.go)
}

func parseServeFlags(args []string, stderr io.Writer) (*serveFlags, error) {
	f := &serveFlags{}
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	f.proxy.Register(fs)
	fs.StringVar(&f.dataplane, "dataplane", "in-process", "deprecated, no effect: the proxy runs in this process (the separate data-plane process was removed; README, Requirements)")
	fs.StringVar(&f.configDir, "config-dir", "", "standalone mode: serve the manifests in this folder instead of a cluster")
	fs.StringVar(&f.kubeconfig, "kubeconfig", "", "kubeconfig file (default: in-cluster, or $KUBECONFIG)")
	fs.StringVar(&f.namespace, "gateway-namespace", envOr("POD_NAMESPACE", "bridgehead"), "namespace of the default TLSOption and TLSStore")
	fs.StringVar(&f.watchNamespaces, "watch-namespaces", "", "comma-separated namespaces to watch (default: all)")
	fs.BoolVar(&f.crossNamespace, "allow-cross-namespace", false, "allow references to Secrets, Services, TLSOptions and Middlewares in other namespaces")
	fs.BoolVar(&f.externalName, "allow-external-name-services", false, "allow ExternalName Services as backends (they can point anywhere)")
	fs.StringVar(&f.clusterDomain, "cluster-domain", "cluster.local", "cluster DNS domain, for the names a backend certificate may carry")
	fs.DurationVar(&f.expiryWarning, "certificate-expiry-warning", 14*24*time.Hour, "warn about certificates expiring within this time")
	fs.BoolVar(&f.leaderElect, "leader-elect", true, "cluster mode: elect one replica to write status (every replica serves)")
	fs.BoolVar(&f.watchTraefik, "watch-traefik-crds", false, "cluster mode: also serve objects of Traefik's CRD groups (traefik.io, traefik.containo.us) when those CRDs are installed, read as ours")
	fs.StringVar(&f.tlsProfile, "tls-default-profile", string(translate.TLSProfileIntermediate), "TLS 1.2 cipher suites of client-facing TLS policies whose TLSOption lists none: intermediate (ECDHE with AES-GCM or CHACHA20-POLY1305, Mozilla's intermediate profile) or legacy (adds ECDHE with AES-CBC-SHA1 for old clients); TLS 1.3 is always Go's")
	f.cluster.register(fs)
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("serve: unexpected arguments %v", fs.Args())
	}
	if err := f.proxy.Check(); err != nil {
		return nil, err
	}
	if _, err := translate.ParseTLSProfile(f.tlsProfile); err != nil {
		return nil, fmt.Errorf("--tls-default-profile: %w", err)
	}
	switch f.dataplane {
	case "auto", "in-process":
	case "process":
		return nil, errors.New("--dataplane=process: the separate data-plane process was removed; the proxy runs in this process (measurements in docs/measurements/dataplane-split.md): drop the flag")
	default:
		return nil, fmt.Errorf("--dataplane: %q is not a mode; the flag has no effect and can be dropped", f.dataplane)
	}
	return f, nil
}

// signalContext ends on SIGINT (Ctrl-C) or SIGTERM.
func signalContext() (context.Context, context.CancelFunc) {
	return signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
}

func envOr(key, def string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return def
}

func (f *serveFlags) logger(w io.Writer) (*slog.Logger, error) { return f.proxy.Logger(w) }

func (f *serveFlags) translateOptions() translate.Options {
	o := translate.DefaultOptions()
	o.GatewayNamespace = f.namespace
	o.AllowCrossNamespace = f.crossNamespace
	o.AllowExternalNameServices = f.externalName
	o.ClusterDomain = f.clusterDomain
	o.ExpiryWarning = f.expiryWarning
	o.TLSDefaultProfile = translate.TLSProfile(f.tlsProfile)
	o.EntryPoints = f.proxy.EntryPoints.protocols()
	o.ListenerPorts = f.proxy.listenerPorts()
	f.cluster.apply(&o)
	return o
}

// advertisedPort is the public port redirects to websecure name: behind a Service that
// maps 443 to the pod's port, 443.
func (f *serveFlags) advertisedPort() string {
	if p := f.cluster.redirectPort; p != "" || f.configDir != "" {
		return p
	}
	return "443"
}

// newProxy serves store in this process. ready is the control side's readiness (nil:
// always ready).
func (f *serveFlags) newProxy(store *snapshot.Store, ready func() error, log *slog.Logger, stdout io.Writer) (*proxy.Server, error) {
	cfg := f.proxy.Config(log, stdout, f.advertisedPort())
	cfg.Ready = ready
	srv, err := proxy.New(cfg, store)
	if err != nil {
		return nil, err
	}
	if f.proxy.Pprof {
		registerProfiler(srv)
	}
	return srv, nil
}

// registerProfiler serves Go's profiler on the admin port (--pprof), with heap profiling
// back on (main turns it off: its bucket table alone is over a MiB).
func registerProfiler(srv *proxy.Server) {
	runtime.MemProfileRate = 512 * 1024
	srv.HandleAdmin("/debug/pprof/", http.HandlerFunc(pprof.Index))
	srv.HandleAdmin("/debug/pprof/cmdline", http.HandlerFunc(pprof.Cmdline))
	srv.HandleAdmin("/debug/pprof/profile", http.HandlerFunc(pprof.Profile))
	srv.HandleAdmin("/debug/pprof/symbol", http.HandlerFunc(pprof.Symbol))
	srv.HandleAdmin("/debug/pprof/trace", http.HandlerFunc(pprof.Trace))
}

// serve runs the gateway until SIGINT or SIGTERM.
func serve(args []string, stdout, stderr io.Writer) int {
	f, err := parseServeFlags(args, stderr)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		fmt.Fprintln(stderr, err)
		return 2
	}
	log, err := f.logger(stderr)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 2
	}
	if set, cgroup := memlimit.Apply(); set > 0 {
		log.Info("the Go runtime's soft memory limit is set below the cgroup's (GOMEMLIMIT overrides it)",
			"limitMiB", set>>20, "cgroupLimitMiB", cgroup>>20)
	}
	ctx, stop := signalContext()
	defer stop()

	store := &snapshot.Store{}
	// The control plane's heap grows with the routes: GOGC follows it, collection by
	// collection.
	defer gcpace.New().Follow()()
	if f.configDir != "" {
		err = runStandalone(ctx, f, store, log, stdout, stderr)
	} else {
		err = runCluster(ctx, f, store, log, stdout, stderr)
	}
	if err != nil {
		log.Error("bridgehead stopped", "error", err.Error())
		return 1
	}
	return 0
}
