package translate

import (
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"
)

// testListenerSet is a ListenerSet of Gateway web/gw in namespace ns, created age ago.
func testListenerSet(ns, name string, age time.Duration, listeners ...gwv1.ListenerEntry) *gwv1.ListenerSet {
	return &gwv1.ListenerSet{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, Generation: 3,
			CreationTimestamp: metav1.NewTime(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).Add(-age))},
		Spec: gwv1.ListenerSetSpec{ParentRef: gwv1.ParentGatewayReference{Name: "gw", Namespace: ptr.To[gwv1.Namespace]("web")}, Listeners: listeners},
	}
}

func entry(name string, proto gwv1.ProtocolType, host string) gwv1.ListenerEntry {
	e := gwv1.ListenerEntry{Name: gwv1.SectionName(name), Port: 80, Protocol: proto,
		AllowedRoutes: &gwv1.AllowedRoutes{Namespaces: &gwv1.RouteNamespaces{From: ptr.To(gwv1.NamespacesFromAll)}}}
	if host != "" {
		e.Hostname = ptr.To(gwv1.Hostname(host))
	}
	return e
}

func allowListeners(in *Inputs, from gwv1.FromNamespaces, sel *metav1.LabelSelector) {
	in.Gateways[0].Spec.AllowedListeners = &gwv1.AllowedListeners{Namespaces: &gwv1.ListenerNamespaces{From: &from, Selector: sel}}
}

func listenerSetStatus(t *testing.T, st Statuses, ns, name string) *gwv1.ListenerSetStatus {
	t.Helper()
	s := st[Key{Kind: KindListenerSet, Namespace: ns, Name: name}]
	if s == nil || s.GatewayAPI == nil || s.GatewayAPI.ListenerSet == nil {
		t.Fatalf("ListenerSet %s/%s: no status", ns, name)
	}
	return s.GatewayAPI.ListenerSet
}

func wantLSCondition(t *testing.T, what string, conds []metav1.Condition, typ string, status metav1.ConditionStatus, reason string) {
	t.Helper()
	for _, c := range conds {
		if c.Type == typ {
			if c.Status != status || (reason != "" && c.Reason != reason) {
				t.Errorf("%s: %s=%s %s (%s), want %s %s", what, typ, c.Status, c.Reason, c.Message, status, reason)
			}
			return
		}
	}
	t.Errorf("%s: no %s condition in %+v", what, typ, conds)
}

func entryConditions(t *testing.T, st *gwv1.ListenerSetStatus, name string) []metav1.Condition {
	t.Helper()
	for _, l := range st.Listeners {
		if string(l.Name) == name {
			return l.Conditions
		}
	}
	t.Fatalf("no listener %s in %+v", name, st.Listeners)
	return nil
}

func attachedListenerSets(t *testing.T, st Statuses) int32 {
	t.Helper()
	return ptr.Deref(st[Key{Kind: KindGateway, Namespace: "web", Name: "gw"}].GatewayAPI.Gateway.AttachedListenerSets, -1)
}

