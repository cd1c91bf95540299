package lastgood

import (
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	bhv1 "github.com/bridgehead/bridgehead/api/v1alpha1"
	"github.com/bridgehead/bridgehead/internal/pki"
	"github.com/bridgehead/bridgehead/internal/snapshot"
	"github.com/bridgehead/bridgehead/internal/translate"
)

const ns = "web"

var (
	edgeCA    = pki.MustCA("Last Good Edge CA")
	edgeLeaf  = edgeCA.MustIssue("app.example.com", pki.Options{DNSNames: []string{"app.example.com"}})
	backendCA = pki.MustCA("Last Good Backend CA")
)

func meta(name string, gen int64) metav1.ObjectMeta {
	return metav1.ObjectMeta{Namespace: ns, Name: name, Generation: gen, ResourceVersion: name + "-" + string(rune('0'+gen))}
}

// world is a working configuration: an IngressRoute with TLS from a Secret, a
// ServersTransport trusting a CA Secret and a ConfigMap, a TLSOption, a Middleware, an
// IngressRouteTCP and an Ingress.
type world struct {
	route      *bhv1.IngressRoute
	tcp        *bhv1.IngressRouteTCP
	edge       *corev1.Secret
	ca         *corev1.Secret
	caMap      *corev1.ConfigMap
	transport  *bhv1.ServersTransport
	option     *bhv1.TLSOption
	middleware *bhv1.Middleware
	tcpLimit   *bhv1.MiddlewareTCP
	ingress    *networkingv1.Ingress
}

func newWorld() *world {
	return &world{
		route: &bhv1.IngressRoute{ObjectMeta: meta("app", 1), Spec: bhv1.IngressRouteSpec{
			Routes: []bhv1.Route{{Match: "Host(`app.example.com`)", Middlewares: []bhv1.ObjectReference{{Name: "strip"}},
				Services: []bhv1.Service{{Name: "app", Port: "443", ServersTransport: "backend"}}}},
			TLS: &bhv1.TLS{SecretName: "edge", Options: &bhv1.ObjectReference{Name: "strict"}},
		}},
		tcp: &bhv1.IngressRouteTCP{ObjectMeta: meta("db", 1), Spec: bhv1.IngressRouteTCPSpec{
			Routes: []bhv1.RouteTCP{{Match: "HostSNI(`db.example.com`)", Services: []bhv1.ServiceTCP{{Name: "app", Port: "443"}},
				Middlewares: []bhv1.ObjectReference{{Name: "limit"}}}},
			TLS: &bhv1.TLSTCP{Passthrough: true},
		}},
		edge: &corev1.Secret{ObjectMeta: meta("edge", 1), Type: corev1.SecretTypeTLS,
			Data: map[string][]byte{"tls.crt": edgeLeaf.CertPEM, "tls.key": edgeLeaf.KeyPEM}},
		ca:    &corev1.Secret{ObjectMeta: meta("backend-ca", 1), Data: map[string][]byte{"ca.crt": backendCA.PEM}},
		caMap: &corev1.ConfigMap{ObjectMeta: meta("backend-ca-map", 1), Data: map[string]string{"ca.crt": string(backendCA.PEM)}},
		transport: &bhv1.ServersTransport{ObjectMeta: meta("backend", 1), Spec: bhv1.ServersTransportSpec{UpstreamTLS: bhv1.UpstreamTLS{
			RootCAs: []bhv1.RootCA{{Secret: ptr.To(bhv1.SecretName("backend-ca"))}, {ConfigMap: ptr.To("backend-ca-map")}}}}},
		option: &bhv1.TLSOption{ObjectMeta: meta("strict", 1), Spec: bhv1.TLSOptionSpec{MinVersion: "VersionTLS13"}},
		middleware: &bhv1.Middleware{ObjectMeta: meta("strip", 1), Spec: bhv1.MiddlewareSpec{
			StripPrefix: &bhv1.StripPrefix{Prefixes: []string{"/api"}}}},
		tcpLimit: &bhv1.MiddlewareTCP{ObjectMeta: meta("limit", 1), Spec: bhv1.MiddlewareTCPSpec{
			InFlightConn: &bhv1.InFlightConn{Amount: 10}}},
		ingress: &networkingv1.Ingress{ObjectMeta: meta("legacy", 1), Spec: networkingv1.IngressSpec{
			IngressClassName: ptr.To("bridgehead"),
			Rules: []networkingv1.IngressRule{{Host: "legacy.example.com", IngressRuleValue: networkingv1.IngressRuleValue{
				HTTP: &networkingv1.HTTPIngressRuleValue{Paths: []networkingv1.HTTPIngressPath{{
					Path: "/", PathType: ptr.To(networkingv1.PathTypePrefix),
					Backend: networkingv1.IngressBackend{Service: &networkingv1.IngressServiceBackend{
						Name: "app", Port: networkingv1.ServiceBackendPort{Number: 443}}},
				}}}}}},
		}},
	}
}

