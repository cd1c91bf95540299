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
	"net/netip"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/bridgehead/bridgehead/internal/snapshot"
	"github.com/bridgehead/bridgehead/internal/translate"
	"github.com/bridgehead/bridgehead/proxy"
)

// serveFlags are the flags of `bridgehead serve`.
type serveFlags struct {
	web, websecure, admin string
	redirect              bool
	configDir             string
	kubeconfig            string
	namespace             string
	watchNamespaces       string
	crossNamespace        bool
	externalName          bool
	clusterDomain         string
	expiryWarning         time.Duration
	logLevel              string
	accessLog             bool
	errorHeader           bool
	leaderElect           bool
	shutdownDelay, grace  time.Duration
	trustedProxies        string
	pprof                 bool
	watchTraefik          bool
	tcpIdleTimeout        time.Duration
	rsaSigner             string
	tcpCopy               string
	trusted               []netip.Prefix
	cluster               clusterFlags // cluster mode only: Ingress and leader election (cluster.go)
}

func parseServeFlags(args []string, stderr io.Writer) (*serveFlags, error) {
	f := &serveFlags{}
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&f.web, "web-address", ":8000", "address of the plain HTTP entry point \"web\"")
	fs.StringVar(&f.websecure, "websecure-address", ":8443", "address of the TLS entry point \"websecure\"")
	fs.StringVar(&f.admin, "admin-address", ":9000", "address of the admin port (/healthz, /readyz, /metrics); empty turns it off")
	fs.BoolVar(&f.redirect, "redirect-to-https", false, "redirect every request on web to websecure, except ACME http-01 challenges")
	fs.StringVar(&f.configDir, "config-dir", "", "standalone mode: serve the manifests in this folder instead of a cluster")
	fs.StringVar(&f.kubeconfig, "kubeconfig", "", "kubeconfig file (default: in-cluster, or $KUBECONFIG)")
	fs.StringVar(&f.namespace, "gateway-namespace", envOr("POD_NAMESPACE", "bridgehead"), "namespace of the default TLSOption and TLSStore")
	fs.StringVar(&f.watchNamespaces, "watch-namespaces", "", "comma-separated namespaces to watch (default: all)")
	fs.BoolVar(&f.crossNamespace, "allow-cross-namespace", false, "allow references to Secrets, Services, TLSOptions and Middlewares in other namespaces")
	fs.BoolVar(&f.externalName, "allow-external-name-services", false, "allow ExternalName Services as backends (they can point anywhere)")
	fs.StringVar(&f.clusterDomain, "cluster-domain", "cluster.local", "cluster DNS domain, for the names a backend certificate may carry")
	fs.DurationVar(&f.expiryWarning, "certificate-expiry-warning", 14*24*time.Hour, "warn about certificates expiring within this time")
	fs.StringVar(&f.logLevel, "log-level", "info", "log level: debug (logs every TLS handshake), info, warn, error")
	fs.BoolVar(&f.accessLog, "access-log", false, "write a JSON access log line per request to stdout")
	fs.BoolVar(&f.errorHeader, "error-header", true, "send the short failure reason in a Bridgehead-Error response header")
	fs.BoolVar(&f.leaderElect, "leader-elect", true, "cluster mode: elect one replica to write status (every replica serves)")
	fs.DurationVar(&f.shutdownDelay, "shutdown-delay", 0, "on SIGTERM, fail readiness for this long before closing listeners")
	fs.DurationVar(&f.grace, "grace", 30*time.Second, "on SIGTERM, how long in-flight requests may finish")
	fs.BoolVar(&f.watchTraefik, "watch-traefik-crds", false, "cluster mode: also serve objects of Traefik's CRD groups (traefik.io, traefik.containo.us) when those CRDs are installed, read as ours")
	fs.DurationVar(&f.tcpIdleTimeout, "tcp-idle-timeout", 0, "close a TCP route's connection when neither side sent anything for this long (0: never)")
	fs.StringVar(&f.tcpCopy, "tcp-copy", "event-loop", "how passthrough and plain TCP routes copy bytes: event-loop (epoll loops shared by all connections; Linux only, elsewhere goroutines) or goroutines (two per connection)")
	fs.StringVar(&f.rsaSigner, "rsa-signer", "openssl", "who signs TLS handshakes for RSA certificates: openssl (about 3.5x cheaper; used when the binary was built with cgo and libcrypto, else go) or go")
	fs.BoolVar(&f.pprof, "pprof", false, "serve Go's profiler at /debug/pprof/ on the admin port")
	fs.StringVar(&f.trustedProxies, "trusted-proxies", "", "comma-separated CIDRs of load balancers that send a PROXY protocol header (v1 or v2); their connections must start with one")
	f.cluster.register(fs)
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("serve: unexpected arguments %v", fs.Args())
	}
	if f.tcpCopy != "event-loop" && f.tcpCopy != "goroutines" {
		return nil, fmt.Errorf("--tcp-copy: %q is neither event-loop nor goroutines", f.tcpCopy)
	}
	if f.rsaSigner != "openssl" && f.rsaSigner != "go" {
		return nil, fmt.Errorf("--rsa-signer: %q is neither openssl nor go", f.rsaSigner)
	}
	for _, cidr := range strings.Split(f.trustedProxies, ",") {
		if cidr = strings.TrimSpace(cidr); cidr == "" {
			continue
		}
		prefix, err := netip.ParsePrefix(cidr)
		if err != nil {
			return nil, fmt.Errorf("--trusted-proxies: %q is not a CIDR such as 10.0.0.0/8", cidr)
		}
		f.trusted = append(f.trusted, prefix)
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

func (f *serveFlags) logger(w io.Writer) (*slog.Logger, error) {
	var level slog.Level
	if err := level.UnmarshalText([]byte(f.logLevel)); err != nil {
		return nil, fmt.Errorf("--log-level: %w (use debug, info, warn or error)", err)
	}
	return slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: level})), nil
}

