package controllers

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/manager"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	bhv1 "github.com/bridgehead/bridgehead/api/v1alpha1"
	"github.com/bridgehead/bridgehead/internal/manifests"
	"github.com/bridgehead/bridgehead/internal/translate"
)

// TraefikGroups are the API groups of Traefik's CRDs that --watch-traefik-crds reads as
// ours: traefik.io (v3) and traefik.containo.us (v2).
var TraefikGroups = []string{"traefik.io", "traefik.containo.us"}

// traefikKinds are read as ours; the unread ones are watched only to report each of
// their objects as not served (UnsupportedKind), rather than leave it unserved in silence.
var (
	traefikKinds = []string{
		translate.KindIngressRoute, translate.KindIngressRouteTCP, translate.KindTLSOption, translate.KindTLSStore,
		translate.KindServersTransport, translate.KindServersTransportTCP, translate.KindMiddleware, translate.KindMiddlewareTCP,
	}
	unreadTraefikKinds = []string{"TraefikService", "IngressRouteUDP"}
)

// installedTraefikKinds returns the Traefik kinds whose CRDs the API server has.
func installedTraefikKinds(mgr manager.Manager) []schema.GroupVersionKind {
	var out []schema.GroupVersionKind
	for _, g := range TraefikGroups {
		for _, k := range append(append([]string(nil), traefikKinds...), unreadTraefikKinds...) {
			gvk := schema.GroupVersionKind{Group: g, Version: "v1alpha1", Kind: k}
			if _, err := mgr.GetRESTMapper().RESTMapping(gvk.GroupKind(), gvk.Version); err == nil {
				out = append(out, gvk)
			}
		}
	}
	return out
}

// watchTraefik adds a watch per installed Traefik kind to the controller being built.
func (g *Rebuilder) watchTraefik(b *builder.Builder, mgr manager.Manager, enqueue handler.TypedEventHandler[client.Object, reconcile.Request]) *builder.Builder {
	g.traefik = installedTraefikKinds(mgr)
	for _, gvk := range g.traefik {
		u := &unstructured.Unstructured{}
		u.SetGroupVersionKind(gvk)
		b = b.Watches(u, enqueue, builder.WithPredicates(predicate.GenerationChangedPredicate{}))
	}
	if len(g.traefik) == 0 {
		g.log.Info("--watch-traefik-crds: no Traefik CRDs are installed; only gateway.bridgehead.dev objects are served")
	}
	return b
}

