package manifests

import (
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/bridgehead/bridgehead/internal/translate"
)

const gatewayFolder = `apiVersion: gateway.networking.k8s.io/v1
kind: GatewayClass
metadata:
  name: bridgehead
  namespace: ignored
spec:
  controllerName: gateway.bridgehead.dev/gateway-controller
---
apiVersion: v1
kind: Namespace
metadata:
  name: apps
  labels: {shared-gateway: "true"}
---
apiVersion: gateway.networking.k8s.io/v1beta1
kind: Gateway
metadata:
  name: edge
spec:
  gatewayClassName: bridgehead
  listeners:
  - name: http
    port: 80
    protocol: HTTP
    allowedRoutes:
      namespaces:
        from: Selector
        selector: {matchLabels: {shared-gateway: "true"}}
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata:
  name: web
  namespace: apps
spec:
  parentRefs: [{name: edge, namespace: default}]
  hostnames: [web.example.com]
  rules:
  - backendRefs: [{name: web, port: 8080}]
---
apiVersion: v1
kind: Service
metadata: {name: web, namespace: apps}
spec:
  ports: [{port: 8080}]
---
apiVersion: gateway.networking.k8s.io/v1beta1
kind: ReferenceGrant
metadata: {name: from-apps, namespace: default}
spec:
  from: [{group: gateway.networking.k8s.io, kind: HTTPRoute, namespace: apps}]
  to: [{group: "", kind: Service}]
`

func TestGatewayAPIDocumentsAreRead(t *testing.T) {
	res := load(t, map[string]string{"gw.yaml": gatewayFolder})
	if len(res.Problems) > 0 {
		t.Fatalf("problems: %v", problemStrings(res))
	}
	in := res.Inputs
	if len(in.GatewayClasses) != 1 || in.GatewayClasses[0].Namespace != "" {
		t.Fatalf("GatewayClass: want one, cluster-scoped; got %v", keys(res))
	}
	if len(in.Namespaces) != 1 || in.Namespaces[0].Labels["shared-gateway"] != "true" {
		t.Fatalf("Namespace not read with its labels: %v", keys(res))
	}
	if len(in.Gateways) != 1 || len(in.HTTPRoutes) != 1 || len(in.ReferenceGrants) != 1 {
		t.Fatalf("want a Gateway (v1beta1), an HTTPRoute and a ReferenceGrant (v1beta1); got %v", keys(res))
	}
	// The CRD's defaults are set, as the API server sets them: a rule without matches
	// matches PathPrefix /, a parentRef's group and kind are the Gateway's.
	r := in.HTTPRoutes[0]
	if m := r.Spec.Rules[0].Matches; len(m) != 1 || m[0].Path == nil || *m[0].Path.Type != gwv1.PathMatchPathPrefix || *m[0].Path.Value != "/" {
		t.Errorf("HTTPRoute rule: want the default match PathPrefix /, got %+v", m)
	}
	if p := r.Spec.ParentRefs[0]; p.Kind == nil || *p.Kind != "Gateway" {
		t.Errorf("parentRef kind not defaulted: %+v", p)
	}
	if got := res.Origin.Of(translate.Key{Kind: translate.KindGatewayClass, Name: "bridgehead"}); got != "gw.yaml#1" {
		t.Errorf("GatewayClass origin = %q", got)
	}

	// Through translate: the route attaches through the namespace selector, read from
	// the Namespace document.
	_, statuses := translate.Translate(in, translate.DefaultOptions())
	st := statuses[translate.Key{Kind: translate.KindHTTPRoute, Namespace: "apps", Name: "web"}]
	if st == nil || st.GatewayAPI == nil || len(st.GatewayAPI.Parents) != 1 {
		t.Fatalf("HTTPRoute status: %+v", st)
	}
	for _, c := range st.GatewayAPI.Parents[0].Conditions {
		if c.Type == string(gwv1.RouteConditionAccepted) && c.Status != metav1.ConditionTrue {
			t.Errorf("HTTPRoute not accepted: %s %s", c.Reason, c.Message)
		}
	}
}

