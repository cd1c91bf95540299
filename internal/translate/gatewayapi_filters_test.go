package translate

import (
	"strconv"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/bridgehead/bridgehead/internal/snapshot"
)

// withFilters gives the route's only rule these filters.
func withFilters(r *gwv1.HTTPRoute, fs ...gwv1.HTTPRouteFilter) *gwv1.HTTPRoute {
	r.Spec.Rules[0].Filters = fs
	return r
}

func httpRouteConds(t *testing.T, st Statuses, name string) map[string]metav1.Condition {
	t.Helper()
	s := st[Key{Kind: KindHTTPRoute, Namespace: "web", Name: name}]
	if s == nil || s.GatewayAPI == nil || len(s.GatewayAPI.Parents) == 0 {
		t.Fatalf("%s: no parent status: %+v", name, s)
	}
	out := map[string]metav1.Condition{}
	for _, c := range s.GatewayAPI.Parents[0].Conditions {
		out[c.Type] = c
	}
	return out
}

func snapRoutesOf(snap *snapshot.Snapshot, name string) []*snapshot.HTTPRoute {
	var out []*snapshot.HTTPRoute
	for _, r := range snap.HTTPRoutes {
		if r.Source.Name == name {
			out = append(out, r)
		}
	}
	return out
}

func TestHTTPRouteFiltersCompilePerListenerAndMatch(t *testing.T) {
	in := gwTestInputs("",
		withFilters(testHTTPRoute("rewrite", 0, nil, prefix("/one"), prefix("/two/")),
			gwv1.HTTPRouteFilter{Type: gwv1.HTTPRouteFilterRequestHeaderModifier, RequestHeaderModifier: &gwv1.HTTPHeaderFilter{
				Set: []gwv1.HTTPHeader{{Name: "X-Set", Value: "s"}}, Add: []gwv1.HTTPHeader{{Name: "X-Add", Value: "a"}}, Remove: []string{"X-Gone"}}},
			gwv1.HTTPRouteFilter{Type: gwv1.HTTPRouteFilterURLRewrite, URLRewrite: &gwv1.HTTPURLRewriteFilter{Hostname: ptr.To[gwv1.PreciseHostname]("internal.example"),
				Path: &gwv1.HTTPPathModifier{Type: gwv1.PrefixMatchHTTPPathModifier, ReplacePrefixMatch: ptr.To("/new")}}},
			gwv1.HTTPRouteFilter{Type: gwv1.HTTPRouteFilterResponseHeaderModifier, ResponseHeaderModifier: &gwv1.HTTPHeaderFilter{Add: []gwv1.HTTPHeader{{Name: "X-Resp", Value: "r"}}}},
		),
		withFilters(testHTTPRoute("redirect", 0, []gwv1.Hostname{"r.example"}, prefix("/")),
			gwv1.HTTPRouteFilter{Type: gwv1.HTTPRouteFilterRequestRedirect, RequestRedirect: &gwv1.HTTPRequestRedirectFilter{
				Hostname: ptr.To[gwv1.PreciseHostname]("elsewhere.example"), StatusCode: ptr.To(301)}}),
	)
	in.Gateways[0].Spec.Listeners = append(in.Gateways[0].Spec.Listeners, gwv1.Listener{Name: "alt", Port: 8000, Protocol: gwv1.HTTPProtocolType})
	in.HTTPRoutes[1].Spec.Rules[0].BackendRefs = nil // a redirect needs no backend
	snap, st := Translate(in, DefaultOptions())
	if err := snap.Validate(); err != nil {
		t.Fatal(err)
	}
	rw := snapRoutesOf(snap, "rewrite")
	if len(rw) != 4 { // 2 matches x 2 listeners
		t.Fatalf("rewrite: %d snapshot routes, want 4", len(rw))
	}
	for _, r := range rw {
		if r.Failure != nil {
			t.Fatalf("%s: failure %+v", r.ID, r.Failure)
		}
		if len(r.Middlewares) != 3 || r.Middlewares[0].RequestHeaderModifier == nil || r.Middlewares[1].URLRewrite == nil || r.Middlewares[2].ResponseHeaderModifier == nil {
			t.Fatalf("%s: middlewares not in the rule's order: %+v", r.ID, r.Middlewares)
		}
		hm := r.Middlewares[0].RequestHeaderModifier
		if hm.Set[0] != (snapshot.HeaderValue{Name: "X-Set", Value: "s"}) || hm.Add[0] != (snapshot.HeaderValue{Name: "X-Add", Value: "a"}) || hm.Remove[0] != "X-Gone" {
			t.Errorf("%s: request header modifier %+v", r.ID, hm)
		}
		uw := r.Middlewares[1].URLRewrite
		want := "/one"
		if strings.Contains(r.ID, "/rewrite/0/1@") {
			want = "/two/"
		}
		if uw.Hostname != "internal.example" || uw.Path.Type != snapshot.PathReplacePrefixMatch || uw.Path.ReplacePrefixMatch != "/new" || uw.Path.MatchedPrefix != want {
			t.Errorf("%s: urlRewrite %+v path %+v, want matched prefix %q", r.ID, uw, uw.Path, want)
		}
	}
	ports := map[int]bool{}
	for _, r := range snapRoutesOf(snap, "redirect") {
		red := r.Middlewares[0].RequestRedirect
		if r.Failure != nil || red.Hostname != "elsewhere.example" || red.StatusCode != 301 {
			t.Errorf("%s: failure %+v redirect %+v", r.ID, r.Failure, red)
		}
		ports[red.ListenerPort] = true
	}
	if !ports[80] || !ports[8000] || len(ports) != 2 {
		t.Errorf("redirect listener ports %v, want 80 and 8000 (one per listener)", ports)
	}
	for _, name := range []string{"rewrite", "redirect"} {
		for _, c := range httpRouteConds(t, st, name) {
			if c.Status != metav1.ConditionTrue {
				t.Errorf("%s: %s=%s %s: %s", name, c.Type, c.Status, c.Reason, c.Message)
			}
		}
	}
}

