package dataplane

import (
	"crypto/tls"
	"io"
	"testing"
)

// BenchmarkReencryptKeepAlive measures the whole request path in one process (client,
// gateway, backend) over keep-alive HTTP/1.1: allocations per request include all three.
// With an HTTP/1.1 origin the gateway forwards on its HTTP/1.1 fast path (the direct way,
// proxy/direct.go); with one that offers HTTP/2 it multiplexes through http.Transport.
// make bench measures the gateway alone against HAProxy.
func BenchmarkReencryptKeepAlive(b *testing.B) {
	for _, origin := range []struct {
		name  string
		proto string
	}{{"http1-origin", "http/1.1"}, {"h2-origin", "h2"}} {
		b.Run(origin.name, func(b *testing.B) {
			p := newPKI()
			be := tlsBackend(b, p.backend("backend.web.svc"), func(c *tls.Config) { c.NextProtos = []string{origin.proto} })
			g := startGateway(b, e2e(p, addrOf(be), serversTransport("backend", "backend.web.svc", []string{"backend-ca"}, nil),
				routeSpec{name: "app", match: "Host(`app.example.com`)", svc: "backend", transport: "backend", secret: "app-tls"}))
			c := g.httpsClient(p.edgeCA, func(c *tls.Config) { c.NextProtos = []string{"http/1.1"} })
			want := "HTTP/" + map[string]string{"http/1.1": "1.1", "h2": "2.0"}[origin.proto]
			b.ReportAllocs()
			for b.Loop() {
				resp, err := c.Get("https://app.example.com/")
				if err != nil {
					b.Fatal(err)
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				_ = resp.Body.Close()
				if got := resp.Header.Get("X-Backend-Proto"); got != want {
					b.Fatalf("the origin saw %s, want %s", got, want)
				}
			}
		})
	}
}
