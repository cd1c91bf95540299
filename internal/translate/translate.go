// Package translate turns the gateway's inputs (Kubernetes objects, from the API server or
// from a folder) into an immutable snapshot and a status per object.
//
// Translate is pure: no I/O, no clock (Options.Now is injected), no logging. Every
// problem becomes a condition on the object that caused it, and everything that cannot be
// served safely fails closed in the snapshot with a Failure naming the cause.
package translate

import (
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"
	"unsafe"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	bhv1 "github.com/bridgehead/bridgehead/api/v1alpha1"
	"github.com/bridgehead/bridgehead/internal/snapshot"
)

// Inputs is everything translate reads. Order does not matter: translate sorts.
type Inputs struct {
	IngressRoutes        []*bhv1.IngressRoute
	IngressRouteTCPs     []*bhv1.IngressRouteTCP
	IngressRouteUDPs     []*bhv1.IngressRouteUDP
	TLSOptions           []*bhv1.TLSOption
	TLSStores            []*bhv1.TLSStore
	ServersTransports    []*bhv1.ServersTransport
	ServersTransportTCPs []*bhv1.ServersTransportTCP
	Middlewares          []*bhv1.Middleware
	MiddlewareTCPs       []*bhv1.MiddlewareTCP
	TraefikServices      []*bhv1.TraefikService
	Secrets              []*corev1.Secret
	ConfigMaps           []*corev1.ConfigMap
	Services             []*corev1.Service
	EndpointSlices       []*discoveryv1.EndpointSlice
	// Ingresses are every networking.k8s.io/v1 Ingress; translate serves those of
	// Options.IngressClass (see ingress.go) and ignores the rest.
	Ingresses      []*networkingv1.Ingress
	IngressClasses []*networkingv1.IngressClass
	// Namespaces are read for the Gateway API's allowedRoutes selectors.
	Namespaces []*corev1.Namespace
	// The Gateway API kinds (gateway.networking.k8s.io/v1), read when their CRDs are
	// installed; translate serves the Gateways of GatewayClasses whose controllerName is
	// GatewayController, and the routes and policies attached to them (gatewayapi*.go).
	GatewayClasses     []*gwv1.GatewayClass
	Gateways           []*gwv1.Gateway
	ListenerSets       []*gwv1.ListenerSet
	HTTPRoutes         []*gwv1.HTTPRoute
	GRPCRoutes         []*gwv1.GRPCRoute
	TLSRoutes          []*gwv1.TLSRoute
	TCPRoutes          []*gwv1.TCPRoute
	ReferenceGrants    []*gwv1.ReferenceGrant
	BackendTLSPolicies []*gwv1.BackendTLSPolicy
	// Unsupported lists, per object, the fields of a Traefik manifest that Bridgehead does
	// not implement. Such an object is not served: it is not Ready (UnsupportedField, the
	// message naming each field), its routes stay out of the snapshot, and routes that
	// reference it fail closed.
	Unsupported map[Key][]UnsupportedField
	// APIGroups is the API group of each object read from one of Traefik's groups
	// (traefik.io, traefik.containo.us); objects of gateway.bridgehead.dev are not listed.
	// Their statuses carry it: such an object has no status of ours to write.
	APIGroups map[Key]string
	// Refused are objects a source found but could not admit: in a cluster, Traefik
	// objects that fail Bridgehead's schema or are of a kind it does not read (a folder
	// reports those as problems of its documents instead). Each gets a status that is not
	// Accepted, so it is reported like any other object.
	Refused []RefusedObject
	// Replaced lists the objects whose newest version was refused, with the last good
	// version in their place among the inputs (see internal/lastgood): their statuses say
	// which version serves and why the newer one does not, and so do the statuses of the
	// objects that read a refused Secret or ConfigMap.
	Replaced map[Key]Refusal
	// RemovedAPIVersions are the Ingresses a folder held in an API version Kubernetes
	// removed (extensions/v1beta1, networking.k8s.io/v1beta1), converted to
	// networking.k8s.io/v1: each gets the message as a RemovedAPIVersion warning.
	RemovedAPIVersions map[Key]string

	// ranks is SortByName's map of object addresses, empty between sorts; each sort
	// takes it over from the Inputs it sorts after.
	ranks map[unsafe.Pointer]int
}

