package main

import (
	"flag"
	"io"
	"strings"
	"testing"

	"github.com/bridgehead/bridgehead/internal/entrypoint"
	"github.com/bridgehead/bridgehead/internal/translate"
)

// --entrypoint reads Traefik's address syntax; every refusal names the value and the fix.
func TestEntryPointFlag(t *testing.T) {
	f := parseProxyFlags(t, []string{"--entrypoint", "dns=:53/udp", "--entrypoint", "pg=127.0.0.1:5432", "--entrypoint", "v6=[::1]:853/TCP", "--entrypoint", "https2=:9443/tls"})
	want := []entrypoint.EntryPoint{{Name: "dns", Address: ":53", Proto: entrypoint.UDP}, {Name: "pg", Address: "127.0.0.1:5432", Proto: entrypoint.TCP},
		{Name: "v6", Address: "[::1]:853", Proto: entrypoint.TCP}, {Name: "https2", Address: ":9443", Proto: entrypoint.TLS}}
	if len(f.EntryPoints) != len(want) {
		t.Fatalf("%+v", f.EntryPoints)
	}
	for i, ep := range f.EntryPoints {
		if ep != want[i] {
			t.Errorf("entry point %d: %+v, want %+v", i, ep, want[i])
		}
	}
	cfg := f.Config(nil, io.Discard, "")
	var names []string
	for _, ep := range cfg.EntryPoints {
		names = append(names, ep.Name)
		if ep.Name == "dns" && (!ep.UDP || ep.TLS || ep.TrustedProxies != nil) {
			t.Errorf("dns: %+v", ep)
		}
		if (ep.Name == "pg" || ep.Name == "web") && (ep.TLS || ep.UDP) {
			t.Errorf("%s is plain TCP: %+v", ep.Name, ep)
		}
		if (ep.Name == "https2" || ep.Name == "websecure") && (!ep.TLS || ep.UDP) {
			t.Errorf("%s terminates TLS: %+v", ep.Name, ep)
		}
	}
	if strings.Join(names, ",") != "web,websecure,dns,pg,v6,https2" {
		t.Errorf("proxy entry points %v", names)
	}
	if p := f.EntryPoints.protocols(); p["dns"] != "udp" || p["pg"] != "tcp" || p["web"] != "tcp" || p["websecure"] != "tls" || p["https2"] != "tls" || len(p) != 6 {
		t.Errorf("protocols for translate: %v", p)
	}
	// A Gateway listener on a TLS entry point's port is served there, as on websecure.
	ports := f.listenerPorts()
	for port, want := range map[int32]translate.ListenerEntryPoint{
		9443: {Name: "https2", Kind: translate.EntryPointTLS}, 8443: {Name: "websecure", Kind: translate.EntryPointTLS},
		5432: {Name: "pg", Kind: "tcp"}, 53: {Name: "dns", Kind: "udp"}, 80: {Name: "web", Kind: translate.EntryPointHTTP},
	} {
		if ports[port] != want {
			t.Errorf("listener port %d: %+v, want %+v", port, ports[port], want)
		}
	}

	for arg, want := range map[string]string{
		"dns:53/udp":      "write NAME=[HOST]:PORT[/tcp|/udp|/tls]",
		"dns=53/udp":      "is not [HOST]:PORT",
		"dns=:53/sctp":    `the protocol "sctp" is not tcp, udp or tls`,
		"h=:9443/https":   `the protocol "https" is not tcp, udp or tls`,
		"dns=:99999/udp":  "is not a number from 0 to 65535",
		"web=:80":         "set its address with --web-address",
		"d n s=:53":       "must be letters, digits",
		"=:53":            "must be letters, digits",
		"dns=:dns/udp":    "is not a number from 0 to 65535",
		"dns=host:53/udp": "",
	} {
		fs := flag.NewFlagSet("", flag.ContinueOnError)
		fs.SetOutput(io.Discard)
		var pf proxyFlags
		pf.Register(fs)
		err := fs.Parse([]string{"--entrypoint", arg})
		switch {
		case want == "" && err != nil:
			t.Errorf("%s: %v", arg, err)
		case want != "" && (err == nil || !strings.Contains(err.Error(), want)):
			t.Errorf("%s: %v, want an error containing %q", arg, err, want)
		}
	}
	fs := flag.NewFlagSet("", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	var pf proxyFlags
	pf.Register(fs)
	if err := fs.Parse([]string{"--entrypoint", "dns=:53/udp", "--entrypoint", "dns=:54/udp"}); err == nil || !strings.Contains(err.Error(), "given twice") {
		t.Errorf("a name given twice: %v", err)
	}
}

func TestUDPFlagsAreChecked(t *testing.T) {
	for arg, want := range map[string]string{"--udp-timeout=0s": "--udp-timeout", "--udp-max-sessions=0": "--udp-max-sessions"} {
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
