package dataplane

import (
	"flag"
	"io"
	"reflect"
	"strings"
	"testing"
)

func parse(t *testing.T, args []string) *Flags {
	t.Helper()
	var f Flags
	fs := flag.NewFlagSet("", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	f.Register(fs)
	if err := fs.Parse(args); err != nil {
		t.Fatal(err)
	}
	if err := f.Check(); err != nil {
		t.Fatal(err)
	}
	return &f
}

// What `bridgehead serve` was given reaches the data-plane process unchanged: Args carries
// every data-plane flag, so a flag added to Register and forgotten in Args fails here.
func TestArgsCarryEveryFlag(t *testing.T) {
	given := []string{
		"--web-address=127.0.0.1:1", "--websecure-address=127.0.0.1:2", "--admin-address=",
		"--redirect-to-https", "--log-level=debug", "--access-log", "--error-header=false",
		"--shutdown-delay=3s", "--grace=7s", "--tcp-idle-timeout=1m0s", "--tcp-copy=goroutines",
		"--rsa-signer=go", "--pprof", "--trusted-proxies=10.0.0.0/8, 192.168.0.0/16",
		"--allow-encoded-slash", "--allow-backslash", "--allow-path-parameters",
	}
	want := parse(t, given)
	args := want.Args()
	if got := parse(t, args); !reflect.DeepEqual(got, want) {
		t.Fatalf("through Args:\n got %+v\nwant %+v", got, want)
	}
	fs := flag.NewFlagSet("", flag.ContinueOnError)
	new(Flags).Register(fs)
	fs.VisitAll(func(f *flag.Flag) {
		found := false
		for _, a := range args {
			found = found || strings.HasPrefix(a, "--"+f.Name+"=")
		}
		if !found {
			t.Errorf("Args does not pass --%s on", f.Name)
		}
	})
}

func TestCheckNamesTheFlag(t *testing.T) {
	for arg, want := range map[string]string{
		"--tcp-copy=threads":        "--tcp-copy",
		"--rsa-signer=boring":       "--rsa-signer",
		"--log-level=loud":          "--log-level",
		"--trusted-proxies=10.0.0.": "--trusted-proxies",
	} {
		var f Flags
		fs := flag.NewFlagSet("", flag.ContinueOnError)
		f.Register(fs)
		if err := fs.Parse([]string{arg}); err != nil {
			t.Fatal(err)
		}
		if err := f.Check(); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v", arg, err)
		}
	}
}
