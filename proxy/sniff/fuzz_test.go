package sniff_test

import (
	"bytes"
	"crypto/tls"
	"flag"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/bridgehead/bridgehead/proxy/sniff"
)

// writeSeeds regenerates the checked-in corpus from seeds(), real captured hellos
// included: go test ./proxy/sniff/ -run TestWriteFuzzSeeds -sniff.write-seeds
var writeSeeds = flag.Bool("sniff.write-seeds", false, "write the seed corpus to testdata/fuzz/FuzzParseClientHello")

// seeds are inputs worth keeping: real clients' hellos (whole, fragmented), hand-made
// edge cases and things that are not TLS at all.
func seeds(t testing.TB) map[string][]byte {
	real13 := captureHello(t, &tls.Config{ServerName: "Seed.Example.COM", NextProtos: []string{"h2", "http/1.1"}})
	real12 := captureHello(t, &tls.Config{ServerName: "tls12.example", MaxVersion: tls.VersionTLS12})
	return map[string][]byte{
		"real-go-client-tls13":    real13,
		"real-go-client-tls12":    real12,
		"real-go-client-no-sni":   captureHello(t, &tls.Config{InsecureSkipVerify: true}), //nolint:gosec // only the hello is used
		"real-go-client-3-frags":  refragment(t, real13, 3),
		"real-go-client-60-frags": refragment(t, real12, 60),
		"legacy-upper-sni":        buildHello(helloSpec{legacy: 0x0303, sni: "UPPER.Example"}),
		"ssl3-no-extensions":      buildHello(helloSpec{legacy: 0x0300, noExtBlock: true}),
		"grease-versions-alpn":    buildHello(helloSpec{legacy: 0x0303, sni: "g.example", alpn: []string{"h2", "x"}, versions: []uint16{0x0a0a, 0x0304}}),
		"trailing-dot-sni":        buildHello(helloSpec{legacy: 0x0303, sni: "dot.example."}),
		"truncated":               real13[:len(real13)/2],
		"header-only":             {0x16, 3, 1, 0x40, 0},
		"plain-http":              []byte("GET / HTTP/1.1\r\nHost: example.com\r\n\r\n"),
		"ssh-banner":              []byte("SSH-2.0-OpenSSH_9.6\r\n"),
		"empty":                   {},
	}
}

func FuzzParseClientHello(f *testing.F) {
	s := seeds(f)
	for _, name := range slices.Sorted(maps.Keys(s)) {
		f.Add(s[name])
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		hello, err := sniff.ParseClientHello(data)
		// However the bytes arrive must not change the outcome: replay them a byte per Read.
		one, _, oneErr := sniff.Peek(&byteConn{r: bytes.NewReader(data), chunk: 1}, 0, len(data)+1)
		if (err == nil) != (oneErr == nil) {
			t.Fatalf("whole: %v; byte by byte: %v", err, oneErr)
		}
		if err != nil {
			if hello != nil {
				t.Fatalf("non-nil Hello with error %v", err)
			}
			return
		}
		if fmt.Sprint(hello) != fmt.Sprint(one) {
			t.Fatalf("whole: %+v; byte by byte: %+v", hello, one)
		}
		name := hello.ServerName
		for i := 0; i < len(name); i++ {
			if 'A' <= name[i] && name[i] <= 'Z' {
				t.Fatalf("ServerName %q is not lower-case", name)
			}
		}
		if len(name) > 0 && name[len(name)-1] == '.' {
			t.Fatalf("ServerName %q has a trailing dot", name)
		}
		if len(hello.Versions) == 0 {
			t.Fatalf("no Versions in %+v", hello)
		}
	})
}

// TestWriteFuzzSeeds writes seeds() in Go's corpus format so `go test` replays them
// without -fuzz. Off by default: real hellos are random, so rewriting churns the files.
func TestWriteFuzzSeeds(t *testing.T) {
	if !*writeSeeds {
		t.Skip("run with -sniff.write-seeds to regenerate testdata/fuzz/FuzzParseClientHello")
	}
	dir := filepath.Join("testdata", "fuzz", "FuzzParseClientHello")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for name, data := range seeds(t) {
		file := fmt.Sprintf("go test fuzz v1\n[]byte(%q)\n", data)
		if err := os.WriteFile(filepath.Join(dir, name), []byte(file), 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("wrote %s (%d bytes)", name, len(data))
	}
}

func BenchmarkPeek(b *testing.B) {
	record := captureHello(b, &tls.Config{ServerName: "bench.example.com", NextProtos: []string{"h2", "http/1.1"}})
	conn := &byteConn{r: bytes.NewReader(record), chunk: len(record)}
	b.SetBytes(int64(len(record)))
	b.ReportAllocs()
	for b.Loop() {
		conn.r.Reset(record)
		hello, _, err := sniff.Peek(conn, time.Second, 0)
		if err != nil || hello.ServerName != "bench.example.com" {
			b.Fatalf("Peek: %v, %+v", err, hello)
		}
	}
}
