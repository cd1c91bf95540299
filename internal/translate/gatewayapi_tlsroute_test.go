package translate

import (
	"net"
	"net/netip"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	bhv1 "github.com/bridgehead/bridgehead/api/v1alpha1"
	"github.com/bridgehead/bridgehead/internal/pki"
	"github.com/bridgehead/bridgehead/internal/rule"
	"github.com/bridgehead/bridgehead/internal/snapshot"
)

var gwTestT0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

func tlsListener(name string, port int32, host string, mode gwv1.TLSModeType, secret string) gwv1.Listener {
	l := gwv1.Listener{Name: gwv1.SectionName(name), Port: port, Protocol: gwv1.TLSProtocolType, TLS: &gwv1.ListenerTLSConfig{Mode: ptr.To(mode)}}
	if host != "" {
		l.Hostname = ptr.To(gwv1.Hostname(host))
	}
	if secret != "" {
		l.TLS.CertificateRefs = []gwv1.SecretObjectReference{{Name: gwv1.ObjectName(secret)}}
	}
	return l
}

func testGateway(name string, ls ...gwv1.Listener) *gwv1.Gateway {
	return &gwv1.Gateway{ObjectMeta: metav1.ObjectMeta{Namespace: "web", Name: name, Generation: 1},
		Spec: gwv1.GatewaySpec{GatewayClassName: "bh", Listeners: ls}}
}

func backendRef(name string, port gwv1.PortNumber) gwv1.BackendRef {
	return gwv1.BackendRef{BackendObjectReference: gwv1.BackendObjectReference{Name: gwv1.ObjectName(name), Port: ptr.To(port)}}
}

func testTLSRoute(name string, age time.Duration, parent gwv1.ParentReference, hostnames []gwv1.Hostname, refs ...gwv1.BackendRef) *gwv1.TLSRoute {
	return &gwv1.TLSRoute{
		ObjectMeta: metav1.ObjectMeta{Namespace: "web", Name: name, Generation: 1, CreationTimestamp: metav1.NewTime(gwTestT0.Add(-age))},
		Spec: gwv1.TLSRouteSpec{CommonRouteSpec: gwv1.CommonRouteSpec{ParentRefs: []gwv1.ParentReference{parent}},
			Hostnames: hostnames, Rules: []gwv1.TLSRouteRule{{BackendRefs: refs}}},
	}
}

func testTCPRoute(name string, age time.Duration, parent gwv1.ParentReference, refs ...gwv1.BackendRef) *gwv1.TCPRoute {
	return &gwv1.TCPRoute{
		ObjectMeta: metav1.ObjectMeta{Namespace: "web", Name: name, Generation: 1, CreationTimestamp: metav1.NewTime(gwTestT0.Add(-age))},
		Spec: gwv1.TCPRouteSpec{CommonRouteSpec: gwv1.CommonRouteSpec{ParentRefs: []gwv1.ParentReference{parent}},
			Rules: []gwv1.TCPRouteRule{{BackendRefs: refs}}},
	}
}

func parent(gw string, section string) gwv1.ParentReference {
	p := gwv1.ParentReference{Name: gwv1.ObjectName(gw)}
	if section != "" {
		p.SectionName = ptr.To(gwv1.SectionName(section))
	}
	return p
}

// gwTLSInputs: Service app (port 80) in web, a class of ours, and a TLS Secret "edge" for
// *.example.com.
func gwTLSInputs(t *testing.T, gws ...*gwv1.Gateway) *Inputs {
	t.Helper()
	svc, slice := appService()
	leaf := gwTestLeaf()
	return &Inputs{
		Services: []*corev1.Service{svc}, EndpointSlices: []*discoveryv1.EndpointSlice{slice},
		Secrets: []*corev1.Secret{{ObjectMeta: metav1.ObjectMeta{Namespace: "web", Name: "edge"}, Type: corev1.SecretTypeTLS,
			Data: map[string][]byte{"tls.crt": leaf.CertPEM, "tls.key": leaf.KeyPEM}}},
		GatewayClasses: []*gwv1.GatewayClass{{ObjectMeta: metav1.ObjectMeta{Name: "bh"}, Spec: gwv1.GatewayClassSpec{ControllerName: GatewayController}}},
		Gateways:       gws,
	}
}

