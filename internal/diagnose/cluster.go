package diagnose

import (
	"context"
	"fmt"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"

	bhv1 "github.com/bridgehead/bridgehead/api/v1alpha1"
	"github.com/bridgehead/bridgehead/internal/rule"
	"github.com/bridgehead/bridgehead/internal/translate"
)

// FromCluster reads from a cluster what translate needs to diagnose targets (every route
// of namespace when targets is empty): the routes, then every kind translate reads in the
// namespaces they touch: their own, the gateway's (default TLSOption and TLSStore), the
// namespaces of the objects they reference, and those of other routes that share a host
// or a rule with them (TLSOption conflicts, rule conflicts). Kinds that cannot be listed
// (RBAC) are skipped with a note that says what the diagnosis then cannot see.
func FromCluster(ctx context.Context, c client.Reader, namespace string, targets []Target, gatewayNamespace string) (*translate.Inputs, []Target, []string, error) {
	var notes []string
	irs, irts, scoped, err := listRoutes(ctx, c, namespace, targets)
	if err != nil {
		return nil, nil, nil, err
	}
	if scoped {
		notes = append(notes, fmt.Sprintf("routes could only be listed in namespace %s (forbidden cluster-wide): conflicts with routes in other namespaces are not checked", namespace))
	}
	if len(targets) == 0 {
		for _, ir := range irs {
			if ir.Namespace == namespace {
				targets = append(targets, Target{Kind: translate.KindIngressRoute, Namespace: ir.Namespace, Name: ir.Name})
			}
		}
		for _, ir := range irts {
			if ir.Namespace == namespace {
				targets = append(targets, Target{Kind: translate.KindIngressRouteTCP, Namespace: ir.Namespace, Name: ir.Name})
			}
		}
	}
	in := &translate.Inputs{}
	namespaces := relevant(irs, irts, targets, in)
	namespaces[gatewayNamespace] = true
	for _, t := range targets {
		namespaces[t.Namespace] = true
	}
	for _, ns := range sortedKeys(namespaces) {
		notes = append(notes, listNamespace(ctx, c, ns, in)...)
	}
	return in, targets, notes, nil
}

// listRoutes lists routes cluster-wide, or in the targets' namespaces when that is
// forbidden (scoped is then true).
func listRoutes(ctx context.Context, c client.Reader, namespace string, targets []Target) (irs []*bhv1.IngressRoute, irts []*bhv1.IngressRouteTCP, scoped bool, err error) {
	const hint = " (are the Bridgehead CRDs installed? kubectl apply -k config/crd)"
	var all bhv1.IngressRouteList
	err = c.List(ctx, &all)
	if apierrors.IsForbidden(err) {
		scoped = true
		for _, ns := range routeNamespaces(namespace, targets) {
			var l bhv1.IngressRouteList
			if err := c.List(ctx, &l, client.InNamespace(ns)); err != nil {
				return nil, nil, true, fmt.Errorf("listing IngressRoutes in namespace %s: %w", ns, err)
			}
			irs = append(irs, ptrs(l.Items)...)
		}
	} else if err != nil {
		return nil, nil, false, fmt.Errorf("listing IngressRoutes: %w%s", err, hint)
	} else {
		irs = ptrs(all.Items)
	}
	var allTCP bhv1.IngressRouteTCPList
	err = c.List(ctx, &allTCP)
	if apierrors.IsForbidden(err) {
		scoped = true
		for _, ns := range routeNamespaces(namespace, targets) {
			var l bhv1.IngressRouteTCPList
			if err := c.List(ctx, &l, client.InNamespace(ns)); err != nil {
				return nil, nil, true, fmt.Errorf("listing IngressRouteTCPs in namespace %s: %w", ns, err)
			}
			irts = append(irts, ptrs(l.Items)...)
		}
	} else if err != nil {
		return nil, nil, false, fmt.Errorf("listing IngressRouteTCPs: %w%s", err, hint)
	} else {
		irts = ptrs(allTCP.Items)
	}
	return irs, irts, scoped, nil
}

func routeNamespaces(namespace string, targets []Target) []string {
	set := map[string]bool{namespace: true}
	for _, t := range targets {
		set[t.Namespace] = true
	}
	return sortedKeys(set)
}

