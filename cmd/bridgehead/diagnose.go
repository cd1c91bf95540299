package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"time"

	"k8s.io/client-go/tools/clientcmd"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/bridgehead/bridgehead/internal/diagnose"
	"github.com/bridgehead/bridgehead/internal/source/kube"
	"github.com/bridgehead/bridgehead/internal/source/manifests"
	"github.com/bridgehead/bridgehead/internal/translate"
)

const diagnoseUsage = `Usage:
  bridgehead diagnose ingressroute/NAME [-n NAMESPACE] [--kubeconfig FILE]   a route in a cluster
  bridgehead diagnose ingress/NAME [-n NAMESPACE] [--kubeconfig FILE]        an Ingress in a cluster
  bridgehead diagnose httproute/NAME [-n NAMESPACE] [--kubeconfig FILE]      a Gateway API HTTPRoute in a cluster
  bridgehead diagnose --config-dir DIR [ingress/NAME -n NAMESPACE]             a route or Ingress (or every one) of a manifests folder
  bridgehead diagnose https://HOST[:PORT]/PATH [--cacert FILE] [--resolve HOST:PORT:ADDRESS] [--cert FILE --key FILE]

A route is walked hop by hop: the route's conditions, the certificate served for each host
and its TLSOption, each Service (port, scheme, endpoints), its ServersTransport (roots,
names checked, client certificate), then a real handshake and request to every endpoint
with exactly the gateway's configuration. Routes may also be named ingressroutetcp/NAME;
an Ingress (ingress/NAME) is walked the same way, with the causes only an Ingress has
(its class, its spec.tls entries, the Secrets it names). An HTTPRoute (httproute/NAME) is
walked from its Gateways and listeners (their conditions) through each rule to each
Service, the BackendTLSPolicy that makes it TLS, and every endpoint; a TLSRoute
(tlsroute/NAME) or TCPRoute (tcproute/NAME) from its listeners through how each serves it
(passed through by SNI, terminated, plain TCP) to its Services and their endpoints.
A URL is checked as a client of the gateway: the certificate served, then the request.

Exit status: 0 when every hop is OK (warnings allowed), 1 when something is broken,
2 for usage errors or when nothing could be diagnosed.

Flags:
`

// translateFlags are serve's flags that change translation: diagnose and lint must see
// the routes exactly as the gateway does.
type translateFlags struct {
	gatewayNS     string
	crossNS       bool
	externalName  bool
	clusterDomain string
	expiry        time.Duration
	ingressClass  string
	withoutClass  bool
}

func (t *translateFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&t.gatewayNS, "gateway-namespace", envOr("POD_NAMESPACE", "bridgehead"), "namespace of the default TLSOption and TLSStore (as serve)")
	fs.BoolVar(&t.crossNS, "allow-cross-namespace", false, "allow references to objects in other namespaces (as serve)")
	fs.BoolVar(&t.externalName, "allow-external-name-services", false, "allow ExternalName Services as backends (as serve)")
	fs.StringVar(&t.clusterDomain, "cluster-domain", "cluster.local", "cluster DNS domain, for the names a backend certificate may carry (as serve)")
	fs.DurationVar(&t.expiry, "certificate-expiry-warning", 14*24*time.Hour, "warn about certificates expiring within this time (as serve)")
	fs.StringVar(&t.ingressClass, "ingress-class", translate.DefaultIngressClass, "the IngressClass whose Ingresses the gateway serves (as serve)")
	fs.BoolVar(&t.withoutClass, "ingress-without-class", false, "serve Ingresses of no class when no IngressClass is the default (as serve)")
}

func (t *translateFlags) options() translate.Options {
	o := translate.DefaultOptions()
	o.GatewayNamespace = t.gatewayNS
	o.AllowCrossNamespace = t.crossNS
	o.AllowExternalNameServices = t.externalName
	o.ClusterDomain = t.clusterDomain
	o.ExpiryWarning = t.expiry
	o.IngressClass = t.ingressClass
	o.IngressWithoutClass = t.withoutClass
	o.Now = time.Now()
	return o
}

// stringList is a repeatable flag.
type stringList []string

func (s *stringList) String() string { return strings.Join(*s, ",") }

func (s *stringList) Set(v string) error {
	*s = append(*s, v)
	return nil
}

// parseInterleaved parses flags that may come after positional arguments, as kubectl
// users write them (`diagnose ingressroute/app -n web`).
func parseInterleaved(fs *flag.FlagSet, args []string) ([]string, error) {
	var positional []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		if fs.NArg() == 0 {
			return positional, nil
		}
		positional = append(positional, fs.Arg(0))
		args = fs.Args()[1:]
	}
}

type diagnoseFlags struct {
	translateFlags
	configDir, kubeconfig, namespace, output string
	timeout                                  time.Duration
	cacert, cert, key                        string
	resolve                                  stringList
	// Cluster mode reads what the gateway reads: these mirror serve's flags.
	watchNamespaces string
	watchTraefik    bool
}