// gwTestLeaf is made once: the fuzz test translates many times.
var gwTestLeaf = sync.OnceValue(func() *pki.Leaf {
	return pki.MustCA("edge CA").MustIssue("edge", pki.Options{DNSNames: []string{"*.example.com"}})
})

// tcpRouteFor is the snapshot TCP route the proxy would pick for an SNI on an entry point.
func tcpRouteFor(t *testing.T, snap *snapshot.Snapshot, entryPoint, sni string) *snapshot.TCPRoute {
	t.Helper()
	for _, r := range snap.TCPRoutes {
		parsed, err := rule.Parse(r.Match, rule.TCP)
		if err != nil {
			t.Fatalf("route %s: %v", r.ID, err)
		}
		onEntry := len(r.EntryPoints) == 0
		for _, e := range r.EntryPoints {
			onEntry = onEntry || e == entryPoint
		}
		if onEntry && parsed.MatchConn(rule.ConnInfo{SNI: sni, ClientIP: netip.MustParseAddr("192.0.2.1")}) {
			return r
		}
	}
	return nil
}

func routeConditions(t *testing.T, st Statuses, kind, name string) map[string]metav1.Condition {
	t.Helper()
	s := st[Key{Kind: kind, Namespace: "web", Name: name}]
	if s == nil || s.GatewayAPI == nil || len(s.GatewayAPI.Parents) != 1 {
		t.Fatalf("%s %s: want one parent status, got %+v", kind, name, s)
	}
	out := map[string]metav1.Condition{}
	for _, c := range s.GatewayAPI.Parents[0].Conditions {
		out[c.Type] = c
	}
	return out
}

func wantCondition(t *testing.T, conds map[string]metav1.Condition, typ string, status metav1.ConditionStatus, reason string) {
	t.Helper()
	c, ok := conds[typ]
	if !ok || c.Status != status || c.Reason != reason {
		t.Errorf("%s = %s %s (%s), want %s %s", typ, c.Status, c.Reason, c.Message, status, reason)
	}
}

func listenerStatus(t *testing.T, st Statuses, gw, listener string) gwv1.ListenerStatus {
	t.Helper()
	for _, l := range st[Key{Kind: KindGateway, Namespace: "web", Name: gw}].GatewayAPI.Gateway.Listeners {
		if string(l.Name) == listener {
			return l
		}
	}
	t.Fatalf("Gateway %s has no listener status %s", gw, listener)
	return gwv1.ListenerStatus{}
}

