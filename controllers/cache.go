package controllers

import (
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	toolscache "k8s.io/client-go/tools/cache"
	"sigs.k8s.io/controller-runtime/pkg/cache"

	"github.com/bridgehead/bridgehead/internal/status"
)

// CacheTransform is the informer cache's transform for a manager the gateway runs in
// (cache.Options.DefaultTransform). The cache keeps every watched object, and two parts
// of them are read by nothing here or need not be kept whole:
//   - managedFields, often larger than the spec; a status update sends none, which
//     leaves the server's copy as it was;
//   - the status of our kinds, which the leader's status writer alone reads: a digest
//     of it is kept instead (status.CacheTransform), and the writer reads the object
//     from the API server when the digest says the status differs from what it is to
//     write.
//   - the annotation `kubectl apply` keeps its last applied configuration in (a second
//     copy of the object as the user wrote it), except on an Ingress: an Ingress's
//     status update sends its metadata, and the server would take the annotation off.
//     Our kinds, Traefik's and the Gateway API's are custom resources, whose status
//     updates change nothing but the status; nothing else is ever written back.
//
// A manager without it works too: the writer then finds whole statuses in the cache.
func CacheTransform() toolscache.TransformFunc {
	strip := cache.TransformStripManagedFields()
	return func(obj any) (any, error) {
		obj, err := strip(obj)
		if err != nil {
			return nil, err
		}
		if o, ok := obj.(metav1.Object); ok {
			if _, ingress := obj.(*networkingv1.Ingress); !ingress {
				if a := o.GetAnnotations(); a[lastApplied] != "" {
					delete(a, lastApplied)
					o.SetAnnotations(a) // an unstructured object (Traefik's kinds) hands out a copy
				}
			}
		}
		return status.CacheTransform(obj)
	}
}

// lastApplied is the annotation client-side `kubectl apply` writes.
const lastApplied = corev1.LastAppliedConfigAnnotation
