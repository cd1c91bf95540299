package dataplane

import (
	"io"
	"testing"
)

// BenchmarkReencryptKeepAlive measures the whole request path in one process (client,
// gateway, backend) over keep-alive HTTP/1.1: allocations per request include all three.
// make bench measures the gateway alone against HAProxy.
func BenchmarkReencryptKeepAlive(b *testing.B) {
	t := &testing.T{}
	p := newPKI()
	be := tlsBackend(t, p.backend("backend.web.svc"))
	defer be.Close()
	g := startGateway(t, e2e(p, addrOf(be), serversTransport("backend", "backend.web.svc", []string{"backend-ca"}, nil),
		routeSpec{name: "app", match: "Host(`app.example.com`)", svc: "backend", transport: "backend", secret: "app-tls"}))
	c := g.httpsClient(p.edgeCA)
	b.ReportAllocs()
	for b.Loop() {
		resp, err := c.Get("https://app.example.com/")
		if err != nil {
			b.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		_ = resp.Body.Close()
	}
}
