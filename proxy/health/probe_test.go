package health

import (
	"crypto/tls"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	. "github.com/onsi/gomega"

	"github.com/bridgehead/bridgehead/internal/pki"
	"github.com/bridgehead/bridgehead/internal/snapshot"
	"github.com/bridgehead/bridgehead/proxy/upstream"
)

// A snapshot that changes a route's TLS path gets a real handshake to the endpoint right
// away, and its outcome is recorded for the route: untrusted without the backend's CA,
// verified with it. A snapshot that changes nothing on that path probes nothing.
func TestProberProbesWhatASnapshotChanged(t *testing.T) {
	g := NewWithT(t)
	g.SetDefaultEventuallyTimeout(10 * time.Second) // a busy machine, -race; a probe may take probeTimeout
	ca := pki.MustCA("probe test CA")
	leaf := ca.MustIssue("app.internal", pki.Options{DNSNames: []string{"app.internal"}})
	var mu sync.Mutex
	var hellos []string // SNI of every ClientHello the backend saw
	backend := httptest.NewUnstartedServer(http.NotFoundHandler())
	backend.TLS = &tls.Config{GetConfigForClient: func(chi *tls.ClientHelloInfo) (*tls.Config, error) {
		mu.Lock()
		hellos = append(hellos, chi.ServerName)
		mu.Unlock()
		return nil, nil
	}, Certificates: []tls.Certificate{leaf.TLS}}
	backend.StartTLS()
	defer backend.Close()
	addr := strings.TrimPrefix(backend.URL, "https://")
	seen := func() []string { mu.Lock(); defer mu.Unlock(); return slices.Clone(hellos) }

	trusted := &snapshot.Transport{ID: "ServersTransport/ns/app", Hash: "1", RootCAs: &snapshot.CertPool{Pool: ca.Pool()}}
	snap := func(transport *snapshot.Transport) *snapshot.Snapshot {
		b := &snapshot.Backend{
			Service: snapshot.Ref{Kind: "Service", Namespace: "ns", Name: "app"}, Port: "443", Scheme: "https",
			ServerName: "app.internal", Endpoints: []snapshot.Endpoint{{Address: addr}},
		}
		s := &snapshot.Snapshot{HTTPRoutes: []*snapshot.HTTPRoute{{RouteHead: snapshot.RouteHead{ID: "web/app"}, Backends: []*snapshot.Backend{b}}}}
		if transport != nil {
			b.Transport = transport.ID
			s.Transports = []*snapshot.Transport{transport}
		}
		return s
	}
	pool := upstream.NewPool(upstream.Options{})
	defer pool.Close()
	recorded := &upstream.Outcomes{}
	latest := func() []upstream.Observation { return recorded.Latest() }
	p := NewProber(pool, recorded, slog.New(slog.NewTextHandler(io.Discard, nil)))
	defer p.Close()

	p.Changes(snap(nil))
	g.Eventually(latest).Should(ContainElement(And(
		HaveField("RouteID", "web/app"), HaveField("Endpoint", addr), HaveField("OK", false),
		HaveField("Reason", upstream.UnknownAuthority))), "no UnknownAuthority recorded for a backend whose CA is not trusted")
	g.Expect(seen()).To(HaveLen(1))

	p.Changes(snap(nil)) // the same path again: nothing to probe
	p.Changes(snap(trusted))
	g.Eventually(latest).Should(ContainElement(And(
		HaveField("RouteID", "web/app"), HaveField("Endpoint", addr), HaveField("OK", true))), "no success recorded once the backend's CA is trusted")
	g.Expect(seen()).To(Equal([]string{"app.internal", "app.internal"}), "an unchanged TLS path was probed again")
}