// Passthrough, Terminate and HTTPS listeners share port 443: the SNI picks the route, an
// exact name before a wildcard, and an HTTPS listener with a more specific hostname keeps
// its names from a passthrough route's wildcard.
func TestTLSRoutesPassthroughTerminateAndHTTPSShareAPortBySNI(t *testing.T) {
	https := gwv1.Listener{Name: "https", Port: 443, Protocol: gwv1.HTTPSProtocolType, Hostname: ptr.To(gwv1.Hostname("www.example.com")),
		TLS: &gwv1.ListenerTLSConfig{CertificateRefs: []gwv1.SecretObjectReference{{Name: "edge"}}}}
	in := gwTLSInputs(t, testGateway("gw",
		tlsListener("pass", 443, "*.example.com", gwv1.TLSModePassthrough, ""),
		tlsListener("term", 443, "tls.example.com", gwv1.TLSModeTerminate, "edge"),
		https))
	in.TLSRoutes = []*gwv1.TLSRoute{
		testTLSRoute("pass-wild", time.Hour, parent("gw", "pass"), []gwv1.Hostname{"*.example.com", "elsewhere.org"}, backendRef("app", 80)),
		testTLSRoute("pass-exact", 0, parent("gw", "pass"), []gwv1.Hostname{"db.example.com"}, backendRef("app", 80)),
		testTLSRoute("term", 0, parent("gw", "term"), []gwv1.Hostname{"tls.example.com"}, backendRef("app", 80)),
	}
	snap, st := Translate(in, DefaultOptions())
	if err := snap.Validate(); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		sni, want             string
		passthrough, terminal bool
	}{
		{"a.example.com", "pass-wild", true, false},
		{"x.y.example.com", "pass-wild", true, false}, // the spec's wildcard takes one label or more
		{"db.example.com", "pass-exact", true, false}, // an exact name before the older wildcard
		{"tls.example.com", "term", false, true},      // the terminate listener is more specific
		{"www.example.com", "", false, false},         // the HTTPS listener's name stays with HTTPS
		{"example.com", "", false, false},
		{"elsewhere.org", "", false, false}, // outside the listener's hostname: ignored
	} {
		r := tcpRouteFor(t, snap, "websecure", c.sni)
		switch {
		case c.want == "" && r != nil:
			t.Errorf("SNI %s: taken by TCP route %s, want the HTTPS router", c.sni, r.ID)
		case c.want == "":
		case r == nil:
			t.Errorf("SNI %s: no TCP route, want %s", c.sni, c.want)
		case r.Source.Name != c.want || r.Passthrough != c.passthrough || r.Terminate != c.terminal:
			t.Errorf("SNI %s: route %s passthrough=%v terminate=%v, want %s passthrough=%v terminate=%v", c.sni, r.Source.Name, r.Passthrough, r.Terminate, c.want, c.passthrough, c.terminal)
		}
	}
	if r := tcpRouteFor(t, snap, "websecure", "tls.example.com"); r != nil && r.Policy == "" {
		t.Error("the terminated route has no TLS policy: the proxy could not terminate it")
	}
	for _, name := range []string{"pass-wild", "pass-exact", "term"} {
		conds := routeConditions(t, st, KindTLSRoute, name)
		wantCondition(t, conds, "Accepted", metav1.ConditionTrue, "Accepted")
		wantCondition(t, conds, "ResolvedRefs", metav1.ConditionTrue, "ResolvedRefs")
	}
	if got := listenerStatus(t, st, "gw", "pass").AttachedRoutes; got != 2 {
		t.Errorf("listener pass: attachedRoutes = %d, want 2", got)
	}
	if got := listenerStatus(t, st, "gw", "term").AttachedRoutes; got != 1 {
		t.Errorf("listener term: attachedRoutes = %d, want 1", got)
	}
}

