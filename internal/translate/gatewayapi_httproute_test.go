package translate

import (
	"net/http/httptest"
	"net/netip"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/bridgehead/bridgehead/internal/rule"
	"github.com/bridgehead/bridgehead/internal/snapshot"
)

func gwTestInputs(listenerHost string, routes ...*gwv1.HTTPRoute) *Inputs {
	svc, slice := appService()
	l := gwv1.Listener{Name: "http", Port: 80, Protocol: gwv1.HTTPProtocolType}
	if listenerHost != "" {
		l.Hostname = ptr.To(gwv1.Hostname(listenerHost))
	}
	return &Inputs{
		Services: []*corev1.Service{svc}, EndpointSlices: []*discoveryv1.EndpointSlice{slice},
		GatewayClasses: []*gwv1.GatewayClass{{ObjectMeta: metav1.ObjectMeta{Name: "bh"}, Spec: gwv1.GatewayClassSpec{ControllerName: GatewayController}}},
		Gateways: []*gwv1.Gateway{{ObjectMeta: metav1.ObjectMeta{Namespace: "web", Name: "gw"},
			Spec: gwv1.GatewaySpec{GatewayClassName: "bh", Listeners: []gwv1.Listener{l}}}},
		HTTPRoutes: routes,
	}
}

func testHTTPRoute(name string, age time.Duration, hostnames []gwv1.Hostname, matches ...gwv1.HTTPRouteMatch) *gwv1.HTTPRoute {
	return &gwv1.HTTPRoute{
		ObjectMeta: metav1.ObjectMeta{Namespace: "web", Name: name, Generation: 1, CreationTimestamp: metav1.NewTime(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).Add(-age))},
		Spec: gwv1.HTTPRouteSpec{
			CommonRouteSpec: gwv1.CommonRouteSpec{ParentRefs: []gwv1.ParentReference{{Name: "gw"}}},
			Hostnames:       hostnames,
			Rules: []gwv1.HTTPRouteRule{{Matches: matches, BackendRefs: []gwv1.HTTPBackendRef{{BackendRef: gwv1.BackendRef{
				BackendObjectReference: gwv1.BackendObjectReference{Name: "app", Port: ptr.To[gwv1.PortNumber](80)}}}}}},
		},
	}
}

func prefix(p string) gwv1.HTTPRouteMatch {
	return gwv1.HTTPRouteMatch{Path: &gwv1.HTTPPathMatch{Type: ptr.To(gwv1.PathMatchPathPrefix), Value: ptr.To(p)}}
}

// gwRouteFor is the HTTPRoute (namespace/name) the proxy would pick on web.
func gwRouteFor(t *testing.T, snap *snapshot.Snapshot, host, target string, headers map[string]string) string {
	t.Helper()
	req := httptest.NewRequest("GET", "http://"+host+target, nil)
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	for _, r := range snap.HTTPRoutes {
		parsed, err := rule.Parse(r.Match, rule.HTTP)
		if err != nil {
			t.Fatalf("route %s: %v", r.ID, err)
		}
		if parsed.MatchHTTP(req, netip.MustParseAddr("192.0.2.1")) {
			return r.Source.Name
		}
	}
	return ""
}

