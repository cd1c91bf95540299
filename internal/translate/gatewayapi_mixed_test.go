package translate

import (
	"cmp"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	bhv1 "github.com/bridgehead/bridgehead/api/v1alpha1"
)

// Mixed worlds: an HTTPRoute, an IngressRoute and an Ingress for the same host on web.
// The HTTPRoute serves what its match takes; the others keep the rest, and each one that
// loses requests to the HTTPRoute says so, naming it, the host, the path and the entry
// point. What does not overlap (another path, another host) is not reported.
func TestMixedWorldsHTTPRouteRanksFirstAndTheLoserIsTold(t *testing.T) {
	in := gwTestInputs("", testHTTPRoute("api", time.Hour, []gwv1.Hostname{"shop.example.com"}, prefix("/api")))
	in.IngressRoutes = []*bhv1.IngressRoute{{ObjectMeta: metav1.ObjectMeta{Namespace: "web", Name: "legacy", Generation: 1},
		Spec: bhv1.IngressRouteSpec{EntryPoints: []string{"web"}, Routes: []bhv1.Route{
			{Match: "Host(`shop.example.com`) && PathPrefix(`/api/v1`)", Services: []bhv1.Service{{Name: "app", Port: "80"}}},
			{Match: "Host(`shop.example.com`) && PathPrefix(`/static`)", Services: []bhv1.Service{{Name: "app", Port: "80"}}},
			{Match: "Host(`other.example.com`)", Services: []bhv1.Service{{Name: "app", Port: "80"}}},
		}}}}
	ing := testIngress("old", "bridgehead", path("/", networkingv1.PathTypePrefix))
	ing.Spec.Rules[0].Host = "shop.example.com"
	in.Ingresses = []*networkingv1.Ingress{ing}
	in.IngressClasses = []*networkingv1.IngressClass{ingressClass("bridgehead", IngressController)}
	snap, st := Translate(in, DefaultOptions())
	if err := snap.Validate(); err != nil {
		t.Fatal(err)
	}

	// What the proxy serves: the HTTPRoute for its paths, the others for the rest.
	for _, c := range []struct{ host, path, want string }{
		{"shop.example.com", "/api/v1/items", "api"},
		{"shop.example.com", "/api", "api"},
		{"shop.example.com", "/static/a.css", "legacy"},
		{"shop.example.com", "/", "old"},
		{"other.example.com", "/api", "legacy"},
	} {
		if got := gwRouteFor(t, snap, c.host, c.path, nil); got != c.want {
			t.Errorf("%s%s served by %q, want %q", c.host, c.path, got, c.want)
		}
	}

	ir := st[Key{Kind: KindIngressRoute, Namespace: "web", Name: "legacy"}]
	if len(ir.Warnings) != 1 || !strings.Contains(ir.Warnings[0].Message,
		"spec.routes[0]: requests for shop.example.com/api/v1 on entry point web are served by HTTPRoute web/api (Gateway API routes rank above IngressRoutes)") {
		t.Errorf("IngressRoute warnings = %+v, want one for spec.routes[0] naming HTTPRoute web/api", ir.Warnings)
	}
	if c := ir.Condition(bhv1.ConditionWarnings); c == nil || c.Status != metav1.ConditionTrue || c.Reason != string(bhv1.ReasonIneffectiveSetting) {
		t.Errorf("IngressRoute Warnings condition = %+v", c)
	}
	if r := ir.Condition(bhv1.ConditionReady); r == nil || r.Status != metav1.ConditionTrue {
		t.Errorf("IngressRoute Ready = %+v: it still serves its other routes", r)
	}
	old := st[Key{Kind: KindIngress, Namespace: "web", Name: "old"}]
	if len(old.Warnings) != 1 || !strings.Contains(old.Warnings[0].Message, "spec.rules[0].http.paths[0]: requests for shop.example.com/api on entry point web are served by HTTPRoute web/api (Gateway API routes rank above Ingresses)") {
		t.Errorf("Ingress warnings = %+v, want one naming HTTPRoute web/api and /api", old.Warnings)
	}
	if hr := st[Key{Kind: KindHTTPRoute, Namespace: "web", Name: "api"}]; len(hr.Warnings) != 0 {
		t.Errorf("the HTTPRoute wins and is told nothing; warnings = %+v", hr.Warnings)
	}
}

// A route on another entry point, or of TLS when the HTTPRoute is plain, is not taken.
func TestMixedWorldsOtherEntryPointIsNotReported(t *testing.T) {
	in := gwTestInputs("", testHTTPRoute("api", time.Hour, []gwv1.Hostname{"shop.example.com"}, prefix("/")))
	in.IngressRoutes = []*bhv1.IngressRoute{{ObjectMeta: metav1.ObjectMeta{Namespace: "web", Name: "secure", Generation: 1},
		Spec: bhv1.IngressRouteSpec{EntryPoints: []string{"websecure"}, Routes: []bhv1.Route{
			{Match: "Host(`shop.example.com`)", Services: []bhv1.Service{{Name: "app", Port: "80"}}},
		}}}}
	_, st := Translate(in, DefaultOptions())
	if w := st[Key{Kind: KindIngressRoute, Namespace: "web", Name: "secure"}].Warnings; len(w) != 0 {
		t.Errorf("warnings = %+v, want none: the HTTPRoute is on web only", w)
	}
}

