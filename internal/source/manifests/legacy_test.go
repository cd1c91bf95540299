package manifests

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	networkingv1 "k8s.io/api/networking/v1"
	"sigs.k8s.io/yaml"

	"github.com/bridgehead/bridgehead/internal/translate"
)

// TestLegacyIngressIsConverted: the Ingress of a 2019 blog post (extensions/v1beta1,
// serviceName/servicePort, no pathType) and a networking.k8s.io/v1beta1 one with a named
// port, a default backend and a resource backend are read as networking.k8s.io/v1, each
// with the warning naming the fields to rewrite; the v1beta1 IngressClass too.
func TestLegacyIngressIsConverted(t *testing.T) {
	dir := t.TempDir()
	doc := `apiVersion: extensions/v1beta1
kind: Ingress
metadata:
  name: web-app-tls
  annotations:
    kubernetes.io/ingress.class: bridgehead
spec:
  tls:
  - hosts: [app.example.test]
    secretName: app-tls
  rules:
  - host: app.example.test
    http:
      paths:
      - backend:
          serviceName: web-service
          servicePort: 80
        path: /
---
apiVersion: networking.k8s.io/v1beta1
kind: Ingress
metadata:
  name: shop
  namespace: web
spec:
  backend:
    serviceName: fallback
    servicePort: http
  rules:
  - host: shop.example.test
    http:
      paths:
      - path: /api
        pathType: Prefix
        backend:
          serviceName: api
          servicePort: "8443"
      - path: /static
        pathType: Prefix
        backend:
          resource: {apiGroup: k8s.example.com, kind: StorageBucket, name: static}
---
apiVersion: networking.k8s.io/v1beta1
kind: IngressClass
metadata:
  name: bridgehead
spec:
  controller: bridgehead.dev/ingress-controller
`
	if err := os.WriteFile(filepath.Join(dir, "legacy.yaml"), []byte(doc), 0o600); err != nil {
		t.Fatal(err)
	}
	res, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range res.Problems {
		t.Errorf("problem: %s", p)
	}
	if len(res.Inputs.Ingresses) != 2 || len(res.Inputs.IngressClasses) != 1 {
		t.Fatalf("want 2 Ingresses and 1 IngressClass, got %d and %d", len(res.Inputs.Ingresses), len(res.Inputs.IngressClasses))
	}
	byName := map[string]*networkingv1.Ingress{}
	for _, ing := range res.Inputs.Ingresses {
		byName[ing.Name] = ing
	}
	blog := byName["web-app-tls"]
	p := blog.Spec.Rules[0].HTTP.Paths[0]
	if p.Backend.Service == nil || p.Backend.Service.Name != "web-service" || p.Backend.Service.Port.Number != 80 ||
		p.PathType == nil || *p.PathType != networkingv1.PathTypeImplementationSpecific || blog.Namespace != "default" {
		t.Errorf("blog Ingress converted wrong: %+v", blog.Spec.Rules[0].HTTP.Paths[0])
	}
	shop := byName["shop"]
	if d := shop.Spec.DefaultBackend; d == nil || d.Service == nil || d.Service.Name != "fallback" || d.Service.Port.Name != "http" {
		t.Errorf("spec.backend converted wrong: %+v", shop.Spec.DefaultBackend)
	}
	if s := shop.Spec.Rules[0].HTTP.Paths[0].Backend.Service; s == nil || s.Port.Number != 8443 {
		t.Errorf("a quoted port number converted wrong: %+v", s)
	}
	if r := shop.Spec.Rules[0].HTTP.Paths[1].Backend.Resource; r == nil || r.Kind != "StorageBucket" {
		t.Errorf("resource backend converted wrong: %+v", shop.Spec.Rules[0].HTTP.Paths[1].Backend)
	}
	msg := res.Inputs.RemovedAPIVersions[translate.Key{Kind: translate.KindIngress, Namespace: "default", Name: "web-app-tls"}]
	for _, want := range []string{"apiVersion extensions/v1beta1 was removed in Kubernetes 1.22",
		"spec.rules[0].http.paths[0].backend.serviceName -> spec.rules[0].http.paths[0].backend.service.name",
		"servicePort -> spec.rules[0].http.paths[0].backend.service.port.number", "pathType: ImplementationSpecific"} {
		if !strings.Contains(msg, want) {
			t.Errorf("the warning does not say %q: %s", want, msg)
		}
	}
	msg = res.Inputs.RemovedAPIVersions[translate.Key{Kind: translate.KindIngress, Namespace: "web", Name: "shop"}]
	if !strings.Contains(msg, "spec.backend -> spec.defaultBackend") || !strings.Contains(msg, "service.port.name") {
		t.Errorf("the warning does not name spec.backend and the named port: %s", msg)
	}

	// Translated, the warning is on the Ingress.
	_, statuses := translate.Translate(res.Inputs, translate.DefaultOptions())
	st := statuses[translate.Key{Kind: translate.KindIngress, Namespace: "default", Name: "web-app-tls"}]
	if st == nil || len(st.Warnings) == 0 || st.Warnings[0].Reason != "RemovedAPIVersion" {
		t.Fatalf("want a RemovedAPIVersion warning on the converted Ingress, got %+v", st)
	}
}

