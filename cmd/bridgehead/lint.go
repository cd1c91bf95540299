package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/bridgehead/bridgehead/internal/diagnose"
	"github.com/bridgehead/bridgehead/internal/source/manifests"
)

const lintUsage = `Usage:
  bridgehead lint --config-dir DIR
  bridgehead lint -f FILE [-f FILE...]        (-f - reads standard input)

The static checks of diagnose, offline (no handshakes), for CI before kubectl apply: the
documents that cannot be used, every condition the gateway would set that needs action
(not Ready, Warnings), and the mistakes translate cannot see alone (a TLSOption that trusts
a serving certificate as a client CA, a certificate a route can never serve). Services the
routes name but the manifests do not hold, and Services without EndpointSlices, are
assumed to exist with ready endpoints unless --strict.

Exit status: 0 when clean, 1 on findings, 2 for usage errors.

Flags:
`

// lintCommand is `bridgehead lint`.
func lintCommand(args []string, stdout, stderr io.Writer) int {
	var (
		tf             translateFlags
		configDir, out string
		files          stringList
		strict         bool
	)
	fs := flag.NewFlagSet("lint", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, lintUsage)
		fs.PrintDefaults()
	}
	fs.StringVar(&configDir, "config-dir", "", "lint every manifest in this folder")
	fs.Var(&files, "f", "lint this manifest file (repeatable; - for standard input)")
	fs.BoolVar(&strict, "strict", false, "also report Services missing from the manifests and Services without endpoints")
	fs.StringVar(&out, "o", "text", "output format: text or json")
	tf.register(fs)
	pos, err := parseInterleaved(fs, args)
	switch {
	case errors.Is(err, flag.ErrHelp):
		return 0
	case err != nil:
		fmt.Fprintln(stderr, err)
		return 2
	case len(pos) > 0:
		fmt.Fprintf(stderr, "lint: unexpected arguments %v; name files with -f\n", pos)
		return 2
	case (configDir == "") == (len(files) == 0):
		fmt.Fprint(stderr, "lint: give either --config-dir DIR or -f FILE\n\n"+lintUsage)
		return 2
	case out != "text" && out != "json":
		fmt.Fprintf(stderr, "lint: -o %q: use text or json\n", out)
		return 2
	}
	var names map[string]string
	if len(files) > 0 {
		dir, err := os.MkdirTemp("", "bridgehead-lint-")
		if err != nil {
			fmt.Fprintln(stderr, "lint:", err)
			return 2
		}
		defer func() { _ = os.RemoveAll(dir) }()
		if names, err = stageFiles(dir, files, os.Stdin); err != nil {
			fmt.Fprintln(stderr, "lint:", err)
			return 2
		}
		configDir = dir
	}
	res, err := manifests.Load(configDir)
	if err != nil {
		fmt.Fprintln(stderr, "lint:", err)
		return 2
	}
	renameOrigins(res, names)
	result := diagnose.Lint(res, diagnose.LintOptions{Translate: tf.options(), Strict: strict})
	if out == "json" {
		if err := result.WriteJSON(stdout); err != nil {
			fmt.Fprintln(stderr, err)
			return 2
		}
	} else {
		result.WriteText(stdout)
	}
	if !result.Clean() {
		return 1
	}
	return 0
}

// stageFiles copies the files into dir, in order, under names the loader reads (it reads
// a folder, and only *.yaml and *.yml), and returns the staged name -> the name given.
func stageFiles(dir string, files []string, stdin io.Reader) (map[string]string, error) {
	names := map[string]string{}
	for i, f := range files {
		var data []byte
		var err error
		if f == "-" {
			data, err = io.ReadAll(stdin)
		} else {
			data, err = os.ReadFile(f)
		}
		if err != nil {
			return nil, err
		}
		staged := fmt.Sprintf("%03d-%s.yaml", i, strings.TrimSuffix(filepath.Base(f), filepath.Ext(f)))
		if f == "-" {
			staged = fmt.Sprintf("%03d-stdin.yaml", i)
		}
		if err := os.WriteFile(filepath.Join(dir, staged), data, 0o600); err != nil {
			return nil, err
		}
		names[staged] = f
	}
	return names, nil
}

// renameOrigins puts the names the user gave back into the problems and origins.
func renameOrigins(res *manifests.Result, names map[string]string) {
	if names == nil {
		return
	}
	for i := range res.Problems {
		if n, ok := names[res.Problems[i].File]; ok {
			res.Problems[i].File = n
		}
	}
	renamed := manifests.NewOrigins(res.Origin.Len())
	for k, o := range res.Origin.All() {
		file, doc, _ := strings.Cut(o, "#")
		if n, ok := names[file]; ok {
			o = n + "#" + doc
		}
		renamed.Set(k, o)
	}
	res.Origin = renamed
}
