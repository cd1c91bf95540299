package diagnose

import (
	"context"
	"fmt"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/bridgehead/bridgehead/internal/source/kube"
	"github.com/bridgehead/bridgehead/internal/source/manifests"
	"github.com/bridgehead/bridgehead/internal/translate"
)

// FromCluster reads a cluster through the gateway's own reader (internal/source/kube),
// with the options the gateway runs with (--watch-namespaces, --watch-traefik-crds), so
// that diagnose sees exactly what the gateway serves. The problems are the Traefik objects
// that are not served, reported like the documents of a folder that cannot be used.
func FromCluster(ctx context.Context, c client.Reader, opts kube.Options) (*translate.Inputs, []manifests.Problem, error) {
	res, err := kube.Read(ctx, c, opts)
	switch {
	case err == nil:
	case apierrors.IsForbidden(err):
		return nil, nil, fmt.Errorf("%w (diagnose reads what the gateway reads: run it with credentials that may list what the gateway's ClusterRole allows, or limit it with --watch-namespaces as the gateway is)", err)
	case meta.IsNoMatchError(err) || apierrors.IsNotFound(err):
		return nil, nil, fmt.Errorf("%w (are the Bridgehead CRDs installed? kubectl apply -k config/crd)", err)
	default:
		return nil, nil, err
	}
	var problems []manifests.Problem
	if res.Traefik != nil {
		problems = res.Traefik.Problems
	}
	return res.Inputs, problems, nil
}
