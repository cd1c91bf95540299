package controllers

import (
	"sort"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/manager"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	"github.com/bridgehead/bridgehead/internal/source/kube"
	"github.com/bridgehead/bridgehead/internal/source/manifests"
)

// TraefikGroups are the API groups of Traefik's CRDs that --watch-traefik-crds reads as
// ours: traefik.io (v3) and traefik.containo.us (v2).
var TraefikGroups = kube.TraefikGroups

// watchTraefik adds a watch per installed Traefik kind to the controller being built.
func (g *Rebuilder) watchTraefik(b *builder.Builder, mgr manager.Manager, enqueue handler.TypedEventHandler[client.Object, reconcile.Request]) *builder.Builder {
	g.traefik = kube.InstalledTraefikKinds(mgr.GetRESTMapper())
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