// The conformance suite's refusals: a route kind the listener does not take, a missing
// section, a hostname outside the listener's, and bad backend references, whose
// connections are closed.
func TestTLSRouteRefusalsAndBadBackends(t *testing.T) {
	http := gwv1.Listener{Name: "http", Port: 80, Protocol: gwv1.HTTPProtocolType}
	in := gwTLSInputs(t,
		testGateway("gw", tlsListener("pass", 443, "*.example.com", gwv1.TLSModePassthrough, "")),
		testGateway("plain", http))
	unknownKind := backendRef("app", 80)
	unknownKind.Kind = ptr.To(gwv1.Kind("Unknown"))
	elsewhere := backendRef("app", 80)
	elsewhere.Namespace = ptr.To(gwv1.Namespace("other"))
	half := backendRef("missing", 80)
	half.Weight = ptr.To[int32](1)
	in.TLSRoutes = []*gwv1.TLSRoute{
		testTLSRoute("on-http", 0, parent("plain", ""), []gwv1.Hostname{"a.example.com"}, backendRef("app", 80)),
		testTLSRoute("no-section", 0, parent("gw", "nope"), []gwv1.Hostname{"a.example.com"}, backendRef("app", 80)),
		testTLSRoute("wrong-host", 0, parent("gw", ""), []gwv1.Hostname{"a.example.org"}, backendRef("app", 80)),
		testTLSRoute("missing", 0, parent("gw", ""), []gwv1.Hostname{"missing.example.com"}, backendRef("missing", 80)),
		testTLSRoute("unknown-kind", 0, parent("gw", ""), []gwv1.Hostname{"kind.example.com"}, unknownKind),
		testTLSRoute("not-granted", 0, parent("gw", ""), []gwv1.Hostname{"grant.example.com"}, elsewhere),
		testTLSRoute("half", 0, parent("gw", ""), []gwv1.Hostname{"half.example.com"}, backendRef("app", 80), half),
	}
	snap, st := Translate(in, DefaultOptions())
	if err := snap.Validate(); err != nil {
		t.Fatal(err)
	}
	wantCondition(t, routeConditions(t, st, KindTLSRoute, "on-http"), "Accepted", metav1.ConditionFalse, string(gwv1.RouteReasonNotAllowedByListeners))
	wantCondition(t, routeConditions(t, st, KindTLSRoute, "no-section"), "Accepted", metav1.ConditionFalse, string(gwv1.RouteReasonNoMatchingParent))
	wantCondition(t, routeConditions(t, st, KindTLSRoute, "wrong-host"), "Accepted", metav1.ConditionFalse, string(gwv1.RouteReasonNoMatchingListenerHostname))
	for name, reason := range map[string]gwv1.RouteConditionReason{
		"missing": gwv1.RouteReasonBackendNotFound, "unknown-kind": gwv1.RouteReasonInvalidKind,
		"not-granted": gwv1.RouteReasonRefNotPermitted, "half": gwv1.RouteReasonBackendNotFound,
	} {
		conds := routeConditions(t, st, KindTLSRoute, name)
		wantCondition(t, conds, "Accepted", metav1.ConditionTrue, "Accepted")
		wantCondition(t, conds, "ResolvedRefs", metav1.ConditionFalse, string(reason))
	}
	for _, sni := range []string{"missing.example.com", "kind.example.com", "grant.example.com"} {
		r := tcpRouteFor(t, snap, "websecure", sni)
		if r == nil || r.Failure == nil {
			t.Errorf("SNI %s: want a TCP route that closes the connection (else the HTTPS router would answer), got %+v", sni, r)
		}
	}
	// Half the weight on a missing Service: that half is closed, the other half served.
	r := tcpRouteFor(t, snap, "websecure", "half.example.com")
	if r == nil || r.Failure != nil || len(r.Backends) != 2 || r.Backends[1].Failure == nil || r.Backends[0].Failure != nil {
		t.Errorf("half: want one serving and one failing backend, got %+v", r)
	}
	if got := listenerStatus(t, st, "plain", "http").AttachedRoutes; got != 0 {
		t.Errorf("HTTP listener: attachedRoutes = %d, want 0", got)
	}

	// A ReferenceGrant in the Service's namespace lets the route use it.
	other := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: "other", Name: "app"}, Spec: corev1.ServiceSpec{Ports: []corev1.ServicePort{{Name: "http", Port: 80}}}}
	in.Services = append(in.Services, other)
	in.ReferenceGrants = []*gwv1.ReferenceGrant{{ObjectMeta: metav1.ObjectMeta{Namespace: "other", Name: "tls"}, Spec: gwv1.ReferenceGrantSpec{
		From: []gwv1.ReferenceGrantFrom{{Group: gwv1.GroupName, Kind: KindTLSRoute, Namespace: "web"}},
		To:   []gwv1.ReferenceGrantTo{{Group: "", Kind: "Service"}}}}}
	_, st = Translate(in, DefaultOptions())
	conds := routeConditions(t, st, KindTLSRoute, "not-granted")
	if c := conds["ResolvedRefs"]; c.Reason == string(gwv1.RouteReasonRefNotPermitted) {
		t.Errorf("with a ReferenceGrant: ResolvedRefs still %s %s", c.Status, c.Reason)
	}
}

// The listener side of the conformance suite's TLS tests.
func TestTLSListenersKindsModesAndCertificates(t *testing.T) {
	kinds := tlsListener("kinds", 443, "", gwv1.TLSModePassthrough, "")
	kinds.AllowedRoutes = &gwv1.AllowedRoutes{Kinds: []gwv1.RouteGroupKind{{Kind: KindTCPRoute}, {Kind: KindTLSRoute}}}
	in := gwTLSInputs(t, testGateway("gw",
		kinds,
		tlsListener("term-no-cert", 8443, "a.example.com", gwv1.TLSModeTerminate, ""),
		tlsListener("term", 8443, "b.example.com", gwv1.TLSModeTerminate, "edge"),
		tlsListener("pass", 8443, "c.example.com", gwv1.TLSModePassthrough, "")))
	_, st := Translate(in, DefaultOptions())
	l := listenerStatus(t, st, "gw", "kinds")
	if len(l.SupportedKinds) != 1 || l.SupportedKinds[0].Kind != KindTLSRoute {
		t.Errorf("supportedKinds = %+v, want only TLSRoute", l.SupportedKinds)
	}
	conds := map[string]metav1.Condition{}
	for _, c := range l.Conditions {
		conds[c.Type] = c
	}
	wantCondition(t, conds, "ResolvedRefs", metav1.ConditionFalse, string(gwv1.ListenerReasonInvalidRouteKinds))
	for name, want := range map[string][2]string{
		"term-no-cert": {"ResolvedRefs", string(gwv1.ListenerReasonInvalidCertificateRef)},
		"term":         {"Accepted", string(gwv1.ListenerReasonAccepted)},
		"pass":         {"Accepted", string(gwv1.ListenerReasonAccepted)}, // mixed modes on one port: SNI decides
	} {
		conds := map[string]metav1.Condition{}
		for _, c := range listenerStatus(t, st, "gw", name).Conditions {
			conds[c.Type] = c
		}
		status := metav1.ConditionTrue
		if name == "term-no-cert" {
			status = metav1.ConditionFalse
		}
		wantCondition(t, conds, want[0], status, want[1])
		wantCondition(t, conds, "Conflicted", metav1.ConditionFalse, string(gwv1.ListenerReasonNoConflicts))
	}
}

