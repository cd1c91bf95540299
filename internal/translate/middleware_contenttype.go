package translate

import (
	"fmt"

	bhv1 "github.com/bridgehead/bridgehead/api/v1alpha1"
	"github.com/bridgehead/bridgehead/internal/snapshot"
)

// contentType compiles Traefik v3's contentType: detection on. autoDetect: false makes
// the Middleware do nothing, as in Traefik; it is served, with a warning, since a
// Middleware that does nothing is rarely what was meant and Traefik deprecates the field.
func contentType(rep *report, k nsName, c *bhv1.ContentType) *snapshot.ContentType {
	if c.AutoDetect == nil { //nolint:staticcheck // reading it is how we honour and warn about it
		return &snapshot.ContentType{AutoDetect: true}
	}
	if !*c.AutoDetect { //nolint:staticcheck // as above
		rep.warn(bhv1.ReasonIneffectiveSetting, fmt.Sprintf("Middleware %s: spec.contentType.autoDetect is false, so the Middleware does nothing (the gateway, like Traefik v3, detects no Content-Type by default); remove the Middleware from the routes, or remove the field to turn detection on", k))
		return &snapshot.ContentType{}
	}
	rep.warn(bhv1.ReasonIneffectiveSetting, fmt.Sprintf("Middleware %s: spec.contentType.autoDetect is deprecated in Traefik v3 (listing the Middleware turns detection on); remove the field", k))
	return &snapshot.ContentType{AutoDetect: true}
}
