// Package traefikcrds checks --watch-traefik-crds against a real API server that has
// Traefik's CRD groups installed: Traefik objects, as they are, are served — or, when
// they set a field Bridgehead does not implement, kept
// out of the snapshot and reported with a Warning Event on the object.
package traefikcrds

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	eventsv1 "k8s.io/api/events/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
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
	"github.com/bridgehead/bridgehead/internal/diagnose"
	"github.com/bridgehead/bridgehead/internal/snapshot"
	"github.com/bridgehead/bridgehead/internal/source/kube"
	"github.com/bridgehead/bridgehead/internal/testenv"
	"github.com/bridgehead/bridgehead/internal/translate"
)

// traefikCRD turns one of our CRDs into the one of a Traefik group that keeps every field
// at every depth, as Traefik's own schema keeps the fields Bridgehead does not implement
// (nativeLB, observability, certResolver, ...). Traefik's YAML itself is not in this project.
func traefikCRD(t *testing.T, file, group string) *apiextensionsv1.CustomResourceDefinition {
	data, err := os.ReadFile(filepath.Join(testenv.RepoRoot(), "config", "crd", "bases", file))
	if err != nil {
		t.Fatal(err)
	}
	crd := &apiextensionsv1.CustomResourceDefinition{}
	if err := yaml.Unmarshal(data, crd); err != nil {
		t.Fatal(err)
	}
	crd.Spec.Group = group
	crd.Name = crd.Spec.Names.Plural + "." + group
	for i := range crd.Spec.Versions {
		v := &crd.Spec.Versions[i]
		spec := v.Schema.OpenAPIV3Schema.Properties["spec"]
		keepUnknown(&spec)
		v.Schema.OpenAPIV3Schema.Properties["spec"] = spec
		// Traefik's CRDs have no status subresource for our conditions.
		v.Subresources = nil
		delete(v.Schema.OpenAPIV3Schema.Properties, "status")
	}
	return crd
}

// keepUnknown marks every object schema to keep the fields it does not list.
func keepUnknown(s *apiextensionsv1.JSONSchemaProps) {
	if s.Type == "object" && len(s.Properties) > 0 {
		s.XPreserveUnknownFields = ptr(true)
	}
	for k, p := range s.Properties {
		keepUnknown(&p)
		s.Properties[k] = p
	}
	if s.Items != nil && s.Items.Schema != nil {
		keepUnknown(s.Items.Schema)
	}
	// Validation rules of ours that name a field Traefik lacks would not be Traefik's.
	s.XValidations = nil
}

func ptr[T any](v T) *T { return &v }

type env struct {
	ctx   context.Context
	c     client.Client
	store *snapshot.Store
}

func start(t *testing.T, g *WithT) *env {
	te, err := testenv.Start(t.TempDir())
	g.Expect(err).NotTo(HaveOccurred())
	t.Cleanup(func() { _ = te.Stop() })
	var crds []*apiextensionsv1.CustomResourceDefinition
	for _, group := range []string{"traefik.io", "traefik.containo.us"} {
		for _, f := range []string{"ingressroutes", "ingressroutetcps", "ingressrouteudps", "serverstransports", "middlewares", "middlewaretcps", "traefikservices"} {
			crds = append(crds, traefikCRD(t, "gateway.bridgehead.dev_"+f+".yaml", group))
		}
	}
	_, err = envtest.InstallCRDs(te.Config, envtest.CRDInstallOptions{CRDs: crds})
	g.Expect(err).NotTo(HaveOccurred())

	scheme := runtime.NewScheme()
	g.Expect(clientgoscheme.AddToScheme(scheme)).To(Succeed())
	g.Expect(bhv1.AddToScheme(scheme)).To(Succeed())
	mgr, err := ctrl.NewManager(te.Config, ctrl.Options{Scheme: scheme, Metrics: metricsserver.Options{BindAddress: "0"}})
	g.Expect(err).NotTo(HaveOccurred())
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	e := &env{ctx: ctx, store: &snapshot.Store{}}
	_, err = controllers.Setup(ctx, mgr, controllers.Config{Options: translate.DefaultOptions(), Store: e.store, WatchTraefik: true, Debounce: 20 * time.Millisecond})
	g.Expect(err).NotTo(HaveOccurred())
	go func() { _ = mgr.Start(ctx) }()
	e.c, err = client.New(te.Config, client.Options{Scheme: scheme})
	g.Expect(err).NotTo(HaveOccurred())
	return e
}