// TCPRoutes: every TCP listener they attach to (by port, section or neither), weights as
// written, and on one listener the oldest route takes the connections while both count.
func TestTCPRoutesOnTCPListeners(t *testing.T) {
	opts := DefaultOptions()
	opts.ListenerPorts = DefaultListenerPorts()
	opts.ListenerPorts[9300] = ListenerEntryPoint{Name: "tcp9300", Kind: "tcp"}
	opts.ListenerPorts[9301] = ListenerEntryPoint{Name: "tcp9301", Kind: "tcp"}
	tcp := func(name string, port int32) gwv1.Listener {
		return gwv1.Listener{Name: gwv1.SectionName(name), Port: port, Protocol: gwv1.TCPProtocolType}
	}
	httpOnly := gwv1.Listener{Name: "http-only", Port: 5300, Protocol: gwv1.HTTPProtocolType,
		AllowedRoutes: &gwv1.AllowedRoutes{Kinds: []gwv1.RouteGroupKind{{Kind: KindHTTPRoute}}}}
	in := gwTLSInputs(t, testGateway("gw", tcp("one", 9300), tcp("two", 9301)), testGateway("mixed", httpOnly))
	heavy, light, none := backendRef("app", 80), backendRef("app", 80), backendRef("app", 80)
	heavy.Weight, light.Weight, none.Weight = ptr.To[int32](7), ptr.To[int32](3), ptr.To[int32](0)
	in.TCPRoutes = []*gwv1.TCPRoute{
		testTCPRoute("newer", 0, parent("gw", "one"), backendRef("app", 80)),
		testTCPRoute("older", time.Hour, parent("gw", "one"), heavy, light, none),
		testTCPRoute("all", time.Minute, parent("gw", ""), backendRef("app", 80)),
		testTCPRoute("on-http", 0, parent("mixed", "http-only"), backendRef("app", 80)),
	}
	snap, st := Translate(in, opts)
	if err := snap.Validate(); err != nil {
		t.Fatal(err)
	}
	if r := tcpRouteFor(t, snap, "tcp9300", ""); r == nil || r.Source.Name != "older" {
		t.Fatalf("listener one: want the oldest route, got %+v", r)
	} else if w := [3]int{r.Backends[0].Weight, r.Backends[1].Weight, r.Backends[2].Weight}; w != [3]int{7, 3, 0} {
		t.Errorf("weights = %v, want [7 3 0]", w)
	}
	if r := tcpRouteFor(t, snap, "tcp9301", ""); r == nil || r.Source.Name != "all" {
		t.Errorf("listener two: want the route without sectionName, got %+v", r)
	}
	for _, name := range []string{"newer", "older", "all"} {
		wantCondition(t, routeConditions(t, st, KindTCPRoute, name), "Accepted", metav1.ConditionTrue, "Accepted")
	}
	if got := listenerStatus(t, st, "gw", "one").AttachedRoutes; got != 3 {
		t.Errorf("listener one: attachedRoutes = %d, want 3 (newer, older, all)", got)
	}
	if w := st[Key{Kind: KindTCPRoute, Namespace: "web", Name: "newer"}].Warnings; len(w) == 0 || !strings.Contains(w[0].Message, "TCPRoute web/older is older") {
		t.Errorf("newer: no warning says that it gets no connections: %+v", w)
	}
	wantCondition(t, routeConditions(t, st, KindTCPRoute, "on-http"), "Accepted", metav1.ConditionFalse, string(gwv1.RouteReasonNotAllowedByListeners))
}