func (w *world) inputs() *translate.Inputs {
	return &translate.Inputs{
		IngressRoutes:     []*bhv1.IngressRoute{w.route},
		IngressRouteTCPs:  []*bhv1.IngressRouteTCP{w.tcp},
		TLSOptions:        []*bhv1.TLSOption{w.option},
		ServersTransports: []*bhv1.ServersTransport{w.transport},
		Middlewares:       []*bhv1.Middleware{w.middleware},
		MiddlewareTCPs:    []*bhv1.MiddlewareTCP{w.tcpLimit},
		Secrets:           []*corev1.Secret{w.edge, w.ca},
		ConfigMaps:        []*corev1.ConfigMap{w.caMap},
		Ingresses:         []*networkingv1.Ingress{w.ingress},
		Services: []*corev1.Service{{ObjectMeta: meta("app", 1),
			Spec: corev1.ServiceSpec{Ports: []corev1.ServicePort{{Name: "https", Port: 443}}}}},
		EndpointSlices: []*discoveryv1.EndpointSlice{{
			ObjectMeta:  metav1.ObjectMeta{Namespace: ns, Name: "app-1", Labels: map[string]string{discoveryv1.LabelServiceName: "app"}},
			AddressType: discoveryv1.AddressTypeIPv4,
			Ports:       []discoveryv1.EndpointPort{{Name: ptr.To("https"), Port: ptr.To[int32](8443)}},
			Endpoints:   []discoveryv1.Endpoint{{Addresses: []string{"127.0.0.1"}}},
		}},
	}
}

func options() translate.Options {
	o := translate.DefaultOptions()
	o.Now = time.Date(2026, 12, 3, 0, 0, 0, 0, time.UTC)
	return o
}

// readyEverywhere fails the test unless every object serves as written.
func readyEverywhere(t *testing.T, st translate.Statuses) {
	t.Helper()
	for _, k := range st.Keys() {
		if c := st[k].Condition(bhv1.ConditionReady); c == nil || c.Status != metav1.ConditionTrue {
			t.Fatalf("%s is not Ready in the good configuration: %+v", k, c)
		}
	}
}