// RefusedObject is an object a source could not admit, and why.
type RefusedObject struct {
	Key        Key
	APIGroup   string
	Generation int64
	Reason     bhv1.ConditionReason
	Message    string
}

// UnsupportedField is a field set on a Traefik manifest that Bridgehead does not implement.
type UnsupportedField struct {
	// Path is the field's path in the object, e.g. "spec.routes[0].services[0].nativeLB".
	Path string `json:"path"`
	// Hint says what the field does in Traefik and what to do instead.
	Hint string `json:"hint"`
}

// Refusal says why the newest version of an object is not the one being translated.
type Refusal struct {
	// Generation is the refused version's metadata.generation, ServingGeneration the
	// generation of the version translated instead (equal when the source does not count
	// generations, as for Secrets and a folder of manifests).
	Generation, ServingGeneration int64
	// Reason and Message are why the newest version was refused, as its own translation
	// (or data check) said.
	Reason  bhv1.ConditionReason
	Message string
}

// versions names the refused and the serving version for a message.
func (r Refusal) versions() (refused, serving string) {
	if r.Generation == r.ServingGeneration || r.Generation == 0 || r.ServingGeneration == 0 {
		return "the newest version", "the last version that was accepted"
	}
	return fmt.Sprintf("generation %d", r.Generation), fmt.Sprintf("generation %d, the last that was accepted,", r.ServingGeneration)
}

// Options are the gateway's flags that change translation.
type Options struct {
	// GatewayNamespace holds the TLSOption and TLSStore named "default".
	GatewayNamespace string
	// AllowCrossNamespace permits references to objects in other namespaces.
	AllowCrossNamespace bool
	// AllowExternalNameServices permits ExternalName Services as backends. Off by default:
	// an ExternalName can point anywhere, including the gateway's own admin port.
	AllowExternalNameServices bool
	// ClusterDomain completes the Service DNS names a backend certificate may carry.
	ClusterDomain string
	// Now is the time used for certificate validity checks.
	Now time.Time
	// ExpiryWarning is how far ahead an expiring certificate raises a warning.
	ExpiryWarning time.Duration
	// IngressClass is the name of the IngressClass whose Ingresses this gateway serves
	// (empty means DefaultIngressClass).
	IngressClass string
	// IngressWithoutClass serves Ingresses that name no class when no IngressClass is the
	// cluster's default, as Traefik does; off, they are listed as not served.
	IngressWithoutClass bool
	// RedirectPort is the port clients reach the websecure entry point on, written into
	// the HTTPS redirects of Ingresses with bridgehead.dev/ssl-redirect; empty or 443
	// leaves it out of the Location.
	RedirectPort string
	// TLSDefaultProfile is the cipher suite list of client-facing TLS policies whose
	// TLSOption lists no TLS 1.2 suite (and of the built-in policy); empty means
	// TLSProfileIntermediate.
	TLSDefaultProfile TLSProfile
	// EntryPoints are the gateway's entry points by name, with their protocol ("tcp"
	// plain, "tls" terminating TLS as websecure, or "udp"): IngressRouteUDPs are checked
	// against them (a route naming an entry point that is not a UDP one is not Ready), and
	// IngressRoutes (a route with tls serves on "tls" ones only, one without on "tcp" ones
	// only; see entrypoints.go). Nil means they are not known (lint, diagnose): routes are
	// then taken as written.
	EntryPoints map[string]string
	// ListenerPorts maps the ports a Gateway listener may name to the gateway's entry
	// points: each entry point's own port and the port its Service publishes (80 for web,
	// 443 for websecure). Nil means DefaultListenerPorts.
	ListenerPorts map[int32]ListenerEntryPoint
	// ListenerPortsFrom names where ListenerPorts come from when they are not the
	// gateway's own entry points ("Service NS/NAME": the ports the gateway's Service
	// publishes), for the messages of listeners on other ports.
	ListenerPortsFrom string
	// Memo, when set, carries translations from one call to the next (see Memo): the
	// result is the same as without it, only cheaper when few objects changed.
	Memo *Memo
}

