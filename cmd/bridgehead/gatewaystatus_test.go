package main

import (
	"bytes"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	bhv1 "github.com/bridgehead/bridgehead/api/v1alpha1"
	"github.com/bridgehead/bridgehead/internal/translate"
)

// A Gateway's addresses in folder mode are where its listeners' entry points listen:
// each distinct IP once, a wildcard bind as such, a listener on no entry point adds none.
func TestGatewayAddressesAreTheEntryPointsListenAddresses(t *testing.T) {
	gw := &gwv1.Gateway{ObjectMeta: metav1.ObjectMeta{Namespace: "web", Name: "edge"}, Spec: gwv1.GatewaySpec{Listeners: []gwv1.Listener{
		{Name: "a", Port: 80}, {Name: "b", Port: 8000}, {Name: "c", Port: 443}, {Name: "d", Port: 1234}, {Name: "e", Port: 9000},
	}}}
	key := translate.Key{Kind: translate.KindGateway, Namespace: "web", Name: "edge"}
	st := translate.Statuses{key: {GatewayAPI: &translate.GatewayAPIStatus{Gateway: &gwv1.GatewayStatus{}}}}
	web := translate.ListenerEntryPoint{Name: "web", Kind: translate.EntryPointHTTP}
	ports := map[int32]translate.ListenerEntryPoint{80: web, 8000: web, 443: {Name: "websecure", Kind: translate.EntryPointTLS}, 9000: {Name: "extra", Kind: translate.EntryPointHTTP}}
	gatewayAddresses(st, []*gwv1.Gateway{gw}, ports, map[string]string{"web": "127.0.0.1:8000", "websecure": "[::1]:8443", "extra": ":9000"})
	var got []string
	for _, a := range st[key].GatewayAPI.Gateway.Addresses {
		if a.Type == nil || *a.Type != gwv1.IPAddressType {
			t.Errorf("address %q: type %v, want IPAddress", a.Value, a.Type)
		}
		got = append(got, a.Value)
	}
	if strings.Join(got, ",") != "127.0.0.1,::1,::" {
		t.Errorf("addresses = %v, want 127.0.0.1, ::1, ::", got)
	}
}

// The table shows a listener's and a route parent's conditions with the message of each
// that is not as it should be (Conflicted is bad when True), and an object without Ready
// as Unknown rather than crashing.
func TestStatusTableShowsGatewayAPIConditions(t *testing.T) {
	cond := func(typ, status, reason, msg string) metav1.Condition {
		return metav1.Condition{Type: typ, Status: metav1.ConditionStatus(status), Reason: reason, Message: msg}
	}
	ready := cond(string(bhv1.ConditionReady), "True", "Ready", "")
	st := translate.Statuses{
		{Kind: translate.KindGateway, Namespace: "web", Name: "edge"}: {Conditions: []metav1.Condition{ready}, GatewayAPI: &translate.GatewayAPIStatus{Gateway: &gwv1.GatewayStatus{
			Listeners: []gwv1.ListenerStatus{{Name: "https", AttachedRoutes: 2, Conditions: []metav1.Condition{
				cond("Accepted", "True", "Accepted", "fine"), cond("Conflicted", "True", "HostnameConflict", "shares a.example.com with listener x")}}}}}},
		{Kind: translate.KindHTTPRoute, Namespace: "web", Name: "r"}: {GatewayAPI: &translate.GatewayAPIStatus{Parents: []gwv1.RouteParentStatus{{
			ParentRef:  gwv1.ParentReference{Name: "edge", SectionName: ptrTo(gwv1.SectionName("https"))},
			Conditions: []metav1.Condition{cond("Accepted", "False", "NotAllowedByListeners", "namespace not allowed")}}}}},
	}
	var out bytes.Buffer
	if !printStatus(&out, st, nil, nil) {
		t.Error("a route without Ready must count as broken")
	}
	for _, want := range []string{
		"Gateway/web/edge: addresses none; ",
		"Gateway/web/edge: listener https (2 routes attached): Accepted=True(Accepted) Conflicted=True(HostnameConflict) — Conflicted: shares a.example.com with listener x",
		"HTTPRoute/web/r: parent Gateway edge section https: Accepted=False(NotAllowedByListeners) — Accepted: namespace not allowed",
		"Unknown  NoCondition", "HTTPRoute/web/r: translate wrote no Ready condition",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("table lacks %q:\n%s", want, out.String())
		}
	}
	if strings.Contains(out.String(), "Accepted: fine") {
		t.Errorf("the message of a condition that is as it should be is printed:\n%s", out.String())
	}
}

func ptrTo[T any](v T) *T { return &v }