// Behind a Terminate listener the gateway would send the backend plain bytes; a
// BackendTLSPolicy on its Service asks for TLS, which TLSRoute does not do yet: that
// backend's connections are closed and the route says so, while passthrough is untouched.
func TestTerminatedTLSRouteRefusesABackendTLSPolicyItCannotApply(t *testing.T) {
	in := gwTLSInputs(t, testGateway("gw",
		tlsListener("pass", 443, "db.example.com", gwv1.TLSModePassthrough, ""),
		tlsListener("term", 443, "tls.example.com", gwv1.TLSModeTerminate, "edge")))
	in.TLSRoutes = []*gwv1.TLSRoute{
		testTLSRoute("both", 0, parent("gw", ""), []gwv1.Hostname{"db.example.com", "tls.example.com"}, backendRef("app", 80)),
	}
	in.BackendTLSPolicies = []*gwv1.BackendTLSPolicy{{ObjectMeta: metav1.ObjectMeta{Namespace: "web", Name: "app-tls"},
		Spec: gwv1.BackendTLSPolicySpec{TargetRefs: []gwv1.LocalPolicyTargetReferenceWithSectionName{{
			LocalPolicyTargetReference: gwv1.LocalPolicyTargetReference{Kind: "Service", Name: "app"}, SectionName: ptr.To(gwv1.SectionName("http"))}}}}}
	snap, st := Translate(in, DefaultOptions())
	if err := snap.Validate(); err != nil {
		t.Fatal(err)
	}
	if r := tcpRouteFor(t, snap, "websecure", "db.example.com"); r == nil || r.Failure != nil || r.Backends[0].Failure != nil {
		t.Errorf("passthrough: want served, got %+v", r)
	}
	r := tcpRouteFor(t, snap, "websecure", "tls.example.com")
	if r == nil || r.Failure == nil || !strings.Contains(r.Failure.Message, "BackendTLSPolicy web/app-tls") {
		t.Fatalf("terminate: want the connections closed naming the policy, got %+v", r)
	}
	s := st[Key{Kind: KindTLSRoute, Namespace: "web", Name: "both"}]
	if len(s.Blocking) == 0 || !strings.Contains(s.Blocking[0].Message, "BackendTLSPolicy web/app-tls") {
		t.Errorf("the route's report does not name the policy: %+v", s.Blocking)
	}
	// A policy on another port of the Service does not apply.
	in.BackendTLSPolicies[0].Spec.TargetRefs[0].SectionName = ptr.To(gwv1.SectionName("metrics"))
	snap, _ = Translate(in, DefaultOptions())
	if r := tcpRouteFor(t, snap, "websecure", "tls.example.com"); r == nil || r.Failure != nil {
		t.Errorf("a policy for another port: want served, got %+v", r)
	}
}

var gwHostnameRE = regexp.MustCompile(`^(\*\.)?[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$`)

// gwHostMatches is the spec's reading of a listener or route hostname as a set of names:
// "" is every name, "*.x" every name with one label or more before ".x".
func gwHostMatches(pattern, name string) bool {
	return pattern == "" || pattern == name || gwWildcardCovers(pattern, name)
}

