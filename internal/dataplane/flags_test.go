package dataplane

import (
	"flag"
	"io"
	"reflect"
	"strings"
	"testing"

	"github.com/bridgehead/bridgehead/proxy"
	"github.com/bridgehead/bridgehead/proxy/upstream"
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
		"--forwarded-headers-trusted-ips=10.1.0.0/16,fd00::/8", "--request-body-idle-timeout=9s",
		"--max-request-header-bytes=4096", "--max-request-header-fields=12",
		"--backend-response-header-timeout=11s", "--backend-max-conns-per-host=7",
		"--backend-tls-handshakes-per-second=5",
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
		"--tcp-copy=threads":                      "--tcp-copy",
		"--rsa-signer=boring":                     "--rsa-signer",
		"--log-level=loud":                        "--log-level",
		"--trusted-proxies=10.0.0.":               "--trusted-proxies",
		"--forwarded-headers-trusted-ips=1.2.3.4": "--forwarded-headers-trusted-ips",
		"--max-request-header-fields=0":           "--max-request-header-fields",
		"--max-request-header-bytes=-1":           "--max-request-header-bytes",
		"--backend-max-conns-per-host=-1":         "--backend-max-conns-per-host",
		"--backend-tls-handshakes-per-second=-2":  "--backend-tls-handshakes-per-second",
		"--request-body-idle-timeout=-1s":         "--request-body-idle-timeout",
		"--backend-response-header-timeout=-1s":   "--backend-response-header-timeout",
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

// A flag's 0 means "no limit" to a user, while the proxy reads a zero field as "the
// default": Config turns one into the other, and the defaults are the production ones.
func TestConfigLimits(t *testing.T) {
	def := parse(t, nil).Config(nil, io.Discard, "")
	if def.RequestBodyIdleTimeout != proxy.DefaultRequestBodyIdleTimeout || def.MaxHeaderBytes != proxy.DefaultMaxHeaderBytes ||
		def.MaxHeaderFields != proxy.DefaultMaxHeaderFields || def.Upstream.MaxConnsPerHost != upstream.DefaultMaxConnsPerHost ||
		def.Upstream.HandshakesPerSecond != upstream.DefaultHandshakesPerSecond || def.Upstream.ResponseHeaderTimeout != upstream.DefaultResponseHeaderTimeout {
		t.Errorf("defaults: %+v", def)
	}
	off := parse(t, []string{"--request-body-idle-timeout=0", "--backend-max-conns-per-host=0",
		"--backend-tls-handshakes-per-second=0", "--backend-response-header-timeout=0",
		"--forwarded-headers-trusted-ips=10.1.0.0/16"}).Config(nil, io.Discard, "")
	if off.RequestBodyIdleTimeout >= 0 || off.Upstream.MaxConnsPerHost >= 0 || off.Upstream.HandshakesPerSecond >= 0 || off.Upstream.ResponseHeaderTimeout >= 0 {
		t.Errorf("0 must turn limits off: %+v", off)
	}
	for _, ep := range off.EntryPoints {
		if len(ep.ForwardedTrustedIPs) != 1 || ep.ForwardedTrustedIPs[0].String() != "10.1.0.0/16" {
			t.Errorf("entry point %s: forwarded trusted IPs %v", ep.Name, ep.ForwardedTrustedIPs)
		}
	}
}
