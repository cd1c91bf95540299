package controllers

import (
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
//
// A manager without it works too: the writer then finds whole statuses in the cache.
func CacheTransform() toolscache.TransformFunc {
	strip := cache.TransformStripManagedFields()
	return func(obj any) (any, error) {
		obj, err := strip(obj)
		if err != nil {
			return nil, err
		}
		return status.CacheTransform(obj)
	}
}
