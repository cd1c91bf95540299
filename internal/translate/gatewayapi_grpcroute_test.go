package translate

import (
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/bridgehead/bridgehead/internal/snapshot"
)

const echoService = "gateway_api_conformance.echo_basic.grpcecho.GrpcEcho"

func testGRPCRoute(name string, age time.Duration, hostnames []gwv1.Hostname, matches ...gwv1.GRPCRouteMatch) *gwv1.GRPCRoute {
	return &gwv1.GRPCRoute{
		ObjectMeta: metav1.ObjectMeta{Namespace: "web", Name: name, Generation: 1, CreationTimestamp: metav1.NewTime(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).Add(-age))},
		Spec: gwv1.GRPCRouteSpec{
			CommonRouteSpec: gwv1.CommonRouteSpec{ParentRefs: []gwv1.ParentReference{{Name: "gw"}}},
			Hostnames:       hostnames,
			Rules: []gwv1.GRPCRouteRule{{Matches: matches, BackendRefs: []gwv1.GRPCBackendRef{{BackendRef: gwv1.BackendRef{
				BackendObjectReference: gwv1.BackendObjectReference{Name: "app", Port: ptr.To[gwv1.PortNumber](80)}}}}}},
		},
	}
}

func grpcMethod(service, method string) gwv1.GRPCRouteMatch {
	mm := &gwv1.GRPCMethodMatch{}
	if service != "" {
		mm.Service = ptr.To(service)
	}
	if method != "" {
		mm.Method = ptr.To(method)
	}
	return gwv1.GRPCRouteMatch{Method: mm}
}

func grpcInputs(routes ...*gwv1.GRPCRoute) *Inputs {
	in := gwTestInputs("")
	in.GRPCRoutes = routes
	return in
}

// grpcRouteFor is the route a gRPC call (POST /service/method) is routed to on web.
func grpcRouteFor(t *testing.T, snap *snapshot.Snapshot, host, service, method string, md map[string]string) string {
	t.Helper()
	return gwRouteFor(t, snap, host, "/"+service+"/"+method, md)
}

func parentConditions(t *testing.T, st Statuses, kind, name string) map[string]metav1.Condition {
	t.Helper()
	s := st[Key{Kind: kind, Namespace: "web", Name: name}]
	if s == nil || s.GatewayAPI == nil || len(s.GatewayAPI.Parents) != 1 {
		t.Fatalf("%s %s: no parent status: %+v", kind, name, s)
	}
	out := map[string]metav1.Condition{}
	for _, c := range s.GatewayAPI.Parents[0].Conditions {
		out[c.Type] = c
	}
	return out
}

func TestGRPCRouteMethodAndHeaderMatchesWithTheSpecsPrecedence(t *testing.T) {
	versionTwo := grpcMethod(echoService, "")
	versionTwo.Headers = []gwv1.GRPCHeaderMatch{{Name: "Version", Value: "two"}, {Name: "version", Value: "ignored: only the first entry of a name counts"}}
	regex := grpcMethod(`.*\.Health`, "Ch.*")
	regex.Method.Type = ptr.To(gwv1.GRPCMethodMatchRegularExpression)
	snap, st := Translate(grpcInputs(
		testGRPCRoute("any", 2*time.Hour, nil),
		testGRPCRoute("echo", time.Hour, nil, grpcMethod(echoService, "Echo")),
		testGRPCRoute("service", time.Hour, nil, grpcMethod(echoService, "")),
		testGRPCRoute("service-v2", time.Hour, nil, versionTwo),
		testGRPCRoute("method-only", time.Hour, nil, grpcMethod("", "EchoTwo")),
		testGRPCRoute("health", time.Hour, nil, regex),
		testGRPCRoute("host", 0, []gwv1.Hostname{"grpc.example.com"}),
	), DefaultOptions())
	if err := snap.Validate(); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		host, service, method string
		md                    map[string]string
		want                  string
	}{
		{"b.example.com", echoService, "Echo", nil, "echo"},                                            // service and method beat the service alone
		{"b.example.com", echoService, "Echo", map[string]string{"version": "two"}, "echo"},            // characters of the method rank above header matches
		{"b.example.com", echoService, "EchoThree", nil, "service"},                                    // the service alone takes its other methods
		{"b.example.com", echoService, "EchoThree", map[string]string{"VERSION": "two"}, "service-v2"}, // then header matches; names ignore case
		{"b.example.com", echoService, "EchoTwo", nil, "service"},                                      // a service's characters rank above a method-only match
		{"b.example.com", "other.Svc", "EchoTwo", nil, "method-only"},                                  // a method of any service
		{"b.example.com", "grpc.health.v1.Health", "Check", nil, "health"},                             // regular expressions on both parts
		{"b.example.com", "grpc.health.v1.Health", "Watch", nil, "any"},                                // the regex covers the whole method
		{"b.example.com", "x.Svc", "Do", nil, "any"},                                                   // a rule without matches takes every call
		{"grpc.example.com", echoService, "Echo", nil, "host"},                                         // a host name beats any method match
	} {
		if got := grpcRouteFor(t, snap, c.host, c.service, c.method, c.md); got != c.want {
			t.Errorf("%s /%s/%s %v: routed to %q, want %q", c.host, c.service, c.method, c.md, got, c.want)
		}
	}
	for _, name := range []string{"any", "echo", "health", "host"} {
		for typ, c := range parentConditions(t, st, KindGRPCRoute, name) {
			if c.Status != metav1.ConditionTrue {
				t.Errorf("%s: %s=%s %s: %s", name, typ, c.Status, c.Reason, c.Message)
			}
		}
	}
	// gRPC is HTTP/2: a plain Service port is spoken to in h2c.
	for _, r := range snap.HTTPRoutes {
		for _, b := range r.Backends {
			if b.Scheme != "h2c" || len(b.Endpoints) != 1 {
				t.Errorf("%s: backend scheme %q endpoints %v, want h2c to the one endpoint", r.ID, b.Scheme, b.Endpoints)
			}
		}
	}
	gw := st[Key{Kind: KindGateway, Namespace: "web", Name: "gw"}].GatewayAPI.Gateway
	var kinds []string
	for _, k := range gw.Listeners[0].SupportedKinds {
		kinds = append(kinds, string(k.Kind))
	}
	if len(kinds) != 2 || kinds[1] != KindGRPCRoute || gw.Listeners[0].AttachedRoutes != 7 {
		t.Errorf("HTTP listener: supportedKinds %v attachedRoutes %d, want [HTTPRoute GRPCRoute] and 7", kinds, gw.Listeners[0].AttachedRoutes)
	}
}

