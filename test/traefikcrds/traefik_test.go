// Package traefikcrds checks --watch-traefik-crds against a real API server that has
// Traefik's CRD groups installed: Traefik objects, as they are, are served.
package traefikcrds

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"
	"sigs.k8s.io/yaml"

	bhv1 "github.com/bridgehead/bridgehead/api/v1alpha1"
	"github.com/bridgehead/bridgehead/controllers"
	"github.com/bridgehead/bridgehead/internal/snapshot"
	"github.com/bridgehead/bridgehead/internal/testenv"
	"github.com/bridgehead/bridgehead/internal/translate"
)

// traefikCRD turns one of our CRDs into the traefik.io one, keeping unknown fields as
// Traefik's own schema would (it has fields Bridgehead does not implement).
func traefikCRD(t *testing.T, file string) *apiextensionsv1.CustomResourceDefinition {
	data, err := os.ReadFile(filepath.Join(testenv.RepoRoot(), "config", "crd", "bases", file))
	if err != nil {
		t.Fatal(err)
	}
	crd := &apiextensionsv1.CustomResourceDefinition{}
	if err := yaml.Unmarshal(data, crd); err != nil {
		t.Fatal(err)
	}
	crd.Spec.Group = "traefik.io"
	crd.Name = crd.Spec.Names.Plural + ".traefik.io"
	for i := range crd.Spec.Versions {
		spec := crd.Spec.Versions[i].Schema.OpenAPIV3Schema.Properties["spec"]
		spec.XPreserveUnknownFields = ptr(true)
		crd.Spec.Versions[i].Schema.OpenAPIV3Schema.Properties["spec"] = spec
	}
	return crd
}

func ptr[T any](v T) *T { return &v }

func TestTraefikObjectsAreServedAsTheyAre(t *testing.T) {
	g := NewWithT(t)
	te, err := testenv.Start(t.TempDir())
	g.Expect(err).NotTo(HaveOccurred())
	defer func() { _ = te.Stop() }()
	_, err = envtest.InstallCRDs(te.Config, envtest.CRDInstallOptions{CRDs: []*apiextensionsv1.CustomResourceDefinition{
		traefikCRD(t, "gateway.bridgehead.dev_ingressroutes.yaml"),
		traefikCRD(t, "gateway.bridgehead.dev_serverstransports.yaml"),
	}})
	g.Expect(err).NotTo(HaveOccurred())

	scheme := runtime.NewScheme()
	g.Expect(clientgoscheme.AddToScheme(scheme)).To(Succeed())
	g.Expect(bhv1.AddToScheme(scheme)).To(Succeed())
	mgr, err := ctrl.NewManager(te.Config, ctrl.Options{Scheme: scheme, Metrics: metricsserver.Options{BindAddress: "0"}})
	g.Expect(err).NotTo(HaveOccurred())
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	store := &snapshot.Store{}
	_, err = controllers.Setup(ctx, mgr, controllers.Config{Options: translate.DefaultOptions(), Store: store, WatchTraefik: true, Debounce: 20 * time.Millisecond})
	g.Expect(err).NotTo(HaveOccurred())
	go func() { _ = mgr.Start(ctx) }()

	c, err := client.New(te.Config, client.Options{Scheme: scheme})
	g.Expect(err).NotTo(HaveOccurred())
	for _, doc := range strings.Split(`apiVersion: traefik.io/v1alpha1
kind: ServersTransport
metadata: {name: backend, namespace: default}
spec:
  serverName: backend.default.svc
  rootCAsSecrets: [backend-ca]
---
apiVersion: traefik.io/v1alpha1
kind: IngressRoute
metadata: {name: app, namespace: default}
spec:
  entryPoints: [websecure]
  routes:
  - kind: Rule
    match: Host(`+"`app.example.com`"+`)
    services:
    - name: backend
      port: 443
      serversTransport: backend
      nativeLB: true
  tls:
    secretName: app-tls`, "---") {
		u := &unstructured.Unstructured{}
		g.Expect(yaml.Unmarshal([]byte(doc), &u.Object)).To(Succeed())
		g.Expect(c.Create(ctx, u)).To(Succeed())
	}
	g.Eventually(func(g Gomega) {
		s := store.Load()
		g.Expect(s).NotTo(BeNil())
		g.Expect(s.HTTPRoutes).To(HaveLen(1))
		r := s.HTTPRoutes[0]
		g.Expect(r.ID).To(Equal("default/app/0"))
		g.Expect(r.Backends[0].Transport).To(Equal("ServersTransport/default/backend"))
		g.Expect(r.Backends[0].ServerName).To(Equal("backend.default.svc"))
	}).WithTimeout(20 * time.Second).Should(Succeed())
}