// relevant keeps the targets and the routes that share a host or a rule with them in in,
// and returns the namespaces all of them touch.
func relevant(irs []*bhv1.IngressRoute, irts []*bhv1.IngressRouteTCP, targets []Target, in *translate.Inputs) map[string]bool {
	isTarget := map[Target]bool{}
	for _, t := range targets {
		isTarget[t] = true
	}
	hosts, matches := map[string]bool{}, map[string]bool{}
	note := func(match string, kind rule.Kind, tls *bhv1.TLS, tcp *bhv1.TLSTCP) {
		matches[match] = true
		if r, err := rule.Parse(match, kind); err == nil {
			hs, _ := r.Hosts()
			for _, h := range hs {
				hosts[h] = true
			}
		}
		var domains []bhv1.Domain
		if tls != nil {
			domains = tls.Domains
		} else if tcp != nil {
			domains = tcp.Domains
		}
		for _, d := range domains {
			hosts[strings.ToLower(d.Main)] = true
			for _, s := range d.SANs {
				hosts[strings.ToLower(s)] = true
			}
		}
	}
	for _, ir := range irs {
		if isTarget[Target{translate.KindIngressRoute, ir.Namespace, ir.Name}] {
			for _, r := range ir.Spec.Routes {
				note(r.Match, rule.HTTP, ir.Spec.TLS, nil)
			}
		}
	}
	for _, ir := range irts {
		if isTarget[Target{translate.KindIngressRouteTCP, ir.Namespace, ir.Name}] {
			for _, r := range ir.Spec.Routes {
				note(r.Match, rule.TCP, nil, ir.Spec.TLS)
			}
		}
	}
	shares := func(match string, kind rule.Kind) bool {
		if matches[match] {
			return true
		}
		r, err := rule.Parse(match, kind)
		if err != nil {
			return false
		}
		hs, _ := r.Hosts()
		for _, h := range hs {
			if hosts[h] {
				return true
			}
		}
		return false
	}
	ns := map[string]bool{}
	ref := func(own, other string) {
		if other == "" {
			other = own
		}
		ns[other] = true
	}
	for _, ir := range irs {
		keep := isTarget[Target{translate.KindIngressRoute, ir.Namespace, ir.Name}]
		for _, r := range ir.Spec.Routes {
			keep = keep || shares(r.Match, rule.HTTP)
		}
		if !keep {
			continue
		}
		in.IngressRoutes = append(in.IngressRoutes, ir)
		ns[ir.Namespace] = true
		if t := ir.Spec.TLS; t != nil && t.Options != nil {
			ref(ir.Namespace, t.Options.Namespace)
		}
		for _, r := range ir.Spec.Routes {
			for _, s := range r.Services {
				ref(ir.Namespace, s.Namespace)
			}
			for _, m := range r.Middlewares {
				ref(ir.Namespace, m.Namespace)
			}
		}
	}
	for _, ir := range irts {
		keep := isTarget[Target{translate.KindIngressRouteTCP, ir.Namespace, ir.Name}]
		for _, r := range ir.Spec.Routes {
			keep = keep || shares(r.Match, rule.TCP)
		}
		if !keep {
			continue
		}
		in.IngressRouteTCPs = append(in.IngressRouteTCPs, ir)
		ns[ir.Namespace] = true
		if t := ir.Spec.TLS; t != nil && t.Options != nil {
			ref(ir.Namespace, t.Options.Namespace)
		}
		for _, r := range ir.Spec.Routes {
			for _, s := range r.Services {
				ref(ir.Namespace, s.Namespace)
			}
			for _, m := range r.Middlewares {
				ref(ir.Namespace, m.Namespace)
			}
		}
	}
	return ns
}

// listNamespace lists every other kind translate reads in one namespace into in.
func listNamespace(ctx context.Context, c client.Reader, ns string, in *translate.Inputs) []string {
	var (
		opts   bhv1.TLSOptionList
		stores bhv1.TLSStoreList
		sts    bhv1.ServersTransportList
		stts   bhv1.ServersTransportTCPList
		mws    bhv1.MiddlewareList
		mwts   bhv1.MiddlewareTCPList
		secs   corev1.SecretList
		cms    corev1.ConfigMapList
		svcs   corev1.ServiceList
		slices discoveryv1.EndpointSliceList
	)
	var notes []string
	lists := []struct {
		list client.ObjectList
		what string
	}{
		{&opts, "TLSOptions"}, {&stores, "TLSStores"}, {&sts, "ServersTransports"}, {&stts, "ServersTransportTCPs"},
		{&mws, "Middlewares"}, {&mwts, "MiddlewareTCPs"}, {&secs, "Secrets"}, {&cms, "ConfigMaps"}, {&svcs, "Services"}, {&slices, "EndpointSlices"},
	}
	for _, l := range lists {
		if err := c.List(ctx, l.list, client.InNamespace(ns)); err != nil {
			notes = append(notes, fmt.Sprintf("could not list %s in namespace %s (%v): every one of them a route references there shows as not found", l.what, ns, err))
		}
	}
	in.TLSOptions = append(in.TLSOptions, ptrs(opts.Items)...)
	in.TLSStores = append(in.TLSStores, ptrs(stores.Items)...)
	in.ServersTransports = append(in.ServersTransports, ptrs(sts.Items)...)
	in.ServersTransportTCPs = append(in.ServersTransportTCPs, ptrs(stts.Items)...)
	in.Middlewares = append(in.Middlewares, ptrs(mws.Items)...)
	in.MiddlewareTCPs = append(in.MiddlewareTCPs, ptrs(mwts.Items)...)
	in.Secrets = append(in.Secrets, ptrs(secs.Items)...)
	in.ConfigMaps = append(in.ConfigMaps, ptrs(cms.Items)...)
	in.Services = append(in.Services, ptrs(svcs.Items)...)
	in.EndpointSlices = append(in.EndpointSlices, ptrs(slices.Items)...)
	sort.Strings(notes)
	return notes
}

func ptrs[T any](items []T) []*T {
	out := make([]*T, len(items))
	for i := range items {
		out[i] = &items[i]
	}
	return out
}
