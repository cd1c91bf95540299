package main

import (
	"flag"
	"io"
	"strings"
	"testing"

	"github.com/bridgehead/bridgehead/proxy"
	"github.com/bridgehead/bridgehead/proxy/upstream"
)

func parseProxyFlags(t *testing.T, args []string) *proxyFlags {
	t.Helper()
	var f proxyFlags
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

func TestCheckNamesTheFlag(t *testing.T) {
	for arg, want := range map[string]string{
		"--tcp-copy=threads":                      "--tcp-copy",
		"--http1-server=nginx":                    "--http1-server",
		"--http2-server=nghttp2":                  "--http2-server",
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
		var f proxyFlags
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
	def := parseProxyFlags(t, nil).Config(nil, io.Discard, "")
	if def.RequestBodyIdleTimeout != proxy.DefaultRequestBodyIdleTimeout || def.MaxHeaderBytes != proxy.DefaultMaxHeaderBytes ||
		def.MaxHeaderFields != proxy.DefaultMaxHeaderFields || def.Upstream.MaxConnsPerHost != upstream.DefaultMaxConnsPerHost ||
		def.Upstream.HandshakesPerSecond != upstream.DefaultHandshakesPerSecond || def.Upstream.ResponseHeaderTimeout != upstream.DefaultResponseHeaderTimeout {
		t.Errorf("defaults: %+v", def)
	}
	off := parseProxyFlags(t, []string{"--request-body-idle-timeout=0", "--backend-max-conns-per-host=0",
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
