package translate

import (
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"
)

// The core objects Gateway API objects name, so that a change to one rebuilds
// (Kind.References).

func gatewayRefs(gw *gwv1.Gateway) []string {
	out := append(listenerRefs(gw.Namespace, gw.Spec.Listeners), frontendRefs(gw)...)
	// spec.tls.backend.clientCertificateRef (gatewayapi_backendtls.go): a change of that
	// Secret rebuilds too.
	if tls := gw.Spec.TLS; tls != nil && tls.Backend != nil && tls.Backend.ClientCertificateRef != nil {
		out = append(out, certificateRefs(gw.Namespace, []gwv1.SecretObjectReference{*tls.Backend.ClientCertificateRef})...)
	}
	return out
}

func listenerSetRefs(ls *gwv1.ListenerSet) []string {
	var out []string
	for _, l := range ls.Spec.Listeners {
		if l.TLS == nil {
			continue
		}
		out = append(out, certificateRefs(ls.Namespace, l.TLS.CertificateRefs)...)
	}
	return out
}

func listenerRefs(ns string, ls []gwv1.Listener) []string {
	var out []string
	for _, l := range ls {
		if l.TLS == nil {
			continue
		}
		out = append(out, certificateRefs(ns, l.TLS.CertificateRefs)...)
	}
	return out
}

func certificateRefs(ns string, refs []gwv1.SecretObjectReference) []string {
	var out []string
	for _, c := range refs {
		if (c.Group != nil && *c.Group != "") || (c.Kind != nil && *c.Kind != "Secret") {
			continue
		}
		secretNS := ns
		if c.Namespace != nil {
			secretNS = string(*c.Namespace)
		}
		out = append(out, Reference(KindSecret, secretNS, string(c.Name)))
	}
	return out
}

// serviceRef is the Service a backend reference names, if it names one.
func serviceRef(ns string, ref gwv1.BackendObjectReference) (string, bool) {
	if (ref.Group != nil && *ref.Group != "") || (ref.Kind != nil && *ref.Kind != "Service") {
		return "", false
	}
	if ref.Namespace != nil {
		ns = string(*ref.Namespace)
	}
	return Reference(KindService, ns, string(ref.Name)), true
}

// servicesOf are the Services a rule's backendRefs (of any route kind) name.
func servicesOf[B any](ns string, refs []B, ref func(B) gwv1.BackendObjectReference) []string {
	var out []string
	for _, b := range refs {
		if s, ok := serviceRef(ns, ref(b)); ok {
			out = append(out, s)
		}
	}
	return out
}

// mirrorsOf are the Services a rule's RequestMirror filters name.
func mirrorsOf[F any](ns string, filters []F, mirror func(F) *gwv1.HTTPRequestMirrorFilter) []string {
	var out []string
	for _, f := range filters {
		if m := mirror(f); m != nil {
			if s, ok := serviceRef(ns, m.BackendRef); ok {
				out = append(out, s)
			}
		}
	}
	return out
}

func httpRouteRefs(r *gwv1.HTTPRoute) []string {
	var out []string
	for _, rule := range r.Spec.Rules {
		out = append(out, servicesOf(r.Namespace, rule.BackendRefs, func(b gwv1.HTTPBackendRef) gwv1.BackendObjectReference { return b.BackendObjectReference })...)
		out = append(out, mirrorsOf(r.Namespace, rule.Filters, func(f gwv1.HTTPRouteFilter) *gwv1.HTTPRequestMirrorFilter { return f.RequestMirror })...)
	}
	return out
}

func grpcRouteRefs(r *gwv1.GRPCRoute) []string {
	var out []string
	for _, rule := range r.Spec.Rules {
		out = append(out, servicesOf(r.Namespace, rule.BackendRefs, func(b gwv1.GRPCBackendRef) gwv1.BackendObjectReference { return b.BackendObjectReference })...)
		out = append(out, mirrorsOf(r.Namespace, rule.Filters, func(f gwv1.GRPCRouteFilter) *gwv1.HTTPRequestMirrorFilter { return f.RequestMirror })...)
	}
	return out
}

func backendRefOf(b gwv1.BackendRef) gwv1.BackendObjectReference { return b.BackendObjectReference }

func tlsRouteRefs(r *gwv1.TLSRoute) []string {
	var out []string
	for _, rule := range r.Spec.Rules {
		out = append(out, servicesOf(r.Namespace, rule.BackendRefs, backendRefOf)...)
	}
	return out
}

func tcpRouteRefs(r *gwv1.TCPRoute) []string {
	var out []string
	for _, rule := range r.Spec.Rules {
		out = append(out, servicesOf(r.Namespace, rule.BackendRefs, backendRefOf)...)
	}
	return out
}

// backendTLSPolicyRefs are the Services a policy targets and its CA ConfigMaps/Secrets.
func backendTLSPolicyRefs(p *gwv1.BackendTLSPolicy) []string {
	var out []string
	for _, t := range p.Spec.TargetRefs {
		if t.Group == "" && t.Kind == "Service" {
			out = append(out, Reference(KindService, p.Namespace, string(t.Name)))
		}
	}
	for _, c := range p.Spec.Validation.CACertificateRefs {
		switch {
		case c.Group == "" && c.Kind == "ConfigMap":
			out = append(out, Reference(KindConfigMap, p.Namespace, string(c.Name)))
		case c.Group == "" && c.Kind == "Secret":
			out = append(out, Reference(KindSecret, p.Namespace, string(c.Name)))
		}
	}
	return out
}