// TestEveryKindKeepsItsLastGoodVersion breaks one object at a time, in each of the ways
// translate refuses, and checks that the snapshot does not change at all (the last good
// version serves) and that the object's status says which generation serves and why the
// newest is refused. Then the object is fixed, and the fix serves.
func TestEveryKindKeepsItsLastGoodVersion(t *testing.T) {
	cases := []struct {
		name    string
		key     translate.Key
		breakIt func(w *world)
		reason  bhv1.ConditionReason
		says    string
	}{
		{"IngressRoute match no longer parses", key(translate.KindIngressRoute, "app"), func(w *world) {
			w.route = w.route.DeepCopy()
			w.route.Spec.Routes[0].Match = "Host(`app.example.com`) && PathPrefx(`/api`)"
		}, bhv1.ReasonInvalid, "spec.routes[0].match"},
		{"IngressRouteTCP match no longer parses", key(translate.KindIngressRouteTCP, "db"), func(w *world) {
			w.tcp = w.tcp.DeepCopy()
			w.tcp.Spec.Routes[0].Match = "HostSNI(`db.example.com`"
		}, bhv1.ReasonInvalid, "spec.routes[0].match"},
		{"TLSOption client auth without CA", key(translate.KindTLSOption, "strict"), func(w *world) {
			w.option = w.option.DeepCopy()
			w.option.Spec.ClientAuth = bhv1.ClientAuth{ClientAuthType: "RequireAndVerifyClientCert"}
		}, bhv1.ReasonInvalid, "clientAuth"},
		{"Middleware with two types", key(translate.KindMiddleware, "strip"), func(w *world) {
			w.middleware = w.middleware.DeepCopy()
			w.middleware.Spec.AddPrefix = &bhv1.AddPrefix{Prefix: "/v1"}
		}, bhv1.ReasonInvalid, "spec sets 2 middlewares"},
		{"MiddlewareTCP with two types", key(translate.KindMiddlewareTCP, "limit"), func(w *world) {
			w.tcpLimit = w.tcpLimit.DeepCopy()
			w.tcpLimit.Spec.IPAllowList = &bhv1.TCPIPAllowList{SourceRange: []string{"10.0.0.0/8"}}
		}, bhv1.ReasonInvalid, "spec sets 2 TCP middlewares"},
		{"Ingress annotation that cannot be read", key(translate.KindIngress, "legacy"), func(w *world) {
			w.ingress = w.ingress.DeepCopy()
			w.ingress.Annotations = map[string]string{"bridgehead.dev/backend-protocol": "htps"}
		}, bhv1.ReasonUnsupportedValue, "htps"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			w := newWorld()
			k := &Keeper{}
			good, st := k.Translate(w.inputs(), options())
			readyEverywhere(t, st)

			tc.breakIt(w)
			bumpGeneration(w, tc.key)
			snap, st := k.Translate(w.inputs(), options())
			if snap.Hash() != good.Hash() {
				t.Errorf("the snapshot changed: the last good version of %s should serve in place of the broken one", tc.key)
			}
			s := st[tc.key]
			accepted, ready := s.Condition(bhv1.ConditionAccepted), s.Condition(bhv1.ConditionReady)
			if accepted.Status != metav1.ConditionFalse || accepted.Reason != string(tc.reason) ||
				!strings.Contains(accepted.Message, "generation 2 is refused") || !strings.Contains(accepted.Message, tc.says) ||
				!strings.Contains(accepted.Message, "generation 1, the last that was accepted, keeps serving") {
				t.Errorf("Accepted = %+v, want False/%s saying generation 2 is refused (%q) and generation 1 serves", accepted, tc.reason, tc.says)
			}
			if ready.Status != metav1.ConditionFalse || ready.Reason != string(bhv1.ReasonServingLastGood) || ready.ObservedGeneration != 2 {
				t.Errorf("Ready = %+v, want False/ServingLastGood for generation 2", ready)
			}

			// Fixing it (back to a good spec, as generation 3) serves generation 3.
			fixed := newWorld()
			*w = *fixed
			setGeneration(w, tc.key, 3)
			snap, st = k.Translate(w.inputs(), options())
			readyEverywhere(t, st)
			if snap.Hash() != good.Hash() {
				t.Errorf("the fixed configuration serves something else than the good one")
			}
		})
	}
}

