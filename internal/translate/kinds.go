package translate

import (
	"cmp"
	"slices"
	"strings"
	"unsafe"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	bhv1 "github.com/bridgehead/bridgehead/api/v1alpha1"
	"github.com/bridgehead/bridgehead/internal/ingressannotations"
)

// The input kinds, registered once. Every place that lists, decodes, visits, copies,
// merges, indexes or watches inputs — the cluster reader (internal/source/kube), the folder
// loader (internal/source/manifests), the controller's watches and reference index, last-good
// carrying, the status writer — loops over Kinds instead of naming each kind, so a new
// input kind is its API type, its translate file and one line here.

// Object is a Kubernetes object (controller-runtime's client.Object has the same method set).
type Object interface {
	metav1.Object
	runtime.Object
}

// ObjectList is a list of objects (as controller-runtime's client.ObjectList).
type ObjectList interface {
	metav1.ListInterface
	runtime.Object
}

// Kind is one input kind.
type Kind interface {
	// Name is the kind, as in Key.Kind.
	Name() string
	// Ours is one of Bridgehead's CRDs: it has a status of ours, and is read from
	// Traefik's API groups as well when asked.
	Ours() bool
	// Namespaced: the kind lives in namespaces (IngressClass does not).
	Namespaced() bool
	// GatewayAPI is a kind of the Gateway API (gateway.networking.k8s.io): read only when
	// its CRD is installed, with a status in the Gateway API's own shape.
	GatewayAPI() bool
	// NewObject and NewList return empty values of the kind's types.
	NewObject() Object
	NewList() ObjectList
	// AppendList adds the items of a list of this kind to in.
	AppendList(in *Inputs, list ObjectList)
	// Append adds one object of this kind to in.
	Append(in *Inputs, obj Object)
	// Objects returns the objects of this kind in in.
	Objects(in *Inputs) []Object
	// References are the core objects an object of this kind names ("Secret/ns/name",
	// "ConfigMap/ns/name", "Service/ns/name"), so that a change to one of them rebuilds;
	// Referencing says whether the kind names any.
	References(obj Object) []string
	Referencing() bool

	visit(in *Inputs, fn func(Key, metav1.Object) metav1.Object)
	copyList(in *Inputs)
	// sameVersions reports whether a and b hold the same versions of the same objects of
	// this kind, in the same order (see sameVersion and sameGeneration).
	sameVersions(a, b *Inputs) bool
	count(in *Inputs) int
	reserve(in *Inputs, n int)
	sortList(in, prev *Inputs)
}

