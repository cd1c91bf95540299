package controllers

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-logr/logr"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/events"
	"k8s.io/client-go/util/workqueue"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/controller/priorityqueue"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/manager"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
	"sigs.k8s.io/controller-runtime/pkg/source"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/bridgehead/bridgehead/internal/eventrecorder"
	"github.com/bridgehead/bridgehead/internal/lastgood"
	"github.com/bridgehead/bridgehead/internal/snapshot"
	"github.com/bridgehead/bridgehead/internal/source/kube"
	"github.com/bridgehead/bridgehead/internal/status"
	"github.com/bridgehead/bridgehead/internal/translate"
	"github.com/bridgehead/bridgehead/internal/verdict"
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
	// Debounce is the most time between the starts of two rebuilds in a burst of changes
	// (default 100ms): a change after a quiet period is rebuilt at once, and the next
	// waits four times what the last rebuild took, at least 10ms and at most Debounce
	// (see pacer).
	Debounce time.Duration
	// Clock is injected for tests; defaults to time.Now.
	Clock func() time.Time
	// OnRebuild, when set, is told the outcome of every rebuild (metrics, logs, tests).
	OnRebuild func(snap *snapshot.Snapshot, statuses translate.Statuses, err error)
	// PublishService, when set, is the Service (of type LoadBalancer, usually) whose
	// addresses go into status.loadBalancer of every Ingress the gateway serves.
	PublishService types.NamespacedName
	// EntryPointPorts are the gateway's entry points by the port each listens on in the
	// pod. With PublishService, a Gateway listener may name exactly the ports that Service
	// publishes, each served by the entry point its targetPort reaches (listenerports.go);
	// without either, Options.ListenerPorts applies.
	EntryPointPorts map[int32]translate.ListenerEntryPoint
	// PublishAddresses, when set, are written there instead: IPs or host names.
	PublishAddresses []string
	// LeaderElection, when set, lets only the holder of a Lease write status and Events;
	// losing it stops the writers and nothing else. When nil the writers run whenever the
	// manager runs its leader-election runnables (always, without manager leader election).
	LeaderElection *LeaderElection
	// WatchTraefik also serves the objects of Traefik's CRD groups (traefik.io,
	// traefik.containo.us) when those CRDs are installed, read as ours.
	WatchTraefik bool
}

// Rebuilder is the rebuild controller: list from the cache, translate, validate, swap,
// publish statuses. It runs on every replica (each serves from its own cache); only the
// status writer needs the lease.
type Rebuilder struct {
	cfg    Config
	client client.Client
	// informers is the cache behind client: the rebuild reads its stores in place.
	informers kube.Informers
	writers   client.Client // counts status writes
	apiReader client.Reader // reads what the cache keeps only a digest of (status.CacheTransform)
	recorder  events.EventRecorder
	log       logr.Logger

	// keeper holds each object's last good version; Reconcile alone uses it
	// (MaxConcurrentReconciles is 1).
	keeper lastgood.Keeper
	// lastRead is the inputs of the last read of the cache; Reconcile alone uses it. The
	// next read keeps the order of the objects still there instead of sorting all of them.
	lastRead *translate.Inputs
	// unserved are the Ingresses already logged as served by nobody (no class); Reconcile
	// alone uses it, so each is logged once, not on every rebuild.
	unserved map[translate.Key]bool
	statuses atomic.Pointer[translate.Statuses]
	// traefik are the Traefik kinds watched (--watch-traefik-crds); traefikReport is the
	// last logged list of their ignored fields, to log only changes.
	traefik []schema.GroupVersionKind
	// gatewayAPI are the Gateway API kinds whose CRDs were installed at start (read only those).
	gatewayAPI    map[string]bool
	traefikReport atomic.Value
	leading       atomic.Bool
	statusWrites  atomic.Int64
	// pacer decides when an event's rebuild runs (see Config.Debounce).
	pacer pacer
	// behind counts the updates since the last rebuild that changed nothing a build reads
	// (see orBehind).
	behind atomic.Int64
	// writer receives the runtime verdicts (runtime.go) for whichever term is current.
	writer runtimeSink

	// termMu guards the writers of the current leadership term and the latest results,
	// which a new term starts from.
	termMu  sync.Mutex
	term    *term
	latest  translate.Statuses
	ingress *status.IngressReport
	runtime verdict.Conditions
}