// TestLegacyIngressTypos: a misspelt field of the old version is refused by name, as the
// v1 decoder refuses unknown fields.
func TestLegacyIngressTypos(t *testing.T) {
	dir := t.TempDir()
	doc := `apiVersion: extensions/v1beta1
kind: Ingress
metadata: {name: typo}
spec:
  rules:
  - http:
      paths:
      - backend: {serviceName: web, servicePort: 80, servicePrt: 81}
`
	if err := os.WriteFile(filepath.Join(dir, "typo.yaml"), []byte(doc), 0o600); err != nil {
		t.Fatal(err)
	}
	res, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Problems) != 1 || !strings.Contains(res.Problems[0].String(), "servicePrt") {
		t.Fatalf("want one problem naming servicePrt, got %v", res.Problems)
	}
}

// FuzzLegacyIngress: whatever the document, conversion does not panic, and what it
// accepts decodes as a networking.k8s.io/v1 Ingress whose Service backends keep the names
// the old fields gave.
func FuzzLegacyIngress(f *testing.F) {
	for _, seed := range []string{
		`{"apiVersion":"extensions/v1beta1","kind":"Ingress","metadata":{"name":"a"},"spec":{"rules":[{"http":{"paths":[{"backend":{"serviceName":"s","servicePort":80}}]}}]}}`,
		`{"apiVersion":"networking.k8s.io/v1beta1","kind":"Ingress","metadata":{"name":"a"},"spec":{"backend":{"serviceName":"s","servicePort":"http"}}}`,
		`{"kind":"Ingress","spec":{"rules":[{"http":{"paths":[{"backend":{"resource":{"kind":"B","name":"b"}}}]}}]}}`,
		`{"kind":"Ingress","spec":{"rules":[{"http":{"paths":[{"backend":{"serviceName":1,"servicePort":1.5}}]}}]}}`,
		`{"kind":"Ingress","spec":{"backend":{},"defaultBackend":{}}}`,
		`{"kind":"IngressClass","spec":{"controller":"x"}}`,
		`{"kind":"Ingress","spec":[]}`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var obj map[string]any
		if err := yaml.Unmarshal(data, &obj); err != nil || obj == nil {
			return
		}
		before, _ := json.Marshal(obj)
		out, _, err := ConvertLegacyIngress(obj)
		if after, _ := json.Marshal(obj); string(before) != string(after) {
			t.Fatalf("the input was modified")
		}
		if err != nil || out["kind"] != "Ingress" {
			return
		}
		raw, err := json.Marshal(out)
		if err != nil {
			t.Fatal(err)
		}
		// The loader's own strict decoder: what it refuses is reported as a problem.
		decoded, _, err := coreDecoder.Decode(raw, nil, nil)
		if err != nil {
			return
		}
		ing, ok := decoded.(*networkingv1.Ingress)
		if !ok {
			t.Fatalf("converted to %T", decoded)
		}
		names := oldServiceNames(obj)
		var got []string
		if b := ing.Spec.DefaultBackend; b != nil && b.Service != nil {
			got = append(got, b.Service.Name)
		}
		for _, r := range ing.Spec.Rules {
			if r.HTTP == nil {
				continue
			}
			for _, p := range r.HTTP.Paths {
				if p.PathType == nil {
					t.Fatalf("a path without pathType after conversion")
				}
				if p.Backend.Service != nil {
					got = append(got, p.Backend.Service.Name)
				}
			}
		}
		if strings.Join(got, ",") != strings.Join(names, ",") {
			t.Fatalf("service names %v after conversion, %v before", got, names)
		}
	})
}

// oldServiceNames lists serviceName of spec.backend, then of every path, in order.
func oldServiceNames(obj map[string]any) []string {
	var out []string
	spec, _ := obj["spec"].(map[string]any)
	take := func(b any) {
		if m, ok := b.(map[string]any); ok {
			if n, ok := m["serviceName"].(string); ok {
				out = append(out, n)
			} else if svc, ok := m["service"].(map[string]any); ok {
				if n, ok := svc["name"].(string); ok {
					out = append(out, n)
				}
			}
		}
	}
	if b, ok := spec["backend"]; ok {
		take(b)
	} else if b, ok := spec["defaultBackend"]; ok {
		take(b)
	}
	rules, _ := spec["rules"].([]any)
	for _, r := range rules {
		rule, _ := r.(map[string]any)
		http, _ := rule["http"].(map[string]any)
		paths, _ := http["paths"].([]any)
		for _, p := range paths {
			path, _ := p.(map[string]any)
			take(path["backend"])
		}
	}
	return out
}