func TestGRPCRouteRefusesWhatItDoesNotServe(t *testing.T) {
	mirror := testGRPCRoute("mirror", 0, nil)
	mirror.Spec.Rules[0].Filters = []gwv1.GRPCRouteFilter{{Type: gwv1.GRPCRouteFilterRequestMirror,
		RequestMirror: &gwv1.HTTPRequestMirrorFilter{BackendRef: gwv1.BackendObjectReference{Name: "app", Port: ptr.To[gwv1.PortNumber](80)}}}}
	badHeader := testGRPCRoute("bad-header", 0, nil, gwv1.GRPCRouteMatch{Headers: []gwv1.GRPCHeaderMatch{{Name: "x", Value: "y", Type: ptr.To(gwv1.GRPCHeaderMatchType("Prefix"))}}})
	slash := testGRPCRoute("slash", 0, nil, grpcMethod("a/b", "C"))
	http1 := testGRPCRoute("http1", 0, nil)
	http1.Spec.Rules[0].BackendRefs[0].Name = "plain"
	missing := testGRPCRoute("missing", 0, nil)
	missing.Spec.Rules[0].BackendRefs[0].Name = "nope"
	in := grpcInputs(mirror, badHeader, slash, http1, missing)
	plain, _ := appService()
	plain.Name = "plain"
	plain.Spec.Ports[0].AppProtocol = ptr.To("http")
	in.Services = append(in.Services, plain)
	snap, st := Translate(in, DefaultOptions())
	if err := snap.Validate(); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name, typ, reason, field string
	}{
		{"mirror", "Accepted", string(gwv1.RouteReasonUnsupportedValue), "spec.rules[0].filters[0].requestMirror"},
		{"bad-header", "Accepted", string(gwv1.RouteReasonUnsupportedValue), "spec.rules[0].matches[0].headers[0].type"},
		{"slash", "Accepted", string(gwv1.RouteReasonUnsupportedValue), "spec.rules[0].matches[0].method"},
		{"http1", "ResolvedRefs", string(gwv1.RouteReasonUnsupportedProtocol), "spec.rules[0].backendRefs[0]"},
		{"missing", "ResolvedRefs", string(gwv1.RouteReasonBackendNotFound), "spec.rules[0].backendRefs[0]"},
	} {
		cond := parentConditions(t, st, KindGRPCRoute, c.name)[c.typ]
		if cond.Status != metav1.ConditionFalse || cond.Reason != c.reason || !strings.Contains(cond.Message, c.field) {
			t.Errorf("%s: %s=%s %s %q, want False %s naming %s", c.name, c.typ, cond.Status, cond.Reason, cond.Message, c.reason, c.field)
		}
	}
	// Nothing is served open: the mirror's rule fails closed, a backend that cannot
	// carry gRPC or does not exist answers 503 (UNAVAILABLE to a gRPC client).
	for _, r := range snap.HTTPRoutes {
		switch r.Source.Name {
		case "mirror":
			if r.Failure == nil {
				t.Errorf("%s: served without its mirror", r.ID)
			}
		case "http1", "missing":
			if f := r.Backends[0].Failure; f == nil || f.Status != 503 {
				t.Errorf("%s: backend failure %+v, want 503", r.ID, f)
			}
		}
	}
}