func (e *env) apply(g *WithT, docs string) {
	for _, doc := range strings.Split(docs, "\n---\n") {
		u := &unstructured.Unstructured{}
		g.Expect(yaml.Unmarshal([]byte(doc), &u.Object)).To(Succeed())
		g.Expect(e.c.Create(e.ctx, u)).To(Succeed(), doc)
	}
}

// events returns "Type/Reason: note" of the Events about an object of kind and name.
func (e *env) events(g Gomega, kind, name string) []string {
	var evs eventsv1.EventList
	g.Expect(e.c.List(e.ctx, &evs, client.InNamespace("default"))).To(Succeed())
	var out []string
	for _, ev := range evs.Items {
		if ev.Regarding.Kind == kind && ev.Regarding.Name == name {
			out = append(out, ev.Type+"/"+ev.Reason+": "+ev.Note)
		}
	}
	return out
}

const served = `apiVersion: traefik.io/v1alpha1
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
    match: Host(` + "`app.example.com`" + `)
    services:
    - name: backend
      port: 443
      serversTransport: backend
      nativeLB: false
  tls:
    secretName: app-tls
---
apiVersion: traefik.io/v1alpha1
kind: MiddlewareTCP
metadata: {name: office, namespace: default}
spec:
  ipAllowList:
    sourceRange: [192.0.2.0/24]
---
apiVersion: traefik.io/v1alpha1
kind: IngressRouteTCP
metadata: {name: db, namespace: default}
spec:
  entryPoints: [websecure]
  routes:
  - match: HostSNI(` + "`db.example.com`" + `)
    middlewares: [{name: office}]
    services:
    - {name: db, port: 5432}
  tls:
    passthrough: true`

const refused = `apiVersion: traefik.io/v1alpha1
kind: IngressRoute
metadata: {name: child, namespace: default}
spec:
  routes:
  - match: Path(` + "`/api`" + `)
    observability: {accessLogs: false}
    services:
    - {name: api, port: 80}
---
apiVersion: traefik.containo.us/v1alpha1
kind: IngressRoute
metadata: {name: acme, namespace: default}
spec:
  routes:
  - match: Host(` + "`acme.example.com`" + `)
    services:
    - {name: web, port: 80}
  tls:
    certResolver: letsencrypt
---
apiVersion: traefik.io/v1alpha1
kind: TraefikService
metadata: {name: weighted, namespace: default}
spec:
  weighted:
    services: [{name: a, port: 80, weight: 3}, {name: b, port: 80, weight: 1}]
---
apiVersion: traefik.io/v1alpha1
kind: IngressRouteUDP
metadata: {name: dns, namespace: default}
spec:
  routes:
  - services: [{name: dns, port: 53}]`

