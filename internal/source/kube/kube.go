// Package kube reads the gateway's inputs from a Kubernetes API: from the controller's
// informer cache when the gateway runs, and straight from the API server when `bridgehead
// diagnose` looks at a cluster. Both go through Read, so what diagnose reports is what the
// gateway serves: the same kinds, the same namespaces, the same Ingress classes (translate
// filters those), the same Traefik objects read as ours.
package kube

import (
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"sort"
	"strings"

	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	toolscache "k8s.io/client-go/tools/cache"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	bhv1 "github.com/bridgehead/bridgehead/api/v1alpha1"
	"github.com/bridgehead/bridgehead/internal/source/manifests"
	"github.com/bridgehead/bridgehead/internal/translate"
)

// TraefikGroups are the API groups of Traefik's CRDs that --watch-traefik-crds reads as
// ours: traefik.io (v3) and traefik.containo.us (v2).
var TraefikGroups = []string{"traefik.io", "traefik.containo.us"}

// traefikKinds are read as ours; the unread ones are listed only to report each of their
// objects as not served (UnsupportedKind), rather than leave it unserved in silence.
var (
	traefikKinds       = translate.OurKinds()
	unreadTraefikKinds = []string{} // every Traefik v3 kind is read today
)

// InstalledGatewayAPIKinds returns the names of the Gateway API kinds whose CRDs the API server has:
// they are read only then (a cluster without the Gateway API's CRDs is served as before).
func InstalledGatewayAPIKinds(mapper meta.RESTMapper) map[string]bool {
	out := map[string]bool{}
	for _, k := range translate.Kinds {
		if !k.GatewayAPI() {
			continue
		}
		gk := schema.GroupKind{Group: gwv1.GroupName, Kind: k.Name()}
		if _, err := mapper.RESTMapping(gk, gwv1.GroupVersion.Version); err == nil {
			out[k.Name()] = true
		}
	}
	return out
}

// NewScheme holds every type the gateway reads from the API server: Kubernetes', ours and
// the Gateway API's.
func NewScheme() (*runtime.Scheme, error) {
	scheme := runtime.NewScheme()
	for _, add := range []func(*runtime.Scheme) error{clientgoscheme.AddToScheme, bhv1.AddToScheme, gwv1.Install} {
		if err := add(scheme); err != nil {
			return nil, err
		}
	}
	return scheme, nil
}

// InstalledTraefikKinds returns the Traefik kinds whose CRDs the API server has.
func InstalledTraefikKinds(mapper meta.RESTMapper) []schema.GroupVersionKind {
	var out []schema.GroupVersionKind
	for _, g := range TraefikGroups {
		for _, k := range append(append([]string(nil), traefikKinds...), unreadTraefikKinds...) {
			gvk := schema.GroupVersionKind{Group: g, Version: "v1alpha1", Kind: k}
			if _, err := mapper.RESTMapping(gvk.GroupKind(), gvk.Version); err == nil {
				out = append(out, gvk)
			}
		}
	}
	return out
}

// Options say what to read, as the gateway's flags do.
type Options struct {
	// Namespaces limits the namespaced kinds to these namespaces (--watch-namespaces);
	// empty reads every namespace. A controller whose cache is already limited leaves it
	// empty.
	Namespaces []string
	// TraefikKinds are the Traefik kinds read as ours (--watch-traefik-crds, see
	// InstalledTraefikKinds); none when empty.
	TraefikKinds []schema.GroupVersionKind
	// GatewayAPIKinds are the Gateway API kinds to read (InstalledGatewayAPIKinds); the
	// others are skipped.
	GatewayAPIKinds map[string]bool
	// FromCache: c is an informer cache, whose objects are read in place (translate never
	// modifies its inputs) rather than deep-copied on every rebuild.
	FromCache bool
	// Informers, when set, is c's informer cache: a kind is then read straight from its
	// informer's store, as pointers, where the cache's List would copy every object into
	// a typed list on every rebuild (a quarter of a rebuild's CPU at 10,000 routes). A
	// cache limited to several namespaces has no single store per kind, and is listed.
	Informers Informers
	// Previous, when set, is the Inputs of an earlier Read with the same options: the
	// objects still in the cache keep its order, and only the others are sorted.
	Previous *translate.Inputs
}

// Informers is the part of controller-runtime's cache.Cache that Read uses.
type Informers interface {
	GetInformer(ctx context.Context, obj client.Object, opts ...cache.InformerGetOption) (cache.Informer, error)
}