func TestHTTPRouteFiltersRefusedAsTheSpecSays(t *testing.T) {
	exact := gwv1.HTTPRouteMatch{Path: &gwv1.HTTPPathMatch{Type: ptr.To(gwv1.PathMatchExact), Value: ptr.To("/x")}}
	prefixRewrite := gwv1.HTTPRouteFilter{Type: gwv1.HTTPRouteFilterURLRewrite, URLRewrite: &gwv1.HTTPURLRewriteFilter{
		Path: &gwv1.HTTPPathModifier{Type: gwv1.PrefixMatchHTTPPathModifier, ReplacePrefixMatch: ptr.To("/y")}}}
	redirect := gwv1.HTTPRouteFilter{Type: gwv1.HTTPRouteFilterRequestRedirect, RequestRedirect: &gwv1.HTTPRequestRedirectFilter{Scheme: ptr.To("https")}}
	in := gwTestInputs("",
		withFilters(testHTTPRoute("prefix-on-exact", 0, nil, prefix("/p"), exact), prefixRewrite),
		withFilters(testHTTPRoute("redirect-and-rewrite", 0, nil, prefix("/")), redirect,
			gwv1.HTTPRouteFilter{Type: gwv1.HTTPRouteFilterURLRewrite, URLRewrite: &gwv1.HTTPURLRewriteFilter{Hostname: ptr.To[gwv1.PreciseHostname]("h")}}),
		withFilters(testHTTPRoute("cors", 0, nil, prefix("/")), gwv1.HTTPRouteFilter{Type: gwv1.HTTPRouteFilterCORS, CORS: &gwv1.HTTPCORSFilter{AllowOrigins: []gwv1.CORSOrigin{"*"}}}),
		withFilters(testHTTPRoute("extension", 0, nil, prefix("/")), gwv1.HTTPRouteFilter{Type: gwv1.HTTPRouteFilterExtensionRef,
			ExtensionRef: &gwv1.LocalObjectReference{Group: "example.net", Kind: "Magic", Name: "m"}}),
		withFilters(testHTTPRoute("two-header-filters", 0, nil, prefix("/")),
			gwv1.HTTPRouteFilter{Type: gwv1.HTTPRouteFilterRequestHeaderModifier, RequestHeaderModifier: &gwv1.HTTPHeaderFilter{}},
			gwv1.HTTPRouteFilter{Type: gwv1.HTTPRouteFilterRequestHeaderModifier, RequestHeaderModifier: &gwv1.HTTPHeaderFilter{}}),
		testHTTPRoute("backend-filters", 0, nil, prefix("/")),
	)
	in.HTTPRoutes[5].Spec.Rules[0].BackendRefs[0].Filters = []gwv1.HTTPRouteFilter{{Type: gwv1.HTTPRouteFilterURLRewrite, URLRewrite: &gwv1.HTTPURLRewriteFilter{Hostname: ptr.To[gwv1.PreciseHostname]("h")}}}
	snap, st := Translate(in, DefaultOptions())
	if err := snap.Validate(); err != nil {
		t.Fatal(err)
	}
	if c := httpRouteConds(t, st, "backend-filters")["Accepted"]; c.Status != metav1.ConditionFalse || c.Reason != "UnsupportedValue" || !strings.Contains(c.Message, "backendRefs[0].filters[0]: filter type URLRewrite") {
		t.Errorf("backend-filters: Accepted=%s %s %q, want False UnsupportedValue naming the field", c.Status, c.Reason, c.Message)
	}
	if b := snapRoutesOf(snap, "backend-filters")[0].Backends[0]; b.Failure == nil || b.Failure.Status != 500 {
		t.Errorf("backend-filters: the backend serves without its filters (failure %+v), want 500", b.Failure)
	}
	for _, c := range []struct {
		name, condType, reason, inMessage string
	}{
		{"prefix-on-exact", "Accepted", "UnsupportedValue", "ReplacePrefixMatch needs PathPrefix matches"},
		{"redirect-and-rewrite", "Accepted", "UnsupportedValue", "both RequestRedirect and URLRewrite"},
		{"cors", "Accepted", "UnsupportedValue", "CORS"},
		{"extension", "ResolvedRefs", "InvalidKind", "example.net/Magic m"},
		{"two-header-filters", "Accepted", "UnsupportedValue", "one RequestHeaderModifier"},
	} {
		cond := httpRouteConds(t, st, c.name)[c.condType]
		if cond.Status != metav1.ConditionFalse || cond.Reason != c.reason || !strings.Contains(cond.Message, c.inMessage) {
			t.Errorf("%s: %s=%s %s %q, want False %s naming %q", c.name, c.condType, cond.Status, cond.Reason, cond.Message, c.reason, c.inMessage)
		}
		rs := snapRoutesOf(snap, c.name)
		if len(rs) == 0 {
			t.Errorf("%s: no snapshot route: the rule must answer 500, not fall through", c.name)
		}
		for _, r := range rs {
			if r.Failure == nil || r.Failure.Status != 500 || len(r.Middlewares) != 0 {
				t.Errorf("%s: %s serves (failure %+v, middlewares %d), want a 500 failure", c.name, r.ID, r.Failure, len(r.Middlewares))
			}
		}
	}
	if acc := httpRouteConds(t, st, "extension")["Accepted"]; acc.Status != metav1.ConditionTrue {
		t.Errorf("extension: Accepted=%s %s, want True (an unresolved filter reference is a ResolvedRefs problem)", acc.Status, acc.Reason)
	}
}