func TestListenerSetsJoinOnlyWhenTheGatewayAllowsTheirNamespace(t *testing.T) {
	sets := func() []*gwv1.ListenerSet {
		return []*gwv1.ListenerSet{
			testListenerSet("web", "same", time.Hour, entry("a", gwv1.HTTPProtocolType, "same.example.com")),
			testListenerSet("team", "other", time.Hour, entry("a", gwv1.HTTPProtocolType, "other.example.com")),
		}
	}
	namespaces := []*corev1.Namespace{{ObjectMeta: metav1.ObjectMeta{Name: "team", Labels: map[string]string{"listeners": "yes"}}}, {ObjectMeta: metav1.ObjectMeta{Name: "web"}}}
	for _, c := range []struct {
		name          string
		from          *gwv1.FromNamespaces // nil: no allowedListeners at all
		sel           *metav1.LabelSelector
		same, other   bool
		wantAttached  int32
		refusedReason string
	}{
		{name: "default", refusedReason: string(gwv1.ListenerSetReasonNotAllowed)},
		{name: "None", from: ptr.To(gwv1.NamespacesFromNone), refusedReason: string(gwv1.ListenerSetReasonNotAllowed)},
		{name: "Same", from: ptr.To(gwv1.NamespacesFromSame), same: true, wantAttached: 1},
		{name: "All", from: ptr.To(gwv1.NamespacesFromAll), same: true, other: true, wantAttached: 2},
		{name: "Selector", from: ptr.To(gwv1.NamespacesFromSelector), sel: &metav1.LabelSelector{MatchLabels: map[string]string{"listeners": "yes"}}, other: true, wantAttached: 1},
	} {
		t.Run(c.name, func(t *testing.T) {
			in := gwTestInputs("gw.example.com")
			in.Namespaces = namespaces
			in.ListenerSets = sets()
			if c.from != nil {
				allowListeners(in, *c.from, c.sel)
			}
			_, st := Translate(in, DefaultOptions())
			for _, s := range []struct {
				ns, name string
				want     bool
			}{{"web", "same", c.same}, {"team", "other", c.other}} {
				ls := listenerSetStatus(t, st, s.ns, s.name)
				if s.want {
					wantLSCondition(t, s.name, ls.Conditions, "Accepted", metav1.ConditionTrue, string(gwv1.ListenerSetReasonAccepted))
					wantLSCondition(t, s.name, ls.Conditions, "Programmed", metav1.ConditionTrue, string(gwv1.ListenerSetReasonProgrammed))
					for _, typ := range []string{"Accepted", "Programmed", "ResolvedRefs"} {
						wantLSCondition(t, s.name+" listener a", entryConditions(t, ls, "a"), typ, metav1.ConditionTrue, "")
					}
				} else {
					wantLSCondition(t, s.name, ls.Conditions, "Accepted", metav1.ConditionFalse, string(gwv1.ListenerSetReasonNotAllowed))
					wantLSCondition(t, s.name, ls.Conditions, "Programmed", metav1.ConditionFalse, string(gwv1.ListenerSetReasonNotAllowed))
				}
				for _, cond := range ls.Conditions {
					if cond.ObservedGeneration != 3 {
						t.Errorf("%s: %s observedGeneration %d, want 3", s.name, cond.Type, cond.ObservedGeneration)
					}
				}
			}
			if got := attachedListenerSets(t, st); got != c.wantAttached {
				t.Errorf("attachedListenerSets = %d, want %d", got, c.wantAttached)
			}
			gw := st[Key{Kind: KindGateway, Namespace: "web", Name: "gw"}].GatewayAPI.Gateway
			wantLSCondition(t, "Gateway", gw.Conditions, "Accepted", metav1.ConditionTrue, "")
		})
	}
}

