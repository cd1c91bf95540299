package dataplane

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"

	"github.com/bridgehead/bridgehead/proxy"
)

// fillers are n header fields of size bytes in all (names and values).
func fillers(n, size int) []hpack.HeaderField {
	out := make([]hpack.HeaderField, n)
	for i := range out {
		name := fmt.Sprintf("x-filler-%d", i)
		out[i] = hpack.HeaderField{Name: name, Value: strings.Repeat("a", max(size/n-len(name), 1))}
	}
	return out
}

func rawRequest(fields []hpack.HeaderField) string {
	var b strings.Builder
	b.WriteString("GET / HTTP/1.1\r\nHost: app.example.com\r\n")
	for _, f := range fields {
		b.WriteString(f.Name + ": " + f.Value + "\r\n")
	}
	return b.String() + "\r\n"
}

// Request headers are bounded by default at 64 KiB and 100 fields, over HTTP/1.1 and
// HTTP/2 alike, and answered 431. Before, 1 MiB and any number of fields were forwarded.
func TestRequestHeaderLimits(t *testing.T) {
	p := newPKI()
	b := startEchoBackend(t)
	g := startGateway(t, plainRoute(p, b.srv.Listener.Addr().String()))

	t.Run("HTTP/1.1", func(t *testing.T) {
		for _, tt := range []struct {
			name   string
			fields []hpack.HeaderField
			status int
			reason string
		}{
			{"100 fields", fillers(proxy.DefaultMaxHeaderFields, 2000), 200, ""},
			{"101 fields", fillers(proxy.DefaultMaxHeaderFields+1, 2000), 431, "TooManyHeaderFields"},
			{"60 KiB", fillers(6, 60<<10), 200, ""},
			{"70 KiB", fillers(7, 70<<10), 431, ""},
		} {
			resps, _ := exchange(t, g.web, rawRequest(tt.fields), 1)
			if len(resps) != 1 {
				t.Fatalf("%s: %d responses", tt.name, len(resps))
			}
			if got := resps[0]; got.status != tt.status || got.header.Get("Bridgehead-Error") != tt.reason {
				t.Errorf("%s: got %d %q, want %d %q", tt.name, got.status, got.header.Get("Bridgehead-Error"), tt.status, tt.reason)
			}
		}
	})

	t.Run("HTTP/2 client", func(t *testing.T) {
		for _, tt := range []struct {
			n      int
			status int
		}{{proxy.DefaultMaxHeaderFields, 200}, {proxy.DefaultMaxHeaderFields + 1, 431}} {
			req, _ := http.NewRequest("GET", "https://app.example.com/", nil)
			// Go's client adds User-Agent and Accept-Encoding: two of the n fields.
			for _, f := range fillers(tt.n-2, 2000) {
				req.Header.Set(f.Name, f.Value)
			}
			resp, err := g.httpsClient(p.edgeCA).Do(req)
			if err != nil {
				t.Fatal(err)
			}
			_ = resp.Body.Close()
			if resp.ProtoMajor != 2 || resp.StatusCode != tt.status {
				t.Errorf("%d fields: got %s %d, want HTTP/2 %d", tt.n, resp.Proto, resp.StatusCode, tt.status)
			}
		}
	})

	t.Run("HTTP/2 header list", func(t *testing.T) {
		c := g.dialH2(t, p)
		// net/http pads the limit by 32 bytes for each of 10 fields (HTTP/2 counts 32 per field).
		if got := c.settings[http2.SettingMaxHeaderListSize]; got == 0 || got > proxy.DefaultMaxHeaderBytes+1024 {
			t.Errorf("SETTINGS_MAX_HEADER_LIST_SIZE %d, want about %d", got, proxy.DefaultMaxHeaderBytes)
		}
		c.get(1, "/", fillers(6, 60<<10), true)
		if got := c.status(1); got != "200" {
			t.Errorf("60 KiB: %s, want 200", got)
		}
		c.get(3, "/", fillers(7, 70<<10), true)
		if got := c.status(3); got != "431" {
			t.Errorf("70 KiB: %s, want 431", got)
		}
	})
}