// runtimeSink forwards runtime verdicts to the current term's writers and keeps the latest
// for the next term.
type runtimeSink struct{ g *Rebuilder }

// SetRuntime is Writer.SetRuntime for whichever writers are current.
func (r runtimeSink) SetRuntime(c verdict.Conditions) {
	g := r.g
	g.termMu.Lock()
	defer g.termMu.Unlock()
	g.runtime = c
	if g.term != nil {
		g.term.crd.SetRuntime(withoutIngresses(c))
		g.term.ingress.SetRuntime(c)
	}
}

func withoutIngresses(c verdict.Conditions) verdict.Conditions {
	out := verdict.Conditions{}
	for k, cs := range c {
		if k.Kind != translate.KindIngress {
			out[k] = cs
		}
	}
	return out
}

// term is one leadership term's writers; a new term gets new ones, so nothing a previous
// term remembered (another leader may have written since) suppresses a write.
type term struct {
	crd     *status.Writer
	ingress *status.IngressWriter
}

// quietQueue makes the controller's work queue: controller-runtime's priority queue, as
// by default, but without its metrics. Their registry is never served (the manager's
// metrics server is off; the gateway's metrics are its own), and keeping them up to date
// woke the process every 500 ms for ever. With 10,000 routes in a cluster, an idle gateway
// used 0.13–0.20 s of CPU per 30 s, nearly all of it the scheduler waking for that tick
// and going back to sleep (perf: findRunnable, futex and epoll_wait).
func quietQueue(log logr.Logger) func(string, workqueue.TypedRateLimiter[reconcile.Request]) workqueue.TypedRateLimitingInterface[reconcile.Request] {
	return func(name string, limiter workqueue.TypedRateLimiter[reconcile.Request]) workqueue.TypedRateLimitingInterface[reconcile.Request] {
		// An unnamed queue keeps no metrics, so it starts no loop to update them.
		return priorityqueue.New("", func(o *priorityqueue.Opts[reconcile.Request]) {
			o.RateLimiter = limiter
			o.Log = log.WithValues("controller", name)
		})
	}
}

