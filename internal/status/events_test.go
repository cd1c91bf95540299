package status

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/go-logr/logr"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/events"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"

	"github.com/bridgehead/bridgehead/internal/translate"
)

// The Ingress Events are checked against a real API server in controllers/ingress_test.go;
// these tests pin the rules that are slow to reach there: what is repeated at the start of
// a term, and the bound on Events per change.

// shopIngress is an Ingress of class bridgehead carrying the given annotations.
func shopIngress(annotations map[string]string) *networkingv1.Ingress {
	return &networkingv1.Ingress{
		ObjectMeta: metav1.ObjectMeta{Namespace: "web", Name: "shop", Generation: 1, Annotations: annotations},
		Spec: networkingv1.IngressSpec{IngressClassName: ptr.To("bridgehead"), Rules: []networkingv1.IngressRule{{
			Host: "shop.example.com",
			IngressRuleValue: networkingv1.IngressRuleValue{HTTP: &networkingv1.HTTPIngressRuleValue{Paths: []networkingv1.HTTPIngressPath{{
				Path: "/", PathType: ptr.To(networkingv1.PathTypePrefix),
				Backend: networkingv1.IngressBackend{Service: &networkingv1.IngressServiceBackend{Name: "app", Port: networkingv1.ServiceBackendPort{Number: 443}}},
			}}}},
		}}},
	}
}

// translateIngress runs the real translator on ing and an HTTPS Service with one endpoint.
func translateIngress(ing *networkingv1.Ingress) *IngressReport {
	in := &translate.Inputs{
		Ingresses: []*networkingv1.Ingress{ing},
		IngressClasses: []*networkingv1.IngressClass{{ObjectMeta: metav1.ObjectMeta{Name: "bridgehead"},
			Spec: networkingv1.IngressClassSpec{Controller: translate.IngressController}}},
		Services: []*corev1.Service{{ObjectMeta: metav1.ObjectMeta{Namespace: "web", Name: "app"},
			Spec: corev1.ServiceSpec{Ports: []corev1.ServicePort{{Name: "https", Port: 443}}}}},
		EndpointSlices: []*discoveryv1.EndpointSlice{{
			ObjectMeta:  metav1.ObjectMeta{Namespace: "web", Name: "app-1", Labels: map[string]string{discoveryv1.LabelServiceName: "app"}},
			AddressType: discoveryv1.AddressTypeIPv4,
			Ports:       []discoveryv1.EndpointPort{{Name: ptr.To("https"), Port: ptr.To[int32](8443)}},
			Endpoints:   []discoveryv1.Endpoint{{Addresses: []string{"10.0.0.20"}}},
		}},
	}
	_, st := translate.Translate(in, translate.DefaultOptions())
	return &IngressReport{Statuses: st}
}

// newIngressWriter is a writer at the start of a term, reading ing from a fake client.
func newIngressWriter(ing *networkingv1.Ingress) (*IngressWriter, *events.FakeRecorder) {
	rec := events.NewFakeRecorder(100)
	w := &IngressWriter{Client: fake.NewClientBuilder().WithObjects(ing.DeepCopy()).Build(), Recorder: rec, Log: logr.Discard()}
	w.announced = map[translate.Key]announcement{}
	w.published = map[types.NamespacedName][]networkingv1.IngressLoadBalancerIngress{}
	return w, rec
}

// recorded drains the Events recorded so far ("Type Reason Note").
func recorded(rec *events.FakeRecorder) []string {
	var out []string
	for {
		select {
		case e := <-rec.Events:
			out = append(out, e)
		default:
			return out
		}
	}
}