func (f *serveFlags) translateOptions() translate.Options {
	o := translate.DefaultOptions()
	o.GatewayNamespace = f.namespace
	o.AllowCrossNamespace = f.crossNamespace
	o.AllowExternalNameServices = f.externalName
	o.ClusterDomain = f.clusterDomain
	o.ExpiryWarning = f.expiryWarning
	f.cluster.apply(&o)
	return o
}

func (f *serveFlags) proxyConfig(log *slog.Logger, stdout io.Writer) proxy.Config {
	cfg := proxy.Config{
		EntryPoints: []proxy.EntryPoint{
			{Name: "web", Address: f.web},
			{Name: "websecure", Address: f.websecure, TLS: true},
		},
		AdminAddress:     f.admin,
		ErrorHeader:      f.errorHeader,
		Log:              log,
		ShutdownDelay:    f.shutdownDelay,
		TCPIdleTimeout:   f.tcpIdleTimeout,
		Grace:            f.grace,
		GoRSA:            f.rsaSigner == "go",
		GoroutineTCPCopy: f.tcpCopy == "goroutines",
	}
	if f.redirect {
		cfg.EntryPoints[0].RedirectTo = "websecure"
		// Behind a Service that maps 443 to the pod's port, redirects name the public port.
		cfg.EntryPoints[1].AdvertisedPort = f.cluster.redirectPort
		if cfg.EntryPoints[1].AdvertisedPort == "" && f.configDir == "" {
			cfg.EntryPoints[1].AdvertisedPort = "443"
		}
	}
	for i := range cfg.EntryPoints {
		cfg.EntryPoints[i].TrustedProxies = f.trusted
	}
	if f.accessLog {
		cfg.AccessLog = stdout
	}
	return cfg
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
		err = runStandalone(ctx, f, store, log, stdout)
	} else {
		err = runCluster(ctx, f, store, log, stdout)
	}
	if err != nil {
		log.Error("bridgehead stopped", "error", err.Error())
		return 1
	}
	return 0
}

// registerProfiler serves Go's profiler on the admin port when --pprof is set.
func (f *serveFlags) registerProfiler(srv *proxy.Server) {
	if !f.pprof {
		return
	}
	srv.HandleAdmin("/debug/pprof/", http.HandlerFunc(pprof.Index))
	srv.HandleAdmin("/debug/pprof/cmdline", http.HandlerFunc(pprof.Cmdline))
	srv.HandleAdmin("/debug/pprof/profile", http.HandlerFunc(pprof.Profile))
	srv.HandleAdmin("/debug/pprof/symbol", http.HandlerFunc(pprof.Symbol))
	srv.HandleAdmin("/debug/pprof/trace", http.HandlerFunc(pprof.Trace))
}
