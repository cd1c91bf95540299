package entrypoint

import (
	"strings"
	"testing"
)

// Parse reads Traefik's address syntax plus /tls; every refusal names the value and the fix.
func TestParse(t *testing.T) {
	for in, want := range map[string]EntryPoint{
		"dns=:53/udp":            {Name: "dns", Address: ":53", Proto: UDP},
		"pg=127.0.0.1:5432":      {Name: "pg", Address: "127.0.0.1:5432", Proto: TCP},
		"v6=[::1]:853/TCP":       {Name: "v6", Address: "[::1]:853", Proto: TCP},
		"https2=:9443/tls":       {Name: "https2", Address: ":9443", Proto: TLS},
		"tls7443=[::1]:7443/TLS": {Name: "tls7443", Address: "[::1]:7443", Proto: TLS},
	} {
		got, err := Parse(in)
		if err != nil || got != want {
			t.Errorf("Parse(%q) = %+v, %v; want %+v", in, got, err, want)
		}
	}
	for in, want := range map[string]string{
		"https2:9443/tls":     "write NAME=[HOST]:PORT[/tcp|/udp|/tls]",
		"https2=:9443/ssl":    `the protocol "ssl" is not tcp, udp or tls`,
		"https2=9443/tls":     "is not [HOST]:PORT",
		"websecure=:9443/tls": "set its address with --websecure-address",
	} {
		if _, err := Parse(in); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Parse(%q): %v, want an error containing %q", in, err, want)
		}
	}
	ep, _ := Parse("https2=:9443/tls")
	if ep.Protocol() != "tls" || !ep.TLS() || ep.UDP() || ep.String() != "https2=:9443/tls" {
		t.Errorf("%+v: Protocol %q TLS %v UDP %v String %q", ep, ep.Protocol(), ep.TLS(), ep.UDP(), ep.String())
	}
}

// What Parse accepts it prints back to a value it reads the same way, and it never panics.
// Seeds beyond these are in testdata/fuzz/FuzzParse.
func FuzzParse(f *testing.F) {
	for _, s := range []string{"dns=:53/udp", "pg=127.0.0.1:5432", "v6=[::1]:853/tcp", "x=:0", "a=b", "=", "dns=:53/", "dns=[::1/udp", "é=:1", "a=:+1", "a=[fe80::1%eth0]:53/UDP",
		"https2=:9443/tls", "t=[::1]:8883/TLS", "t=:6443/tls/udp", "t=:7443/"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		ep, err := Parse(s)
		if err != nil {
			return
		}
		again, err := Parse(ep.String())
		if err != nil || again != ep {
			t.Fatalf("%q -> %+v -> %q -> %+v, %v", s, ep, ep.String(), again, err)
		}
	})
}