func TestHTTPRouteMatchesAndPrecedenceAsTheSpecSays(t *testing.T) {
	exact := gwv1.HTTPRouteMatch{Path: &gwv1.HTTPPathMatch{Type: ptr.To(gwv1.PathMatchExact), Value: ptr.To("/v2")}}
	withHeader := prefix("/v2")
	withHeader.Headers = []gwv1.HTTPHeaderMatch{{Name: "Version", Value: "two"}}
	query := prefix("/v2")
	query.QueryParams = []gwv1.HTTPQueryParamMatch{{Name: "q", Value: "1"}}
	in := gwTestInputs("",
		testHTTPRoute("catch-all-old", 2*time.Hour, nil, prefix("/")),
		testHTTPRoute("catch-all-new", time.Hour, nil, prefix("/")),
		testHTTPRoute("v2-prefix", time.Hour, nil, prefix("/v2/")),
		testHTTPRoute("v2-exact", time.Hour, nil, exact),
		testHTTPRoute("v2-header", time.Hour, nil, withHeader),
		testHTTPRoute("v2-query", time.Hour, nil, query),
		testHTTPRoute("host", 0, []gwv1.Hostname{"a.example.com"}, prefix("/")),
	)
	snap, st := Translate(in, DefaultOptions())
	if err := snap.Validate(); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		host, target string
		headers      map[string]string
		want         string
	}{
		{"b.example.com", "/", nil, "catch-all-old"}, // same match: the oldest route wins
		{"a.example.com", "/v2", nil, "host"},        // a route's host name beats any path of a host-less one
		{"b.example.com", "/v2", nil, "v2-exact"},    // Exact beats every prefix
		{"b.example.com", "/v2/x", nil, "v2-prefix"},
		{"b.example.com", "/v2/x", map[string]string{"version": "two"}, "v2-header"},     // the match with headers wins; names ignore case
		{"b.example.com", "/v2/x?q=1", nil, "v2-query"},                                  // then the one with query parameters
		{"b.example.com", "/v2/x?q=1", map[string]string{"Version": "two"}, "v2-header"}, // headers rank above query parameters
		{"b.example.com", "/v2x", nil, "catch-all-old"},                                  // a prefix matches whole path segments
		{"b.example.com", "/v2/", nil, "v2-prefix"},                                      // "/v2/" is written as the same prefix as "/v2"
	} {
		if got := gwRouteFor(t, snap, c.host, c.target, c.headers); got != c.want {
			t.Errorf("GET %s%s %v: routed to %q, want %q", c.host, c.target, c.headers, got, c.want)
		}
	}
	for _, name := range []string{"catch-all-old", "v2-query", "host"} {
		s := st[Key{Kind: KindHTTPRoute, Namespace: "web", Name: name}]
		if s == nil || s.GatewayAPI == nil || len(s.GatewayAPI.Parents) != 1 {
			t.Fatalf("%s: no parent status: %+v", name, s)
		}
		for _, c := range s.GatewayAPI.Parents[0].Conditions {
			if c.Status != metav1.ConditionTrue {
				t.Errorf("%s: %s=%s %s: %s", name, c.Type, c.Status, c.Reason, c.Message)
			}
		}
	}
}

func TestHTTPRouteHostnamesIntersectTheListenersHostname(t *testing.T) {
	in := gwTestInputs("*.example.com",
		testHTTPRoute("mixed", 0, []gwv1.Hostname{"a.example.com", "example.com", "*.b.example.com"}, prefix("/")),
		testHTTPRoute("elsewhere", 0, []gwv1.Hostname{"other.org"}, prefix("/")),
		testHTTPRoute("any", time.Hour, nil, prefix("/")),
	)
	snap, st := Translate(in, DefaultOptions())
	if err := snap.Validate(); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ host, want string }{
		{"a.example.com", "mixed"},
		{"x.y.b.example.com", "mixed"}, // a wildcard covers one label or more
		{"c.example.com", "any"},       // a route without hostnames takes the listener's
		{"example.com", ""},            // the listener's wildcard does not cover its own suffix
		{"other.org", ""},
	} {
		if got := gwRouteFor(t, snap, c.host, "/", nil); got != c.want {
			t.Errorf("GET %s: routed to %q, want %q", c.host, got, c.want)
		}
	}
	s := st[Key{Kind: KindHTTPRoute, Namespace: "web", Name: "elsewhere"}]
	acc := s.GatewayAPI.Parents[0].Conditions[0]
	if acc.Status != metav1.ConditionFalse || acc.Reason != string(gwv1.RouteReasonNoMatchingListenerHostname) {
		t.Errorf("elsewhere: Accepted %s %s, want False NoMatchingListenerHostname", acc.Status, acc.Reason)
	}
	gw := st[Key{Kind: KindGateway, Namespace: "web", Name: "gw"}].GatewayAPI.Gateway
	if got := gw.Listeners[0].AttachedRoutes; got != 2 {
		t.Errorf("attachedRoutes = %d, want 2 (mixed and any)", got)
	}
}
