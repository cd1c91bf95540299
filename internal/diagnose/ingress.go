package diagnose

import (
	"fmt"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"

	bhv1 "github.com/bridgehead/bridgehead/api/v1alpha1"
	"github.com/bridgehead/bridgehead/internal/ingressannotations"
	"github.com/bridgehead/bridgehead/internal/snapshot"
	"github.com/bridgehead/bridgehead/internal/translate"
)

// ingress walks an Ingress as the gateway serves it: whether its class is the gateway's,
// each cause translate found (one hop per cause, with its own reason), the certificate
// served for each TLS host and the TLS policy, then every path to its Service, transport
// and endpoints.
func (e *env) ingress(ing *networkingv1.Ingress) Section {
	key := translate.Key{Kind: translate.KindIngress, Namespace: ing.Namespace, Name: ing.Name}
	ref := snapshot.Ref{Kind: key.Kind, Namespace: key.Namespace, Name: key.Name}
	objName := ing.Namespace + "/" + ing.Name
	obj := "Ingress " + objName
	sec := Section{Title: obj, Origin: e.opts.Origin.Of(key)}
	if served, why, fix := translate.IngressClassVerdict(e.in, e.opts.Translate, ing); !served {
		sec.add(Hop{Kind: translate.KindIngress, Object: objName, Verdict: Fail, Reason: string(bhv1.ReasonIngressClassNotServed), Message: why, Fix: fix})
		return sec
	}
	st := e.statuses[key]
	var facts []string
	if st != nil && len(st.Hosts) > 0 {
		facts = []string{"hosts: " + strings.Join(st.Hosts, ", ")}
	}
	e.findingHops(&sec, key, st, "accepted, every reference resolves, serving", facts)

	ann := ing.Annotations
	// What the gateway reads of the other controllers' annotations: the scheme they set
	// and where a transport they synthesize comes from (the transport itself is the
	// snapshot's, under the Ingress's ID).
	annotated := ingressannotations.Read(ingressannotations.Input{Ingress: ing})
	if len(ing.Spec.TLS) == 0 {
		sec.add(Hop{Kind: "TLS", Object: "(none)", Message: "no spec.tls: the Ingress is served on the plain HTTP entry point only"})
	} else {
		var matches []string
		for _, hr := range e.snap.HTTPRoutes {
			if hr.Source == ref {
				matches = append(matches, hr.Match)
			}
		}
		for _, h := range e.snap.TLS.Hosts {
			for _, r := range h.Routes {
				if r == ref {
					e.edgeHost(&sec, h, ing.Namespace, tlsSpec{secretName: bhv1.SecretName(tlsSecretFor(ing, h.Name))})
					break
				}
			}
		}
		spec := tlsSpec{}
		if v, ok := ann[translate.AnnotationTLSOptions]; ok {
			if ns, name, found := strings.Cut(strings.TrimSpace(v), "/"); found {
				spec.options = &bhv1.ObjectReference{Namespace: ns, Name: name}
			} else {
				spec.options = &bhv1.ObjectReference{Name: ns}
			}
		}
		e.policyHop(&sec, ing.Namespace, spec, matches, false)
		e.lookalikeSecrets(&sec, ing)
	}

	byIndex := map[int][]*snapshot.HTTPRoute{}
	for _, hr := range e.snap.HTTPRoutes {
		if hr.Source == ref {
			byIndex[hr.RouteIndex] = append(byIndex[hr.RouteIndex], hr)
		}
	}
	indexes := make([]int, 0, len(byIndex))
	for i := range byIndex {
		indexes = append(indexes, i)
	}
	sort.Ints(indexes)
	for _, i := range indexes {
		hrs := byIndex[i]
		sort.Slice(hrs, func(a, b int) bool { return hrs[a].ID < hrs[b].ID })
		field := ingressField(hrs[0].ID)
		for _, hr := range hrs {
			e.routeHop(&sec, objName+" "+field, hr.Match, hr.Priority, hr.EntryPoints, hr.Failure)
		}
		if len(hrs[0].Backends) == 0 {
			continue // the HTTPS redirect
		}
		b := hrs[0].Backends[0]
		if b.Service.Kind != "Service" {
			if f := b.Failure; f != nil {
				sec.add(Hop{Kind: "Backend", Object: objName + " " + field, Verdict: Fail, Reason: f.Reason, Message: f.Message, Fix: conditionFix(f.Reason)})
			}
			continue
		}
		ref := svcRef{obj: obj, field: field + ".backend.service", routeNS: ing.Namespace, name: b.Service.Name, ns: ing.Namespace,
			port: bhv1.Port(b.Port), transport: strings.TrimSpace(ann[translate.AnnotationServersTransport]),
			schemeFrom: annotated.SchemeFrom, annotations: "Ingress " + objName + " annotations"}
		e.backend(&sec, ref, viewHTTP(b))
	}
	return sec
}

