package upstream

import (
	"testing"

	"github.com/bridgehead/bridgehead/internal/snapshot"
)

// A forwardAuth's auth server is a backend of the pool too: a swap that keeps it (here
// inside a chain) keeps its round tripper and its warm connections; one that drops it
// retires it.
func TestRetainKeepsForwardAuthServers(t *testing.T) {
	p := NewPool(Options{})
	tr := &snapshot.Transport{ID: "Middleware/web/auth", Hash: "h"}
	server := backend("https", "127.0.0.1:1", "auth.web.svc", "auth.web.svc")
	server.Transport = tr.ID
	withAuth := func() *snapshot.Snapshot {
		s := snap(copyOf(tr))
		fa := &snapshot.Middleware{ForwardAuth: &snapshot.ForwardAuth{Address: "https://auth.web.svc/", Server: copyOf(server)}}
		s.HTTPRoutes[0].Middlewares = []*snapshot.Middleware{{Chain: &snapshot.Chain{Middlewares: []*snapshot.Middleware{fa}}}}
		return s
	}
	first := p.For(tr, server)
	p.Retain(withAuth(), nil)
	if p.For(copyOf(tr), copyOf(server)) != first {
		t.Fatal("a swap that keeps the forwardAuth rebuilt its round tripper")
	}
	p.Retain(snap(nil), nil)
	if p.For(tr, server) == first {
		t.Fatal("a swap without the forwardAuth kept its round tripper")
	}
}