// The conformance tests ListenerSetHostnameConflict and ListenerSetProtocolConflict:
// the Gateway's listeners first, then the oldest ListenerSet, then by name.
func TestListenerSetConflictsFollowThePrecedence(t *testing.T) {
	for _, c := range []struct {
		name   string
		proto  gwv1.ProtocolType // of the listeners that conflict
		reason gwv1.ListenerConditionReason
	}{
		{"hostname", gwv1.HTTPProtocolType, gwv1.ListenerReasonHostnameConflict},
		{"protocol", gwv1.TCPProtocolType, gwv1.ListenerReasonProtocolConflict},
	} {
		t.Run(c.name, func(t *testing.T) {
			in := gwTestInputs("gw.example.com")
			in.Gateways[0].Spec.Listeners = append(in.Gateways[0].Spec.Listeners,
				gwv1.Listener{Name: "with-gw", Port: 80, Protocol: gwv1.HTTPProtocolType, Hostname: ptr.To[gwv1.Hostname]("with-gw.com")})
			allowListeners(in, gwv1.NamespacesFromSame, nil)
			host := func(h string) string {
				if c.proto == gwv1.TCPProtocolType {
					return "" // a TCP listener has no hostname
				}
				return h
			}
			in.ListenerSets = []*gwv1.ListenerSet{
				// Listed youngest first: the order of the input must not matter.
				testListenerSet("web", "with-set-2", time.Hour, entry("with-set", c.proto, host("with-set.com"))),
				testListenerSet("web", "with-set-1", time.Hour, entry("set-2", gwv1.HTTPProtocolType, "set-2.com"), entry("with-set", c.proto, host("with-set.com"))),
				testListenerSet("web", "with-gw-2", 2*time.Hour, entry("with-gw", c.proto, host("with-gw.com"))),
				testListenerSet("web", "with-gw-1", 3*time.Hour, entry("set-1", gwv1.HTTPProtocolType, "set-1.com"), entry("with-gw", c.proto, host("with-gw.com")),
					entry("with-set", gwv1.HTTPProtocolType, "with-set.com")),
			}
			_, st := Translate(in, DefaultOptions())
			conflicted := func(set, listener string) {
				t.Helper()
				conds := entryConditions(t, listenerSetStatus(t, st, "web", set), listener)
				wantLSCondition(t, set+"/"+listener, conds, "Accepted", metav1.ConditionFalse, string(c.reason))
				wantLSCondition(t, set+"/"+listener, conds, "Programmed", metav1.ConditionFalse, string(c.reason))
				wantLSCondition(t, set+"/"+listener, conds, "Conflicted", metav1.ConditionTrue, string(c.reason))
			}
			served := func(set, listener string) {
				t.Helper()
				conds := entryConditions(t, listenerSetStatus(t, st, "web", set), listener)
				for _, typ := range []string{"Accepted", "Programmed", "ResolvedRefs"} {
					wantLSCondition(t, set+"/"+listener, conds, typ, metav1.ConditionTrue, "")
				}
			}
			for _, l := range listenerStatus(t, st, "gw", "with-gw").Conditions {
				if (l.Type == "Conflicted") != (l.Status == metav1.ConditionFalse) {
					t.Errorf("Gateway listener with-gw: %s=%s %s", l.Type, l.Status, l.Reason)
				}
			}
			conflicted("with-gw-1", "with-gw")
			served("with-gw-1", "set-1")
			served("with-gw-1", "with-set")
			conflicted("with-gw-2", "with-gw")
			served("with-set-1", "set-2")
			if c.proto == gwv1.HTTPProtocolType {
				conflicted("with-set-1", "with-set")
				conflicted("with-set-2", "with-set")
			}
			for set, accepted := range map[string]bool{"with-gw-1": true, "with-gw-2": false, "with-set-1": true} {
				ls := listenerSetStatus(t, st, "web", set)
				if accepted {
					wantLSCondition(t, set, ls.Conditions, "Accepted", metav1.ConditionTrue, "")
					wantLSCondition(t, set, ls.Conditions, "Programmed", metav1.ConditionTrue, string(gwv1.ListenerSetReasonProgrammed))
				} else {
					wantLSCondition(t, set, ls.Conditions, "Accepted", metav1.ConditionFalse, string(gwv1.ListenerSetReasonListenersNotValid))
					wantLSCondition(t, set, ls.Conditions, "Programmed", metav1.ConditionFalse, string(gwv1.ListenerSetReasonListenersNotValid))
				}
			}
			if c.proto == gwv1.HTTPProtocolType {
				if got := attachedListenerSets(t, st); got != 2 {
					t.Errorf("attachedListenerSets = %d, want 2", got)
				}
			}
		})
	}
}

