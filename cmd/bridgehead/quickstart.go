package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/bridgehead/bridgehead/internal/pki"
)

// quickstartFlagsFile, in a quickstart folder, holds the extra arguments that folder
// needs, written as they would be typed after `bridgehead quickstart` (quickstart flags,
// then `--` and serve flags). Arguments on the command line come after them, so they win.
// Its name does not end in .yaml, so the manifest loader does not read it.
const quickstartFlagsFile = "quickstart.flags"

// quickstartOptions are the flags of `bridgehead quickstart`.
type quickstartOptions struct {
	dir         string
	backendAddr string
	// backendClientCA, when set, makes the demo backend require a client certificate
	// signed by this CA (a relative path is taken inside dir).
	backendClientCA string
	// acmeSolverAddr, when set, starts a stand-in ACME http-01 solver (plain HTTP) there.
	acmeSolverAddr string
	// pkiOnly writes the demo PKI and its Secrets, then exits (for examples/cluster).
	pkiOnly bool
}

func (q *quickstartOptions) flagSet(stderr io.Writer) *flag.FlagSet {
	fset := flag.NewFlagSet("quickstart", flag.ContinueOnError)
	fset.SetOutput(stderr)
	fset.StringVar(&q.dir, "dir", "examples/quickstart", "folder of the quickstart manifests (its "+quickstartFlagsFile+", if any, holds more arguments)")
	fset.StringVar(&q.backendAddr, "backend-address", "127.0.0.1:9443", "address of the demo backend (the folder's EndpointSlice names it)")
	fset.StringVar(&q.backendClientCA, "backend-client-ca", "", "make the demo backend require a client certificate signed by this CA (PEM; a relative path is inside --dir)")
	fset.StringVar(&q.acmeSolverAddr, "acme-solver-address", "", "also start a stand-in ACME http-01 solver, plain HTTP, at this address")
	fset.BoolVar(&q.pkiOnly, "pki-only", false, "only write the demo CAs, certificates and their Secrets (DIR/generated/secrets.yaml), then exit")
	fset.Usage = func() {
		fmt.Fprintf(stderr, "Usage: bridgehead quickstart [flags] [-- serve flags]\n")
		fset.PrintDefaults()
	}
	return fset
}

// parseQuickstartArgs reads the command line, then the folder's quickstart.flags, and
// returns the options and the arguments for serve (the folder's first, then the command
// line's, so that the command line wins).
func parseQuickstartArgs(args []string, stderr io.Writer) (*quickstartOptions, []string, error) {
	first := &quickstartOptions{}
	if err := first.flagSet(stderr).Parse(args); err != nil {
		return nil, nil, err
	}
	file := filepath.Join(first.dir, quickstartFlagsFile)
	fileArgs, err := readFlagsFile(file)
	if err != nil {
		return nil, nil, err
	}
	// One flag set for both, so that the command line's values override the file's.
	q := &quickstartOptions{}
	fset := q.flagSet(stderr)
	if err := fset.Parse(fileArgs); err != nil {
		return nil, nil, fmt.Errorf("in %s: %w", file, err)
	}
	serveArgs := append([]string(nil), fset.Args()...)
	if err := fset.Parse(args); err != nil {
		return nil, nil, err
	}
	serveArgs = append(serveArgs, fset.Args()...)
	q.dir = first.dir // the folder is the command line's, whatever its file says
	if q.backendClientCA != "" && !filepath.IsAbs(q.backendClientCA) {
		q.backendClientCA = filepath.Join(q.dir, q.backendClientCA)
	}
	return q, serveArgs, nil
}

// readFlagsFile splits a flags file into arguments: whitespace-separated, with # starting
// a comment to the end of the line. A missing file is no arguments.
func readFlagsFile(path string) ([]string, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var out []string
	for _, line := range strings.Split(string(data), "\n") {
		line, _, _ = strings.Cut(line, "#")
		out = append(out, strings.Fields(line)...)
	}
	return out, nil
}

