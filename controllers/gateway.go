package controllers

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/go-logr/logr"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/util/workqueue"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/manager"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
	"sigs.k8s.io/controller-runtime/pkg/source"

	bhv1 "github.com/bridgehead/bridgehead/api/v1alpha1"
	"github.com/bridgehead/bridgehead/internal/snapshot"
	"github.com/bridgehead/bridgehead/internal/status"
	"github.com/bridgehead/bridgehead/internal/translate"
)

// rebuildKey is the only key the controller ever reconciles: every event means "rebuild
// the whole snapshot", and the work queue folds a burst of events into one rebuild.
var rebuildKey = reconcile.Request{NamespacedName: types.NamespacedName{Name: "snapshot"}}

// Config wires the gateway controller.
type Config struct {
	// Options are the translate flags; Now is filled from Clock at each rebuild.
	Options translate.Options
	// Store receives each new snapshot.
	Store *snapshot.Store
	// Debounce delays a rebuild after an event so a burst becomes one rebuild; the delay
	// is counted from the first event of the burst, so it is also the maximum.
	Debounce time.Duration
	// Clock is injected for tests; defaults to time.Now.
	Clock func() time.Time
	// OnRebuild, when set, is told the outcome of every rebuild (metrics, logs, tests).
	OnRebuild func(snap *snapshot.Snapshot, statuses translate.Statuses, err error)
}

// Gateway is the rebuild controller: list from the cache, translate, validate, swap,
// publish statuses. It runs on every replica (each serves from its own cache); only the
// status writer needs the lease.
type Gateway struct {
	cfg    Config
	client client.Client
	writer *status.Writer
	log    logr.Logger

	statuses atomic.Pointer[translate.Statuses]
}

// Setup registers the gateway controller, its indexes and the leader-only status writer.
func Setup(ctx context.Context, mgr manager.Manager, cfg Config) (*Gateway, error) {
	if cfg.Store == nil {
		return nil, errors.New("controllers: Config.Store is required")
	}
	if cfg.Clock == nil {
		cfg.Clock = time.Now
	}
	if cfg.Debounce == 0 {
		cfg.Debounce = 100 * time.Millisecond
	}
	g := &Gateway{cfg: cfg, client: mgr.GetClient(), log: mgr.GetLogger().WithName("gateway")}
	g.writer = &status.Writer{Client: mgr.GetClient(), Recorder: mgr.GetEventRecorder("bridgehead"), Clock: cfg.Clock, Log: g.log.WithName("status")}
	if err := mgr.Add(g.writer); err != nil {
		return nil, err
	}
	if err := addIndexes(ctx, mgr.GetFieldIndexer()); err != nil {
		return nil, fmt.Errorf("registering field indexes: %w", err)
	}

	enqueue := g.debounced()
	kick := make(chan event.TypedGenericEvent[client.Object], 1)
	// One event at start: the first rebuild happens once the caches have synced, even in
	// a cluster with no objects yet, so readiness never waits for an unrelated change.
	kick <- event.TypedGenericEvent[client.Object]{Object: &corev1.Namespace{}}

	spec := builder.WithPredicates(predicate.GenerationChangedPredicate{})
	core := builder.WithPredicates(predicate.ResourceVersionChangedPredicate{})
	b := ctrl.NewControllerManagedBy(mgr).
		Named("bridgehead-gateway").
		WithOptions(controller.Options{MaxConcurrentReconciles: 1, SkipNameValidation: ptr.To(true), NeedLeaderElection: ptr.To(false)}).
		WatchesRawSource(source.Channel(kick, enqueue)).
		Watches(&bhv1.IngressRoute{}, enqueue, spec).
		Watches(&bhv1.IngressRouteTCP{}, enqueue, spec).
		Watches(&bhv1.TLSOption{}, enqueue, spec).
		Watches(&bhv1.TLSStore{}, enqueue, spec).
		Watches(&bhv1.ServersTransport{}, enqueue, spec).
		Watches(&bhv1.ServersTransportTCP{}, enqueue, spec).
		Watches(&bhv1.Middleware{}, enqueue, spec).
		Watches(&corev1.Secret{}, g.ifReferenced("Secret", enqueue), core).
		Watches(&corev1.ConfigMap{}, g.ifReferenced("ConfigMap", enqueue), core).
		Watches(&corev1.Service{}, g.ifReferenced("Service", enqueue), core).
		Watches(&discoveryv1.EndpointSlice{}, g.ifReferenced("Service", enqueue), core)
	if err := b.Complete(g); err != nil {
		return nil, err
	}
	return g, nil
}

// debounced enqueues the rebuild key after the debounce delay. The delaying queue keeps
// the earliest deadline for a key, so later events of a burst do not postpone the rebuild.
func (g *Gateway) debounced() handler.TypedEventHandler[client.Object, reconcile.Request] {
	add := func(q workqueue.TypedRateLimitingInterface[reconcile.Request]) {
		q.AddAfter(rebuildKey, g.cfg.Debounce)
	}
	return handler.TypedFuncs[client.Object, reconcile.Request]{
		CreateFunc: func(_ context.Context, _ event.TypedCreateEvent[client.Object], q workqueue.TypedRateLimitingInterface[reconcile.Request]) {
			add(q)
		},
		UpdateFunc: func(_ context.Context, _ event.TypedUpdateEvent[client.Object], q workqueue.TypedRateLimitingInterface[reconcile.Request]) {
			add(q)
		},
		DeleteFunc: func(_ context.Context, _ event.TypedDeleteEvent[client.Object], q workqueue.TypedRateLimitingInterface[reconcile.Request]) {
			add(q)
		},
		GenericFunc: func(_ context.Context, _ event.TypedGenericEvent[client.Object], q workqueue.TypedRateLimitingInterface[reconcile.Request]) {
			add(q)
		},
	}
}