// A route attaches to a ListenerSet's listener only through a parentRef of kind
// ListenerSet (conformance ListenerSetGatewayParentSectionNameNotFound and
// ListenerSetRouteStatusScopedToParentRef), and is served on it.
func TestRoutesAttachToListenerSetsThroughTheirOwnParentRef(t *testing.T) {
	viaSet := testHTTPRoute("via-set", time.Hour, nil, prefix("/"))
	viaSet.Spec.ParentRefs = []gwv1.ParentReference{{Kind: ptr.To[gwv1.Kind]("ListenerSet"), Group: ptr.To[gwv1.Group](gatewayGroup), Name: "ls", SectionName: ptr.To[gwv1.SectionName]("ls-only")}}
	viaGW := testHTTPRoute("via-gw", time.Hour, []gwv1.Hostname{"ls.example.com"}, prefix("/"))
	viaGW.Spec.ParentRefs = []gwv1.ParentReference{{Name: "gw", SectionName: ptr.To[gwv1.SectionName]("ls-only")}}
	fromTeam := testHTTPRoute("from-team", time.Hour, nil, prefix("/team"))
	fromTeam.Namespace = "team"
	fromTeam.Spec.ParentRefs = []gwv1.ParentReference{{Kind: ptr.To[gwv1.Kind]("ListenerSet"), Name: "ls", Namespace: ptr.To[gwv1.Namespace]("web")}}
	in := gwTestInputs("gw.example.com", viaSet, viaGW, fromTeam)
	allowListeners(in, gwv1.NamespacesFromSame, nil)
	same := entry("ls-only", gwv1.HTTPProtocolType, "ls.example.com")
	same.AllowedRoutes = nil // routes of the ListenerSet's namespace only
	in.ListenerSets = []*gwv1.ListenerSet{testListenerSet("web", "ls", time.Hour, same)}
	snap, st := Translate(in, DefaultOptions())
	if err := snap.Validate(); err != nil {
		t.Fatal(err)
	}
	if got := gwRouteFor(t, snap, "ls.example.com", "/x", nil); got != "via-set" {
		t.Errorf("GET ls.example.com/x: routed to %q, want via-set", got)
	}
	if got := gwRouteFor(t, snap, "gw.example.com", "/x", nil); got != "" {
		t.Errorf("GET gw.example.com/x: routed to %q, want none (via-set is attached to the ListenerSet only)", got)
	}
	if got := gwRouteFor(t, snap, "ls.example.com", "/team", nil); got != "via-set" {
		t.Errorf("GET ls.example.com/team: routed to %q, want via-set (from-team is not allowed)", got)
	}
	acc := routeConditions(t, st, KindHTTPRoute, "via-set")["Accepted"]
	if acc.Status != metav1.ConditionTrue {
		t.Errorf("via-set: Accepted %s %s: %s", acc.Status, acc.Reason, acc.Message)
	}
	acc = routeConditions(t, st, KindHTTPRoute, "via-gw")["Accepted"]
	if acc.Status != metav1.ConditionFalse || acc.Reason != string(gwv1.RouteReasonNoMatchingParent) {
		t.Errorf("via-gw: Accepted %s %s, want False NoMatchingParent", acc.Status, acc.Reason)
	}
	s := st[Key{Kind: KindHTTPRoute, Namespace: "team", Name: "from-team"}]
	if s == nil || s.GatewayAPI == nil || len(s.GatewayAPI.Parents) != 1 {
		t.Fatalf("from-team: no parent status: %+v", s)
	}
	acc = s.GatewayAPI.Parents[0].Conditions[0]
	if acc.Status != metav1.ConditionFalse || acc.Reason != string(gwv1.RouteReasonNotAllowedByListeners) {
		t.Errorf("from-team: Accepted %s %s, want False NotAllowedByListeners", acc.Status, acc.Reason)
	}
	ls := listenerSetStatus(t, st, "web", "ls")
	if got := ls.Listeners[0].AttachedRoutes; got != 1 {
		t.Errorf("ListenerSet listener attachedRoutes = %d, want 1", got)
	}
	if got := listenerStatus(t, st, "gw", "http").AttachedRoutes; got != 0 {
		t.Errorf("Gateway listener attachedRoutes = %d, want 0", got)
	}
}

// A ListenerSet the Gateway refuses serves nothing: routes through it are not accepted.
func TestRoutesThroughARefusedListenerSetAreNotAccepted(t *testing.T) {
	r := testHTTPRoute("via-set", time.Hour, nil, prefix("/"))
	r.Spec.ParentRefs = []gwv1.ParentReference{{Kind: ptr.To[gwv1.Kind]("ListenerSet"), Name: "ls"}}
	in := gwTestInputs("gw.example.com", r)
	in.ListenerSets = []*gwv1.ListenerSet{testListenerSet("web", "ls", time.Hour, entry("a", gwv1.HTTPProtocolType, "ls.example.com"))}
	snap, st := Translate(in, DefaultOptions())
	if got := gwRouteFor(t, snap, "ls.example.com", "/", nil); got != "" {
		t.Errorf("GET ls.example.com/: routed to %q, want none", got)
	}
	acc := routeConditions(t, st, KindHTTPRoute, "via-set")["Accepted"]
	if acc.Status != metav1.ConditionFalse || acc.Reason != string(gwv1.RouteReasonNoMatchingParent) {
		t.Errorf("via-set: Accepted %s %s, want False NoMatchingParent", acc.Status, acc.Reason)
	}
}