func TestGatewayAPIDocumentsAreAdmittedAsTheAPIServerWould(t *testing.T) {
	cases := []struct {
		name string
		doc  string
		want []string
	}{
		{
			name: "unknown field",
			doc:  "apiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata: {name: r}\nspec:\n  hostname: [a.example.com]\n",
			want: []string{`f.yaml#1 spec.hostname: unknown field "spec.hostname"`},
		},
		{
			// A CEL rule of the HTTPRoute CRD.
			name: "CEL rule",
			doc: "apiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata: {name: r}\nspec:\n  rules:\n  - matches: [{path: {type: Exact, value: /a}}]\n" +
				"    filters:\n    - type: URLRewrite\n      urlRewrite: {path: {type: ReplacePrefixMatch, replacePrefixMatch: /b}}\n",
			want: []string{"f.yaml#1 spec.rules[0]: Invalid value: When using URLRewrite filter with path.replacePrefixMatch, exactly one PathPrefix match"},
		},
		{
			name: "OpenAPI enum",
			doc:  "apiVersion: gateway.networking.k8s.io/v1\nkind: Gateway\nmetadata: {name: g}\nspec:\n  gatewayClassName: c\n  listeners: [{name: l, port: 0, protocol: HTTP}]\n",
			want: []string{"spec.listeners[0].port"},
		},
		{
			name: "version the CRDs do not serve",
			doc:  "apiVersion: gateway.networking.k8s.io/v1alpha2\nkind: TLSRoute\nmetadata: {name: r}\nspec: {}\n",
			want: []string{`f.yaml#1 apiVersion: no matches for kind "TLSRoute" in version "gateway.networking.k8s.io/v1alpha2"`, "serve TLSRoute in v1; write apiVersion: gateway.networking.k8s.io/v1"},
		},
		{
			name: "kind Bridgehead does not read",
			doc:  "apiVersion: gateway.networking.k8s.io/v1\nkind: UDPRoute\nmetadata: {name: r}\nspec: {}\n",
			want: []string{`f.yaml#1 kind: no matches for kind "UDPRoute"`, "gateway.networking.k8s.io/v1 (GatewayClass, Gateway"},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			res := load(t, map[string]string{"f.yaml": c.doc})
			got := strings.Join(problemStrings(res), "\n")
			for _, w := range c.want {
				if !strings.Contains(got, w) {
					t.Errorf("problems:\n%s\nwant one containing %q", got, w)
				}
			}
			if res.Origin.Len() != 0 {
				t.Errorf("a refused document must not be read: %v", keys(res))
			}
		})
	}
}

// A refused edit of a Gateway API document keeps the object's last good version, as a
// refused `kubectl apply` would.
func TestGatewayAPIBrokenEditKeepsTheLastGoodVersion(t *testing.T) {
	prev := load(t, map[string]string{"gw.yaml": gatewayFolder})
	broken := strings.Replace(gatewayFolder, "hostnames: [web.example.com]", "hostnames: [web.example.com]\n  hostname: typo", 1)
	res := load(t, map[string]string{"gw.yaml": broken})
	if len(res.Problems) == 0 {
		t.Fatal("the typo was not refused")
	}
	kept := res.KeepLastGood(prev)
	want := translate.Key{Kind: translate.KindHTTPRoute, Namespace: "apps", Name: "web"}
	if len(kept) != 1 || kept[0] != want || len(res.Inputs.HTTPRoutes) != 1 {
		t.Fatalf("kept %v (HTTPRoutes %d), want %v", kept, len(res.Inputs.HTTPRoutes), want)
	}
}

// FuzzGatewayAPIDocument: whatever the Gateway API document, the loader does not panic,
// and a document it admits is read as exactly one object of its kind, named as written.
func FuzzGatewayAPIDocument(f *testing.F) {
	for _, d := range strings.Split(gatewayFolder, "\n---\n") {
		if strings.Contains(d, "gateway.networking.k8s.io") {
			f.Add(d)
		}
	}
	f.Add("apiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata: {name: r}\nspec:\n  rules:\n  - matches: [{path: {type: Exact, value: /a}}]\n    filters: [{type: URLRewrite, urlRewrite: {path: {type: ReplacePrefixMatch, replacePrefixMatch: /b}}}]\n")
	f.Add("apiVersion: gateway.networking.k8s.io/v1\nkind: BackendTLSPolicy\nmetadata: {name: p}\nspec:\n  targetRefs: [{group: '', kind: Service, name: s}]\n  validation: {hostname: s.example, wellKnownCACertificates: System}\n")
	f.Add("apiVersion: gateway.networking.k8s.io/v1\nkind: TLSRoute\nmetadata: {name: t}\nspec: {hostnames: ['*.example.com'], rules: [{backendRefs: [{name: s, port: 443}]}]}\n")
	f.Fuzz(func(t *testing.T, doc string) {
		res, err := LoadStream("f.yaml", []byte(doc))
		if err != nil {
			t.Fatal(err)
		}
		for k := range res.Origin.All() {
			kind, ok := translate.KindNamed(k.Kind)
			if !ok {
				t.Fatalf("admitted %v, not a registered kind", k)
			}
			if n := len(kind.Objects(res.Inputs)); n != 1 {
				t.Fatalf("admitted %v but Inputs holds %d objects of its kind", k, n)
			}
			if kind.GatewayAPI() && !kind.Namespaced() && k.Namespace != "" {
				t.Fatalf("cluster-scoped %v has a namespace", k)
			}
		}
	})
}
