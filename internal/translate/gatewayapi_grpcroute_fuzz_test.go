package translate

import (
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"testing"

	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/bridgehead/bridgehead/internal/rule"
)

// FuzzGRPCMethodMatch: whatever an Exact method match holds (a folder's YAML has no CRD
// to check it), the rule written for it parses, takes the call /service/method it names,
// and not a call to another method of the service or to a longer service name.
func FuzzGRPCMethodMatch(f *testing.F) {
	f.Add("gateway_api_conformance.echo_basic.grpcecho.GrpcEcho", "Echo")
	f.Add("svc", "")
	f.Add("", "Check")
	f.Add("a`b", "c\"d")
	f.Add("a.b", "m(x)")
	f.Fuzz(func(t *testing.T, service, method string) {
		m := gwv1.GRPCRouteMatch{Method: &gwv1.GRPCMethodMatch{Service: &service, Method: &method}}
		cond, _, err := grpcMatchRule(m)
		valid := (service != "" || method != "") && (service == "" || grpcExactService.MatchString(service)) &&
			(method == "" || grpcExactMethod.MatchString(method))
		if (err == nil) != valid {
			t.Fatalf("service %q method %q: error %v, want an error %v", service, method, err, !valid)
		}
		if err != nil {
			return
		}
		parsed, err := rule.Parse(cond, rule.HTTP)
		if err != nil {
			t.Fatalf("service %q method %q: rule %s does not parse: %v", service, method, cond, err)
		}
		call := func(path string) bool {
			req := httptest.NewRequest(http.MethodPost, "http://grpc.example.com/", nil)
			req.URL = &url.URL{Scheme: "http", Host: "grpc.example.com", Path: path}
			return parsed.MatchHTTP(req, netip.MustParseAddr("192.0.2.1"))
		}
		s, me := service, method
		if s == "" {
			s = "any.Svc"
		}
		if me == "" {
			me = "AnyMethod"
		}
		if !call("/" + s + "/" + me) {
			t.Fatalf("rule %s does not take /%s/%s", cond, s, me)
		}
		if method != "" && call("/"+s+"/"+me+"x") {
			t.Fatalf("rule %s takes another method /%s/%sx", cond, s, me)
		}
		if service != "" && call("/"+s+"x/"+me) {
			t.Fatalf("rule %s takes another service /%sx/%s", cond, s, me)
		}
	})
}