// ListenerEntryPoint is an entry point a Gateway listener can be served on.
type ListenerEntryPoint struct {
	Name string
	// Kind is EntryPointHTTP (plain HTTP: web), EntryPointTLS (websecure and user TLS
	// entry points, --entrypoint NAME=:PORT/tls: HTTPS and TLS listeners), "tcp" (a user
	// TCP entry point: TCP listeners) or "udp".
	Kind string
}

// Entry point kinds of ListenerEntryPoint.
const (
	EntryPointHTTP = "http"
	EntryPointTLS  = "tls"
)

// DefaultListenerPorts are web and websecure on their default ports and on the ports
// the Helm chart's Service publishes them on.
func DefaultListenerPorts() map[int32]ListenerEntryPoint {
	web, websecure := ListenerEntryPoint{Name: entryPointWeb, Kind: EntryPointHTTP}, ListenerEntryPoint{Name: entryPointWebsecure, Kind: EntryPointTLS}
	return map[int32]ListenerEntryPoint{80: web, 8000: web, 443: websecure, 8443: websecure}
}

// DefaultOptions are the gateway's defaults.
func DefaultOptions() Options {
	return Options{GatewayNamespace: "bridgehead", ClusterDomain: "cluster.local", ExpiryWarning: 14 * 24 * time.Hour, IngressClass: DefaultIngressClass}
}

// Kinds, as they appear in keys, refs and messages.
const (
	KindIngressRoute        = "IngressRoute"
	KindIngressRouteTCP     = "IngressRouteTCP"
	KindIngressRouteUDP     = "IngressRouteUDP"
	KindTLSOption           = "TLSOption"
	KindTLSStore            = "TLSStore"
	KindServersTransport    = "ServersTransport"
	KindServersTransportTCP = "ServersTransportTCP"
	KindMiddleware          = "Middleware"
	KindMiddlewareTCP       = "MiddlewareTCP"
	KindTraefikService      = "TraefikService"
	KindIngress             = "Ingress"
	KindIngressClass        = "IngressClass"
	KindSecret              = "Secret"
	KindConfigMap           = "ConfigMap"
	KindService             = "Service"
	KindEndpointSlice       = "EndpointSlice"
	KindNamespace           = "Namespace"
	KindGatewayClass        = "GatewayClass"
	KindGateway             = "Gateway"
	KindListenerSet         = "ListenerSet"
	KindHTTPRoute           = "HTTPRoute"
	KindGRPCRoute           = "GRPCRoute"
	KindTLSRoute            = "TLSRoute"
	KindTCPRoute            = "TCPRoute"
	KindReferenceGrant      = "ReferenceGrant"
	KindBackendTLSPolicy    = "BackendTLSPolicy"
)

// translator is the state of one Translate call; nothing survives it.
type translator struct {
	in   *Inputs
	opts Options

	inputIndex
	endpoints map[endpointsKey][]snapshot.Endpoint // readyEndpoints' lists, made once per build
	certCache map[nsName]certResult
	caCache   map[caSource]caResult
	reports   map[Key]*report
	policies  map[string]*snapshot.Policy    // by ID
	built     map[string]*snapshot.Transport // transports by ID
	// madeTransports are the IDs of the transports made by this build (addTransport), not
	// replayed from a record: finish merges them into the last build's list.
	madeTransports []string
	builtMW        map[nsName]*snapshot.Middleware    // compiled middlewares
	mwProblems     map[nsName]finding                 // why a middleware cannot be used
	builtMWT       map[nsName]*snapshot.TCPMiddleware // compiled TCP middlewares
	mwtProblems    map[nsName]finding                 // why a TCP middleware cannot be used
	hostClaims     map[string][]hostClaim             // TLS host name -> routes claiming it
	reportSlab     []report                           // reports are carved from it, a chunk at a time
	slotLists      lists[slotEntry]                   // the rule slots' lists start here
	claimLists     lists[hostClaim]                   // hostClaims' lists start here
	// removeHTTP and removeTCP are removeHTTPRoute and removeTCPRoute as values, made once:
	// every route's rule slot entry holds one.
	removeHTTP, removeTCP func(id string)
	memo                  *memoUse       // nil without Options.Memo (memo.go)
	rec                   *routeMemo     // the route being recorded for the memo, or nil
	irec                  *ingressMemo   // the Ingress being recorded, or nil
	hrec                  *httpRouteMemo // the HTTPRoute being recorded, or nil (memo_httproute.go)
	// btlsUses counts the backends a BackendTLSPolicy's state was consulted and written
	// for outside an HTTPRoute's record (which keeps its uses instead): a translation
	// that did so is not recorded.
	btlsUses int
	gw       *gwState // the Gateway API part (gatewayapi.go)
	snap     *snapshot.Snapshot
}