// Kinds are the input kinds, ours first.
var Kinds = []Kind{
	kind(KindIngressRoute, ours, func(in *Inputs) *[]*bhv1.IngressRoute { return &in.IngressRoutes },
		func(l *bhv1.IngressRouteList) []bhv1.IngressRoute { return l.Items }, ingressRouteRefs),
	kind(KindIngressRouteTCP, ours, func(in *Inputs) *[]*bhv1.IngressRouteTCP { return &in.IngressRouteTCPs },
		func(l *bhv1.IngressRouteTCPList) []bhv1.IngressRouteTCP { return l.Items }, ingressRouteTCPRefs),
	kind(KindIngressRouteUDP, ours, func(in *Inputs) *[]*bhv1.IngressRouteUDP { return &in.IngressRouteUDPs },
		func(l *bhv1.IngressRouteUDPList) []bhv1.IngressRouteUDP { return l.Items }, ingressRouteUDPRefs),
	kind(KindTLSOption, ours, func(in *Inputs) *[]*bhv1.TLSOption { return &in.TLSOptions },
		func(l *bhv1.TLSOptionList) []bhv1.TLSOption { return l.Items }, tlsOptionRefs),
	kind(KindTLSStore, ours, func(in *Inputs) *[]*bhv1.TLSStore { return &in.TLSStores },
		func(l *bhv1.TLSStoreList) []bhv1.TLSStore { return l.Items }, tlsStoreRefs),
	kind(KindServersTransport, ours, func(in *Inputs) *[]*bhv1.ServersTransport { return &in.ServersTransports },
		func(l *bhv1.ServersTransportList) []bhv1.ServersTransport { return l.Items },
		func(st *bhv1.ServersTransport) []string {
			return UpstreamReferences(st.Namespace, &st.Spec.UpstreamTLS)
		}),
	kind(KindServersTransportTCP, ours, func(in *Inputs) *[]*bhv1.ServersTransportTCP { return &in.ServersTransportTCPs },
		func(l *bhv1.ServersTransportTCPList) []bhv1.ServersTransportTCP { return l.Items }, serversTransportTCPRefs),
	kind(KindMiddleware, ours, func(in *Inputs) *[]*bhv1.Middleware { return &in.Middlewares },
		func(l *bhv1.MiddlewareList) []bhv1.Middleware { return l.Items }, middlewareRefs),
	kind(KindMiddlewareTCP, ours, func(in *Inputs) *[]*bhv1.MiddlewareTCP { return &in.MiddlewareTCPs },
		func(l *bhv1.MiddlewareTCPList) []bhv1.MiddlewareTCP { return l.Items }, nil),
	kind(KindTraefikService, ours, func(in *Inputs) *[]*bhv1.TraefikService { return &in.TraefikServices },
		func(l *bhv1.TraefikServiceList) []bhv1.TraefikService { return l.Items }, traefikServiceRefs),
	kind(KindSecret, core, func(in *Inputs) *[]*corev1.Secret { return &in.Secrets },
		func(l *corev1.SecretList) []corev1.Secret { return l.Items }, nil),
	kind(KindConfigMap, core, func(in *Inputs) *[]*corev1.ConfigMap { return &in.ConfigMaps },
		func(l *corev1.ConfigMapList) []corev1.ConfigMap { return l.Items }, nil),
	kind(KindService, core, func(in *Inputs) *[]*corev1.Service { return &in.Services },
		func(l *corev1.ServiceList) []corev1.Service { return l.Items }, nil),
	kind(KindEndpointSlice, core, func(in *Inputs) *[]*discoveryv1.EndpointSlice { return &in.EndpointSlices },
		func(l *discoveryv1.EndpointSliceList) []discoveryv1.EndpointSlice { return l.Items }, nil),
	kind(KindIngress, core, func(in *Inputs) *[]*networkingv1.Ingress { return &in.Ingresses },
		func(l *networkingv1.IngressList) []networkingv1.Ingress { return l.Items }, ingressRefs),
	kind(KindIngressClass, clusterScoped, func(in *Inputs) *[]*networkingv1.IngressClass { return &in.IngressClasses },
		func(l *networkingv1.IngressClassList) []networkingv1.IngressClass { return l.Items }, nil),
	// Namespaces are read for the Gateway API's allowedRoutes namespace selectors.
	kind(KindNamespace, clusterScoped, func(in *Inputs) *[]*corev1.Namespace { return &in.Namespaces },
		func(l *corev1.NamespaceList) []corev1.Namespace { return l.Items }, nil),
	kind(KindGatewayClass, gatewayAPICluster, func(in *Inputs) *[]*gwv1.GatewayClass { return &in.GatewayClasses },
		func(l *gwv1.GatewayClassList) []gwv1.GatewayClass { return l.Items }, nil),
	kind(KindGateway, gatewayAPI, func(in *Inputs) *[]*gwv1.Gateway { return &in.Gateways },
		func(l *gwv1.GatewayList) []gwv1.Gateway { return l.Items }, gatewayRefs),
	kind(KindListenerSet, gatewayAPI, func(in *Inputs) *[]*gwv1.ListenerSet { return &in.ListenerSets },
		func(l *gwv1.ListenerSetList) []gwv1.ListenerSet { return l.Items }, listenerSetRefs),
	kind(KindHTTPRoute, gatewayAPI, func(in *Inputs) *[]*gwv1.HTTPRoute { return &in.HTTPRoutes },
		func(l *gwv1.HTTPRouteList) []gwv1.HTTPRoute { return l.Items }, httpRouteRefs),
	kind(KindGRPCRoute, gatewayAPI, func(in *Inputs) *[]*gwv1.GRPCRoute { return &in.GRPCRoutes },
		func(l *gwv1.GRPCRouteList) []gwv1.GRPCRoute { return l.Items }, grpcRouteRefs),
	kind(KindTLSRoute, gatewayAPI, func(in *Inputs) *[]*gwv1.TLSRoute { return &in.TLSRoutes },
		func(l *gwv1.TLSRouteList) []gwv1.TLSRoute { return l.Items }, tlsRouteRefs),
	kind(KindTCPRoute, gatewayAPI, func(in *Inputs) *[]*gwv1.TCPRoute { return &in.TCPRoutes },
		func(l *gwv1.TCPRouteList) []gwv1.TCPRoute { return l.Items }, tcpRouteRefs),
	kind(KindReferenceGrant, gatewayAPI, func(in *Inputs) *[]*gwv1.ReferenceGrant { return &in.ReferenceGrants },
		func(l *gwv1.ReferenceGrantList) []gwv1.ReferenceGrant { return l.Items }, nil),
	kind(KindBackendTLSPolicy, gatewayAPI, func(in *Inputs) *[]*gwv1.BackendTLSPolicy { return &in.BackendTLSPolicies },
		func(l *gwv1.BackendTLSPolicyList) []gwv1.BackendTLSPolicy { return l.Items }, backendTLSPolicyRefs),
}