// quickstartCommand is what `make run` runs: generate the demo PKI once (into a
// git-ignored folder), start the HTTPS-only demo backend, and serve the quickstart
// manifests in standalone mode. Every folder under examples/ runs the same way with --dir.
func quickstartCommand(args []string, stdout, stderr io.Writer) int {
	q, serveArgs, err := parseQuickstartArgs(args, stderr)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		// The flag package has printed what was wrong with a flag; say where it came from.
		fmt.Fprintln(stderr, "quickstart:", err)
		return 2
	}
	generated := filepath.Join(q.dir, "generated")
	if err := ensureQuickstartPKI(generated); err != nil {
		fmt.Fprintln(stderr, "quickstart:", err)
		return 1
	}
	if q.pkiOnly {
		fmt.Fprintf(stdout, "demo PKI in %s: kubectl apply -f %s\n", generated, filepath.Join(generated, "secrets.yaml"))
		return 0
	}
	ctx, stop := signalContext()
	defer stop()
	backend := &demoBackend{listen: q.backendAddr, name: "Bridgehead demo backend", clientCA: q.backendClientCA,
		cert: filepath.Join(generated, "backend.crt"), key: filepath.Join(generated, "backend.key")}
	addr, _, err := backend.start(ctx)
	if err != nil {
		fmt.Fprintln(stderr, "quickstart:", err)
		return 1
	}
	fmt.Fprintf(stdout, "Bridgehead quickstart: %s\n", q.dir)
	fmt.Fprintf(stdout, "  demo backend (HTTPS only, certificate from a private CA): %s\n", addr)
	if q.backendClientCA != "" {
		fmt.Fprintf(stdout, "    it requires a client certificate signed by %s\n", q.backendClientCA)
	}
	if q.acmeSolverAddr != "" {
		solverAddr, err := startACMESolver(ctx, q.acmeSolverAddr)
		if err != nil {
			fmt.Fprintln(stderr, "quickstart:", err)
			return 1
		}
		fmt.Fprintf(stdout, "  ACME http-01 solver stand-in (plain HTTP): %s\n", solverAddr)
	}
	web, websecure, admin := ":8000", ":8443", ":9000"
	if f, err := parseServeFlags(serveArgs, io.Discard); err == nil {
		web, websecure, admin = f.proxy.Web, f.proxy.Websecure, f.proxy.Admin
	}
	fmt.Fprintf(stdout, "  gateway: https://app.localtest.me%s (TLS), http://localhost%s, admin http://localhost%s\n",
		portOf(websecure), portOf(web), portOf(admin))
	if _, err := os.Stat(filepath.Join(q.dir, "README.md")); err == nil {
		fmt.Fprintf(stdout, "Try the commands of %s in another terminal.\n", filepath.Join(q.dir, "README.md"))
	} else {
		fmt.Fprintf(stdout, "Try, in another terminal:\n  curl --cacert %s --resolve app.localtest.me%s:127.0.0.1 https://app.localtest.me%s/\n",
			filepath.Join(generated, "ca.crt"), portOf(websecure), portOf(websecure))
	}
	return serve(append([]string{"--config-dir", q.dir, "--gateway-namespace", "demo"}, serveArgs...), stdout, stderr)
}

// portOf is ":port" of a listen address, for the banner.
func portOf(addr string) string {
	if _, port, err := net.SplitHostPort(addr); err == nil {
		return ":" + port
	}
	return addr
}

// startACMESolver serves what an ACME http-01 solver (such as cert-manager's) serves: the
// key authorization for a token, on plain HTTP. This stand-in answers every token with
// TOKEN.quickstart-account-thumbprint; anything else is a 404.
func startACMESolver(ctx context.Context, addr string) (net.Addr, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("ACME solver: %w", err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /.well-known/acme-challenge/{token}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		fmt.Fprintf(w, "%s.quickstart-account-thumbprint\n", r.PathValue("token"))
	})
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	go func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
	}()
	return ln.Addr(), nil
}

// ensureQuickstartPKI writes the demo CA, certificates and their Secrets once.
func ensureQuickstartPKI(dir string) error {
	if _, err := os.Stat(filepath.Join(dir, "secrets.yaml")); err == nil {
		return nil
	} else if !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	edgeCA, err := pki.NewCA("Bridgehead Quickstart CA")
	if err != nil {
		return err
	}
	backendCA, err := pki.NewCA("Bridgehead Quickstart Backend CA")
	if err != nil {
		return err
	}
	clientCA, err := pki.NewCA("Bridgehead Quickstart Client CA")
	if err != nil {
		return err
	}
	edge, err := edgeCA.Issue("app.localtest.me", pki.Options{DNSNames: []string{"app.localtest.me", "admin.localtest.me", "localhost"}, IPs: []net.IP{net.ParseIP("127.0.0.1")}})
	if err != nil {
		return err
	}
	// The demo backend also answers, terminating TLS itself, for the name that
	// examples/sni-passthrough passes through the gateway untouched.
	backend, err := backendCA.Issue("demo-backend.demo.svc", pki.Options{DNSNames: []string{"demo-backend.demo.svc", "demo-backend", "passthrough.localtest.me"}})
	if err != nil {
		return err
	}
	client, err := clientCA.Issue("quickstart-user", pki.Options{})
	if err != nil {
		return err
	}
	gateway, err := backendCA.Issue("bridgehead-gateway", pki.Options{})
	if err != nil {
		return err
	}
	files := map[string][]byte{
		"ca.crt": edgeCA.PEM, "backend-ca.crt": backendCA.PEM, "client-ca.crt": clientCA.PEM,
		"backend.crt": backend.CertPEM, "backend.key": backend.KeyPEM,
		"client.crt": client.CertPEM, "client.key": client.KeyPEM,
	}
	for name, data := range files {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o600); err != nil {
			return err
		}
	}
	yaml := pki.SecretsYAML("Generated by `bridgehead quickstart`; git-ignored. Delete the folder to start over.", "demo",
		pki.Secret{Name: "app-localtest-me-tls", Type: "kubernetes.io/tls", Data: map[string][]byte{"tls.crt": edge.CertPEM, "tls.key": edge.KeyPEM}},
		pki.Secret{Name: "backend-ca", Type: "Opaque", Data: map[string][]byte{"ca.crt": backendCA.PEM}},
		// The backend's own certificate, for the demo backend as a pod (examples/cluster).
		pki.Secret{Name: "demo-backend-tls", Type: "kubernetes.io/tls", Data: map[string][]byte{"tls.crt": backend.CertPEM, "tls.key": backend.KeyPEM}},
		pki.Secret{Name: "client-ca", Type: "Opaque", Data: map[string][]byte{"ca.crt": clientCA.PEM}},
		pki.Secret{Name: "gateway-client", Type: "kubernetes.io/tls", Data: map[string][]byte{"tls.crt": gateway.CertPEM, "tls.key": gateway.KeyPEM}})
	return os.WriteFile(filepath.Join(dir, "secrets.yaml"), yaml, 0o600)
}