type nsName struct{ namespace, name string }

func (n nsName) String() string { return n.namespace + "/" + n.name }

// Translate builds the snapshot and the statuses from the inputs.
func Translate(in *Inputs, opts Options) (*snapshot.Snapshot, Statuses) {
	if opts.ClusterDomain == "" {
		opts.ClusterDomain = "cluster.local"
	}
	if opts.ListenerPorts == nil {
		opts.ListenerPorts = DefaultListenerPorts()
	}
	// The maps of the inputs and of the per-object reports are sized up front: at 10,000
	// routes, growing them step by step was a tenth of a rebuild (rehashes and the GC
	// work of the tables left behind).
	t := &translator{
		in: in, opts: opts,
		certCache: map[nsName]certResult{}, caCache: map[caSource]caResult{},
		policies: map[string]*snapshot.Policy{},
		// A transport per ServersTransport, and per BackendTLSPolicy its own and its copy
		// with a Gateway's client certificate: grown step by step to the 20,000 of 10,000
		// policies, the map's growth was a tenth of a build.
		built:   make(map[string]*snapshot.Transport, len(in.ServersTransports)+len(in.ServersTransportTCPs)+2*len(in.BackendTLSPolicies)),
		builtMW: map[nsName]*snapshot.Middleware{}, mwProblems: map[nsName]finding{},
		builtMWT: map[nsName]*snapshot.TCPMiddleware{}, mwtProblems: map[nsName]finding{},
		snap: &snapshot.Snapshot{},
	}
	t.removeHTTP, t.removeTCP = t.removeHTTPRoute, t.removeTCPRoute
	if opts.Memo != nil {
		t.memo = opts.Memo.use(in, opts)
		t.opts.Memo = nil
		t.reports = reuse(&opts.Memo.reports, in.reportHint())
		t.hostClaims = reuse(&opts.Memo.hostClaims, opts.Memo.hosts)
		t.slotLists, t.claimLists = opts.Memo.slotLists, opts.Memo.claimLists
		t.inputIndex = opts.Memo.index(in, t.memo.usable)
	} else {
		t.reports = make(map[Key]*report, in.reportHint())
		t.hostClaims = map[string][]hostClaim{}
		t.index(in)
	}
	t.buildPolicies()
	t.buildTLSStore()
	t.buildTransports()
	t.buildMiddlewares()
	t.buildMiddlewareTCPs()
	t.buildTraefikServices()
	t.buildIngressRoutes()
	t.buildIngresses()
	t.buildIngressRouteTCPs()
	t.buildIngressRouteUDPs()
	t.buildGatewayAPI()
	t.buildHosts()
	t.warnUnverifiedSubjects()
	t.finish()
	if t.memo != nil {
		opts.Memo.keep(in, opts)
		opts.Memo.transports = t.snap.Transports
		opts.Memo.hosts = len(t.hostClaims)
		opts.Memo.indexed = true // the index is of the inputs keep made the basis
		opts.Memo.inCall = false
	}
	groups := map[Key]string{}
	for k, g := range in.APIGroups {
		groups[k] = g
	}
	for _, o := range in.Refused {
		rep := t.reportFor(o.Key.Kind, &metav1.ObjectMeta{Namespace: o.Key.Namespace, Name: o.Key.Name, Generation: o.Generation})
		rep.total = 1
		rep.invalidf(o.Reason, o.Message)
		groups[o.Key] = o.APIGroup
	}

	statuses := make(Statuses, len(t.reports))
	// The statuses the memo may keep for later builds are cut from a slab of their own,
	// sized for them: a kept status keeps its whole chunk alive, which must not hold the
	// statuses of other objects, made afresh at every build.
	var fresh, others []*report // without a remembered status: the memo's, the rest
	for k, r := range t.reports {
		switch st := r.rememberedStatus(groups[k], t.gw.status[k]); {
		case st != nil:
			statuses[k] = st
		case r.memo != nil:
			fresh = append(fresh, r)
		default:
			others = append(others, r)
		}
	}
	for _, list := range [][]*report{fresh, others} {
		var slab statusSlab
		for i, r := range list {
			st := r.status(&slab, len(list)-i)
			st.APIGroup = groups[r.key]
			st.GatewayAPI = t.gw.status[r.key]
			r.rememberStatus(st)
			statuses[r.key] = st
		}
	}
	if t.memo != nil {
		// Emptied now, not by the next call: they point at this call's reports, which
		// would otherwise stay alive until then.
		clear(opts.Memo.reports)
		clear(opts.Memo.slots)
		clear(opts.Memo.ingressSlots)
		clear(opts.Memo.hostClaims)
		clear(opts.Memo.gwStatus)
		clear(opts.Memo.btlsWinners)
		clear(t.gw.ranked[:cap(t.gw.ranked)]) // beyond its length too: a conflict's removal shortened it
		opts.Memo.ranked = t.gw.ranked[:0]
		opts.Memo.slotLists, opts.Memo.claimLists = t.slotLists, t.claimLists
		// The lists were used only through the maps just emptied.
		opts.Memo.slotLists.recycle()
		opts.Memo.claimLists.recycle()
	}
	return t.snap, statuses
}

