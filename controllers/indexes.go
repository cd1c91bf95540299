package controllers

import (
	"context"

	apimeta "k8s.io/apimachinery/pkg/api/meta"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/bridgehead/bridgehead/internal/translate"
)

// refsIndex indexes the inputs by the core objects they reference ("Secret/ns/name",
// "ConfigMap/ns/name", "Service/ns/name"; translate.Kind.References), so that a change to
// a Secret nobody references does not rebuild the snapshot.
const refsIndex = "bridgehead.dev/refs"

// referencing are the kinds whose objects reference core objects.
func referencing() []translate.Kind {
	var out []translate.Kind
	for _, k := range translate.Kinds {
		if k.Referencing() {
			out = append(out, k)
		}
	}
	return out
}

// addIndexes registers refsIndex for every referencing kind (of the Gateway API's, those
// installed).
func addIndexes(ctx context.Context, idx client.FieldIndexer, installed map[string]bool) error {
	for _, k := range referencing() {
		if k.GatewayAPI() && !installed[k.Name()] {
			continue
		}
		if err := idx.IndexField(ctx, k.NewObject(), refsIndex, func(o client.Object) []string { return k.References(o) }); err != nil {
			return err
		}
	}
	return nil
}

// isReferenced reports whether any input references key ("Kind/ns/name").
func isReferenced(ctx context.Context, c client.Reader, key string, installed map[string]bool) bool {
	return isReferencedBesides(ctx, c, key, installed, "")
}

// isReferencedBesides is isReferenced by inputs of any kind but besides.
func isReferencedBesides(ctx context.Context, c client.Reader, key string, installed map[string]bool, besides string) bool {
	for _, k := range referencing() {
		if k.GatewayAPI() && !installed[k.Name()] || k.Name() == besides {
			continue
		}
		list := k.NewList()
		if err := c.List(ctx, list, client.MatchingFields{refsIndex: key}, client.Limit(1)); err != nil {
			return true // when in doubt, rebuild
		}
		if apimeta.LenList(list) > 0 {
			return true
		}
	}
	return false
}