func TestGRPCRouteHeaderModifiersAndH2COnAppProtocol(t *testing.T) {
	route := testGRPCRoute("mod", 0, nil)
	route.Spec.Rules[0].Filters = []gwv1.GRPCRouteFilter{
		{Type: gwv1.GRPCRouteFilterRequestHeaderModifier, RequestHeaderModifier: &gwv1.HTTPHeaderFilter{
			Set: []gwv1.HTTPHeader{{Name: "x-set", Value: "1"}}, Add: []gwv1.HTTPHeader{{Name: "x-add", Value: "2"}}, Remove: []string{"x-drop"}}},
		{Type: gwv1.GRPCRouteFilterResponseHeaderModifier, ResponseHeaderModifier: &gwv1.HTTPHeaderFilter{Set: []gwv1.HTTPHeader{{Name: "x-resp", Value: "3"}}}},
	}
	in := grpcInputs(route)
	in.Services[0].Spec.Ports[0].AppProtocol = ptr.To("kubernetes.io/h2c")
	snap, st := Translate(in, DefaultOptions())
	if err := snap.Validate(); err != nil {
		t.Fatal(err)
	}
	if len(snap.HTTPRoutes) != 1 {
		t.Fatalf("%d routes, want 1", len(snap.HTTPRoutes))
	}
	r := snap.HTTPRoutes[0]
	if len(r.Middlewares) != 2 || r.Middlewares[0].RequestHeaderModifier == nil || r.Middlewares[1].ResponseHeaderModifier == nil {
		t.Fatalf("middlewares %+v, want the request then the response header modifier", r.Middlewares)
	}
	rq := r.Middlewares[0].RequestHeaderModifier
	if rq.Set[0] != (snapshot.HeaderValue{Name: "x-set", Value: "1"}) || rq.Add[0] != (snapshot.HeaderValue{Name: "x-add", Value: "2"}) || rq.Remove[0] != "x-drop" {
		t.Errorf("request modifier %+v", rq)
	}
	if r.Backends[0].Scheme != "h2c" {
		t.Errorf("scheme %q, want h2c", r.Backends[0].Scheme)
	}
	for typ, c := range parentConditions(t, st, KindGRPCRoute, "mod") {
		if c.Status != metav1.ConditionTrue {
			t.Errorf("%s=%s %s: %s", typ, c.Status, c.Reason, c.Message)
		}
	}
}

func TestHTTPRouteAndGRPCRouteSharingAHostOnAListenerTheOldestIsAccepted(t *testing.T) {
	in := grpcInputs(
		testGRPCRoute("new-grpc", time.Hour, []gwv1.Hostname{"a.example.com"}),
		testGRPCRoute("old-grpc", 3*time.Hour, []gwv1.Hostname{"b.example.com"}),
		testGRPCRoute("alone-grpc", 0, []gwv1.Hostname{"c.example.com"}),
	)
	in.HTTPRoutes = []*gwv1.HTTPRoute{
		testHTTPRoute("old-http", 2*time.Hour, []gwv1.Hostname{"a.example.com", "d.example.com"}, prefix("/")),
		testHTTPRoute("new-http", 0, []gwv1.Hostname{"b.example.com"}, prefix("/")),
	}
	snap, st := Translate(in, DefaultOptions())
	if err := snap.Validate(); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ kind, name, reason, names string }{
		{KindGRPCRoute, "new-grpc", "Conflicted", "HTTPRoute web/old-http"},
		{KindHTTPRoute, "new-http", "Conflicted", "GRPCRoute web/old-grpc"},
		{KindHTTPRoute, "old-http", "Accepted", ""},
		{KindGRPCRoute, "old-grpc", "Accepted", ""},
		{KindGRPCRoute, "alone-grpc", "Accepted", ""},
	} {
		acc := parentConditions(t, st, c.kind, c.name)["Accepted"]
		if acc.Reason != c.reason || !strings.Contains(acc.Message, c.names) || (acc.Status == metav1.ConditionTrue) != (c.reason == "Accepted") {
			t.Errorf("%s %s: Accepted=%s %s %q, want %s naming %q", c.kind, c.name, acc.Status, acc.Reason, acc.Message, c.reason, c.names)
		}
	}
	for _, c := range []struct{ host, want string }{
		{"a.example.com", "old-http"}, // the older HTTPRoute keeps its name
		{"b.example.com", "old-grpc"}, // the older GRPCRoute keeps its name
		{"c.example.com", "alone-grpc"},
		{"d.example.com", "old-http"},
	} {
		if got := grpcRouteFor(t, snap, c.host, echoService, "Echo", nil); got != c.want {
			t.Errorf("%s: routed to %q, want %q", c.host, got, c.want)
		}
	}
	gw := st[Key{Kind: KindGateway, Namespace: "web", Name: "gw"}].GatewayAPI.Gateway
	if got := gw.Listeners[0].AttachedRoutes; got != 3 {
		t.Errorf("attachedRoutes = %d, want 3 (the two conflicting losers do not count)", got)
	}
}
