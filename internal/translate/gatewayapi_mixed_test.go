package translate

import (
	"strings"
	"testing"
	"time"

	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
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
