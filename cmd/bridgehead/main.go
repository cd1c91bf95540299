// Command bridgehead is a Kubernetes ingress gateway built for end-to-end TLS.
package main

import (
	"fmt"
	"io"
	"os"
)

const usage = `bridgehead — a Kubernetes ingress gateway built for end-to-end TLS

Usage:
  bridgehead serve      run the gateway
  bridgehead version    print the version
`

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
		// The data plane and standalone mode land in their own issues; until then, say so
		// plainly and exit cleanly rather than pretend to serve.
		_, _ = fmt.Fprintln(stdout, "bridgehead serve: not yet — the proxy and standalone mode are still being built; see README.md")
		return 0
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