// KindNamed returns the registered kind of that name.
func KindNamed(name string) (Kind, bool) {
	for _, k := range Kinds {
		if k.Name() == name {
			return k, true
		}
	}
	return nil, false
}

// OurKinds are the names of Bridgehead's CRD kinds, in registration order.
func OurKinds() []string {
	var out []string
	for _, k := range Kinds {
		if k.Ours() {
			out = append(out, k.Name())
		}
	}
	return out
}

type scope int

const (
	ours scope = iota
	core
	clusterScoped
	gatewayAPI
	gatewayAPICluster
)

// typedKind implements Kind for object type T (pointer PT) and list type L (pointer PL).
type typedKind[T any, PT interface {
	*T
	Object
}, L any, PL interface {
	*L
	ObjectList
}] struct {
	name  string
	scope scope
	field func(*Inputs) *[]PT
	items func(PL) []T
	refs  func(PT) []string
}

func kind[T any, PT interface {
	*T
	Object
}, L any, PL interface {
	*L
	ObjectList
}](name string, s scope, field func(*Inputs) *[]PT, items func(PL) []T, refs func(PT) []string) Kind {
	return &typedKind[T, PT, L, PL]{name: name, scope: s, field: field, items: items, refs: refs}
}

func (k *typedKind[T, PT, L, PL]) Name() string { return k.name }
func (k *typedKind[T, PT, L, PL]) Ours() bool   { return k.scope == ours }
func (k *typedKind[T, PT, L, PL]) Namespaced() bool {
	return k.scope != clusterScoped && k.scope != gatewayAPICluster
}
func (k *typedKind[T, PT, L, PL]) GatewayAPI() bool {
	return k.scope == gatewayAPI || k.scope == gatewayAPICluster
}
func (k *typedKind[T, PT, L, PL]) NewObject() Object   { return PT(new(T)) }
func (k *typedKind[T, PT, L, PL]) NewList() ObjectList { return PL(new(L)) }

func (k *typedKind[T, PT, L, PL]) AppendList(in *Inputs, list ObjectList) {
	items := k.items(list.(PL))
	dst := k.field(in)
	for i := range items {
		*dst = append(*dst, PT(&items[i]))
	}
}

func (k *typedKind[T, PT, L, PL]) Append(in *Inputs, obj Object) {
	dst := k.field(in)
	*dst = append(*dst, obj.(PT))
}

func (k *typedKind[T, PT, L, PL]) Objects(in *Inputs) []Object {
	list := *k.field(in)
	out := make([]Object, len(list))
	for i, o := range list {
		out[i] = o
	}
	return out
}

func (k *typedKind[T, PT, L, PL]) Referencing() bool { return k.refs != nil }

func (k *typedKind[T, PT, L, PL]) References(obj Object) []string {
	if k.refs == nil {
		return nil
	}
	return k.refs(obj.(PT))
}

func (k *typedKind[T, PT, L, PL]) visit(in *Inputs, fn func(Key, metav1.Object) metav1.Object) {
	list := *k.field(in)
	for i, o := range list {
		if r := fn(Key{Kind: k.name, Namespace: o.GetNamespace(), Name: o.GetName()}, o); r != nil {
			list[i] = r.(PT)
		}
	}
}

func (k *typedKind[T, PT, L, PL]) sameVersions(a, b *Inputs) bool {
	la, lb := *k.field(a), *k.field(b)
	if len(la) != len(lb) {
		return false
	}
	same := sameVersion
	if k.Ours() || k.GatewayAPI() {
		same = sameGeneration
	}
	for i := range la {
		if !same(la[i], lb[i]) {
			return false
		}
	}
	return true
}

func (k *typedKind[T, PT, L, PL]) count(in *Inputs) int { return len(*k.field(in)) }
func (k *typedKind[T, PT, L, PL]) reserve(in *Inputs, n int) {
	f := k.field(in)
	*f = slices.Grow(*f, n)
}