// findingHops adds one hop per cause translate found about an object: Fail for what keeps
// it from being Ready, Warn for its warnings, or one OK hop.
func (e *env) findingHops(sec *Section, key translate.Key, st *translate.ObjectStatus, okMessage string, facts []string) {
	obj := key.Namespace + "/" + key.Name
	if st == nil {
		return
	}
	if len(st.Blocking) == 0 {
		sec.add(Hop{Kind: key.Kind, Object: obj, Message: okMessage, Facts: facts})
	}
	for i, f := range st.Blocking {
		h := Hop{Kind: key.Kind, Object: obj, Verdict: Fail, Reason: string(f.Reason), Message: f.Message, Fix: conditionFix(string(f.Reason))}
		if i == 0 {
			h.Facts = facts
		}
		sec.add(h)
	}
	for _, f := range st.Warnings {
		sec.add(Hop{Kind: key.Kind, Object: obj, Verdict: Warn, Reason: string(f.Reason), Message: f.Message, Fix: conditionFix(string(f.Reason))})
	}
}

// lookalikeSecrets looks at the Secrets a missing spec.tls[].secretName was probably meant
// to be (translate's "did you mean"), and says what would still be wrong with them: a
// Secret that is not of type kubernetes.io/tls.
func (e *env) lookalikeSecrets(sec *Section, ing *networkingv1.Ingress) {
	seen := map[nsName]bool{}
	for k, entry := range ing.Spec.TLS {
		if entry.SecretName == "" || e.secrets[nsName{ing.Namespace, entry.SecretName}] != nil {
			continue
		}
		for _, s := range translate.CloseSecrets(e.in.Secrets, ing.Namespace, entry.SecretName) {
			n := nsName{s.Namespace, s.Name}
			if seen[n] || s.Type == corev1.SecretTypeTLS || len(s.Data["tls.crt"]) == 0 || len(s.Data["tls.key"]) == 0 {
				continue
			}
			seen[n] = true
			typ := string(s.Type)
			if typ == "" {
				typ = string(corev1.SecretTypeOpaque)
			}
			sec.add(Hop{Kind: translate.KindSecret, Object: n.String(), Verdict: Warn, Reason: string(bhv1.ReasonSecretTypeNotTLS),
				Message: fmt.Sprintf("Secret %s (which spec.tls[%d].secretName %q probably means) is of type %s, not kubernetes.io/tls; it holds tls.crt and tls.key, so once referenced it is served, but other tools and controllers go by the type",
					n, k, entry.SecretName, typ),
				Fix: conditionFix(string(bhv1.ReasonSecretTypeNotTLS))})
		}
	}
}

// tlsSecretFor is the secretName of the spec.tls entry that covers host, as translate
// picks it: an exact host, then a wildcard, then an entry without hosts.
func tlsSecretFor(ing *networkingv1.Ingress, host string) string {
	for _, e := range ing.Spec.TLS {
		for _, h := range e.Hosts {
			if strings.EqualFold(strings.TrimSuffix(h, "."), host) {
				return e.SecretName
			}
		}
	}
	for _, e := range ing.Spec.TLS {
		for _, h := range e.Hosts {
			if suffix, ok := strings.CutPrefix(h, "*."); ok {
				if i := strings.IndexByte(host, '.'); i > 0 && strings.EqualFold(host[i+1:], suffix) {
					return e.SecretName
				}
			}
		}
	}
	for _, e := range ing.Spec.TLS {
		if len(e.Hosts) == 0 {
			return e.SecretName
		}
	}
	return ""
}

// ingressField turns a route ID ("ns/name/ingress/rules[0].paths[1]/web") into the field
// it was built from ("spec.rules[0].http.paths[1]").
func ingressField(id string) string {
	parts := strings.Split(id, "/")
	if len(parts) < 5 {
		return id
	}
	part := parts[3]
	switch {
	case part == "defaultBackend":
		return "spec.defaultBackend"
	case part == "ssl-redirect":
		return "the HTTPS redirect of host " + parts[4]
	case strings.HasPrefix(part, "rules["):
		rule, path, _ := strings.Cut(part, ".")
		return "spec." + rule + ".http." + path
	}
	return part
}
