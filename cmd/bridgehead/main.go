// Command bridgehead is a Kubernetes ingress gateway built for end-to-end TLS.
package main

import (
	"fmt"
	"io"
	"os"
	"runtime"
)

const usage = `bridgehead — a Kubernetes ingress gateway built for end-to-end TLS

Usage:
  bridgehead serve [--config-dir DIR]     run the gateway (standalone from a folder, or in a cluster)
  bridgehead status --config-dir DIR      print the status of every object in a folder
                    [--watch]             (live from the gateway serving it, when it answers)
  bridgehead diagnose ingressroute/NAME   walk a route's TLS path hop by hop, with real handshakes (-n NS, --config-dir DIR)
  bridgehead diagnose https://HOST/PATH   check a URL as a client of the gateway (--cacert, --resolve)
  bridgehead lint --config-dir DIR        the static checks, offline, for CI before kubectl apply (or -f FILE...)
  bridgehead migrate PATH|-               what Bridgehead does with ingress-nginx/HAProxy Ingresses (-o yaml: the equivalent objects)
  bridgehead quickstart                   generate certificates, start the demo backend, serve examples/quickstart
  bridgehead demo-backend                 an HTTPS-only backend that says what it saw
  bridgehead version                      print the version
`

// Heap profiling is off unless serve --pprof turns it back on: its bucket table alone is
// over a MiB, in a process that otherwise needs little more than 20 with one route.
func init() { runtime.MemProfileRate = 0 }

// version is stamped at build time with -ldflags "-X main.version=...".
var version = "dev"

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		_, _ = fmt.Fprint(stderr, usage)
		return 2
	}
	switch args[0] {
	case "serve":
		return serve(args[1:], stdout, stderr)
	case "status":
		return statusCommand(args[1:], stdout, stderr)
	case "diagnose":
		return diagnoseCommand(args[1:], stdout, stderr)
	case "lint":
		return lintCommand(args[1:], stdout, stderr)
	case "migrate":
		return migrateCommand(args[1:], os.Stdin, stdout, stderr)
	case "demo-backend":
		return demoBackendCommand(args[1:], stdout, stderr)
	case "quickstart":
		return quickstartCommand(args[1:], stdout, stderr)
	case "version":
		_, _ = fmt.Fprintln(stdout, version)
		return 0
	case "help", "-h", "--help":
		_, _ = fmt.Fprint(stdout, usage)
		return 0
	default:
		_, _ = fmt.Fprintf(stderr, "bridgehead: unknown command %q\n\n%s", args[0], usage)
		return 2
	}
}