// reportHint is about how many objects get a report: the routes and the objects they
// reference by name. It only sizes a map.
func (in *Inputs) reportHint() int {
	return len(in.IngressRoutes) + len(in.IngressRouteTCPs) + len(in.IngressRouteUDPs) + len(in.Ingresses) +
		len(in.HTTPRoutes) + len(in.GRPCRoutes) + len(in.TLSRoutes) + len(in.TCPRoutes) +
		len(in.Middlewares) + len(in.ServersTransports) + len(in.TLSOptions) + len(in.TraefikServices) +
		len(in.BackendTLSPolicies) + len(in.Gateways) + len(in.ListenerSets)
}

// inputIndex is the inputs that routes reference by name, by namespace and name.
type inputIndex struct {
	secrets        map[nsName]*corev1.Secret
	configMaps     map[nsName]*corev1.ConfigMap
	services       map[nsName]*corev1.Service
	slices         map[nsName][]*discoveryv1.EndpointSlice // by namespace + service name
	tlsOptions     map[nsName]*bhv1.TLSOption
	transports     map[nsName]*bhv1.ServersTransport
	transportsT    map[nsName]*bhv1.ServersTransportTCP
	middlewares    map[nsName]*bhv1.Middleware
	middlewaresTCP map[nsName]*bhv1.MiddlewareTCP
	traefikSvcs    map[nsName]*bhv1.TraefikService
	sliceLists     lists[*discoveryv1.EndpointSlice] // slices' lists start here
}

// index fills x with in's objects; x's maps are emptied first, or made.
func (x *inputIndex) index(in *Inputs) {
	indexByName(&x.secrets, in.Secrets)
	indexByName(&x.configMaps, in.ConfigMaps)
	indexByName(&x.services, in.Services)
	indexByName(&x.tlsOptions, in.TLSOptions)
	indexByName(&x.transports, in.ServersTransports)
	indexByName(&x.transportsT, in.ServersTransportTCPs)
	indexByName(&x.middlewares, in.Middlewares)
	indexByName(&x.middlewaresTCP, in.MiddlewareTCPs)
	indexByName(&x.traefikSvcs, in.TraefikServices)
	reuse(&x.slices, len(in.Services))
	x.sliceLists.recycle() // slices' lists, emptied just above, were their only users
	for _, es := range in.EndpointSlices {
		if svc := es.Labels[discoveryv1.LabelServiceName]; svc != "" {
			add(x.slices, nsName{es.Namespace, svc}, es, &x.sliceLists)
		}
	}
}

// indexByName fills *m with objs by namespace and name, emptied first (or made).
func indexByName[T metav1.Object](m *map[nsName]T, objs []T) {
	reuse(m, len(objs))
	for _, o := range objs {
		(*m)[nsName{o.GetNamespace(), o.GetName()}] = o
	}
}