func TestIngressEventsOneWarningPerFindingAndOnlyTheChangedOneAgain(t *testing.T) {
	annotations := map[string]string{
		"nginx.ingress.kubernetes.io/proxy-body-size":       "8m",
		"haproxy.org/timeout-server":                        "30s",
		"haproxy-ingress.github.io/balance-algorithm":       "leastconn",
		"nginx.ingress.kubernetes.io/backend-protocol":      "HTTPS",
		"haproxy-ingress.github.io/backend-protocol":        "h1",
		"nginx.ingress.kubernetes.io/proxy-ssl-verify":      "on",
		"nginx.ingress.kubernetes.io/proxy-ssl-server-name": "on",
	}
	ing := shopIngress(annotations)
	w, rec := newIngressWriter(ing)
	ctx := context.Background()

	w.report(ctx, translateIngress(ing), nil)
	got := recorded(rec)
	for _, key := range []string{"nginx.ingress.kubernetes.io/proxy-body-size", "haproxy.org/timeout-server",
		"haproxy-ingress.github.io/balance-algorithm", "haproxy-ingress.github.io/backend-protocol"} {
		n := 0
		for _, e := range got {
			if strings.Contains(e, "["+key+"]") {
				n++
				if !strings.HasPrefix(e, "Warning IneffectiveSetting ") {
					t.Errorf("the Event about %s is %q, want a Warning IneffectiveSetting", key, e)
				}
			}
		}
		if n != 1 {
			t.Errorf("%d Events name %s, want 1; recorded:\n%s", n, key, strings.Join(got, "\n"))
		}
	}
	conflict := `backend scheme is "h1" here but nginx.ingress.kubernetes.io/backend-protocol says "HTTPS" and takes precedence`
	if !containsSubstring(got, conflict) {
		t.Errorf("no Event names both values of the precedence conflict (%s); recorded:\n%s", conflict, strings.Join(got, "\n"))
	}
	findings := len(w.announced[translate.Key{Kind: translate.KindIngress, Namespace: "web", Name: "shop"}].findings)
	if len(got) != findings {
		t.Errorf("%d Events for %d findings, want one each:\n%s", len(got), findings, strings.Join(got, "\n"))
	}

	// The same findings again (another object changed): nothing to say.
	w.report(ctx, translateIngress(ing), nil)
	if again := recorded(rec); len(again) != 0 {
		t.Errorf("an unchanged Ingress was announced again:\n%s", strings.Join(again, "\n"))
	}

	// One annotation changes: exactly the Event about it.
	annotations["haproxy-ingress.github.io/backend-protocol"] = "h2"
	w.report(ctx, translateIngress(shopIngress(annotations)), nil)
	changed := recorded(rec)
	if len(changed) != 1 || !strings.Contains(changed[0], `[haproxy-ingress.github.io/backend-protocol]: "h2"`) {
		t.Errorf("after changing one annotation, recorded:\n%s\nwant exactly the Event about haproxy-ingress.github.io/backend-protocol: \"h2\"", strings.Join(changed, "\n"))
	}

	// A finding that went away and comes back is news again.
	delete(annotations, "haproxy.org/timeout-server")
	w.report(ctx, translateIngress(shopIngress(annotations)), nil)
	if gone := recorded(rec); len(gone) != 0 {
		t.Errorf("removing an annotation recorded:\n%s", strings.Join(gone, "\n"))
	}
	annotations["haproxy.org/timeout-server"] = "30s"
	w.report(ctx, translateIngress(shopIngress(annotations)), nil)
	if back := recorded(rec); len(back) != 1 || !strings.Contains(back[0], "[haproxy.org/timeout-server]") {
		t.Errorf("an annotation put back recorded:\n%s\nwant exactly the Event about haproxy.org/timeout-server", strings.Join(back, "\n"))
	}
}

func TestIngressEventsStartOfTermRepeatsProblemsNotHealth(t *testing.T) {
	healthy := shopIngress(nil)
	w, rec := newIngressWriter(healthy)
	w.report(context.Background(), translateIngress(healthy), nil)
	if got := recorded(rec); len(got) != 0 {
		t.Errorf("a healthy Ingress was announced at the start of a term:\n%s", strings.Join(got, "\n"))
	}

	warned := shopIngress(map[string]string{"nginx.ingress.kubernetes.io/proxy-body-size": "8m"})
	w, rec = newIngressWriter(warned)
	w.report(context.Background(), translateIngress(warned), nil)
	if got := recorded(rec); len(got) != 1 || !strings.Contains(got[0], "proxy-body-size") {
		t.Errorf("the start of a term recorded:\n%s\nwant the warning about proxy-body-size once", strings.Join(got, "\n"))
	}

	// Later in the term, an Ingress that starts to serve is announced.
	w, rec = newIngressWriter(healthy)
	w.report(context.Background(), &IngressReport{Statuses: translate.Statuses{}}, nil)
	w.report(context.Background(), translateIngress(healthy), nil)
	if got := recorded(rec); len(got) != 1 || got[0] != "Normal Ready the gateway serves this Ingress for shop.example.com" {
		t.Errorf("a new healthy Ingress during a term recorded:\n%s", strings.Join(got, "\n"))
	}
}