// compareByName orders objects by namespace, then name: the order of Inputs' lists (see
// SortByName) and of translation (sortedByName).
func compareByName[T metav1.Object](a, b T) int {
	return cmp.Or(strings.Compare(a.GetNamespace(), b.GetNamespace()), strings.Compare(a.GetName(), b.GetName()))
}

func (k *typedKind[T, PT, L, PL]) sortList(in, prev *Inputs) {
	byName := compareByName[PT]
	list := *k.field(in)
	var before []PT
	if prev != nil {
		before = *k.field(prev)
	}
	if len(before) < 64 || len(list) < 64 {
		slices.SortFunc(list, byName)
		return
	}
	// The objects the last read had are in its order already (an object never changes
	// its name): found by address, they keep it, and only the others are sorted, then
	// merged in. Sorting 10,000 IngressRoutes by name was 7 ms of every cluster rebuild;
	// this is a map of their addresses and two passes. The map is the last read's, used
	// again (see Inputs.ranks).
	rank := in.ranks
	clear(rank)
	for i, o := range before {
		rank[unsafe.Pointer(o)] = i
	}
	kept := make([]PT, len(before))
	var fresh []PT
	for _, o := range list {
		if i, ok := rank[unsafe.Pointer(o)]; ok {
			kept[i] = o
		} else {
			fresh = append(fresh, o)
		}
	}
	kept = slices.DeleteFunc(kept, func(o PT) bool { return o == nil })
	slices.SortFunc(fresh, byName)
	out := list[:0]
	for len(kept) > 0 && len(fresh) > 0 {
		if byName(fresh[0], kept[0]) < 0 {
			out, fresh = append(out, fresh[0]), fresh[1:]
		} else {
			out, kept = append(out, kept[0]), kept[1:]
		}
	}
	out = append(append(out, kept...), fresh...)
	*k.field(in) = out
}

func (k *typedKind[T, PT, L, PL]) copyList(in *Inputs) {
	f := k.field(in)
	*f = append([]PT(nil), (*f)...)
}

// Reference formats a reference as the index keys it: "Kind/namespace/name".
func Reference(kind, namespace, name string) string { return kind + "/" + namespace + "/" + name }

func orNamespace(ns, def string) string {
	if ns == "" {
		return def
	}
	return ns
}

func ingressRouteRefs(ir *bhv1.IngressRoute) []string {
	var secret bhv1.SecretName
	if ir.Spec.TLS != nil {
		secret = ir.Spec.TLS.SecretName
	}
	return routeRefs(ir.Namespace, secret, ir.Spec.Routes, func(r bhv1.Route) []bhv1.Service { return r.Services },
		func(s bhv1.Service) (string, string) { return s.Namespace, s.Name })
}

func ingressRouteTCPRefs(ir *bhv1.IngressRouteTCP) []string {
	var secret bhv1.SecretName
	if tls := ir.Spec.TLS; tls != nil {
		secret = tls.SecretName
	}
	return routeRefs(ir.Namespace, secret, ir.Spec.Routes, func(r bhv1.RouteTCP) []bhv1.ServiceTCP { return r.Services },
		func(s bhv1.ServiceTCP) (string, string) { return s.Namespace, s.Name })
}

func ingressRouteUDPRefs(ir *bhv1.IngressRouteUDP) []string {
	return routeRefs(ir.Namespace, "", ir.Spec.Routes, func(r bhv1.RouteUDP) []bhv1.ServiceUDP { return r.Services },
		func(s bhv1.ServiceUDP) (string, string) { return s.Namespace, s.Name })
}

// routeRefs are a route object's edge certificate Secret and the Services of its routes.
func routeRefs[R, S any](ns string, secret bhv1.SecretName, routes []R, services func(R) []S, name func(S) (string, string)) []string {
	var out []string
	if secret != "" {
		out = append(out, Reference(KindSecret, ns, string(secret)))
	}
	for _, r := range routes {
		for _, s := range services(r) {
			svcNS, svc := name(s)
			if kind, ok := any(s).(bhv1.Service); ok && kind.Kind == bhv1.ServiceKindTraefikService {
				// The TraefikService is an input of its own: it names the Services.
				continue
			}
			out = append(out, Reference(KindService, orNamespace(svcNS, ns), svc))
		}
	}
	return out
}

func tlsOptionRefs(opt *bhv1.TLSOption) []string {
	var out []string
	for _, s := range opt.Spec.ClientAuth.SecretNames {
		out = append(out, Reference(KindSecret, opt.Namespace, string(s)))
	}
	return out
}