// reportFor returns the report of an object, creating it on first use.
func (t *translator) reportFor(kind string, meta *metav1.ObjectMeta) *report {
	k := Key{Kind: kind, Namespace: meta.Namespace, Name: meta.Name}
	r, ok := t.reports[k]
	if !ok {
		r = t.newReport()
		*r = report{key: k, uid: meta.UID, generation: meta.Generation}
		if ref, refused := t.in.Replaced[k]; refused {
			// The status is about the newest generation: it says that one is refused.
			r.refused, r.generation = &ref, ref.Generation
		}
		t.reports[k] = r
	}
	return r
}

// newReport returns a zero report from the slab: one allocation per chunk instead of one
// per object (a rebuild at 10,000 routes makes 10,000 reports).
func (t *translator) newReport() *report {
	if len(t.reportSlab) == 0 {
		t.reportSlab = make([]report, min(max(len(t.reports), 16), 1024))
	}
	r := &t.reportSlab[0]
	t.reportSlab = t.reportSlab[1:]
	return r
}

// finish sorts everything that is not yet in its final order.
func (t *translator) finish() {
	s := t.snap
	sort.SliceStable(s.HTTPRoutes, func(i, j int) bool {
		a, b := s.HTTPRoutes[i], s.HTTPRoutes[j]
		if a.Priority != b.Priority {
			return a.Priority > b.Priority
		}
		return a.ID < b.ID
	})
	sort.SliceStable(s.TCPRoutes, func(i, j int) bool {
		a, b := s.TCPRoutes[i], s.TCPRoutes[j]
		if a.Priority != b.Priority {
			return a.Priority > b.Priority
		}
		return a.ID < b.ID
	})
	ids := make([]string, 0, len(t.policies))
	for id := range t.policies {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		s.TLS.Policies = append(s.TLS.Policies, t.policies[id])
	}
	s.Transports = t.sortedTransports()
}

// sortedTransports lists the built transports in order of ID. With the memo, nearly all
// of them are the last build's, replayed: its list (kept by Translate), less those not
// built now, merged with the few this build made, takes a look-up each instead of a sort
// of all the IDs (at 10,000 verified backends, 20,000 IDs of a long common prefix: 15 ms of
// a rebuild). A transport neither list has (one replayed from a record older than the
// last build) shows in the count, and then they are all sorted, as without a memo.
func (t *translator) sortedTransports() []*snapshot.Transport {
	out := make([]*snapshot.Transport, 0, len(t.built))
	if t.memo != nil && t.memo.memo.transports != nil {
		made := t.madeTransports
		slices.Sort(made)
		made = slices.Compact(made)
		for _, last := range t.memo.memo.transports {
			for len(made) > 0 && made[0] < last.ID {
				out = append(out, t.built[made[0]])
				made = made[1:]
			}
			if len(made) > 0 && made[0] == last.ID {
				made = made[1:] // made again: t.built holds the new one
			}
			if tr, ok := t.built[last.ID]; ok {
				out = append(out, tr)
			}
		}
		for _, id := range made {
			out = append(out, t.built[id])
		}
		// The last list is strictly in order of ID (this function made it) and made is
		// too, so out holds distinct IDs of built: as many means all of them.
		if len(out) == len(t.built) {
			return out
		}
		out = out[:0]
	}
	for _, tr := range t.built {
		out = append(out, tr)
	}
	slices.SortFunc(out, func(a, b *snapshot.Transport) int { return strings.Compare(a.ID, b.ID) })
	return out
}

// sortedByName returns objects sorted by namespace/name, for deterministic processing.
// The result is only read: when objs is in that order already (a cluster's lists are
// sorted by kube.Read, a folder's usually are), it is objs itself, not a sorted copy.
func sortedByName[T metav1.Object](objs []T) []T {
	if slices.IsSortedFunc(objs, compareByName[T]) {
		return slices.Clip(objs)
	}
	out := slices.Clone(objs)
	slices.SortFunc(out, compareByName[T])
	return out
}

// permitted reports whether an object in namespace from may reference one in namespace to.
func (t *translator) permitted(from, to string) bool {
	return from == to || t.opts.AllowCrossNamespace
}