func TestIngressEventsAreBoundedPerChange(t *testing.T) {
	annotations := map[string]string{}
	for i := range 30 {
		annotations[fmt.Sprintf("nginx.ingress.kubernetes.io/custom-setting-%02d", i)] = "on"
	}
	ing := shopIngress(annotations)
	w, rec := newIngressWriter(ing)
	w.report(context.Background(), translateIngress(ing), nil)
	got := recorded(rec)
	if len(got) != maxEventsPerChange {
		t.Fatalf("%d Events for 30 findings, want %d", len(got), maxEventsPerChange)
	}
	last := got[len(got)-1]
	if !strings.Contains(last, "(and 10 more findings not recorded as Events: bridgehead diagnose ingress/shop -n web lists them all)") {
		t.Errorf("the last Event does not say how many more there are: %q", last)
	}
	for _, e := range got {
		if len(e) > noteLimit+len("Warning IneffectiveSetting ") {
			t.Errorf("an Event note is over %d bytes: %q", noteLimit, e)
		}
	}
}

func TestClipKeepsWholeCharacters(t *testing.T) {
	s := strings.Repeat("é", noteLimit)
	c := clip(s)
	if len(c) > noteLimit || !strings.HasSuffix(c, " [truncated]") || !strings.HasPrefix(c, "éé") {
		t.Fatalf("clip gave %d bytes: %q...", len(c), c[:10])
	}
	if !utf8.ValidString(c) {
		t.Errorf("clip cut a character in two")
	}
}

func containsSubstring(list []string, sub string) bool {
	for _, s := range list {
		if strings.Contains(s, sub) {
			return true
		}
	}
	return false
}

func TestIngressEventsNameEachCauseOfNotServingAndThenThatItServes(t *testing.T) {
	// Two restrictions Bridgehead does not read: the Ingress fails closed, for two reasons
	// of the same kind, each its own Event.
	annotations := map[string]string{
		"nginx.ingress.kubernetes.io/auth-url":              "https://auth.example.com/check",
		"nginx.ingress.kubernetes.io/denylist-source-range": "10.0.0.0/8",
	}
	ing := shopIngress(annotations)
	w, rec := newIngressWriter(ing)
	ctx := context.Background()
	w.report(ctx, &IngressReport{Statuses: translate.Statuses{}}, nil) // the term's first report: nothing yet
	w.report(ctx, translateIngress(ing), nil)
	got := recorded(rec)
	if len(got) != 2 || !containsSubstring(got, "[nginx.ingress.kubernetes.io/auth-url]") || !containsSubstring(got, "[nginx.ingress.kubernetes.io/denylist-source-range]") {
		t.Fatalf("recorded:\n%s\nwant one Warning per restriction", strings.Join(got, "\n"))
	}
	for _, e := range got {
		if !strings.HasPrefix(e, "Warning UnsupportedAnnotation ") {
			t.Errorf("want a Warning UnsupportedAnnotation: %q", e)
		}
	}

	// One is removed: the other still holds the Ingress back, and was said already.
	delete(annotations, "nginx.ingress.kubernetes.io/auth-url")
	w.report(ctx, translateIngress(shopIngress(annotations)), nil)
	if got := recorded(rec); len(got) != 0 {
		t.Errorf("removing one cause recorded:\n%s", strings.Join(got, "\n"))
	}
	// Both are: it serves, and says so once.
	delete(annotations, "nginx.ingress.kubernetes.io/denylist-source-range")
	w.report(ctx, translateIngress(shopIngress(annotations)), nil)
	if got := recorded(rec); len(got) != 1 || got[0] != "Normal Ready the gateway serves this Ingress for shop.example.com" {
		t.Errorf("removing the last cause recorded:\n%s", strings.Join(got, "\n"))
	}
}