// Setup registers the gateway controller, its indexes and the leader-only status writer.
func Setup(ctx context.Context, mgr manager.Manager, cfg Config) (*Rebuilder, error) {
	if cfg.Store == nil {
		return nil, errors.New("controllers: Config.Store is required")
	}
	if cfg.Clock == nil {
		cfg.Clock = time.Now
	}
	if cfg.Debounce == 0 {
		cfg.Debounce = 100 * time.Millisecond
	}
	// Our own recorder, not the manager's: client-go's would show only the first of several
	// findings that share a reason (see internal/eventrecorder).
	recorder := eventrecorder.New(mgr.GetClient(), mgr.GetScheme(), "bridgehead", mgr.GetLogger().WithName("events"))
	if err := mgr.Add(recorder); err != nil {
		return nil, err
	}
	g := &Rebuilder{cfg: cfg, client: mgr.GetClient(), informers: mgr.GetCache(), recorder: recorder, log: mgr.GetLogger().WithName("gateway"),
		pacer: pacer{interval: cfg.Debounce}}
	g.writers = countingClient{Client: mgr.GetClient(), n: &g.statusWrites}
	g.apiReader = mgr.GetAPIReader()
	g.writer = runtimeSink{g: g}
	if le := cfg.LeaderElection; le != nil {
		if err := le.defaults(); err != nil {
			return nil, err
		}
		if err := mgr.Add(&elector{cfg: *le, restCfg: mgr.GetConfig(), log: g.log.WithName("leader"), lead: g.lead, leading: &g.leading}); err != nil {
			return nil, err
		}
	} else if err := mgr.Add(leaderOnly(func(ctx context.Context) error {
		g.leading.Store(true)
		defer g.leading.Store(false)
		g.lead(ctx)
		return nil
	})); err != nil {
		return nil, err
	}
	// The Gateway API's types are read whenever their CRDs are installed: a caller whose
	// scheme lacks them (an embedder, a test) gets them added here.
	if err := gwv1.Install(mgr.GetScheme()); err != nil {
		return nil, fmt.Errorf("adding the Gateway API types to the scheme: %w", err)
	}
	g.gatewayAPI = kube.InstalledGatewayAPIKinds(mgr.GetRESTMapper())
	if err := addIndexes(ctx, mgr.GetFieldIndexer(), g.gatewayAPI); err != nil {
		return nil, fmt.Errorf("registering field indexes: %w", err)
	}

	enqueue := g.debounced()
	kick := make(chan event.TypedGenericEvent[client.Object], 1)
	// One event at start: the first rebuild happens once the caches have synced, even in
	// a cluster with no objects yet, so readiness never waits for an unrelated change.
	kick <- event.TypedGenericEvent[client.Object]{Object: &corev1.Namespace{}}

	spec := builder.WithPredicates(g.orBehind(predicate.GenerationChangedPredicate{}))
	core := builder.WithPredicates(predicate.ResourceVersionChangedPredicate{})
	// Ingress annotations and the default-class annotation change what is served without
	// changing the generation; status changes (our own writes) change nothing.
	specOrAnnotations := predicate.Or[client.Object](predicate.GenerationChangedPredicate{}, predicate.AnnotationChangedPredicate{})
	ingresses := builder.WithPredicates(g.orBehind(specOrAnnotations), g.mayServe())
	classes := builder.WithPredicates(specOrAnnotations)
	b := ctrl.NewControllerManagedBy(mgr).
		Named("bridgehead-gateway").
		WithOptions(controller.Options{MaxConcurrentReconciles: 1, SkipNameValidation: ptr.To(true), NeedLeaderElection: ptr.To(false),
			NewQueue: quietQueue(mgr.GetLogger())}).
		WatchesRawSource(source.Channel(kick, enqueue))
	for _, k := range translate.Kinds {
		switch name := k.Name(); {
		case k.GatewayAPI() && !g.gatewayAPI[name]:
			// Its CRD is not installed: not read (a restart picks up CRDs installed later).
		case name == translate.KindBackendTLSPolicy:
			b = b.Watches(k.NewObject(), g.ifTargetSentTo(enqueue), spec)
		case k.GatewayAPI():
			b = b.Watches(k.NewObject(), enqueue, spec)
		case name == translate.KindNamespace:
			// Labels choose which namespaces a Gateway listener takes routes from.
			b = b.Watches(k.NewObject(), enqueue, builder.WithPredicates(predicate.LabelChangedPredicate{}))
		case k.Ours():
			b = b.Watches(k.NewObject(), enqueue, spec)
		case name == translate.KindIngress:
			b = b.Watches(k.NewObject(), enqueue, ingresses)
		case name == translate.KindIngressClass:
			b = b.Watches(k.NewObject(), enqueue, classes)
		case name == translate.KindEndpointSlice:
			b = b.Watches(k.NewObject(), g.ifReferenced(translate.KindService, enqueue), core)
		default: // a core object: it matters when an input references it
			b = b.Watches(k.NewObject(), g.ifReferenced(name, enqueue), core)
		}
	}
	if cfg.WatchTraefik {
		b = g.watchTraefik(b, mgr, enqueue)
	}
	if err := b.Complete(g); err != nil {
		return nil, err
	}
	return g, nil
}

// behindLimit is how many objects' new versions that change nothing a build reads may
// wait for a rebuild: about a megabyte of objects at a kilobyte each.
const behindLimit = 1000

// orBehind passes the events that changed passes: for a custom resource, a changed
// generation, which moves with every change but its status's (an Ingress adds its
// annotations). An update it lets go by (a status written, by the gateway's own status
// writer or another controller) changes nothing a build reads, but the last build still
// holds the object's old version, which stays in memory beside the cache's new one until a
// build reads the cache again. The 10,000 statuses written at the start of make
// bench-scale's cluster row held 10 MB of the heap that way, at the row's peak RSS. So
// once behindLimit such updates have come in since the last rebuild, they pass too: the
// rebuild replays every unchanged route from the memo (translate.Memo compares
// generations) and adopts the cache's versions. Each passing update counts, so however
// a build's statuses turn out, status writes alone rebuild at most once per behindLimit.
func (g *Rebuilder) orBehind(changed predicate.Predicate) predicate.Predicate {
	return predicate.Funcs{
		CreateFunc:  changed.Create,
		DeleteFunc:  changed.Delete,
		GenericFunc: changed.Generic,
		UpdateFunc: func(e event.UpdateEvent) bool {
			if changed.Update(e) {
				return true
			}
			// (A resync hands over the very version the cache had: nothing is behind.)
			moved := e.ObjectOld != nil && e.ObjectNew != nil && e.ObjectOld.GetResourceVersion() != e.ObjectNew.GetResourceVersion()
			return moved && g.behind.Add(1) >= behindLimit
		},
	}
}

