package traefikcrds

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/go-logr/logr"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
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
	"github.com/bridgehead/bridgehead/internal/verdict"
	"github.com/bridgehead/bridgehead/proxy"
)

// API server mode: one real kube-apiserver with Traefik's CRDs in both groups, and one
// gateway in this process (the controllers with --watch-traefik-crds and the real data
// plane on loopback). Each case is applied into namespace default, its objects' states are
// read from the gateway's own status (liveState), its requests are sent, and it is deleted
// before the next.

// traefikKindPlurals are Traefik v3's CRD kinds, by resource name.
var traefikKindPlurals = map[string]string{
	"IngressRoute": "ingressroutes", "IngressRouteTCP": "ingressroutetcps", "IngressRouteUDP": "ingressrouteudps",
	"Middleware": "middlewares", "MiddlewareTCP": "middlewaretcps", "TraefikService": "traefikservices",
	"TLSOption": "tlsoptions", "TLSStore": "tlsstores",
	"ServersTransport": "serverstransports", "ServersTransportTCP": "serverstransporttcps",
}

// Bounded waits of API server mode.
const (
	apiGoneTimeout = 10 * time.Second // until a case's objects are deleted and out of the snapshot
	// apiStateTimeout bounds the wait until a case's objects are in a built snapshot: the
	// informers' watch events and one debounced build, slower than folder mode's file read
	// when make test runs other packages' API servers on the same two cores.
	apiStateTimeout = 15 * time.Second
	// apiStartTimeout bounds the gateway's start: caches synced for every kind it watches
	// and the first snapshot built.
	apiStartTimeout = time.Minute
)

// apiGateway is the API server and the in-process gateway.
type apiGateway struct {
	ctx   context.Context
	c     client.Client
	gw    *controllers.Rebuilder
	store *snapshot.Store
	addrs map[string]string
	// obs are the data plane's observations of real handshakes.
	obs           verdict.Feedback
	expiryWarning time.Duration
}

func (g *apiGateway) entryPoint(name string) (string, bool) {
	a, ok := g.addrs[name]
	return a, ok
}