// TestAnIngressOfNoClassIsNotWrittenTo: an Ingress no controller serves (no class, no
// default IngressClass) is listed as not served by the translator, but the writer neither
// records Events on it nor gives it the gateway's address: it may be another controller's.
func TestAnIngressOfNoClassIsNotWrittenTo(t *testing.T) {
	ing := shopIngress(nil)
	ing.Spec.IngressClassName = nil
	r := translateIngress(ing)
	key := translate.Key{Kind: translate.KindIngress, Namespace: "web", Name: "shop"}
	if st := r.Statuses[key]; st == nil || !st.NotServed {
		t.Fatalf("the translator must list the Ingress as not served: %+v", st)
	}
	r.Publish, r.Addresses = true, []networkingv1.IngressLoadBalancerIngress{{IP: "192.0.2.1"}}
	w, rec := newIngressWriter(ing)
	w.report(context.Background(), &IngressReport{Statuses: translate.Statuses{}}, nil)
	w.report(context.Background(), r, nil)
	if got := recorded(rec); len(got) != 0 {
		t.Errorf("Events on an Ingress of no class: %v", got)
	}
	cur := &networkingv1.Ingress{}
	if err := w.Client.Get(context.Background(), types.NamespacedName{Namespace: "web", Name: "shop"}, cur); err != nil {
		t.Fatal(err)
	}
	if len(cur.Status.LoadBalancer.Ingress) != 0 {
		t.Errorf("the gateway's address was written to an Ingress of no class: %v", cur.Status.LoadBalancer.Ingress)
	}
}

// A build that hands over an Ingress's status as the same object (translate's memo, for an
// Ingress that did not change) costs the writer nothing: it neither reads the Ingress nor
// writes it. A new status, a new runtime verdict or new addresses are handled as before.
func TestAnUnchangedIngressIsNotReadAgain(t *testing.T) {
	ing := shopIngress(nil)
	gets := 0
	rec := events.NewFakeRecorder(100)
	w := &IngressWriter{Client: fake.NewClientBuilder().WithObjects(ing.DeepCopy()).WithStatusSubresource(&networkingv1.Ingress{}).
		WithInterceptorFuncs(interceptor.Funcs{Get: func(ctx context.Context, c client.WithWatch, key client.ObjectKey, obj client.Object, opts ...client.GetOption) error {
			gets++
			return c.Get(ctx, key, obj, opts...)
		}}).Build(), Recorder: rec, Log: logr.Discard()}
	w.announced = map[translate.Key]announcement{}
	w.published = map[types.NamespacedName][]networkingv1.IngressLoadBalancerIngress{}
	ctx := context.Background()
	addresses := func(ip string) []networkingv1.IngressLoadBalancerIngress {
		return []networkingv1.IngressLoadBalancerIngress{{IP: ip}}
	}
	written := func() string {
		t.Helper()
		cur := &networkingv1.Ingress{}
		if err := w.Client.Get(ctx, types.NamespacedName{Namespace: "web", Name: "shop"}, cur); err != nil {
			t.Fatal(err)
		}
		gets--
		if len(cur.Status.LoadBalancer.Ingress) != 1 {
			return ""
		}
		return cur.Status.LoadBalancer.Ingress[0].IP
	}

	r := translateIngress(ing)
	r.Publish, r.Addresses = true, addresses("192.0.2.1")
	w.report(ctx, r, nil)
	if written() != "192.0.2.1" || gets == 0 {
		t.Fatalf("the first report wrote %q with %d reads, want 192.0.2.1", written(), gets)
	}

	gets = 0
	again := &IngressReport{Statuses: r.Statuses, Publish: true, Addresses: addresses("192.0.2.1")}
	w.report(ctx, again, nil)
	if gets != 0 {
		t.Errorf("the same status and addresses again: %d reads of the Ingress, want none", gets)
	}

	moved := &IngressReport{Statuses: r.Statuses, Publish: true, Addresses: addresses("192.0.2.2")}
	w.report(ctx, moved, nil)
	if got := written(); got != "192.0.2.2" {
		t.Errorf("new addresses were not written: %q", got)
	}

	gets = 0
	key := translate.Key{Kind: translate.KindIngress, Namespace: "web", Name: "shop"}
	failing := []metav1.Condition{{Type: "BackendTLSReady", Status: metav1.ConditionFalse, Reason: "HandshakeFailed", Message: "x509: unknown authority"}}
	recorded(rec)
	w.report(ctx, moved, map[translate.Key][]metav1.Condition{key: failing})
	if got := recorded(rec); gets == 0 || len(got) != 1 || !strings.Contains(got[0], "TLS to the backend fails") {
		t.Errorf("a new runtime verdict: %d reads and Events %v, want the Warning about TLS to the backend", gets, got)
	}

	gets = 0
	w.report(ctx, &IngressReport{Statuses: translateIngress(ing).Statuses, Publish: true, Addresses: addresses("192.0.2.2")},
		map[translate.Key][]metav1.Condition{key: failing})
	if gets == 0 {
		t.Error("a status made afresh (another object) was not looked at")
	}

	// The handshakes work again: said once, and not again for the same verdict.
	working := []metav1.Condition{{Type: "BackendTLSReady", Status: metav1.ConditionTrue, Reason: "HandshakeSucceeded", Message: "verified as app.web.svc"}}
	recorded(rec)
	for range 2 {
		w.report(ctx, moved, map[translate.Key][]metav1.Condition{key: slices.Clone(working)})
	}
	if got := recorded(rec); len(got) != 1 || !strings.Contains(got[0], "Normal HandshakeSucceeded TLS to the backend works again: verified as app.web.svc") {
		t.Errorf("the backend's handshakes work again: Events %v, want one Normal Event saying so", got)
	}
}

