package translate

import (
	"testing"

	"github.com/bridgehead/bridgehead/internal/ingressannotations"
)

// TestEveryReadAnnotationIsServed: every annotation ingressannotations reads is served by the translator: one it read but
// the translator did not serve would be reported as served while nothing happens.
func TestEveryReadAnnotationIsServed(t *testing.T) {
	for _, k := range ingressannotations.Annotations() {
		if !servesForeign(k) {
			t.Errorf("%s is read by ingressannotations but not served by translate (servedForeign)", k)
		}
		if restriction(k) != "" || foreignAnnotations[k] != "" {
			t.Errorf("%s is served, but still listed as unread in ingress_foreign.go", k)
		}
	}
}
