package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/bridgehead/bridgehead/internal/ingressannotations"
	"github.com/bridgehead/bridgehead/internal/migrate"
	"github.com/bridgehead/bridgehead/internal/source/manifests"
)

const migrateUsage = `Usage:
  bridgehead migrate [-o text|yaml] [--controller nginx|haproxy|bridgehead] PATH...
  kubectl get ingress -A -o yaml | bridgehead migrate -

Reads Ingresses (a file, a folder, or - for standard input; kind List is read item by
item) written for ingress-nginx or the HAProxy controllers and says, per Ingress, what
Bridgehead does with each annotation: served, served differently, refused, not read, and
why. With -o yaml it prints the equivalent Bridgehead objects instead (IngressRoute,
ServersTransport, TLSOption, Middleware, IngressRouteTCP); an Ingress that cannot be
converted is named in a comment with the reason. Services and Secrets in the input are
used to check backends and Secret keys; documents of other kinds (Deployments, say) are
passed over; nothing is read from a cluster.

The class defaults (ingress-nginx redirects TLS hosts with 308, the HAProxy controllers
with 302) come from each Ingress's class name (nginx, haproxy); --controller sets them for
every Ingress.

Exit status: 0 when every Ingress is served as written, 1 when anything would change
behaviour (or an Ingress cannot be converted), 2 for usage errors and unreadable input.

Flags:
`

// migrateCommand is `bridgehead migrate`.
func migrateCommand(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	var out, controller string
	fs := flag.NewFlagSet("migrate", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, migrateUsage)
		fs.PrintDefaults()
	}
	fs.StringVar(&out, "o", "text", "output: text (the report) or yaml (the equivalent objects)")
	fs.StringVar(&controller, "controller", "", "apply this controller's class defaults to every Ingress: nginx, haproxy or bridgehead (default: by class name)")
	paths, err := parseInterleaved(fs, args)
	switch {
	case errors.Is(err, flag.ErrHelp):
		return 0
	case err != nil:
		fmt.Fprintln(stderr, err)
		return 2
	case len(paths) == 0:
		fmt.Fprint(stderr, "migrate: name a file, a folder or - (standard input)\n\n"+migrateUsage)
		return 2
	case out != "text" && out != "yaml":
		fmt.Fprintf(stderr, "migrate: -o %q: use text or yaml\n", out)
		return 2
	}
	var opts migrate.Options
	switch controller {
	case "":
	case "nginx", "haproxy", "bridgehead":
		c := ingressannotations.DefaultsFor(controller).Controller
		opts.Controller = &c
	default:
		fmt.Fprintf(stderr, "migrate: --controller %q: use nginx, haproxy or bridgehead\n", controller)
		return 2
	}
	in, problems, err := readMigrateInputs(paths, stdin)
	if err != nil {
		fmt.Fprintln(stderr, "migrate:", err)
		return 2
	}
	for _, p := range problems {
		fmt.Fprintf(stderr, "migrate: %s\n", p)
	}
	if len(in.Ingresses) == 0 {
		fmt.Fprintf(stderr, "migrate: no Ingress (networking.k8s.io/v1, or the removed v1beta1 versions) found in %v\n", paths)
		return 2
	}
	ms := migrate.Migrate(in, opts)
	write := migrate.WriteReport
	if out == "yaml" {
		write = migrate.WriteYAML
	}
	if err := write(stdout, ms); err != nil {
		fmt.Fprintln(stderr, "migrate:", err)
		return 2
	}
	switch {
	case len(problems) > 0:
		return 2
	case anyChange(ms):
		return 1
	}
	return 0
}

func anyChange(ms []*migrate.Ingress) bool {
	for _, m := range ms {
		if !m.Converted() || m.ChangesBehaviour() {
			return true
		}
	}
	return false
}

// readMigrateInputs reads files, folders and standard input through the folder loader, so
// that migrate reads exactly what `serve` would (legacy Ingress versions converted).
func readMigrateInputs(paths []string, stdin io.Reader) (migrate.Inputs, []manifests.Problem, error) {
	var in migrate.Inputs
	var problems []manifests.Problem
	for _, p := range paths {
		var res *manifests.Result
		var err error
		switch st, statErr := os.Stat(p); {
		case p == "-":
			data, readErr := io.ReadAll(stdin)
			if readErr != nil {
				return in, nil, fmt.Errorf("standard input: %w", readErr)
			}
			res, err = manifests.LoadStream("stdin", data)
		case statErr != nil:
			return in, nil, statErr
		case st.IsDir():
			res, err = manifests.Load(p)
		default:
			data, readErr := os.ReadFile(p)
			if readErr != nil {
				return in, nil, readErr
			}
			res, err = manifests.LoadStream(p, data)
		}
		if err != nil {
			return in, nil, err
		}
		for _, pr := range res.Problems {
			// A folder or a rendered chart holds Deployments and the like: not input to
			// migrate, and no reason to fail it.
			if !pr.UnknownKind {
				problems = append(problems, pr)
			}
		}
		in.Ingresses = append(in.Ingresses, res.Inputs.Ingresses...)
		in.Services = append(in.Services, res.Inputs.Services...)
		in.Secrets = append(in.Secrets, res.Inputs.Secrets...)
	}
	return in, problems, nil
}