// FuzzTLSRouteHostnames: whatever the listener's and route's hostnames, translation does
// not panic, the snapshot validates, every TCP route's rule parses, and for names the
// API accepts, an SNI reaches the route exactly when both hostnames take it.
func FuzzTLSRouteHostnames(f *testing.F) {
	for _, s := range [][3]string{
		{"*.example.com", "abc.example.com", "abc.example.com"},
		{"abc.example.com", "*.example.com", "abc.example.com"},
		{"*.com", "*.example.com", "x.y.example.com"},
		{"", "*.com", "non.matching.org"},
		{"*.example.com", "*.com", "example.com"},
		{"a.b", "a.b", "A.B"},
		{"x.(y)", "*.x.(y)", "a.x.(y)"},
		{"*.ab", "c.a`b", "c.a`b"},
		{"", "10.0.0.1", "10.0.0.1"},
	} {
		f.Add(s[0], s[1], s[2])
	}
	f.Fuzz(func(t *testing.T, listenerHost, routeHost, sni string) {
		if listenerHost != "" && !gwHostnameRE.MatchString(listenerHost) {
			return // the listener's hostname is the Gateway's to check
		}
		in := gwTLSInputs(t, testGateway("gw", tlsListener("pass", 443, listenerHost, gwv1.TLSModePassthrough, "")))
		in.TLSRoutes = []*gwv1.TLSRoute{testTLSRoute("r", 0, parent("gw", ""), []gwv1.Hostname{gwv1.Hostname(routeHost)}, backendRef("app", 80))}
		snap, _ := Translate(in, DefaultOptions())
		if err := snap.Validate(); err != nil {
			t.Fatal(err)
		}
		for _, r := range snap.TCPRoutes {
			if _, err := rule.Parse(r.Match, rule.TCP); err != nil {
				t.Fatalf("TCP route %s: rule %q does not parse: %v", r.ID, r.Match, err)
			}
		}
		sni = strings.ToLower(strings.TrimSuffix(sni, ".")) // as the proxy reads the ClientHello
		if !gwHostnameRE.MatchString(routeHost) || net.ParseIP(routeHost) != nil || len(routeHost) > 253 {
			if r := tcpRouteFor(t, snap, "websecure", sni); r != nil {
				t.Fatalf("route hostname %q (refused by the API server), SNI %q: served by %s", routeHost, sni, r.ID)
			}
			return
		}
		if strings.HasPrefix(sni, "*") || !gwHostnameRE.MatchString(sni) {
			return // not a name a client can send
		}
		want := gwHostMatches(listenerHost, sni) && gwHostMatches(routeHost, sni)
		if got := tcpRouteFor(t, snap, "websecure", sni) != nil; got != want {
			t.Fatalf("listener %q, route %q, SNI %q: routed=%v, want %v (routes %+v)", listenerHost, routeHost, sni, got, want, snap.TCPRoutes)
		}
	})
}

// An IngressRouteTCP whose host name a TLSRoute also takes on websecure gets no
// connections for it (Gateway API routes rank first): it says so instead of going silent.
func TestTLSRouteShadowingAnIngressRouteTCPIsReported(t *testing.T) {
	in := gwTLSInputs(t, testGateway("gw", tlsListener("pass", 443, "", gwv1.TLSModePassthrough, "")))
	in.TLSRoutes = []*gwv1.TLSRoute{testTLSRoute("db", 0, parent("gw", ""), []gwv1.Hostname{"*.example.com"}, backendRef("app", 80))}
	in.IngressRouteTCPs = []*bhv1.IngressRouteTCP{{ObjectMeta: metav1.ObjectMeta{Namespace: "web", Name: "legacy"},
		Spec: bhv1.IngressRouteTCPSpec{EntryPoints: []string{"websecure"}, TLS: &bhv1.TLSTCP{Passthrough: true}, Routes: []bhv1.RouteTCP{
			{Match: "HostSNI(`db.example.com`)", Services: []bhv1.ServiceTCP{{Name: "app", Port: "80"}}},
			{Match: "HostSNI(`db.example.org`)", Services: []bhv1.ServiceTCP{{Name: "app", Port: "80"}}},
		}}}}
	snap, st := Translate(in, DefaultOptions())
	if err := snap.Validate(); err != nil {
		t.Fatal(err)
	}
	if r := tcpRouteFor(t, snap, "websecure", "db.example.com"); r == nil || r.Source.Kind != KindTLSRoute {
		t.Fatalf("db.example.com: want the TLSRoute, got %+v", r)
	}
	if r := tcpRouteFor(t, snap, "websecure", "db.example.org"); r == nil || r.Source.Kind != KindIngressRouteTCP {
		t.Fatalf("db.example.org: want the IngressRouteTCP, got %+v", r)
	}
	w := st[Key{Kind: KindIngressRouteTCP, Namespace: "web", Name: "legacy"}].Warnings
	if len(w) != 1 || !strings.Contains(w[0].Message, "spec.routes[0]: host db.example.com on entry point websecure is taken by TLSRoute web/db") {
		t.Errorf("warnings = %+v, want one naming spec.routes[0] and TLSRoute web/db", w)
	}
}
