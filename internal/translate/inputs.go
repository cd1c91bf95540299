package translate

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Visit calls fn with every input object and its key, kind by kind. When fn returns an
// object, it replaces the visited one in its list (it must be of the same type): the
// caller owns the lists it changes this way, see ShallowCopy.
func (in *Inputs) Visit(fn func(Key, metav1.Object) metav1.Object) {
	visit(KindIngressRoute, in.IngressRoutes, fn)
	visit(KindIngressRouteTCP, in.IngressRouteTCPs, fn)
	visit(KindTLSOption, in.TLSOptions, fn)
	visit(KindTLSStore, in.TLSStores, fn)
	visit(KindServersTransport, in.ServersTransports, fn)
	visit(KindServersTransportTCP, in.ServersTransportTCPs, fn)
	visit(KindMiddleware, in.Middlewares, fn)
	visit(KindSecret, in.Secrets, fn)
	visit(KindConfigMap, in.ConfigMaps, fn)
	visit("Service", in.Services, fn)
	visit("EndpointSlice", in.EndpointSlices, fn)
	visit(KindIngress, in.Ingresses, fn)
	visit("IngressClass", in.IngressClasses, fn)
}

func visit[T metav1.Object](kind string, list []T, fn func(Key, metav1.Object) metav1.Object) {
	for i, o := range list {
		if r := fn(Key{Kind: kind, Namespace: o.GetNamespace(), Name: o.GetName()}, o); r != nil {
			list[i] = r.(T)
		}
	}
}

// ShallowCopy copies the lists (not the objects), so that Visit may replace objects in
// the copy without touching the caller's inputs.
func (in *Inputs) ShallowCopy() *Inputs {
	out := *in
	out.IngressRoutes = clone(in.IngressRoutes)
	out.IngressRouteTCPs = clone(in.IngressRouteTCPs)
	out.TLSOptions = clone(in.TLSOptions)
	out.TLSStores = clone(in.TLSStores)
	out.ServersTransports = clone(in.ServersTransports)
	out.ServersTransportTCPs = clone(in.ServersTransportTCPs)
	out.Middlewares = clone(in.Middlewares)
	out.Secrets = clone(in.Secrets)
	out.ConfigMaps = clone(in.ConfigMaps)
	out.Services = clone(in.Services)
	out.EndpointSlices = clone(in.EndpointSlices)
	out.Ingresses = clone(in.Ingresses)
	out.IngressClasses = clone(in.IngressClasses)
	return &out
}

func clone[T any](s []T) []T { return append([]T(nil), s...) }