func tlsStoreRefs(st *bhv1.TLSStore) []string {
	var out []string
	if st.Spec.DefaultCertificate != nil {
		out = append(out, Reference(KindSecret, st.Namespace, string(st.Spec.DefaultCertificate.SecretName)))
	}
	for _, c := range st.Spec.Certificates {
		out = append(out, Reference(KindSecret, st.Namespace, string(c.SecretName)))
	}
	return out
}

// middlewareRefs are the Secrets a Middleware reads (the users of basicAuth and digestAuth)
// and the Service that serves errors pages.
func middlewareRefs(m *bhv1.Middleware) []string {
	var out []string
	if b := m.Spec.BasicAuth; b != nil && b.Secret != "" {
		out = append(out, Reference(KindSecret, m.Namespace, b.Secret))
	}
	if d := m.Spec.DigestAuth; d != nil && d.Secret != "" {
		out = append(out, Reference(KindSecret, m.Namespace, d.Secret))
	}
	if e := m.Spec.Errors; e != nil && e.Service.Name != "" {
		out = append(out, Reference(KindService, orNamespace(e.Service.Namespace, m.Namespace), e.Service.Name))
	}
	return append(out, forwardAuthRefs(m)...)
}

func serversTransportTCPRefs(st *bhv1.ServersTransportTCP) []string {
	if st.Spec.TLS == nil {
		return nil
	}
	return UpstreamReferences(st.Namespace, st.Spec.TLS)
}

func ingressRefs(ing *networkingv1.Ingress) []string {
	var out []string
	for _, t := range ing.Spec.TLS {
		if t.SecretName != "" {
			out = append(out, Reference(KindSecret, ing.Namespace, t.SecretName))
		}
	}
	backend := func(b *networkingv1.IngressBackend) {
		if b != nil && b.Service != nil {
			out = append(out, Reference(KindService, ing.Namespace, b.Service.Name))
		}
	}
	backend(ing.Spec.DefaultBackend)
	for _, r := range ing.Spec.Rules {
		if r.HTTP == nil {
			continue
		}
		for i := range r.HTTP.Paths {
			backend(&r.HTTP.Paths[i].Backend)
		}
	}
	// The Secrets other controllers' annotations name (a backend CA, a client
	// certificate, a client CA), so that creating or fixing one re-translates the Ingress.
	res := ingressannotations.Read(ingressannotations.Input{Ingress: ing})
	if tr := res.Transport; tr != nil {
		out = append(out, UpstreamReferences(tr.Namespace, &tr.Spec.UpstreamTLS)...)
	}
	if opt := res.TLSOption; opt != nil {
		for _, s := range opt.Spec.ClientAuth.SecretNames {
			out = append(out, Reference(KindSecret, opt.Namespace, string(s)))
		}
	}
	return out
}

// UpstreamReferences are the Secrets and ConfigMaps a backend TLS spec names.
func UpstreamReferences(ns string, u *bhv1.UpstreamTLS) []string {
	var out []string
	for _, ca := range u.RootCAs {
		switch {
		case ca.Secret != nil:
			out = append(out, Reference(KindSecret, ns, string(*ca.Secret)))
		case ca.ConfigMap != nil:
			out = append(out, Reference(KindConfigMap, ns, *ca.ConfigMap))
		}
	}
	for _, s := range u.RootCAsSecrets { //nolint:staticcheck // Traefik manifests still use the deprecated alias
		out = append(out, Reference(KindSecret, ns, string(s)))
	}
	for _, s := range u.CertificatesSecrets {
		out = append(out, Reference(KindSecret, ns, string(s)))
	}
	return out
}

// traefikServiceRefs are the Services a TraefikService names directly (nested
// TraefikServices name their own).
func traefikServiceRefs(ts *bhv1.TraefikService) []string {
	var entries []bhv1.Service
	if w := ts.Spec.Weighted; w != nil {
		entries = w.Services
	}
	if h := ts.Spec.HighestRandomWeight; h != nil {
		entries = append(entries, h.Services...)
	}
	if f := ts.Spec.Failover; f != nil {
		entries = append(entries, f.Service, f.Fallback)
	}
	if m := ts.Spec.Mirroring; m != nil {
		entries = append(entries, m.Service)
		for _, mr := range m.Mirrors {
			entries = append(entries, mr.Service)
		}
	}
	var out []string
	for _, s := range entries {
		if s.Kind != bhv1.ServiceKindTraefikService {
			out = append(out, Reference(KindService, orNamespace(s.Namespace, ts.Namespace), s.Name))
		}
	}
	return out
}
