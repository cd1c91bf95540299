package controllers

import (
	"context"

	networkingv1 "k8s.io/api/networking/v1"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	"sigs.k8s.io/controller-runtime/pkg/client"

	bhv1 "github.com/bridgehead/bridgehead/api/v1alpha1"
	"github.com/bridgehead/bridgehead/internal/ingressannotations"
)

// refsIndex indexes our objects by the core objects they reference ("Secret/ns/name",
// "ConfigMap/ns/name", "Service/ns/name"), so that a change to a Secret nobody references
// does not rebuild the snapshot.
const refsIndex = "bridgehead.dev/refs"

func ref(kind, namespace, name string) string { return kind + "/" + namespace + "/" + name }

func orDefault(ns, def string) string {
	if ns == "" {
		return def
	}
	return ns
}

// referencing lists, per kind, how to extract the references of one object.
var referencing = []struct {
	obj     client.Object
	list    client.ObjectList
	extract func(client.Object) []string
}{
	{&bhv1.IngressRoute{}, &bhv1.IngressRouteList{}, func(o client.Object) []string {
		ir := o.(*bhv1.IngressRoute)
		var out []string
		if ir.Spec.TLS != nil && ir.Spec.TLS.SecretName != "" {
			out = append(out, ref("Secret", ir.Namespace, string(ir.Spec.TLS.SecretName)))
		}
		for _, r := range ir.Spec.Routes {
			for _, s := range r.Services {
				out = append(out, ref("Service", orDefault(s.Namespace, ir.Namespace), s.Name))
			}
		}
		return out
	}},
	{&bhv1.IngressRouteTCP{}, &bhv1.IngressRouteTCPList{}, func(o client.Object) []string {
		ir := o.(*bhv1.IngressRouteTCP)
		var out []string
		if ir.Spec.TLS != nil && ir.Spec.TLS.SecretName != "" {
			out = append(out, ref("Secret", ir.Namespace, string(ir.Spec.TLS.SecretName)))
		}
		for _, r := range ir.Spec.Routes {
			for _, s := range r.Services {
				out = append(out, ref("Service", orDefault(s.Namespace, ir.Namespace), s.Name))
			}
		}
		return out
	}},
	{&networkingv1.Ingress{}, &networkingv1.IngressList{}, func(o client.Object) []string {
		ing := o.(*networkingv1.Ingress)
		var out []string
		for _, t := range ing.Spec.TLS {
			if t.SecretName != "" {
				out = append(out, ref("Secret", ing.Namespace, t.SecretName))
			}
		}
		backend := func(b *networkingv1.IngressBackend) {
			if b != nil && b.Service != nil {
				out = append(out, ref("Service", ing.Namespace, b.Service.Name))
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
		return append(out, annotationRefs(ing)...)
	}},
	{&bhv1.TLSOption{}, &bhv1.TLSOptionList{}, func(o client.Object) []string {
		opt := o.(*bhv1.TLSOption)
		var out []string
		for _, s := range opt.Spec.ClientAuth.SecretNames {
			out = append(out, ref("Secret", opt.Namespace, string(s)))
		}
		return out
	}},
	{&bhv1.TLSStore{}, &bhv1.TLSStoreList{}, func(o client.Object) []string {
		st := o.(*bhv1.TLSStore)
		var out []string
		if st.Spec.DefaultCertificate != nil {
			out = append(out, ref("Secret", st.Namespace, string(st.Spec.DefaultCertificate.SecretName)))
		}
		for _, c := range st.Spec.Certificates {
			out = append(out, ref("Secret", st.Namespace, string(c.SecretName)))
		}
		return out
	}},
	{&bhv1.ServersTransport{}, &bhv1.ServersTransportList{}, func(o client.Object) []string {
		st := o.(*bhv1.ServersTransport)
		return upstreamRefs(st.Namespace, &st.Spec.UpstreamTLS)
	}},
	{&bhv1.ServersTransportTCP{}, &bhv1.ServersTransportTCPList{}, func(o client.Object) []string {
		st := o.(*bhv1.ServersTransportTCP)
		if st.Spec.TLS == nil {
			return nil
		}
		return upstreamRefs(st.Namespace, st.Spec.TLS)
	}},
}

// annotationRefs are the Secrets other controllers' annotations on an Ingress name (a
// backend CA, a client certificate, a client CA), so that changing one re-translates it.
func annotationRefs(ing *networkingv1.Ingress) []string {
	res := ingressannotations.Read(ingressannotations.Input{Ingress: ing})
	var out []string
	if tr := res.Transport; tr != nil {
		out = append(out, upstreamRefs(tr.Namespace, &tr.Spec.UpstreamTLS)...)
	}
	if opt := res.TLSOption; opt != nil {
		for _, s := range opt.Spec.ClientAuth.SecretNames {
			out = append(out, ref("Secret", opt.Namespace, string(s)))
		}
	}
	return out
}

func upstreamRefs(ns string, u *bhv1.UpstreamTLS) []string {
	var out []string
	for _, ca := range u.RootCAs {
		switch {
		case ca.Secret != nil:
			out = append(out, ref("Secret", ns, string(*ca.Secret)))
		case ca.ConfigMap != nil:
			out = append(out, ref("ConfigMap", ns, *ca.ConfigMap))
		}
	}
	for _, s := range u.RootCAsSecrets { //nolint:staticcheck // Traefik manifests still use the deprecated alias
		out = append(out, ref("Secret", ns, string(s)))
	}
	for _, s := range u.CertificatesSecrets {
		out = append(out, ref("Secret", ns, string(s)))
	}
	return out
}

// addIndexes registers refsIndex for every referencing kind.
func addIndexes(ctx context.Context, idx client.FieldIndexer) error {
	for _, r := range referencing {
		if err := idx.IndexField(ctx, r.obj, refsIndex, r.extract); err != nil {
			return err
		}
	}
	return nil
}

// isReferenced reports whether any of our objects references key ("Kind/ns/name").
func isReferenced(ctx context.Context, c client.Reader, key string) bool {
	for _, r := range referencing {
		list := r.list.DeepCopyObject().(client.ObjectList)
		if err := c.List(ctx, list, client.MatchingFields{refsIndex: key}, client.Limit(1)); err != nil {
			return true // when in doubt, rebuild
		}
		if apimeta.LenList(list) > 0 {
			return true
		}
	}
	return false
}