func parseDiagnoseFlags(args []string, stderr io.Writer) (*diagnoseFlags, []string, error) {
	f := &diagnoseFlags{}
	fs := flag.NewFlagSet("diagnose", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, diagnoseUsage)
		fs.PrintDefaults()
	}
	fs.StringVar(&f.configDir, "config-dir", "", "diagnose the manifests in this folder instead of a cluster")
	fs.StringVar(&f.kubeconfig, "kubeconfig", "", "kubeconfig file (default: in-cluster, or $KUBECONFIG)")
	fs.StringVar(&f.namespace, "namespace", "", "namespace of the route (default: the kubeconfig's, or default)")
	fs.StringVar(&f.namespace, "n", "", "shorthand for --namespace")
	fs.StringVar(&f.output, "o", "text", "output format: text or json")
	fs.StringVar(&f.output, "output", "text", "same as -o")
	fs.DurationVar(&f.timeout, "timeout", diagnose.DefaultTimeout, "how long each endpoint (or the URL) may take")
	fs.StringVar(&f.cacert, "cacert", "", "URL mode: PEM file of the CAs that issued the gateway's certificate (default: the system roots)")
	fs.Var(&f.resolve, "resolve", "URL mode: HOST:PORT:ADDRESS, connect to ADDRESS for HOST:PORT (repeatable, as curl)")
	fs.StringVar(&f.cert, "cert", "", "URL mode: PEM client certificate to present")
	fs.StringVar(&f.key, "key", "", "URL mode: PEM key of --cert")
	fs.StringVar(&f.watchNamespaces, "watch-namespaces", "", "cluster mode: read only these namespaces, comma-separated (as serve; default: all)")
	fs.BoolVar(&f.watchTraefik, "watch-traefik-crds", false, "cluster mode: also read objects of Traefik's CRD groups as ours (as serve)")
	f.register(fs)
	pos, err := parseInterleaved(fs, args)
	if err != nil {
		return nil, nil, err
	}
	if f.output != "text" && f.output != "json" {
		return nil, nil, fmt.Errorf("diagnose: -o %q: use text or json", f.output)
	}
	if len(pos) > 1 {
		return nil, nil, fmt.Errorf("diagnose: one route or URL at a time (got %s)", strings.Join(pos, " "))
	}
	return f, pos, nil
}

// diagnoseCommand is `bridgehead diagnose`.
func diagnoseCommand(args []string, stdout, stderr io.Writer) int {
	f, pos, err := parseDiagnoseFlags(args, stderr)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		fmt.Fprintln(stderr, err)
		return 2
	}
	ctx, stop := signalContext()
	defer stop()
	var report *diagnose.Report
	switch {
	case len(pos) == 1 && (strings.HasPrefix(pos[0], "https://") || strings.HasPrefix(pos[0], "http://")):
		if f.configDir != "" || f.kubeconfig != "" {
			fmt.Fprintln(stderr, "diagnose: a URL is checked as a client of the gateway; --config-dir and --kubeconfig do not apply")
			return 2
		}
		report, err = diagnose.URL(ctx, pos[0], diagnose.URLOptions{CACert: f.cacert, Resolve: f.resolve, ClientCert: f.cert, ClientKey: f.key,
			Timeout: f.timeout, ExpiryWarning: f.expiry})
	case f.configDir != "":
		report, err = f.diagnoseFolder(ctx, pos)
	case len(pos) == 1:
		report, err = f.diagnoseCluster(ctx, pos[0])
	default:
		fmt.Fprint(stderr, "diagnose: name a route (ingressroute/NAME), a folder (--config-dir) or a URL\n\n"+diagnoseUsage)
		return 2
	}
	if err != nil {
		fmt.Fprintln(stderr, "diagnose:", err)
		return 2
	}
	if f.output == "json" {
		if err := report.WriteJSON(stdout); err != nil {
			fmt.Fprintln(stderr, err)
			return 2
		}
	} else {
		report.WriteText(stdout)
	}
	if report.Broken() {
		return 1
	}
	return 0
}

func (f *diagnoseFlags) routeOptions() diagnose.Options {
	return diagnose.Options{Translate: f.options(), Probe: true, Timeout: f.timeout}
}

func (f *diagnoseFlags) diagnoseFolder(ctx context.Context, pos []string) (*diagnose.Report, error) {
	var targets []diagnose.Target
	if len(pos) == 1 {
		t, err := diagnose.ParseTarget(pos[0], f.namespace)
		if err != nil {
			return nil, err
		}
		targets = append(targets, t)
	}
	res, err := manifests.Load(f.configDir)
	if err != nil {
		return nil, err
	}
	in := res.Inputs
	opts := f.routeOptions()
	opts.Origin, opts.Problems = res.Origin, res.Problems
	return diagnose.Routes(ctx, in, targets, opts), nil
}

func (f *diagnoseFlags) diagnoseCluster(ctx context.Context, target string) (*diagnose.Report, error) {
	ns := f.namespace
	if ns == "" {
		rules := clientcmd.NewDefaultClientConfigLoadingRules()
		if f.kubeconfig != "" {
			rules.ExplicitPath = f.kubeconfig
		}
		if n, _, err := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules, &clientcmd.ConfigOverrides{}).Namespace(); err == nil && n != "" {
			ns = n
		}
	}
	t, err := diagnose.ParseTarget(target, ns)
	if err != nil {
		return nil, err
	}
	cfg, err := restConfig(f.kubeconfig)
	if err != nil {
		return nil, err
	}
	scheme, err := kube.NewScheme()
	if err != nil {
		return nil, err
	}
	c, err := client.New(cfg, client.Options{Scheme: scheme})
	if err != nil {
		return nil, fmt.Errorf("connecting to the cluster: %w", err)
	}
	ro := kube.Options{}
	if f.watchNamespaces != "" {
		for _, n := range strings.Split(f.watchNamespaces, ",") {
			ro.Namespaces = append(ro.Namespaces, strings.TrimSpace(n))
		}
	}
	if f.watchTraefik {
		ro.TraefikKinds = kube.InstalledTraefikKinds(c.RESTMapper())
	}
	ro.GatewayAPIKinds = kube.InstalledGatewayAPIKinds(c.RESTMapper())
	in, problems, err := diagnose.FromCluster(ctx, c, ro)
	if err != nil {
		return nil, err
	}
	opts := f.routeOptions()
	opts.Problems = problems
	return diagnose.Routes(ctx, in, []diagnose.Target{t}, opts), nil
}
