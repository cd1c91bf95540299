package manifests

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestStandardIngressLoadsInStandaloneMode(t *testing.T) {
	dir := t.TempDir()
	doc := `apiVersion: networking.k8s.io/v1
kind: IngressClass
metadata:
  name: bridgehead
spec:
  controller: bridgehead.dev/ingress-controller
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: shop
  namespace: web
  annotations:
    bridgehead.dev/backend-protocol: https
spec:
  ingressClassName: bridgehead
  rules:
  - host: shop.example.com
    http:
      paths:
      - path: /
        pathType: Prefix
        backend:
          service: {name: shop, port: {number: 443}}
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: broken
spec:
  rules:
  - host: x.example.com
    htp: {}
`
	if err := os.WriteFile(filepath.Join(dir, "ingress.yaml"), []byte(doc), 0o600); err != nil {
		t.Fatal(err)
	}
	res, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Inputs.Ingresses) != 1 || res.Inputs.Ingresses[0].Name != "shop" || len(res.Inputs.IngressClasses) != 1 {
		t.Fatalf("got %d Ingresses, %d IngressClasses", len(res.Inputs.Ingresses), len(res.Inputs.IngressClasses))
	}
	if len(res.Problems) != 1 || res.Problems[0].Doc != 3 {
		t.Fatalf("want one problem on document 3 (unknown field htp), got %v", res.Problems)
	}
}

// TestKubectlListOutputIsReadItemByItem: what `kubectl get ingress -A -o yaml` prints (kind
// List, with the server's metadata and status) is read as the objects it holds, and a bad
// item is named by its index without losing the others.
func TestKubectlListOutputIsReadItemByItem(t *testing.T) {
	stream := `apiVersion: v1
kind: List
metadata:
  resourceVersion: ""
items:
- apiVersion: networking.k8s.io/v1
  kind: Ingress
  metadata:
    name: shop
    namespace: web
    uid: 5b1f0e0c-1f7e-4c1e-9a53-2d2f0f5f1c11
    resourceVersion: "4711"
    generation: 3
    creationTimestamp: "2026-01-02T03:04:05Z"
    annotations:
      nginx.ingress.kubernetes.io/backend-protocol: HTTPS
  spec:
    ingressClassName: nginx
    rules:
    - host: shop.example.test
      http:
        paths:
        - path: /
          pathType: Prefix
          backend: {service: {name: shop, port: {number: 443}}}
  status:
    loadBalancer:
      ingress:
      - ip: 192.0.2.10
- apiVersion: networking.k8s.io/v1
  kind: Ingress
  metadata: {name: Not_A_Name, namespace: web}
  spec: {defaultBackend: {service: {name: shop, port: {number: 443}}}}
- apiVersion: v1
  kind: Service
  metadata: {name: shop, namespace: web}
  spec:
    ports: [{name: https, port: 443}]
`
	res, err := LoadStream("stdin", []byte(stream))
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Inputs.Ingresses) != 1 || res.Inputs.Ingresses[0].Name != "shop" || len(res.Inputs.Services) != 1 {
		t.Fatalf("want Ingress web/shop and Service web/shop read from the List, got %d Ingresses, %d Services", len(res.Inputs.Ingresses), len(res.Inputs.Services))
	}
	if len(res.Problems) != 1 {
		t.Fatalf("want one problem (the bad name of items[1]), got %v", res.Problems)
	}
	if got := res.Problems[0].String(); !strings.Contains(got, "stdin#1 items[1].metadata.name") {
		t.Errorf("the problem must name the item and field, got %q", got)
	}
}