func (g *apiGateway) entryPointNames() []string {
	var out []string
	for k := range g.addrs {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// corpusCRDs are Traefik's CRDs of every kind in both groups: the kinds Bridgehead reads
// with its own schema (keeping unknown fields, as Traefik's schema has fields Bridgehead
// lacks), the others with a schema that keeps anything.
func corpusCRDs(t *testing.T) []*apiextensionsv1.CustomResourceDefinition {
	var crds []*apiextensionsv1.CustomResourceDefinition
	kinds := make([]string, 0, len(traefikKindPlurals))
	for k := range traefikKindPlurals {
		kinds = append(kinds, k)
	}
	sort.Strings(kinds)
	for _, group := range corpusGroups {
		for _, kind := range kinds {
			plural := traefikKindPlurals[kind]
			file := "gateway.bridgehead.dev_" + plural + ".yaml"
			if _, err := os.Stat(filepath.Join(testenv.RepoRoot(), "config", "crd", "bases", file)); err == nil {
				crds = append(crds, traefikCRD(t, file, group))
			} else {
				crds = append(crds, unreadKindCRD(group, kind, plural))
			}
		}
	}
	return crds
}

// unreadKindCRD is a Traefik kind Bridgehead has no CRD of (it does not read it), with a
// schema that keeps anything.
func unreadKindCRD(group, kind, plural string) *apiextensionsv1.CustomResourceDefinition {
	return &apiextensionsv1.CustomResourceDefinition{
		ObjectMeta: metav1.ObjectMeta{Name: plural + "." + group},
		Spec: apiextensionsv1.CustomResourceDefinitionSpec{
			Group: group, Scope: apiextensionsv1.NamespaceScoped,
			Names: apiextensionsv1.CustomResourceDefinitionNames{Kind: kind, ListKind: kind + "List", Plural: plural, Singular: strings.ToLower(kind)},
			Versions: []apiextensionsv1.CustomResourceDefinitionVersion{{Name: "v1alpha1", Served: true, Storage: true,
				Schema: &apiextensionsv1.CustomResourceValidation{OpenAPIV3Schema: &apiextensionsv1.JSONSchemaProps{
					Type: "object", Properties: map[string]apiextensionsv1.JSONSchemaProps{
						"spec": {Type: "object", XPreserveUnknownFields: ptr(true)},
					},
				}}}},
		},
	}
}

// startAPIGateway starts the API server, the harness's objects in it and the gateway.
func startAPIGateway(t *testing.T, h *harness) *apiGateway {
	t.Helper()
	te, err := testenv.Start(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = te.Stop() })
	if _, err := envtest.InstallCRDs(te.Config, envtest.CRDInstallOptions{CRDs: corpusCRDs(t)}); err != nil {
		t.Fatal(err)
	}
	scheme := runtime.NewScheme()
	if err := clientgoscheme.AddToScheme(scheme); err != nil {
		t.Fatal(err)
	}
	if err := bhv1.AddToScheme(scheme); err != nil {
		t.Fatal(err)
	}
	// The cases check what the gateway concludes (its statuses), not its log; without a
	// logger controller-runtime prints a stack trace that reads like a panic.
	ctrl.SetLogger(logr.Discard())
	mgr, err := ctrl.NewManager(te.Config, ctrl.Options{Scheme: scheme, Metrics: metricsserver.Options{BindAddress: "0"}})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	g := &apiGateway{ctx: ctx, store: &snapshot.Store{}}
	entryPoints := withUDPEntryPoint([]proxy.EntryPoint{
		{Name: "web", Address: "127.0.0.1:0"},
		{Name: "websecure", Address: "127.0.0.1:0", TLS: true},
	})
	opts := translate.DefaultOptions()
	opts.GatewayNamespace = corpusNS
	withEntryPointProtocols(&opts, entryPoints)
	g.gw, err = controllers.Setup(ctx, mgr, controllers.Config{Options: opts, Store: g.store, WatchTraefik: true, Debounce: 20 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	srv, err := proxy.New(proxy.Config{
		EntryPoints: entryPoints,
		ErrorHeader: true,
		Grace:       time.Second,
		DialContext: h.dialCluster,
	}, g.store)
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Listen(); err != nil {
		t.Fatal(err)
	}
	g.addrs = srv.Addrs()
	delete(g.addrs, "admin")
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-served; err != nil {
			t.Errorf("gateway shutdown: %v", err)
		}
	})
	g.obs, g.expiryWarning = srv.Observations(), opts.ExpiryWarning
	go g.gw.WatchVerdicts(ctx, g.store, srv.Observations())
	go func() { _ = mgr.Start(ctx) }()

	g.c, err = client.New(te.Config, client.Options{Scheme: scheme})
	if err != nil {
		t.Fatal(err)
	}
	for _, doc := range splitYAML(h.clusterObjects) {
		u := &unstructured.Unstructured{}
		if err := yaml.Unmarshal(doc, &u.Object); err != nil {
			t.Fatal(err)
		}
		if len(u.Object) == 0 {
			continue
		}
		if err := g.c.Create(ctx, u); err != nil {
			t.Fatalf("harness object %s %s: %v", u.GetKind(), u.GetName(), err)
		}
	}
	// The first case starts once the gateway serves: a cold start (every informer's first
	// list) is not part of any case's wait.
	if err := waitFor(ctx, apiStartTimeout, func() error { return g.gw.ReadyCheck(nil) }); err != nil {
		t.Fatalf("the gateway built no snapshot in %s: %v", apiStartTimeout, err)
	}
	return g
}

// applied is one object of a case as the API server stored it.
type applied struct {
	obj *unstructured.Unstructured
	// read: one of the CRD kinds the gateway reads, whose status it keeps (translate's key).
	read bool
	// group is the Traefik API group it was read from ("" for Bridgehead's own), as the
	// gateway's status records it.
	group string
}

// runAPICase applies one case in one group, checks it, and deletes it.
func runAPICase(t *testing.T, g *apiGateway, h *harness, c *corpusCase, group string) {
	var objs []applied
	start := time.Now()
	defer func() {
		checked := time.Now()
		g.deleteAll(t, objs)
		t.Logf("applied and checked in %s, deleted in %s", checked.Sub(start).Round(time.Millisecond), time.Since(checked).Round(time.Millisecond))
	}()
	for _, d := range c.manifests(group) {
		u := &unstructured.Unstructured{Object: d}
		if u.GetNamespace() == "" {
			u.SetNamespace(corpusNS)
		}
		if err := g.c.Create(g.ctx, u); err != nil {
			// Refused by the API server (the schema's rules): the user sees this error.
			t.Fatalf("kubectl create %s %s (%s): %v", u.GetKind(), u.GetName(), u.GetAPIVersion(), err)
		}
		k, known := translate.KindNamed(u.GetKind())
		a := applied{obj: u, read: known && k.Ours()}
		if g := u.GroupVersionKind().Group; g == groupTraefik || g == groupTraefikLegacy {
			a.group = g
		}
		objs = append(objs, a)
	}

	// Every object of a kind the gateway reads is in a built snapshot before anything is checked.
	if err := waitFor(g.ctx, apiStateTimeout, func() error {
		st := g.gw.Statuses()
		for _, a := range objs {
			if !a.read {
				continue
			}
			s, ok := st[translate.Key{Kind: a.obj.GetKind(), Namespace: a.obj.GetNamespace(), Name: a.obj.GetName()}]
			if !ok || s.APIGroup != a.group {
				return fmt.Errorf("%s %s is not in the gateway's statuses yet", a.obj.GetKind(), a.obj.GetName())
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	state := func(o objectState) error {
		for _, a := range objs {
			if a.obj.GetKind() == o.Kind && a.obj.GetName() == o.Name {
				return g.liveState(o)
			}
		}
		return fmt.Errorf("the case has no object %s %s", o.Kind, o.Name)
	}
	checkCase(t, h, c, g, state)
}

// liveState reads the state of an object as the gateway's status page shows it: what the
// last build concluded, merged with the verdicts of the data plane's real handshakes (as
// folder mode's /status and the status writer merge them). Traefik's kinds have no status
// of ours to read from the API server.
func (g *apiGateway) liveState(o objectState) error {
	runtime := verdict.Compute(g.store.Load(), g.obs.Latest(), time.Now(), g.expiryWarning)
	st := verdict.Merge(g.gw.Statuses(), runtime)
	s, ok := st[translate.Key{Kind: o.Kind, Namespace: corpusNS, Name: o.Name}]
	if !ok {
		return fmt.Errorf("%s %s is not in the gateway's statuses", o.Kind, o.Name)
	}
	r := s.Condition(bhv1.ConditionReady)
	if r == nil {
		return fmt.Errorf("%s %s has no Ready condition", o.Kind, o.Name)
	}
	return readyMatches(o, string(r.Status), r.Reason, r.Message)
}

// deleteAll deletes a case's objects and waits until they are gone from the API server and
// from the gateway's statuses, so the next case starts clean.
func (g *apiGateway) deleteAll(t *testing.T, objs []applied) {
	for _, a := range objs {
		if err := g.c.Delete(g.ctx, a.obj); err != nil && !apierrors.IsNotFound(err) {
			t.Errorf("delete %s %s: %v", a.obj.GetKind(), a.obj.GetName(), err)
		}
	}
	err := waitFor(g.ctx, apiGoneTimeout, func() error {
		st := g.gw.Statuses()
		for _, a := range objs {
			u := &unstructured.Unstructured{}
			u.SetGroupVersionKind(a.obj.GroupVersionKind())
			if err := g.c.Get(g.ctx, client.ObjectKeyFromObject(a.obj), u); !apierrors.IsNotFound(err) {
				return fmt.Errorf("%s %s is not deleted yet (%w)", a.obj.GetKind(), a.obj.GetName(), err)
			}
			if a.read {
				if _, ok := st[translate.Key{Kind: a.obj.GetKind(), Namespace: a.obj.GetNamespace(), Name: a.obj.GetName()}]; ok {
					return fmt.Errorf("%s %s is still in the gateway's statuses", a.obj.GetKind(), a.obj.GetName())
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Errorf("cleaning up the case: %v", err)
	}
}