// A ListenerSet's certificate in another namespace needs a ReferenceGrant from
// ListenerSets of its namespace; one for Gateways does not do (conformance
// ListenerSetReferenceGrant).
func TestListenerSetCertificatesInAnotherNamespaceNeedAGrantForListenerSets(t *testing.T) {
	grant := func(kind string) *gwv1.ReferenceGrant {
		return &gwv1.ReferenceGrant{ObjectMeta: metav1.ObjectMeta{Namespace: "web", Name: "to-edge-" + kind},
			Spec: gwv1.ReferenceGrantSpec{From: []gwv1.ReferenceGrantFrom{{Group: gatewayGroup, Kind: gwv1.Kind(kind), Namespace: "team"}},
				To: []gwv1.ReferenceGrantTo{{Group: "", Kind: "Secret"}}}}
	}
	for _, c := range []struct {
		name   string
		grants []*gwv1.ReferenceGrant
		ok     bool
	}{
		{"no grant", nil, false},
		{"a grant for Gateways", []*gwv1.ReferenceGrant{grant(KindGateway)}, false},
		{"a grant for ListenerSets", []*gwv1.ReferenceGrant{grant(KindListenerSet)}, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			in := gwTLSInputs(t, &gwv1.Gateway{ObjectMeta: metav1.ObjectMeta{Namespace: "web", Name: "gw"},
				Spec: gwv1.GatewaySpec{GatewayClassName: "bh", Listeners: []gwv1.Listener{{Name: "http", Port: 80, Protocol: gwv1.HTTPProtocolType}}}})
			allowListeners(in, gwv1.NamespacesFromAll, nil)
			in.ReferenceGrants = c.grants
			https := gwv1.ListenerEntry{Name: "https", Port: 443, Protocol: gwv1.HTTPSProtocolType, Hostname: ptr.To[gwv1.Hostname]("team.example.com"),
				TLS: &gwv1.ListenerTLSConfig{CertificateRefs: []gwv1.SecretObjectReference{{Name: "edge", Namespace: ptr.To[gwv1.Namespace]("web")}}}}
			in.ListenerSets = []*gwv1.ListenerSet{testListenerSet("team", "ls", 0, https)}
			snap, st := Translate(in, DefaultOptions())
			ls := listenerSetStatus(t, st, "team", "ls")
			if c.ok {
				wantLSCondition(t, "https", entryConditions(t, ls, "https"), "ResolvedRefs", metav1.ConditionTrue, "")
				wantLSCondition(t, "ls", ls.Conditions, "Accepted", metav1.ConditionTrue, "")
				wantLSCondition(t, "ls", ls.Conditions, "Programmed", metav1.ConditionTrue, "")
				served := false
				for _, h := range snap.TLS.Hosts {
					served = served || (h.Name == "team.example.com" && h.Certificate != nil)
				}
				if !served {
					t.Errorf("no certificate served for team.example.com: %+v", snap.TLS.Hosts)
				}
			} else {
				wantLSCondition(t, "https", entryConditions(t, ls, "https"), "ResolvedRefs", metav1.ConditionFalse, string(gwv1.ListenerReasonRefNotPermitted))
				wantLSCondition(t, "ls", ls.Conditions, "Accepted", metav1.ConditionFalse, string(gwv1.ListenerSetReasonListenersNotValid))
				wantLSCondition(t, "ls", ls.Conditions, "Programmed", metav1.ConditionFalse, string(gwv1.ListenerSetReasonListenersNotValid))
			}
		})
	}
}