// TestGarbagePEMKeepsTheCertificate: a Secret whose new data is garbage (an edge
// certificate, a CA bundle, a ConfigMap CA) keeps serving its last good data, and every
// object that reads it says the new data was refused and why.
func TestGarbagePEMKeepsTheCertificate(t *testing.T) {
	cases := []struct {
		name    string
		breakIt func(w *world)
		readers []translate.Key
		says    string
	}{
		{"edge certificate", func(w *world) {
			w.edge = w.edge.DeepCopy()
			w.edge.ResourceVersion = "edge-2"
			w.edge.Data["tls.key"] = []byte("-----BEGIN PRIVATE KEY-----\ngarbage\n-----END PRIVATE KEY-----\n")
		}, []translate.Key{key(translate.KindIngressRoute, "app")}, "Secret web/edge: its new data is refused"},
		{"CA bundle in a Secret", func(w *world) {
			w.ca = w.ca.DeepCopy()
			w.ca.ResourceVersion = "backend-ca-2"
			w.ca.Data["ca.crt"] = []byte("not PEM at all")
		}, []translate.Key{key(translate.KindServersTransport, "backend")}, "Secret web/backend-ca: its new data is refused (Secret web/backend-ca key ca.crt holds no PEM certificate)"},
		{"CA bundle in a ConfigMap", func(w *world) {
			w.caMap = w.caMap.DeepCopy()
			w.caMap.ResourceVersion = "backend-ca-map-2"
			w.caMap.Data["ca.crt"] = "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"
		}, []translate.Key{key(translate.KindServersTransport, "backend")}, "ConfigMap web/backend-ca-map: its new data is refused"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			w := newWorld()
			k := &Keeper{}
			good, st := k.Translate(w.inputs(), options())
			readyEverywhere(t, st)
			tc.breakIt(w)
			snap, st := k.Translate(w.inputs(), options())
			if snap.Hash() != good.Hash() {
				t.Errorf("the snapshot changed: the last good data should keep serving")
			}
			for _, r := range tc.readers {
				warn := st[r].Condition(bhv1.ConditionWarnings)
				if warn == nil || warn.Status != metav1.ConditionTrue || warn.Reason != string(bhv1.ReasonDataRefused) || !strings.Contains(warn.Message, tc.says) {
					t.Errorf("%s Warnings = %+v, want True/DataRefused saying %q", r, warn, tc.says)
				}
				if ready := st[r].Condition(bhv1.ConditionReady); ready.Status != metav1.ConditionTrue {
					t.Errorf("%s is not Ready although its last good data serves: %+v", r, ready)
				}
			}
		})
	}
}

// TestNoLastGoodVersion: an object that was never good, or was deleted and comes back
// broken, is translated as it is: nothing old comes back to life.
func TestNoLastGoodVersion(t *testing.T) {
	w := newWorld()
	w.route.Spec.Routes[0].Match = "Host(`app.example.com`"
	k := &Keeper{}
	snap, st := k.Translate(w.inputs(), options())
	if routeIDs(snap) != "" {
		t.Errorf("a route that never translated serves: %s", routeIDs(snap))
	}
	if r := st[key(translate.KindIngressRoute, "app")].Condition(bhv1.ConditionReady); r.Reason == string(bhv1.ReasonServingLastGood) {
		t.Errorf("Ready = %+v: there is no last good version", r)
	}

	// Good, then deleted, then back broken: the deleted version does not return.
	w = newWorld()
	k.Translate(w.inputs(), options())
	in := w.inputs()
	in.IngressRoutes = nil
	k.Translate(in, options())
	w.route.Spec.Routes[0].Match = "Host(`app.example.com`"
	snap, _ = k.Translate(w.inputs(), options())
	if routeIDs(snap) != "" {
		t.Errorf("a deleted route came back: %s", routeIDs(snap))
	}
}

// TestConflictIsNotARefusal: an object that loses a conflict with another is not "broken",
// so no older version of it is brought back.
func TestConflictIsNotARefusal(t *testing.T) {
	w := newWorld()
	k := &Keeper{}
	k.Translate(w.inputs(), options())
	older := w.route.DeepCopy()
	older.Name, older.ResourceVersion = "older", "older-1"
	older.CreationTimestamp = metav1.NewTime(time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC))
	in := w.inputs()
	in.IngressRoutes = append(in.IngressRoutes, older)
	w.route = w.route.DeepCopy()
	w.route.Generation, w.route.ResourceVersion = 2, "app-2"
	w.route.CreationTimestamp = metav1.NewTime(time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC))
	in.IngressRoutes[0] = w.route
	_, st := k.Translate(in, options())
	s := st[key(translate.KindIngressRoute, "app")]
	if a := s.Condition(bhv1.ConditionAccepted); a.Reason != string(bhv1.ReasonConflicted) {
		t.Fatalf("Accepted = %+v, want the newer route to lose the conflict", a)
	}
	if r := s.Condition(bhv1.ConditionReady); r.Reason == string(bhv1.ReasonServingLastGood) {
		t.Errorf("a conflict brought back a last good version: %+v", r)
	}
}