func TestHTTPRouteMirrorsAndTimeouts(t *testing.T) {
	mirror := func(ns, name string, percent *int32, fraction *gwv1.Fraction) gwv1.HTTPRouteFilter {
		ref := gwv1.BackendObjectReference{Name: gwv1.ObjectName(name), Port: ptr.To[gwv1.PortNumber](80)}
		if ns != "" {
			ref.Namespace = ptr.To(gwv1.Namespace(ns))
		}
		return gwv1.HTTPRouteFilter{Type: gwv1.HTTPRouteFilterRequestMirror, RequestMirror: &gwv1.HTTPRequestMirrorFilter{BackendRef: ref, Percent: percent, Fraction: fraction}}
	}
	timed := func(r *gwv1.HTTPRoute, req, backend string) *gwv1.HTTPRoute {
		tm := &gwv1.HTTPRouteTimeouts{}
		if req != "" {
			tm.Request = ptr.To(gwv1.Duration(req))
		}
		if backend != "" {
			tm.BackendRequest = ptr.To(gwv1.Duration(backend))
		}
		r.Spec.Rules[0].Timeouts = tm
		return r
	}
	in := gwTestInputs("",
		withFilters(testHTTPRoute("mirrors", 0, nil, prefix("/")),
			mirror("", "app", ptr.To[int32](35), nil),
			mirror("", "app", nil, &gwv1.Fraction{Numerator: 1, Denominator: ptr.To[int32](4)}),
			mirror("other", "app", nil, nil), // no ReferenceGrant: dropped
		),
		timed(testHTTPRoute("timeouts", 0, nil, prefix("/t")), "2m", "1m30ms"),
		timed(testHTTPRoute("backend-too-long", 0, nil, prefix("/b")), "1s", "2s"),
		timed(testHTTPRoute("not-a-duration", 0, nil, prefix("/n")), "1.5s", ""),
	)
	other := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: "other", Name: "app"}, Spec: corev1.ServiceSpec{Ports: []corev1.ServicePort{{Port: 80}}}}
	in.Services = append(in.Services, other)
	snap, st := Translate(in, DefaultOptions())
	if err := snap.Validate(); err != nil {
		t.Fatal(err)
	}
	r := snapRoutesOf(snap, "mirrors")[0]
	if r.Failure != nil || len(r.Backends) != 3 || r.Balance == nil || r.Balance.Mirroring == nil {
		t.Fatalf("mirrors: failure %+v, %d backends, balance %+v", r.Failure, len(r.Backends), r.Balance)
	}
	m := r.Balance.Mirroring
	if *m.Main.Backend != 0 || r.Backends[0].Failure != nil || len(m.Mirrors) != 2 {
		t.Fatalf("mirrors: main %+v, %d mirrors, want the main backend and two mirrors", m.Main, len(m.Mirrors))
	}
	if n, d := m.Mirrors[0].Share(); n != 35 || d != 100 {
		t.Errorf("mirror 0 share %d/%d, want 35/100", n, d)
	}
	if n, d := m.Mirrors[1].Share(); n != 1 || d != 4 {
		t.Errorf("mirror 1 share %d/%d, want 1/4", n, d)
	}
	conds := httpRouteConds(t, st, "mirrors")
	if c := conds["ResolvedRefs"]; c.Status != metav1.ConditionFalse || c.Reason != "RefNotPermitted" || !strings.Contains(c.Message, "filters[2].requestMirror") {
		t.Errorf("mirrors: ResolvedRefs=%s %s %q, want False RefNotPermitted naming the mirror", c.Status, c.Reason, c.Message)
	}
	if c := conds["Accepted"]; c.Status != metav1.ConditionTrue {
		t.Errorf("mirrors: Accepted=%s, want True", c.Status)
	}

	if tm := snapRoutesOf(snap, "timeouts")[0].Timeouts; tm == nil || tm.Request != 2*time.Minute || tm.BackendRequest != time.Minute+30*time.Millisecond {
		t.Errorf("timeouts: %+v, want 2m and 1m30ms", tm)
	}
	for _, c := range []struct{ name, inMessage string }{
		{"backend-too-long", "backendRequest (2s) is longer than request (1s)"},
		{"not-a-duration", `"1.5s" is not a Gateway API duration`},
	} {
		cond := httpRouteConds(t, st, c.name)["Accepted"]
		if cond.Status != metav1.ConditionFalse || cond.Reason != "UnsupportedValue" || !strings.Contains(cond.Message, c.inMessage) {
			t.Errorf("%s: Accepted=%s %s %q, want False UnsupportedValue naming %q", c.name, cond.Status, cond.Reason, cond.Message, c.inMessage)
		}
		if r := snapRoutesOf(snap, c.name)[0]; r.Failure == nil || r.Failure.Status != 500 {
			t.Errorf("%s: failure %+v, want 500", c.name, r.Failure)
		}
	}
}