// debounced enqueues the rebuild key when the pacer allows: at once after a quiet period,
// otherwise when the pacer's spacing has passed since the last rebuild started. The
// delaying queue keeps the earliest deadline for a key, so later events of a burst do not
// postpone it.
func (g *Rebuilder) debounced() handler.TypedEventHandler[client.Object, reconcile.Request] {
	add := func(q workqueue.TypedRateLimitingInterface[reconcile.Request]) {
		if d := g.pacer.delay(time.Now()); d > 0 {
			q.AddAfter(rebuildKey, d)
			return
		}
		q.Add(rebuildKey)
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
func (g *Rebuilder) ifReferenced(kind string, next handler.TypedEventHandler[client.Object, reconcile.Request]) handler.TypedEventHandler[client.Object, reconcile.Request] {
	key := func(o client.Object) string {
		name := o.GetName()
		if es, ok := o.(*discoveryv1.EndpointSlice); ok {
			name = es.Labels[discoveryv1.LabelServiceName]
		}
		return translate.Reference(kind, o.GetNamespace(), name)
	}
	publish := ""
	if p := g.cfg.PublishService; kind == "Service" && p.Name != "" {
		publish = translate.Reference(translate.KindService, p.Namespace, p.Name)
	}
	referenced := func(ctx context.Context, key string) bool {
		// Objects of Traefik groups are not indexed: with them watched, any change counts.
		return key == publish || len(g.traefik) > 0 || isReferenced(ctx, g.client, key, g.gatewayAPI)
	}
	return handler.TypedFuncs[client.Object, reconcile.Request]{
		CreateFunc: func(ctx context.Context, e event.TypedCreateEvent[client.Object], q workqueue.TypedRateLimitingInterface[reconcile.Request]) {
			if referenced(ctx, key(e.Object)) {
				next.Create(ctx, e, q)
			}
		},
		UpdateFunc: func(ctx context.Context, e event.TypedUpdateEvent[client.Object], q workqueue.TypedRateLimitingInterface[reconcile.Request]) {
			if referenced(ctx, key(e.ObjectNew)) {
				next.Update(ctx, e, q)
			}
		},
		DeleteFunc: func(ctx context.Context, e event.TypedDeleteEvent[client.Object], q workqueue.TypedRateLimitingInterface[reconcile.Request]) {
			if referenced(ctx, key(e.Object)) {
				next.Delete(ctx, e, q)
			}
		},
	}
}

// ifTargetSentTo passes on events for BackendTLSPolicies only when a route (or another
// input but a policy) sends to a Service the policy targets, in its old version or its
// new: a policy of Services nothing sends to changes no route, and has no Gateway API
// status (its ancestors are the Gateways of the routes that use it). A new application,
// created as its Service, its policy and its route a few milliseconds apart, is then
// rebuilt once, for its route, instead of twice: at 10,000 routes a rebuild costs about
// 100 ms. The build that follows reads the policy from the cache, as every build reads
// everything.
func (g *Rebuilder) ifTargetSentTo(next handler.TypedEventHandler[client.Object, reconcile.Request]) handler.TypedEventHandler[client.Object, reconcile.Request] {
	sentTo := func(ctx context.Context, objs ...client.Object) bool {
		if len(g.traefik) > 0 {
			return true // objects of Traefik groups are not indexed (see ifReferenced)
		}
		for _, o := range objs {
			p, ok := o.(*gwv1.BackendTLSPolicy)
			if !ok {
				return true
			}
			targets := 0
			for _, t := range p.Spec.TargetRefs {
				if t.Group != "" || t.Kind != "Service" {
					return true // translate reports what it makes of other targets
				}
				targets++
				if isReferencedBesides(ctx, g.client, translate.Reference(translate.KindService, p.Namespace, string(t.Name)), g.gatewayAPI, translate.KindBackendTLSPolicy) {
					return true
				}
			}
			if targets == 0 {
				return true
			}
		}
		return false
	}
	return handler.TypedFuncs[client.Object, reconcile.Request]{
		CreateFunc: func(ctx context.Context, e event.TypedCreateEvent[client.Object], q workqueue.TypedRateLimitingInterface[reconcile.Request]) {
			if sentTo(ctx, e.Object) {
				next.Create(ctx, e, q)
			}
		},
		UpdateFunc: func(ctx context.Context, e event.TypedUpdateEvent[client.Object], q workqueue.TypedRateLimitingInterface[reconcile.Request]) {
			if sentTo(ctx, e.ObjectOld, e.ObjectNew) {
				next.Update(ctx, e, q)
			}
		},
		DeleteFunc: func(ctx context.Context, e event.TypedDeleteEvent[client.Object], q workqueue.TypedRateLimitingInterface[reconcile.Request]) {
			if sentTo(ctx, e.Object) {
				next.Delete(ctx, e, q)
			}
		},
		GenericFunc: func(ctx context.Context, e event.TypedGenericEvent[client.Object], q workqueue.TypedRateLimitingInterface[reconcile.Request]) {
			next.Generic(ctx, e, q)
		},
	}
}

// Reconcile rebuilds the snapshot from the cache. A snapshot that fails validation is
// not stored: the last good one keeps serving.
func (g *Rebuilder) Reconcile(ctx context.Context, _ reconcile.Request) (reconcile.Result, error) {
	g.pacer.started(time.Now())
	defer func() { g.pacer.finished(time.Now()) }()
	g.behind.Store(0)
	in, err := g.list(ctx)
	if err != nil {
		return reconcile.Result{}, err
	}
	opts := g.cfg.Options
	opts.Now = g.cfg.Clock()
	if ports, from := g.publishedListenerPorts(ctx); ports != nil {
		opts.ListenerPorts, opts.ListenerPortsFrom = ports, from
	}
	snap, statuses := g.keeper.Translate(in, opts)
	err = g.cfg.Store.Swap(snap)
	if g.cfg.OnRebuild != nil {
		g.cfg.OnRebuild(snap, statuses, err)
	}
	if err != nil {
		g.log.Error(err, "refusing an inconsistent snapshot; the previous one keeps serving")
		return reconcile.Result{}, nil
	}
	g.statuses.Store(&statuses)
	g.logUnserved(statuses)
	g.publish(statuses, g.ingressReport(ctx, statuses))
	g.log.V(1).Info("snapshot swapped", "generation", g.cfg.Store.Generation(), "httpRoutes", len(snap.HTTPRoutes), "tcpRoutes", len(snap.TCPRoutes))
	// Certificate expiry warnings depend on the clock: look again later even if nothing changes.
	return reconcile.Result{RequeueAfter: time.Hour}, nil
}

// Statuses returns the statuses of the last stored snapshot (nil before the first).
func (g *Rebuilder) Statuses() translate.Statuses {
	if s := g.statuses.Load(); s != nil {
		return *s
	}
	return nil
}

// ReadyCheck fails until the first snapshot is stored, for the /readyz endpoint.
func (g *Rebuilder) ReadyCheck(_ *http.Request) error {
	if g.cfg.Store.Generation() == 0 {
		return errors.New("no snapshot yet: waiting for the caches to sync and the first build")
	}
	return nil
}

// list reads the inputs from the cache through the reader diagnose also uses, so the two
// never disagree. Traefik objects (--watch-traefik-crds) are read as ours; those that are
// not served are logged once per change, and their statuses become Warning Events.
func (g *Rebuilder) list(ctx context.Context) (*translate.Inputs, error) {
	res, err := kube.Read(ctx, g.client, kube.Options{TraefikKinds: g.traefik, GatewayAPIKinds: g.gatewayAPI, FromCache: true, Informers: g.informers,
		Previous: g.lastRead})
	if err != nil {
		return nil, fmt.Errorf("reading from the cache: %w", err)
	}
	g.lastRead = res.Inputs
	for _, k := range res.Shadowed {
		g.log.Info("a Traefik object has the same kind and name as one of ours, which wins", "object", k.String())
	}
	if res.Traefik != nil {
		g.reportTraefik(res.Traefik)
	}
	return res.Inputs, nil
}

// mayServe drops events about Ingresses of other classes. An update passes when either
// version may be ours, so an Ingress that moves to another class leaves the snapshot.
func (g *Rebuilder) mayServe() predicate.Predicate {
	class := g.cfg.Options.IngressClass
	may := func(o client.Object) bool {
		ing, ok := o.(*networkingv1.Ingress)
		return !ok || translate.MayServeIngress(ing, class)
	}
	return predicate.Funcs{
		CreateFunc:  func(e event.CreateEvent) bool { return may(e.Object) },
		DeleteFunc:  func(e event.DeleteEvent) bool { return may(e.Object) },
		UpdateFunc:  func(e event.UpdateEvent) bool { return may(e.ObjectOld) || may(e.ObjectNew) },
		GenericFunc: func(e event.GenericEvent) bool { return may(e.Object) },
	}
}

// publish hands a build's results to the writers of the current term, if this replica
// leads, and keeps them for the next term.
func (g *Rebuilder) publish(statuses translate.Statuses, ingress *status.IngressReport) {
	ingresses := 0
	for k, st := range statuses {
		if k.Kind == translate.KindIngress {
			ingresses++
		}
		if gw := st.GatewayAPI; gw != nil && gw.Gateway != nil && ingress != nil {
			setGatewayAddresses(gw.Gateway, ingress.Addresses)
		}
	}
	// The CRD writer gets the statuses without the Ingresses (the Ingress writer's): the
	// build's own map when there are none, as the writers only read it.
	crd := statuses
	if ingresses > 0 {
		crd = make(translate.Statuses, len(statuses)-ingresses)
		for k, st := range statuses {
			if k.Kind != translate.KindIngress {
				crd[k] = st
			}
		}
	}
	g.termMu.Lock()
	defer g.termMu.Unlock()
	g.latest, g.ingress = crd, ingress
	if g.term != nil {
		g.term.crd.Publish(crd)
		g.term.ingress.Publish(ingress)
	}
}

// lead runs one leadership term: fresh writers, fed the latest results, until ctx ends.
func (g *Rebuilder) lead(ctx context.Context) {
	log := g.log.WithName("status")
	t := &term{
		crd:     &status.Writer{Client: g.writers, Reader: g.apiReader, Recorder: g.recorder, Clock: g.cfg.Clock, Log: log},
		ingress: &status.IngressWriter{Client: g.writers, Recorder: g.recorder, Log: log.WithName("ingress")},
	}
	g.termMu.Lock()
	g.term = t
	if g.latest != nil {
		t.crd.Publish(g.latest)
	}
	if g.ingress != nil {
		t.ingress.Publish(g.ingress)
	}
	if g.runtime != nil {
		t.crd.SetRuntime(withoutIngresses(g.runtime))
		t.ingress.SetRuntime(g.runtime)
	}
	g.termMu.Unlock()

	var wg sync.WaitGroup
	for _, r := range []manager.Runnable{t.crd, t.ingress} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := r.Start(ctx); err != nil {
				log.Error(err, "status writer stopped")
			}
		}()
	}
	wg.Wait()
	g.termMu.Lock()
	if g.term == t {
		g.term = nil
	}
	g.termMu.Unlock()
}

