package translate

import (
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"
)

// tlsEntryPointOptions are serve's options with --entrypoint tls7443=:7443/tls.
func tlsEntryPointOptions() Options {
	opts := DefaultOptions()
	opts.ListenerPorts = DefaultListenerPorts()
	opts.ListenerPorts[7443] = ListenerEntryPoint{Name: "tls7443", Kind: EntryPointTLS}
	opts.EntryPoints = map[string]string{"web": "tcp", "websecure": "tls", "tls7443": "tls"}
	return opts
}

// tlsEntryPointGateways: one Gateway with an HTTPS listener and a TLS Passthrough listener
// on 7443 (as the conformance suite writes them), and one with HTTP and TCP listeners on
// 7443, which a TLS entry point cannot serve.
func tlsEntryPointGateways(t *testing.T) *Inputs {
	https := gwv1.Listener{Name: "https", Port: 7443, Protocol: gwv1.HTTPSProtocolType, Hostname: ptr.To(gwv1.Hostname("www.example.com")),
		TLS: &gwv1.ListenerTLSConfig{CertificateRefs: []gwv1.SecretObjectReference{{Name: "edge"}}}}
	in := gwTLSInputs(t,
		testGateway("gw", https, tlsListener("pass", 7443, "db.example.com", gwv1.TLSModePassthrough, ""),
			tlsListener("term", 7443, "tls.example.com", gwv1.TLSModeTerminate, "edge")),
		testGateway("plain", gwv1.Listener{Name: "http", Port: 7443, Protocol: gwv1.HTTPProtocolType}, gwv1.Listener{Name: "tcp", Port: 7443, Protocol: gwv1.TCPProtocolType}))
	route := testHTTPRoute("www", 0, []gwv1.Hostname{"www.example.com"}, prefix("/"))
	route.Spec.ParentRefs = []gwv1.ParentReference{parent("gw", "https")}
	in.HTTPRoutes = append(in.HTTPRoutes, route)
	in.TLSRoutes = append(in.TLSRoutes, testTLSRoute("db", 0, parent("gw", "pass"), []gwv1.Hostname{"db.example.com"}, backendRef("app", 80)),
		testTLSRoute("term", 0, parent("gw", "term"), []gwv1.Hostname{"tls.example.com"}, backendRef("app", 80)))
	return in
}

// An HTTPS listener and TLS Passthrough and Terminate listeners on 7443 (the shape of the
// conformance suite's TLSRouteMixedTerminationSameNamespace on 8883) are served on the TLS
// entry point that has port 7443: Programmed, their routes on that entry point (HTTPS
// terminated with the listener's certificate, db.example.com passed through by SNI,
// tls.example.com terminated then forwarded as TCP).
func TestHTTPSAndTLSListenersOnATLSUserEntryPoint(t *testing.T) {
	snap, st := Translate(tlsEntryPointGateways(t), tlsEntryPointOptions())
	if err := snap.Validate(); err != nil {
		t.Fatal(err)
	}
	for _, l := range []string{"https", "pass", "term"} {
		c := listenerConds(t, st, "gw", l)
		for _, typ := range []string{"Accepted", "ResolvedRefs", "Programmed"} {
			if c[typ].Status != metav1.ConditionTrue {
				t.Errorf("listener %s: %s = %s %s: %s", l, typ, c[typ].Status, c[typ].Reason, c[typ].Message)
			}
		}
		if n := listenerStatus(t, st, "gw", l).AttachedRoutes; n != 1 {
			t.Errorf("listener %s: %d routes attached, want 1", l, n)
		}
	}
	var served bool
	for _, r := range snap.HTTPRoutes {
		if r.Source.Name == "www" {
			served = true
			if !r.TLS || len(r.EntryPoints) != 1 || r.EntryPoints[0] != "tls7443" || r.Policy == "" || r.Failure != nil {
				t.Errorf("HTTPRoute www: TLS=%v entry points %v policy %q failure %+v; want TLS on tls7443 under a TLS policy", r.TLS, r.EntryPoints, r.Policy, r.Failure)
			}
		}
	}
	if !served {
		t.Error("HTTPRoute www is not in the snapshot")
	}
	var hostCert bool
	for _, h := range snap.TLS.Hosts {
		hostCert = hostCert || (h.Name == "www.example.com" && h.Certificate != nil && h.Failure == nil)
	}
	if !hostCert {
		t.Error("www.example.com has no certificate of its own in the snapshot's edge: the listener's would not be served")
	}
	r := tcpRouteFor(t, snap, "tls7443", "db.example.com")
	if r == nil || r.Source.Name != "db" || !r.Passthrough || r.Failure != nil {
		t.Fatalf("SNI db.example.com on tls7443: %+v, want TLSRoute db passed through", r)
	}
	if r := tcpRouteFor(t, snap, "tls7443", "tls.example.com"); r == nil || r.Source.Name != "term" || !r.Terminate || r.Policy == "" || r.Failure != nil {
		t.Errorf("SNI tls.example.com on tls7443: %+v, want TLSRoute term terminated under a TLS policy", r)
	}
	if r := tcpRouteFor(t, snap, "websecure", "db.example.com"); r != nil {
		t.Errorf("TLSRoute db is on websecure too: %s", r.ID)
	}
	wantCondition(t, routeConditions(t, st, KindTLSRoute, "db"), "Accepted", metav1.ConditionTrue, "Accepted")
	wantCondition(t, parentConditions(t, st, KindHTTPRoute, "www"), "Accepted", metav1.ConditionTrue, "Accepted")

	// HTTP and TCP listeners on a TLS entry point's port are refused as on websecure's.
	for _, l := range []string{"http", "tcp"} {
		c := listenerConds(t, st, "plain", l)
		wantCondition(t, c, "Accepted", metav1.ConditionFalse, string(gwv1.ListenerReasonPortUnavailable))
		if !strings.Contains(c["Accepted"].Message, `port 7443 is the gateway's tls entry point "tls7443"`) {
			t.Errorf("listener %s: %q does not name the entry point", l, c["Accepted"].Message)
		}
	}
}

// Without a TLS entry point on 7443 the HTTPS and TLS listeners are PortUnavailable, and
// the message says how to add one.
func TestHTTPSListenerWithoutATLSEntryPointIsPortUnavailable(t *testing.T) {
	_, st := Translate(tlsEntryPointGateways(t), DefaultOptions())
	for _, l := range []string{"https", "pass"} {
		c := listenerConds(t, st, "gw", l)
		wantCondition(t, c, "Accepted", metav1.ConditionFalse, string(gwv1.ListenerReasonPortUnavailable))
		if c["Programmed"].Status != metav1.ConditionFalse {
			t.Errorf("listener %s: Programmed = %s, want False", l, c["Programmed"].Status)
		}
		if !strings.Contains(c["Accepted"].Message, "--entrypoint NAME=:7443/tls") {
			t.Errorf("listener %s: %q does not say --entrypoint NAME=:7443/tls", l, c["Accepted"].Message)
		}
	}
	c := listenerConds(t, st, "plain", "tcp")
	if !strings.Contains(c["Accepted"].Message, "--entrypoint NAME=:7443 ") {
		t.Errorf("TCP listener: %q does not say --entrypoint NAME=:7443", c["Accepted"].Message)
	}
}