func TestHTTPRouteMirrorAcrossNamespacesWithAReferenceGrant(t *testing.T) {
	in := gwTestInputs("", withFilters(testHTTPRoute("mirror", 0, nil, prefix("/")),
		gwv1.HTTPRouteFilter{Type: gwv1.HTTPRouteFilterRequestMirror, RequestMirror: &gwv1.HTTPRequestMirrorFilter{BackendRef: gwv1.BackendObjectReference{
			Namespace: ptr.To[gwv1.Namespace]("other"), Name: "app", Port: ptr.To[gwv1.PortNumber](80)}}}))
	svc, slice := appService()
	svc, slice = svc.DeepCopy(), slice.DeepCopy()
	svc.Namespace, slice.Namespace = "other", "other"
	in.Services, in.EndpointSlices = append(in.Services, svc), append(in.EndpointSlices, slice)
	in.ReferenceGrants = []*gwv1.ReferenceGrant{{ObjectMeta: metav1.ObjectMeta{Namespace: "other", Name: "mirrors-from-web"},
		Spec: gwv1.ReferenceGrantSpec{From: []gwv1.ReferenceGrantFrom{{Group: "gateway.networking.k8s.io", Kind: "HTTPRoute", Namespace: "web"}},
			To: []gwv1.ReferenceGrantTo{{Group: "", Kind: "Service"}}}}}
	snap, st := Translate(in, DefaultOptions())
	if err := snap.Validate(); err != nil {
		t.Fatal(err)
	}
	r := snapRoutesOf(snap, "mirror")[0]
	if r.Balance == nil || r.Balance.Mirroring == nil || len(r.Balance.Mirroring.Mirrors) != 1 {
		t.Fatalf("mirror: balance %+v, want one mirror", r.Balance)
	}
	if b := r.Backends[*r.Balance.Mirroring.Mirrors[0].Balance.Backend]; b.Service.Namespace != "other" || len(b.Endpoints) != 1 || b.Failure != nil {
		t.Errorf("mirror backend %+v, want Service other/app with its endpoint", b)
	}
	if n, d := r.Balance.Mirroring.Mirrors[0].Share(); n != 100 || d != 100 {
		t.Errorf("mirror share %d/%d, want all (neither percent nor fraction)", n, d)
	}
	for _, c := range httpRouteConds(t, st, "mirror") {
		if c.Status != metav1.ConditionTrue {
			t.Errorf("%s=%s %s: %s", c.Type, c.Status, c.Reason, c.Message)
		}
	}
}