// leaderOnly is a runnable the manager starts on its leader (at once without manager
// leader election).
type leaderOnly func(ctx context.Context) error

func (f leaderOnly) Start(ctx context.Context) error { return f(ctx) }
func (f leaderOnly) NeedLeaderElection() bool        { return true }

// logUnserved logs, once each, the objects the gateway takes from nobody (Ingresses of no
// class): nothing is written to them, as they may be another controller's.
func (g *Rebuilder) logUnserved(statuses translate.Statuses) {
	if g.unserved == nil {
		g.unserved = map[translate.Key]bool{}
	}
	seen := map[translate.Key]bool{}
	for k, st := range statuses {
		if !st.NotServed {
			continue
		}
		seen[k] = true
		if !g.unserved[k] {
			g.log.Info("an Ingress is not served", "ingress", k.Namespace+"/"+k.Name, "why", st.Blocking[0].Message)
		}
	}
	g.unserved = seen
}

// ingressReport computes the load-balancer addresses for Ingress status.
func (g *Rebuilder) ingressReport(ctx context.Context, statuses translate.Statuses) *status.IngressReport {
	r := &status.IngressReport{Statuses: statuses}
	switch {
	case len(g.cfg.PublishAddresses) > 0:
		r.Publish = true
		for _, a := range g.cfg.PublishAddresses {
			if net.ParseIP(a) != nil {
				r.Addresses = append(r.Addresses, networkingv1.IngressLoadBalancerIngress{IP: a})
			} else {
				r.Addresses = append(r.Addresses, networkingv1.IngressLoadBalancerIngress{Hostname: a})
			}
		}
	case g.cfg.PublishService.Name != "":
		r.Publish = true
		svc := &corev1.Service{}
		if err := g.client.Get(ctx, g.cfg.PublishService, svc); err != nil {
			g.log.Error(err, "reading the --publish-service Service; Ingress status gets no address until it can be read", "service", g.cfg.PublishService.String())
			return r
		}
		r.Addresses = serviceAddresses(svc)
	}
	status.SortAddresses(r.Addresses)
	return r
}