// addTraefik reads the watched Traefik objects as ours, through the same loader as a
// folder of manifests, and adds them to in. An object of ours with the same kind,
// namespace and name wins. Traefik's CRDs have no status for our conditions, so an object
// that is not served — it sets a field Bridgehead does not implement, fails Bridgehead's
// schema, or is of a kind it does not read — is logged once per change, and its status
// (APIGroup set) becomes a Warning Event on it (the status writer does that).
func (g *Rebuilder) addTraefik(ctx context.Context, in *translate.Inputs) error {
	if len(g.traefik) == 0 {
		return nil
	}
	objs := map[string][]byte{}
	// Each document's name in the loader's problems leads back to its object.
	origin := map[string]traefikObject{}
	for _, gvk := range g.traefik {
		list := &unstructured.UnstructuredList{}
		list.SetGroupVersionKind(gvk.GroupVersion().WithKind(gvk.Kind + "List"))
		if err := g.client.List(ctx, list); err != nil {
			return fmt.Errorf("listing %s: %w", gvk, err)
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
	res, err := manifests.LoadObjects(objs)
	if err != nil {
		return err
	}
	ours := map[translate.Key]bool{}
	for _, k := range keysOf(in) {
		ours[k] = true
	}
	merge(in, res.Inputs, func(k translate.Key) bool {
		if ours[k] {
			g.log.Info("a Traefik object has the same kind and name as one of ours, which wins", "object", k.String())
			return false
		}
		return true
	})
	in.Refused = append(in.Refused, refusedTraefik(res.Problems, origin, ours)...)
	g.reportTraefik(res)
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

// reportTraefik logs, once per change, every Traefik object that is not served and why.
func (g *Rebuilder) reportTraefik(res *manifests.Result) {
	var lines []string
	for k, fields := range res.Inputs.Unsupported {
		var parts []string
		for _, f := range fields {
			parts = append(parts, f.Path+": "+f.Hint)
		}
		lines = append(lines, k.String()+" ("+res.Inputs.APIGroups[k]+"): not served, it sets fields Bridgehead does not implement: "+strings.Join(parts, "; "))
	}
	for _, p := range res.Problems {
		lines = append(lines, "not served: "+p.String())
	}
	sort.Strings(lines)
	text := strings.Join(lines, "\n")
	if old, _ := g.traefikReport.Swap(text).(string); old == text {
		return
	}
	for _, l := range lines {
		g.log.Info("Traefik object not served", "detail", l)
	}
}

// keysOf lists the keys of our objects in in.
func keysOf(in *translate.Inputs) []translate.Key {
	var out []translate.Key
	add := func(kind string, o client.Object) {
		out = append(out, translate.Key{Kind: kind, Namespace: o.GetNamespace(), Name: o.GetName()})
	}
	for _, o := range in.IngressRoutes {
		add(translate.KindIngressRoute, o)
	}
	for _, o := range in.IngressRouteTCPs {
		add(translate.KindIngressRouteTCP, o)
	}
	for _, o := range in.TLSOptions {
		add(translate.KindTLSOption, o)
	}
	for _, o := range in.TLSStores {
		add(translate.KindTLSStore, o)
	}
	for _, o := range in.ServersTransports {
		add(translate.KindServersTransport, o)
	}
	for _, o := range in.ServersTransportTCPs {
		add(translate.KindServersTransportTCP, o)
	}
	for _, o := range in.Middlewares {
		add(translate.KindMiddleware, o)
	}
	for _, o := range in.MiddlewareTCPs {
		add(translate.KindMiddlewareTCP, o)
	}
	return out
}

// merge appends the Traefik objects that keep allows.
func merge(in, from *translate.Inputs, keep func(translate.Key) bool) {
	kept := map[translate.Key]bool{}
	k := func(kind string, o client.Object) bool {
		key := translate.Key{Kind: kind, Namespace: o.GetNamespace(), Name: o.GetName()}
		kept[key] = keep(key)
		return kept[key]
	}
	for _, o := range from.IngressRoutes {
		if k(translate.KindIngressRoute, o) {
			in.IngressRoutes = append(in.IngressRoutes, o)
		}
	}
	for _, o := range from.IngressRouteTCPs {
		if k(translate.KindIngressRouteTCP, o) {
			in.IngressRouteTCPs = append(in.IngressRouteTCPs, o)
		}
	}
	for _, o := range from.TLSOptions {
		if k(translate.KindTLSOption, o) {
			in.TLSOptions = append(in.TLSOptions, o)
		}
	}
	for _, o := range from.TLSStores {
		if k(translate.KindTLSStore, o) {
			in.TLSStores = append(in.TLSStores, o)
		}
	}
	for _, o := range from.ServersTransports {
		if k(translate.KindServersTransport, o) {
			in.ServersTransports = append(in.ServersTransports, o)
		}
	}
	for _, o := range from.ServersTransportTCPs {
		if k(translate.KindServersTransportTCP, o) {
			in.ServersTransportTCPs = append(in.ServersTransportTCPs, o)
		}
	}
	for _, o := range from.Middlewares {
		if k(translate.KindMiddleware, o) {
			in.Middlewares = append(in.Middlewares, o)
		}
	}
	for _, o := range from.MiddlewareTCPs {
		if k(translate.KindMiddlewareTCP, o) {
			in.MiddlewareTCPs = append(in.MiddlewareTCPs, o)
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