// FuzzGatewayDuration: a duration is accepted only in the GEP-2257 form, and then is
// what Go reads in it, never negative.
func FuzzGatewayDuration(f *testing.F) {
	for _, s := range []string{"0s", "500ms", "1h2m3s4ms", "1.5s", "-1s", "10", "100000s", "1h1h1h1h1h", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, msg := parseGatewayDuration("timeouts.request", gwv1.Duration(s))
		if msg != "" {
			if d != 0 || !strings.Contains(msg, "timeouts.request") {
				t.Fatalf("%q refused as %q with %v", s, msg, d)
			}
			return
		}
		want, err := time.ParseDuration(s)
		if err != nil || d != want || d < 0 || !gwDuration.MatchString(s) {
			t.Fatalf("%q accepted as %v; Go reads %v, %v", s, d, want, err)
		}
	})
}

// BenchmarkTranslateHTTPRouteFilters: 200 HTTPRoutes of 2 matches, each rule with a
// header modifier, a rewrite, a mirror and timeouts, on one listener.
func BenchmarkTranslateHTTPRouteFilters(b *testing.B) {
	var routes []*gwv1.HTTPRoute
	for i := range 200 {
		r := withFilters(testHTTPRoute("r"+strconv.Itoa(i), time.Duration(i)*time.Second, nil,
			prefix("/a"+strconv.Itoa(i)), prefix("/b"+strconv.Itoa(i))),
			gwv1.HTTPRouteFilter{Type: gwv1.HTTPRouteFilterRequestHeaderModifier, RequestHeaderModifier: &gwv1.HTTPHeaderFilter{Set: []gwv1.HTTPHeader{{Name: "X", Value: "y"}}}},
			gwv1.HTTPRouteFilter{Type: gwv1.HTTPRouteFilterURLRewrite, URLRewrite: &gwv1.HTTPURLRewriteFilter{
				Path: &gwv1.HTTPPathModifier{Type: gwv1.PrefixMatchHTTPPathModifier, ReplacePrefixMatch: ptr.To("/")}}},
			gwv1.HTTPRouteFilter{Type: gwv1.HTTPRouteFilterRequestMirror, RequestMirror: &gwv1.HTTPRequestMirrorFilter{
				BackendRef: gwv1.BackendObjectReference{Name: "app", Port: ptr.To[gwv1.PortNumber](80)}, Percent: ptr.To[int32](10)}})
		r.Spec.Rules[0].Timeouts = &gwv1.HTTPRouteTimeouts{Request: ptr.To[gwv1.Duration]("10s"), BackendRequest: ptr.To[gwv1.Duration]("5s")}
		routes = append(routes, r)
	}
	in := gwTestInputs("", routes...)
	opts := DefaultOptions()
	b.ReportAllocs()
	for b.Loop() {
		snap, _ := Translate(in, opts)
		if len(snap.HTTPRoutes) != 400 {
			b.Fatalf("%d routes", len(snap.HTTPRoutes))
		}
	}
}