// setGatewayAddresses publishes the gateway Service's addresses on a Gateway it serves; with
// none known (no --publish-service, or a load balancer still pending), the Gateway is not
// Programmed: clients have no address to reach it on.
func setGatewayAddresses(st *gwv1.GatewayStatus, addrs []networkingv1.IngressLoadBalancerIngress) {
	st.Addresses = nil
	for _, a := range addrs {
		switch {
		case a.IP != "":
			st.Addresses = append(st.Addresses, gwv1.GatewayStatusAddress{Type: ptr.To(gwv1.IPAddressType), Value: a.IP})
		case a.Hostname != "":
			st.Addresses = append(st.Addresses, gwv1.GatewayStatusAddress{Type: ptr.To(gwv1.HostnameAddressType), Value: a.Hostname})
		}
	}
	if len(st.Addresses) > 0 {
		return
	}
	for i := range st.Conditions {
		c := &st.Conditions[i]
		if c.Type == string(gwv1.GatewayConditionProgrammed) && c.Status == metav1.ConditionTrue {
			c.Status, c.Reason = metav1.ConditionFalse, string(gwv1.GatewayReasonAddressNotAssigned)
			c.Message = "the gateway's Service has no address yet (set --publish-service, or wait for the load balancer)"
		}
	}
}

