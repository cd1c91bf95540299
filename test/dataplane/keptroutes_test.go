package dataplane

import (
	"testing"

	"sigs.k8s.io/controller-runtime/pkg/client"
)

// A snapshot may hand the proxy the very route objects of the snapshot before (translate
// replays unchanged IngressRoutes so), and the proxy then keeps those routes as it
// compiled them. A route forwards through its ServersTransport, which is not part of the
// route object: a change of transports builds the route again. Here the same route object
// is served first through a transport that trusts another CA (502), then through one that
// trusts the backend's (200).
func TestAKeptRouteFollowsItsServersTransport(t *testing.T) {
	p := newPKI()
	b := tlsBackend(t, p.backend("backend.web.svc"))
	route := routeSpec{name: "app", match: "Host(`app.example.com`)", svc: "backend", transport: "backend", secret: "app-tls"}
	trusting := func(ca string) []client.Object {
		objs := e2e(p, addrOf(b), serversTransport("backend", "backend.web.svc", []string{ca}, nil), route)
		return append(objs, caSecret("other-ca", p.otherCA))
	}
	g := startGateway(t, trusting("other-ca"))
	c := g.httpsClient(p.edgeCA)
	const url = "https://app.example.com/"
	if code, reason, _ := get(t, c, url); code != 502 {
		t.Fatalf("through a transport that trusts another CA: %d %s; want 502", code, reason)
	}

	served := g.store.Load()
	right, _ := g.translate(trusting("backend-ca")...)
	next := *right
	next.HTTPRoutes = served.HTTPRoutes // the same route objects, as a replay gives them
	if err := g.store.Swap(&next); err != nil {
		t.Fatal(err)
	}
	if code, reason, body := get(t, c, url); code != 200 {
		t.Fatalf("the same route object through a transport that trusts the backend's CA: %d %s %q; want 200", code, reason, body)
	}
}