// The passes that look for Ingresses gone from a build run when one is: an Ingress
// deleted, or moved to a class the gateway does not serve, loses the gateway's address,
// and one that comes back is announced and given the address again, even with the very
// status it had.
func TestAnIngressGoneLosesItsAddressAndIsAnnouncedWhenBack(t *testing.T) {
	ctx := context.Background()
	shop, cart := shopIngress(nil), shopIngress(nil)
	cart.Name = "cart"
	rec := events.NewFakeRecorder(100)
	w := &IngressWriter{Client: fake.NewClientBuilder().WithObjects(shop.DeepCopy(), cart.DeepCopy()).
		WithStatusSubresource(&networkingv1.Ingress{}).Build(), Recorder: rec, Log: logr.Discard()}
	w.announced = map[translate.Key]announcement{}
	w.published = map[types.NamespacedName][]networkingv1.IngressLoadBalancerIngress{}
	address := func(name string) string {
		t.Helper()
		cur := &networkingv1.Ingress{}
		if err := w.Client.Get(ctx, types.NamespacedName{Namespace: "web", Name: name}, cur); err != nil {
			t.Fatal(err)
		}
		if len(cur.Status.LoadBalancer.Ingress) != 1 {
			return ""
		}
		return cur.Status.LoadBalancer.Ingress[0].IP
	}
	addrs := []networkingv1.IngressLoadBalancerIngress{{IP: "192.0.2.1"}}
	shopKey := translate.Key{Kind: translate.KindIngress, Namespace: "web", Name: "shop"}
	cartKey := translate.Key{Kind: translate.KindIngress, Namespace: "web", Name: "cart"}
	shopStatus := translateIngress(shop).Statuses[shopKey]
	cartStatus := translateIngress(cart).Statuses[cartKey]
	report := func(statuses translate.Statuses) {
		w.report(ctx, &IngressReport{Statuses: statuses, Publish: true, Addresses: addrs}, nil)
	}

	report(translate.Statuses{})
	report(translate.Statuses{shopKey: shopStatus, cartKey: cartStatus})
	if address("shop") != "192.0.2.1" || address("cart") != "192.0.2.1" {
		t.Fatalf("addresses %q and %q, want the gateway's on both", address("shop"), address("cart"))
	}
	if got := recorded(rec); len(got) != 2 {
		t.Fatalf("Events %v, want one Normal Ready for each Ingress", got)
	}

	report(translate.Statuses{shopKey: shopStatus}) // cart deleted
	if address("shop") != "192.0.2.1" || address("cart") != "" {
		t.Errorf("cart gone from the build: addresses %q and %q, want only shop's", address("shop"), address("cart"))
	}
	report(translate.Statuses{shopKey: shopStatus, cartKey: cartStatus}) // back, as it was
	if address("cart") != "192.0.2.1" {
		t.Errorf("cart back: address %q, want the gateway's again", address("cart"))
	}
	if got := recorded(rec); len(got) != 1 || !strings.Contains(got[0], "Normal Ready") {
		t.Errorf("cart back: Events %v, want it announced as served again", got)
	}

	notServed := *shopStatus
	notServed.NotServed = true
	report(translate.Statuses{shopKey: &notServed, cartKey: cartStatus}) // shop moved to another class
	if address("shop") != "" || address("cart") != "192.0.2.1" {
		t.Errorf("shop not served: addresses %q and %q, want only cart's", address("shop"), address("cart"))
	}
	if got := recorded(rec); len(got) != 0 {
		t.Errorf("shop not served: Events %v, want none", got)
	}
}