// serviceAddresses are the addresses clients reach a Service on: its load balancer's, its
// external IPs, the target of an ExternalName, or else its cluster IPs.
func serviceAddresses(svc *corev1.Service) []networkingv1.IngressLoadBalancerIngress {
	var out []networkingv1.IngressLoadBalancerIngress
	seen := map[string]bool{}
	add := func(a networkingv1.IngressLoadBalancerIngress) {
		if k := a.IP + "|" + a.Hostname; (a.IP != "" || a.Hostname != "") && !seen[k] {
			seen[k] = true
			out = append(out, a)
		}
	}
	for _, lb := range svc.Status.LoadBalancer.Ingress {
		add(networkingv1.IngressLoadBalancerIngress{IP: lb.IP, Hostname: lb.Hostname})
	}
	for _, ip := range svc.Spec.ExternalIPs {
		add(networkingv1.IngressLoadBalancerIngress{IP: ip})
	}
	switch {
	case svc.Spec.Type == corev1.ServiceTypeExternalName:
		add(networkingv1.IngressLoadBalancerIngress{Hostname: svc.Spec.ExternalName})
	case svc.Spec.Type == corev1.ServiceTypeLoadBalancer:
		// Pending until the cloud assigns an address: publish nothing rather than an
		// address clients cannot reach.
	case len(out) == 0:
		for _, ip := range svc.Spec.ClusterIPs {
			if ip != corev1.ClusterIPNone {
				add(networkingv1.IngressLoadBalancerIngress{IP: ip})
			}
		}
	}
	return out
}

// IsLeader reports whether this replica currently writes status.
func (g *Rebuilder) IsLeader() bool { return g.leading.Load() }

// StatusWrites counts the status updates this replica has made.
func (g *Rebuilder) StatusWrites() int64 { return g.statusWrites.Load() }