func TestTraefikObjects(t *testing.T) {
	g := NewWithT(t)
	e := start(t, g)
	e.apply(g, served+"\n---\n"+refused)

	// Served as they are: the HTTP route with its transport (nativeLB: false is what
	// Bridgehead does), the TCP route with its Traefik MiddlewareTCP.
	g.Eventually(func(g Gomega) {
		s := e.store.Load()
		g.Expect(s).NotTo(BeNil())
		var ids []string
		for _, r := range s.HTTPRoutes {
			ids = append(ids, r.ID)
		}
		g.Expect(ids).To(Equal([]string{"default/app/0"}), "the refused IngressRoutes have no route")
		r := s.HTTPRoutes[0]
		g.Expect(r.Backends[0].Transport).To(Equal("ServersTransport/default/backend"))
		g.Expect(r.Backends[0].ServerName).To(Equal("backend.default.svc"))
		g.Expect(s.TCPRoutes).To(HaveLen(1))
		g.Expect(s.TCPRoutes[0].Middlewares).To(HaveLen(1))
		g.Expect(s.TCPRoutes[0].Middlewares[0].IPAllowList.SourceRange[0].String()).To(Equal("192.0.2.0/24"))
	}).WithTimeout(20 * time.Second).Should(Succeed())

	// Refused, and said on the objects themselves: they have no status of ours.
	g.Eventually(func(g Gomega) {
		g.Expect(e.events(g, "IngressRoute", "child")).To(ContainElement(And(
			HavePrefix("Warning/UnsupportedField: Ready=False: IngressRoute default/child sets Traefik fields Bridgehead does not implement"),
			ContainSubstring("spec.routes[0].observability: per-route switches for access logs, metrics and tracing are not implemented"))))
		g.Expect(e.events(g, "IngressRoute", "acme")).To(ContainElement(And(
			HavePrefix("Warning/UnsupportedField:"), ContainSubstring("spec.tls.certResolver: ACME is not built in"))))
		// Every Traefik v3 kind is read now (IngressRouteUDP was the last): it names a
		// Service that does not exist.
		g.Expect(e.events(g, "IngressRouteUDP", "dns")).To(ContainElement(And(
			HavePrefix("Warning/NotFound:"), ContainSubstring(`spec.routes[0].services[0]: Service "dns" not found in namespace default`))))
		// Read and translated (no longer an unread kind): it names Services that do not exist.
		g.Expect(e.events(g, "TraefikService", "weighted")).To(ContainElement(And(
			HavePrefix("Warning/NotFound:"), ContainSubstring(`spec.weighted.services[0]: Service "a" not found in namespace default`))))
	}).WithTimeout(20 * time.Second).Should(Succeed())

	// Deleted and created again, in the other Traefik group, with the same verdict: the
	// new object gets its own Warning (the writer forgets objects gone from the build).
	acme := func(group string) *unstructured.Unstructured {
		u := &unstructured.Unstructured{}
		u.SetAPIVersion(group + "/v1alpha1")
		u.SetKind("IngressRoute")
		u.SetNamespace("default")
		u.SetName("acme")
		return u
	}
	g.Expect(e.c.Delete(e.ctx, acme("traefik.containo.us"))).To(Succeed())
	g.Eventually(func() bool {
		return apierrors.IsNotFound(e.c.Get(e.ctx, client.ObjectKey{Namespace: "default", Name: "acme"}, acme("traefik.containo.us")))
	}).WithTimeout(20 * time.Second).Should(BeTrue())
	again := strings.Replace(refused[strings.Index(refused, "apiVersion: traefik.containo.us/v1alpha1\nkind: IngressRoute\nmetadata: {name: acme"):], "traefik.containo.us", "traefik.io", 1)
	again = again[:strings.Index(again, "\n---\n")]
	e.apply(g, again)
	recreated := acme("traefik.io")
	g.Expect(e.c.Get(e.ctx, client.ObjectKey{Namespace: "default", Name: "acme"}, recreated)).To(Succeed())
	g.Eventually(func(g Gomega) {
		var evs eventsv1.EventList
		g.Expect(e.c.List(e.ctx, &evs, client.InNamespace("default"))).To(Succeed())
		var notes []string
		for _, ev := range evs.Items {
			if ev.Regarding.UID == recreated.GetUID() {
				notes = append(notes, ev.Type+"/"+ev.Reason+": "+ev.Note)
			}
		}
		g.Expect(notes).To(ContainElement(And(HavePrefix("Warning/UnsupportedField:"), ContainSubstring("spec.tls.certResolver"))))
	}).WithTimeout(20 * time.Second).Should(Succeed())

	// `bridgehead diagnose --watch-traefik-crds` reads them through the gateway's reader:
	// the same objects served, the same refused.
	in, _, err := diagnose.FromCluster(context.Background(), e.c, kube.Options{TraefikKinds: kube.InstalledTraefikKinds(e.c.RESTMapper())})
	g.Expect(err).NotTo(HaveOccurred())
	report := func(name string) string {
		r := diagnose.Routes(context.Background(), in, []diagnose.Target{{Kind: translate.KindIngressRoute, Namespace: "default", Name: name}},
			diagnose.Options{Translate: translate.DefaultOptions()})
		var b strings.Builder
		r.WriteText(&b)
		return b.String()
	}
	g.Expect(report("child")).To(And(ContainSubstring("UnsupportedField"), ContainSubstring("spec.routes[0].observability")))
	g.Expect(report("app")).To(ContainSubstring("Route default/app spec.routes[0]"))
}