// reportMixedWorlds probes each legacy host against the HTTPRoutes that can serve it (its
// own name, a wildcard of a parent domain, any host). Over random mixes of both worlds it
// warns exactly as probing every HTTPRoute in priority order does.
func TestMixedWorldsFindsWhatProbingEveryPairFinds(t *testing.T) {
	gwHosts := [][]gwv1.Hostname{nil, {"a.example.com"}, {"*.example.com"}, {"b.x.example.com"}, {"*.x.example.com", "c.other.org"}}
	legacyHosts := []string{"a.example.com", "b.x.example.com", "c.other.org", "A.Example.com", "d.example.com"}
	paths := []string{"/", "/api", "/api/v1", "/static"}
	warned := 0
	for seed := range 40 {
		r := rand.New(rand.NewPCG(uint64(seed), 3))
		var routes []*gwv1.HTTPRoute
		for i := range 1 + r.IntN(6) {
			routes = append(routes, testHTTPRoute(fmt.Sprintf("gw%d", i), time.Duration(r.IntN(5))*time.Hour,
				gwHosts[r.IntN(len(gwHosts))], prefix(paths[r.IntN(len(paths))])))
		}
		in := gwTestInputs("", routes...)
		if r.IntN(2) == 0 {
			in.Gateways[0].Spec.Listeners = append(in.Gateways[0].Spec.Listeners,
				gwv1.Listener{Name: "wild", Port: 80, Protocol: gwv1.HTTPProtocolType, Hostname: ptr.To[gwv1.Hostname]("*.example.com")})
			in.Gateways[0].Spec.Listeners[0].Hostname = ptr.To[gwv1.Hostname]("c.other.org")
		}
		var legacy []bhv1.Route
		for range 1 + r.IntN(6) {
			m := fmt.Sprintf("Host(`%s`)", legacyHosts[r.IntN(len(legacyHosts))])
			if p := paths[r.IntN(len(paths))]; p != "/" {
				m += fmt.Sprintf(" && PathPrefix(`%s`)", p)
			}
			legacy = append(legacy, bhv1.Route{Match: m, Services: []bhv1.Service{{Name: "app", Port: "80"}}})
		}
		in.IngressRoutes = []*bhv1.IngressRoute{{ObjectMeta: metav1.ObjectMeta{Namespace: "web", Name: "legacy", Generation: 1},
			Spec: bhv1.IngressRouteSpec{EntryPoints: []string{"web"}, Routes: legacy}}}
		ing := testIngress("old", "bridgehead", path(paths[r.IntN(len(paths))], networkingv1.PathTypePrefix))
		ing.Spec.Rules[0].Host = []string{"*.example.com", "a.example.com", "e.x.example.com"}[r.IntN(3)]
		in.Ingresses = []*networkingv1.Ingress{ing}
		in.IngressClasses = []*networkingv1.IngressClass{ingressClass("bridgehead", IngressController)}
		snap, st := Translate(in, DefaultOptions())

		// Every pair, the HTTPRoutes' snapshot routes in priority order.
		var gws []*compiledRoute
		for _, hr := range snap.HTTPRoutes {
			if c := compileRoute(hr); c != nil && hr.Source.Kind == KindHTTPRoute {
				gws = append(gws, c)
			}
		}
		slices.SortStableFunc(gws, func(a, b *compiledRoute) int { return cmp.Compare(b.r.Priority, a.r.Priority) })
		want := map[Key][]string{}
		for _, hr := range snap.HTTPRoutes {
			if !isLegacyRoot(hr) {
				continue
			}
			l := compileRoute(hr)
			hosts, _ := l.rule.Hosts()
			key := Key{Kind: hr.Source.Kind, Namespace: hr.Source.Namespace, Name: hr.Source.Name}
			for _, h := range hosts {
				probe := h
				if strings.HasPrefix(h, "*.") {
					probe = "any" + h[1:]
				}
				reported := map[string]bool{}
				for _, g := range gws {
					name := g.r.Source.Namespace + "/" + g.r.Source.Name
					if !sameEntryPoint(hr, g.r) || reported[name] {
						continue
					}
					if p, ok := overlap(l, g, probe); ok {
						reported[name] = true
						want[key] = append(want[key], fmt.Sprintf("%s: requests for %s%s on entry point %s are served by HTTPRoute %s ",
							legacyField(hr), h, p, g.r.EntryPoints[0], name))
					}
				}
			}
		}
		for _, key := range []Key{{Kind: KindIngressRoute, Namespace: "web", Name: "legacy"}, {Kind: KindIngress, Namespace: "web", Name: "old"}} {
			var got []string
			for _, w := range st[key].Warnings {
				for _, line := range strings.Split(w.Message, "; ") {
					if head, _, ok := strings.Cut(line, "(Gateway API routes rank above"); ok {
						got = append(got, head)
					}
				}
			}
			// The status lists its warnings in an order of its own.
			slices.Sort(got)
			slices.Sort(want[key])
			if !slices.Equal(got, want[key]) {
				t.Fatalf("seed %d, %v: the warnings of an HTTPRoute taking requests differ from probing every pair:\ngot  %q\nwant %q", seed, key, got, want[key])
			}
			warned += len(got)
		}
	}
	if warned < 20 {
		t.Errorf("only %d warnings over every seed: the test hardly exercises the probes", warned)
	}
	t.Logf("warnings compared: %d", warned)
}
