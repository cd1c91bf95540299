package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/bridgehead/bridgehead/internal/dataplane"
	"github.com/bridgehead/bridgehead/internal/snapshot"
	"github.com/bridgehead/bridgehead/internal/translate"
	"github.com/bridgehead/bridgehead/proxy"
	"github.com/bridgehead/bridgehead/proxy/upstream"
)

// serveFlags are the flags of `bridgehead serve`.
type serveFlags struct {
	proxy           dataplane.Flags // what the data plane serves with (listeners, timeouts, logs)
	dataplane       string
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
	fs.StringVar(&f.dataplane, "dataplane", "auto", "where the proxy runs: process (the "+dataplane.BinaryName+" binary beside this one, fed snapshots: it maps a fraction of this process's memory), in-process, or auto (process when that binary is there)")
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
	case "auto", "process", "in-process":
	default:
		return nil, fmt.Errorf("--dataplane: %q is none of process, in-process, auto", f.dataplane)
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

// dataPlaneServer is what the control code needs of the proxy, in this process
// (proxy.Server) or in its own (dataplane.Process).
type dataPlaneServer interface {
	HandleAdmin(pattern string, h http.Handler)
	Listen() error
	Addrs() map[string]string
	Serve(ctx context.Context) error
	Latest() []upstream.Observation
	Changed() <-chan struct{}
}

// inProcess is the proxy in this process.
type inProcess struct{ *proxy.Server }

func (s inProcess) Latest() []upstream.Observation { return s.Observations().Latest() }
func (s inProcess) Changed() <-chan struct{}       { return s.Observations().Changed() }

// newDataPlane starts serving store: in a data-plane process when --dataplane allows and
// the binary is there, else here. ready is the control side's readiness (nil: always).
func (f *serveFlags) newDataPlane(store *snapshot.Store, ready func() error, log *slog.Logger, stdout, stderr io.Writer) (dataPlaneServer, error) {
	binary := ""
	if f.dataplane != "in-process" {
		binary = dataplane.Find()
		if binary == "" && f.dataplane == "process" {
			return nil, fmt.Errorf("--dataplane=process: no %s beside this executable (make build puts it in bin/)", dataplane.BinaryName)
		}
	}
	if binary != "" {
		p := &dataplane.Process{Binary: binary, Flags: &f.proxy, AdvertisedPort: f.advertisedPort(), Ready: ready, Log: log, Stdout: stdout, Stderr: stderr}
		p.Attach(store)
		return p, nil
	}
	cfg := f.proxy.Config(log, stdout, f.advertisedPort())
	cfg.Ready = ready
	srv, err := proxy.New(cfg, store)
	if err != nil {
		return nil, err
	}
	if f.proxy.Pprof {
		dataplane.RegisterProfiler(srv)
	}
	return inProcess{srv}, nil
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
	ctx, stop := signalContext()
	defer stop()

	store := &snapshot.Store{}
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
