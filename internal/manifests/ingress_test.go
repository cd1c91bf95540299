package manifests

import (
	"os"
	"path/filepath"
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