// Result is what Read found.
type Result struct {
	Inputs *translate.Inputs
	// Traefik is the loader's result for the Traefik objects (nil when none are read):
	// its Problems and Inputs.Unsupported say which are not served, for the caller to
	// report.
	Traefik *manifests.Result
	// Shadowed are Traefik objects with the kind, namespace and name of one of ours,
	// which wins.
	Shadowed []translate.Key
}

// Read lists every kind translate reads (translate.Kinds).
func Read(ctx context.Context, c client.Reader, opts Options) (*Result, error) {
	in := &translate.Inputs{}
	for _, k := range translate.Kinds {
		if k.GatewayAPI() && !opts.GatewayAPIKinds[k.Name()] {
			continue
		}
		scopes := opts.scopes()
		if !k.Namespaced() {
			scopes = [][]client.ListOption{opts.listOptions()}
		}
		if objs, ok, err := fromStore(ctx, opts, k); err != nil {
			return nil, fmt.Errorf("reading %s from the cache: %w", plural(k.Name()), err)
		} else if ok {
			for _, o := range objs {
				k.Append(in, o)
			}
			continue
		}
		for _, lo := range scopes {
			list := k.NewList()
			if err := c.List(ctx, list, lo...); err != nil {
				return nil, fmt.Errorf("listing %s%s: %w", plural(k.Name()), where(lo), err)
			}
			k.AppendList(in, list)
		}
	}
	res := &Result{Inputs: in}
	if len(opts.TraefikKinds) > 0 {
		if err := readTraefik(ctx, c, opts, res); err != nil {
			return nil, err
		}
	}
	in.SortByName(opts.Previous)
	return res, nil
}

// fromStore reads the objects of kind k from its informer's store, in place, when opts
// has an informer cache that keeps one store per kind; ok is false otherwise.
func fromStore(ctx context.Context, opts Options, k translate.Kind) (objs []translate.Object, ok bool, err error) {
	if opts.Informers == nil || len(opts.Namespaces) > 0 {
		return nil, false, nil
	}
	inf, err := opts.Informers.GetInformer(ctx, k.NewObject())
	if err != nil {
		return nil, false, err
	}
	indexed, ok := inf.(interface{ GetIndexer() toolscache.Indexer })
	if !ok {
		return nil, false, nil // a multi-namespace informer: List merges its stores
	}
	items := indexed.GetIndexer().List()
	objs = make([]translate.Object, 0, len(items))
	want := reflect.TypeOf(k.NewObject())
	for _, item := range items {
		o, isObj := item.(translate.Object)
		if !isObj || reflect.TypeOf(item) != want {
			return nil, false, fmt.Errorf("the cache holds a %T, not a %v", item, want)
		}
		objs = append(objs, o)
	}
	return objs, true, nil
}

// scopes are the list options of one list per namespace read (one for all namespaces).
func (o Options) scopes() [][]client.ListOption {
	if len(o.Namespaces) == 0 {
		return [][]client.ListOption{o.listOptions()}
	}
	var out [][]client.ListOption
	for _, ns := range o.Namespaces {
		out = append(out, append(o.listOptions(), client.InNamespace(ns)))
	}
	return out
}

func (o Options) listOptions() []client.ListOption {
	if o.FromCache {
		return []client.ListOption{client.UnsafeDisableDeepCopy}
	}
	return nil
}

// plural names a kind's objects in messages: "IngressRoutes", "IngressClasses".
func plural(kind string) string {
	if strings.HasSuffix(kind, "s") {
		return kind + "es"
	}
	return kind + "s"
}

func where(lo []client.ListOption) string {
	for _, o := range lo {
		if ns, ok := o.(client.InNamespace); ok {
			return " in namespace " + string(ns)
		}
	}
	return ""
}