func key(kind, name string) translate.Key {
	return translate.Key{Kind: kind, Namespace: ns, Name: name}
}

func routeIDs(s *snapshot.Snapshot) string {
	var ids []string
	for _, r := range s.HTTPRoutes {
		if strings.HasPrefix(r.ID, ns+"/app/") {
			ids = append(ids, r.ID)
		}
	}
	return strings.Join(ids, ",")
}

func bumpGeneration(w *world, k translate.Key) { setGeneration(w, k, 2) }

// setGeneration gives the object of k generation gen, as the API server does on a change.
func setGeneration(w *world, k translate.Key, gen int64) {
	var m *metav1.ObjectMeta
	switch k.Kind {
	case translate.KindIngressRoute:
		w.route = w.route.DeepCopy()
		m = &w.route.ObjectMeta
	case translate.KindIngressRouteTCP:
		w.tcp = w.tcp.DeepCopy()
		m = &w.tcp.ObjectMeta
	case translate.KindTLSOption:
		w.option = w.option.DeepCopy()
		m = &w.option.ObjectMeta
	case translate.KindMiddleware:
		w.middleware = w.middleware.DeepCopy()
		m = &w.middleware.ObjectMeta
	case translate.KindMiddlewareTCP:
		w.tcpLimit = w.tcpLimit.DeepCopy()
		m = &w.tcpLimit.ObjectMeta
	case translate.KindIngress:
		w.ingress = w.ingress.DeepCopy()
		m = &w.ingress.ObjectMeta
	}
	fresh := meta(m.Name, gen)
	m.Generation, m.ResourceVersion = fresh.Generation, fresh.ResourceVersion
}

// TestKeeperForgetsWhatABuildDidNotHave: the Keeper holds objects of the latest build
// only, under their keys and under the objects themselves, whether a build adds, replaces
// (a new version at a new address) or deletes objects, or changes nothing.
func TestKeeperForgetsWhatABuildDidNotHave(t *testing.T) {
	w := newWorld()
	k := &Keeper{}
	in := w.inputs()
	routeKey := key(translate.KindIngressRoute, "app")
	check := func(step string, in *translate.Inputs, route *bhv1.IngressRoute) {
		t.Helper()
		k.Translate(in, options())
		objects := map[translate.Key]metav1.Object{}
		in.Visit(func(key translate.Key, o metav1.Object) metav1.Object { objects[key] = o; return nil })
		for key, e := range k.good {
			if objects[key] != e.obj || k.of[e.obj] != e {
				t.Errorf("%s: %s is held as an object this build did not have", step, key)
			}
		}
		if len(k.of) != len(k.good) {
			t.Errorf("%s: the Keeper holds %d objects by key and %d by object", step, len(k.good), len(k.of))
		}
		if e := k.good[routeKey]; (route == nil) != (e == nil) || (e != nil && e.obj != metav1.Object(route)) {
			t.Errorf("%s: the route held is %v, want %v", step, e, route)
		}
	}
	check("first build", in, w.route)
	check("the same objects again", in, w.route)
	newer := w.route.DeepCopy()
	newer.Generation, newer.ResourceVersion = 2, "app-2"
	in.IngressRoutes = []*bhv1.IngressRoute{newer}
	check("a new version of the route", in, newer)
	in.IngressRoutes, in.Middlewares = nil, nil
	check("the route and the middleware deleted", in, nil)
	in.IngressRoutes = []*bhv1.IngressRoute{w.route}
	check("the first version back", in, w.route)
}