// ifReferenced passes on events for core objects only when one of our objects references
// them; an EndpointSlice counts as its Service.
func (g *Gateway) ifReferenced(kind string, next handler.TypedEventHandler[client.Object, reconcile.Request]) handler.TypedEventHandler[client.Object, reconcile.Request] {
	key := func(o client.Object) string {
		name := o.GetName()
		if es, ok := o.(*discoveryv1.EndpointSlice); ok {
			name = es.Labels[discoveryv1.LabelServiceName]
		}
		return ref(kind, o.GetNamespace(), name)
	}
	return handler.TypedFuncs[client.Object, reconcile.Request]{
		CreateFunc: func(ctx context.Context, e event.TypedCreateEvent[client.Object], q workqueue.TypedRateLimitingInterface[reconcile.Request]) {
			if isReferenced(ctx, g.client, key(e.Object)) {
				next.Create(ctx, e, q)
			}
		},
		UpdateFunc: func(ctx context.Context, e event.TypedUpdateEvent[client.Object], q workqueue.TypedRateLimitingInterface[reconcile.Request]) {
			if isReferenced(ctx, g.client, key(e.ObjectNew)) {
				next.Update(ctx, e, q)
			}
		},
		DeleteFunc: func(ctx context.Context, e event.TypedDeleteEvent[client.Object], q workqueue.TypedRateLimitingInterface[reconcile.Request]) {
			if isReferenced(ctx, g.client, key(e.Object)) {
				next.Delete(ctx, e, q)
			}
		},
	}
}

// Reconcile rebuilds the snapshot from the cache. A snapshot that fails validation is
// not stored: the last good one keeps serving.
func (g *Gateway) Reconcile(ctx context.Context, _ reconcile.Request) (reconcile.Result, error) {
	in, err := g.list(ctx)
	if err != nil {
		return reconcile.Result{}, err
	}
	opts := g.cfg.Options
	opts.Now = g.cfg.Clock()
	snap, statuses := translate.Translate(in, opts)
	err = g.cfg.Store.Swap(snap)
	if g.cfg.OnRebuild != nil {
		g.cfg.OnRebuild(snap, statuses, err)
	}
	if err != nil {
		g.log.Error(err, "refusing an inconsistent snapshot; the previous one keeps serving")
		return reconcile.Result{}, nil
	}
	g.statuses.Store(&statuses)
	g.writer.Publish(statuses)
	g.log.V(1).Info("snapshot swapped", "generation", g.cfg.Store.Generation(), "httpRoutes", len(snap.HTTPRoutes), "tcpRoutes", len(snap.TCPRoutes))
	// Certificate expiry warnings depend on the clock: look again later even if nothing changes.
	return reconcile.Result{RequeueAfter: time.Hour}, nil
}

// Statuses returns the statuses of the last stored snapshot (nil before the first).
func (g *Gateway) Statuses() translate.Statuses {
	if s := g.statuses.Load(); s != nil {
		return *s
	}
	return nil
}

// ReadyCheck fails until the first snapshot is stored, for the /readyz endpoint.
func (g *Gateway) ReadyCheck(_ *http.Request) error {
	if g.cfg.Store.Generation() == 0 {
		return errors.New("no snapshot yet: waiting for the caches to sync and the first build")
	}
	return nil
}

func (g *Gateway) list(ctx context.Context) (*translate.Inputs, error) {
	in := &translate.Inputs{}
	var (
		irs   bhv1.IngressRouteList
		irts  bhv1.IngressRouteTCPList
		opts  bhv1.TLSOptionList
		tss   bhv1.TLSStoreList
		sts   bhv1.ServersTransportList
		stts  bhv1.ServersTransportTCPList
		mws   bhv1.MiddlewareList
		secs  corev1.SecretList
		cms   corev1.ConfigMapList
		svcs  corev1.ServiceList
		slice discoveryv1.EndpointSliceList
	)
	for _, l := range []client.ObjectList{&irs, &irts, &opts, &tss, &sts, &stts, &mws, &secs, &cms, &svcs, &slice} {
		// translate never modifies its inputs, so the cache's objects are read in place.
		if err := g.client.List(ctx, l, client.UnsafeDisableDeepCopy); err != nil {
			return nil, fmt.Errorf("listing from the cache: %w", err)
		}
	}
	in.IngressRoutes = ptrs(irs.Items)
	in.IngressRouteTCPs = ptrs(irts.Items)
	in.TLSOptions = ptrs(opts.Items)
	in.TLSStores = ptrs(tss.Items)
	in.ServersTransports = ptrs(sts.Items)
	in.ServersTransportTCPs = ptrs(stts.Items)
	in.Middlewares = ptrs(mws.Items)
	in.Secrets = ptrs(secs.Items)
	in.ConfigMaps = ptrs(cms.Items)
	in.Services = ptrs(svcs.Items)
	in.EndpointSlices = ptrs(slice.Items)
	return in, nil
}

func ptrs[T any](items []T) []*T {
	out := make([]*T, len(items))
	for i := range items {
		out[i] = &items[i]
	}
	return out
}