// readTraefik reads the Traefik objects as ours, through the same loader as a folder of
// manifests, and adds them to res.Inputs. An object of ours with the same kind, namespace
// and name wins. An object that is not served (a field Bridgehead does not implement, a
// value its schema refuses, a kind it does not read) is added as refused, so that it gets
// a status like any other object.
func readTraefik(ctx context.Context, c client.Reader, opts Options, res *Result) error {
	in := res.Inputs
	objs := map[string][]byte{}
	// Each document's name in the loader's problems leads back to its object.
	origin := map[string]traefikObject{}
	for _, gvk := range opts.TraefikKinds {
		for _, lo := range opts.scopes() {
			list := &unstructured.UnstructuredList{}
			list.SetGroupVersionKind(gvk.GroupVersion().WithKind(gvk.Kind + "List"))
			if err := c.List(ctx, list, lo...); err != nil {
				return fmt.Errorf("listing %s%s: %w", gvk, where(lo), err)
			}
			for i := range list.Items {
				item := &list.Items[i]
				data, err := json.Marshal(item.Object)
				if err != nil {
					return err
				}
				name := fmt.Sprintf("%s %s/%s (%s)", gvk.Kind, item.GetNamespace(), item.GetName(), gvk.Group)
				objs[name] = data
				origin[name] = traefikObject{
					key:   translate.Key{Kind: gvk.Kind, Namespace: item.GetNamespace(), Name: item.GetName()},
					group: gvk.Group, generation: item.GetGeneration(),
				}
			}
		}
	}
	loaded, err := manifests.LoadObjects(objs)
	if err != nil {
		return err
	}
	ours := map[translate.Key]bool{}
	for _, k := range keysOf(in) {
		ours[k] = true
	}
	merge(in, loaded.Inputs, func(k translate.Key) bool {
		if ours[k] {
			res.Shadowed = append(res.Shadowed, k)
			return false
		}
		return true
	})
	in.Refused = append(in.Refused, refusedTraefik(loaded.Problems, origin, ours)...)
	res.Traefik = loaded
	return nil
}

// traefikObject is where one document given to the loader came from.
type traefikObject struct {
	key        translate.Key
	group      string
	generation int64
}

// refusedTraefik turns the loader's problems into refused objects, one per object with
// every problem of it in the message, so that each gets a status (and an Event).
func refusedTraefik(problems []manifests.Problem, origin map[string]traefikObject, ours map[translate.Key]bool) []translate.RefusedObject {
	byName := map[string][]string{}
	var names []string
	for _, p := range problems {
		if _, ok := origin[p.File]; !ok {
			continue
		}
		if byName[p.File] == nil {
			names = append(names, p.File)
		}
		msg := p.Message
		if p.Field != "" {
			msg = p.Field + ": " + msg
		}
		byName[p.File] = append(byName[p.File], msg)
	}
	sort.Strings(names)
	var out []translate.RefusedObject
	for _, name := range names {
		o := origin[name]
		if ours[o.key] {
			continue // ours wins, and has its own status
		}
		reason := bhv1.ReasonInvalid
		if slices.Contains(unreadTraefikKinds, o.key.Kind) {
			reason = bhv1.ReasonUnsupportedKind
		}
		out = append(out, translate.RefusedObject{Key: o.key, APIGroup: o.group, Generation: o.generation, Reason: reason,
			Message: fmt.Sprintf("%s %s/%s (%s) is not served: %s", o.key.Kind, o.key.Namespace, o.key.Name, o.group, strings.Join(byName[name], "; "))})
	}
	return out
}

// keysOf lists the keys of our objects in in.
func keysOf(in *translate.Inputs) []translate.Key {
	var out []translate.Key
	for _, k := range translate.Kinds {
		if !k.Ours() {
			continue
		}
		for _, o := range k.Objects(in) {
			out = append(out, translate.Key{Kind: k.Name(), Namespace: o.GetNamespace(), Name: o.GetName()})
		}
	}
	return out
}

// merge appends the Traefik objects that keep allows.
func merge(in, from *translate.Inputs, keep func(translate.Key) bool) {
	kept := map[translate.Key]bool{}
	for _, k := range translate.Kinds {
		if !k.Ours() {
			continue
		}
		for _, o := range k.Objects(from) {
			key := translate.Key{Kind: k.Name(), Namespace: o.GetNamespace(), Name: o.GetName()}
			if kept[key] = keep(key); kept[key] {
				k.Append(in, o)
			}
		}
	}
	// What the loader found about the objects kept: unsupported fields refuse them.
	for key, fields := range from.Unsupported {
		if kept[key] {
			if in.Unsupported == nil {
				in.Unsupported = map[translate.Key][]translate.UnsupportedField{}
			}
			in.Unsupported[key] = fields
		}
	}
	for key, group := range from.APIGroups {
		if kept[key] {
			if in.APIGroups == nil {
				in.APIGroups = map[translate.Key]string{}
			}
			in.APIGroups[key] = group
		}
	}
}
