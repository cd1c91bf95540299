package translate

import (
	"fmt"
	"net/http"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"

	bhv1 "github.com/bridgehead/bridgehead/api/v1alpha1"
	"github.com/bridgehead/bridgehead/internal/snapshot"
	"github.com/bridgehead/bridgehead/internal/spelling"
)

// checkIngressTLS names the mistakes in an Ingress's spec.tls that the Ingress API accepts
// without a word, as found in manifests copied from blog posts and older controllers: an
// entry with hosts but no secretName, one with a secretName but no hosts (often one entry
// split in two by a stray "-"), and a certificate Secret that is not of type
// kubernetes.io/tls. It runs after ingressTLS, before the routes are added, so that a
// host without a certificate does not count as served.
func (t *translator) checkIngressTLS(b *ingressBuild) {
	ns := b.ing.Namespace
	entries := b.ing.Spec.TLS
	// An entry with a secretName but no hosts, to name next to one with hosts but no
	// secretName (and the other way round).
	partner := func(k int, wantSecret bool) string {
		for j, e := range entries {
			if j == k {
				continue
			}
			if wantSecret && e.SecretName != "" && len(e.Hosts) == 0 {
				return fmt.Sprintf("; spec.tls[%d] names Secret %q but no hosts: if they are one entry split in two by a stray \"-\", merge them", j, e.SecretName)
			}
			if !wantSecret && e.SecretName == "" && len(e.Hosts) > 0 {
				return fmt.Sprintf("; spec.tls[%d] lists hosts but no secretName: if they are one entry split in two by a stray \"-\", merge them", j)
			}
		}
		return ""
	}
	for k, entry := range entries {
		if k >= len(b.tls) {
			break
		}
		efield := fmt.Sprintf("spec.tls[%d]", k)
		hosts := b.tls[k].hosts
		switch {
		case entry.SecretName == "" && len(hosts) > 0:
			// Without a secretName the TLSStore's certificates are served, as ingress-nginx
			// serves its default certificate: fine where they cover the hosts.
			uncovered := t.notCoveredByStore(hosts)
			if len(uncovered) == 0 {
				break
			}
			b.tls[k].broken = true
			b.rep.notReadyf(bhv1.ReasonTLSSecretNameMissing, fmt.Sprintf(
				"%s lists hosts %s but no secretName, and no certificate of the TLSStore covers %s: clients get the gateway's generated certificate and refuse it; set %s.secretName to a kubernetes.io/tls Secret in namespace %s whose certificate covers them%s",
				efield, strings.Join(hosts, ", "), strings.Join(uncovered, ", "), efield, ns, partner(k, true)))
		case entry.SecretName != "" && len(hosts) == 0 && ingressHasHosts(b.ing):
			// Without any rule host (a catch-all Ingress) an entry without hosts is the
			// natural way to write it.
			b.rep.warn(bhv1.ReasonTLSHostsMissing, fmt.Sprintf(
				"%s names Secret %q but lists no hosts, so it covers every host of the Ingress that no other entry lists, served with the certificate's own names; list the hosts it is for in %s.hosts%s",
				efield, entry.SecretName, efield, partner(k, false)))
		}
		if entry.SecretName == "" || b.tls[k].cert == nil {
			continue
		}
		if s := t.secrets[nsName{ns, entry.SecretName}]; s != nil && s.Type != corev1.SecretTypeTLS {
			b.rep.warn(bhv1.ReasonSecretTypeNotTLS, fmt.Sprintf(
				"%s.secretName: Secret %s/%s is of type %s, not kubernetes.io/tls; it holds tls.crt and tls.key, so Bridgehead serves it, but other tools and controllers go by the type: recreate it with kubectl create secret tls %s --cert=... --key=...",
				efield, ns, entry.SecretName, secretType(s), entry.SecretName))
		}
	}
}

// notCoveredByStore returns the hosts no certificate of the default TLSStore covers.
func (t *translator) notCoveredByStore(hosts []string) []string {
	var out []string
	for _, h := range hosts {
		covered := t.snap.TLS.DefaultCertificate != nil && covers(t.snap.TLS.DefaultCertificate, h)
		for _, c := range t.snap.TLS.StoreCertificates {
			covered = covered || covers(c, h)
		}
		if !covered {
			out = append(out, h)
		}
	}
	return out
}

func ingressHasHosts(ing *networkingv1.Ingress) bool {
	for _, r := range ing.Spec.Rules {
		if r.Host != "" {
			return true
		}
	}
	return false
}

// noteRemovedAPIVersion warns about an Ingress converted from a removed API version.
func (t *translator) noteRemovedAPIVersion(b *ingressBuild) {
	if msg, ok := t.in.RemovedAPIVersions[b.rep.key]; ok {
		b.rep.warn(bhv1.ReasonRemovedAPIVersion, msg)
	}
}

// secretType names a Secret's type as kubectl shows it (an empty type is Opaque).
func secretType(s *corev1.Secret) string {
	if s.Type == "" {
		return string(corev1.SecretTypeOpaque)
	}
	return string(s.Type)
}

// secretHint is what to add to a "Secret not found" message: the Secrets with a close
// name in the namespace, or with the same (or a close) name in another one.
func (t *translator) secretHint(ns, name string, problem *finding) string {
	if problem == nil || problem.reason != bhv1.ReasonNotFound {
		return ""
	}
	return DidYouMean(CloseSecrets(t.in.Secrets, ns, name), ns)
}

// DidYouMean words the Secrets CloseSecrets found for a reference from namespace ns.
func DidYouMean(close []*corev1.Secret, ns string) string {
	if len(close) == 0 {
		return ""
	}
	var names []string
	elsewhere := false
	for _, s := range close {
		names = append(names, s.Namespace+"/"+s.Name)
		elsewhere = elsewhere || s.Namespace != ns
	}
	hint := "; did you mean Secret " + strings.Join(names, " or ") + "?"
	if elsewhere {
		hint += " (a Secret is read from the referencing object's namespace, " + ns + ": create it there)"
	}
	return hint
}

// CloseSecrets returns the Secrets whose name is close to name (a typo, a prefix or suffix
// added or dropped): those in namespace ns first, then those of other namespaces with
// the same or a close name; at most three, closest first.
func CloseSecrets(secrets []*corev1.Secret, ns, name string) []*corev1.Secret {
	type candidate struct {
		s     *corev1.Secret
		score int
	}
	var found []candidate
	for _, s := range secrets {
		if s.Namespace == ns && s.Name == name {
			return nil // it exists: nothing to suggest
		}
		d := nameDistance(s.Name, name)
		if d < 0 {
			continue
		}
		if s.Namespace != ns {
			d += 100 // the namespace is also wrong: suggest the local ones first
		}
		found = append(found, candidate{s, d})
	}
	sort.SliceStable(found, func(i, j int) bool {
		if found[i].score != found[j].score {
			return found[i].score < found[j].score
		}
		return found[i].s.Namespace+"/"+found[i].s.Name < found[j].s.Namespace+"/"+found[j].s.Name
	})
	var out []*corev1.Secret
	for i := 0; i < len(found) && i < 3; i++ {
		out = append(out, found[i].s)
	}
	return out
}

// nameDistance is how far apart two object names are, or -1 when they are not close: the
// edit distance when it is at most a third of the longer name (and at most 3), or the
// number of characters added when one name contains the other (app-router-tls and
// router-tls).
func nameDistance(a, b string) int {
	a, b = strings.ToLower(a), strings.ToLower(b)
	if a == b {
		return 0
	}
	short, long := a, b
	if len(short) > len(long) {
		short, long = long, short
	}
	if len(short) >= 3 && strings.Contains(long, short) {
		return len(long) - len(short)
	}
	d := spelling.Distance(a, b)
	if d <= 3 && d*3 <= len(long) {
		return d
	}
	return -1
}

// IngressClassVerdict says whether the gateway run with opts serves ing, given the
// IngressClasses of in, and when it does not, why (naming the field) and the fix. It is
// the rule translate itself applies, for diagnose.
func IngressClassVerdict(in *Inputs, opts Options, ing *networkingv1.Ingress) (served bool, why, fix string) {
	cls := (&translator{in: in, opts: opts}).ingressClass()
	if cls.serves(ing) {
		return true, "", ""
	}
	fix = fmt.Sprintf("set spec.ingressClassName: %s (and remove the %s annotation) to have Bridgehead serve it, or run the gateway (and diagnose) with --ingress-class NAME to take over that class", cls.name, AnnotationIngressClass)
	controllerOf := func(name string) string {
		for _, c := range in.IngressClasses {
			if c.Name == name {
				return fmt.Sprintf(" (IngressClass %s has controller %s)", name, c.Spec.Controller)
			}
		}
		return ""
	}
	if v, ok := ing.Annotations[AnnotationIngressClass]; ok {
		why = fmt.Sprintf("metadata.annotations[%s] is %q%s, but this gateway serves class %q: another controller's Ingress is not served", AnnotationIngressClass, v, controllerOf(v), cls.name)
		if ing.Spec.IngressClassName != nil && *ing.Spec.IngressClassName == cls.name {
			why += fmt.Sprintf(" (the annotation wins over spec.ingressClassName %q)", *ing.Spec.IngressClassName)
		}
		return false, why, fix
	}
	if n := ing.Spec.IngressClassName; n != nil {
		if *n == cls.name {
			why = fmt.Sprintf("spec.ingressClassName is %q, but IngressClass %s has controller %s, not %s: the class belongs to another controller", *n, cls.name, cls.other, IngressController)
			return false, why, fmt.Sprintf("set spec.controller: %s on IngressClass %s, or use the class of the gateway", IngressController, cls.name)
		}
		why = fmt.Sprintf("spec.ingressClassName is %q%s, but this gateway serves class %q: another controller's Ingress is not served", *n, controllerOf(*n), cls.name)
		return false, why, fix
	}
	why = fmt.Sprintf("neither spec.ingressClassName nor the %s annotation is set, and IngressClass %s is not the cluster's default (annotation %s), so no class this gateway serves applies",
		AnnotationIngressClass, cls.name, networkingv1.AnnotationIsDefaultIngressClass)
	return false, why, fix
}

// ingressTLS resolves the Ingress's TLS policy and certificates, and claims its TLS hosts.
func (t *translator) ingressTLS(b *ingressBuild) {
	ns := b.ing.Namespace
	b.policy = t.snap.TLS.DefaultPolicy
	if len(b.ing.Spec.TLS) == 0 {
		if b.tlsOption != nil {
			b.rep.warn(bhv1.ReasonIneffectiveSetting, fmt.Sprintf("metadata.annotations[%s]: the Ingress has no spec.tls, so no TLS policy applies; list its hosts in spec.tls", AnnotationTLSOptions))
		}
		return
	}
	field := "metadata.annotations[" + AnnotationTLSOptions + "]"
	if ref := b.tlsOption; ref != nil {
		optNS := ref.Namespace
		if optNS == "" {
			optNS = ns
		}
		id := nsName{optNS, ref.Name}.String()
		var problem *finding
		until := "it exists"
		switch p, found := t.policies[id]; {
		case !t.permitted(ns, optNS):
			problem = &finding{reason: bhv1.ReasonRefNotPermitted, message: fmt.Sprintf("%s: TLSOption %s is in another namespace; cross-namespace references are off (start the gateway with --allow-cross-namespace, or use a TLSOption in namespace %s)", field, id, ns)}
			until = "the reference is permitted"
		case !found:
			problem = &finding{reason: bhv1.ReasonNotFound, message: fmt.Sprintf("%s: TLSOption %q not found in namespace %s", field, ref.Name, optNS)}
		case p.Failure != nil:
			b.policy = id
			problem = &finding{reason: bhv1.ReasonInvalidRef, message: field + ": " + p.Failure.Message}
			until = "it is fixed"
		default:
			b.policy = id
		}
		if problem != nil {
			msg := problem.message + "; TLS handshakes for this Ingress's hosts are refused until " + until + " (they are never served under a weaker policy)"
			b.rep.refError(problem.reason, msg)
			b.policyFailure = &snapshot.Failure{Reason: string(problem.reason), Status: http.StatusMisdirectedRequest, Message: b.obj + " " + msg}
		}
	} else if id := b.annotationPolicy; id != "" {
		b.policy = id
		if p := t.policies[id]; p.Failure != nil {
			msg := p.Failure.Message + "; TLS handshakes for this Ingress's hosts are refused until it is fixed (they are never served under a weaker policy)"
			b.policyFailure = &snapshot.Failure{Reason: p.Failure.Reason, Status: http.StatusMisdirectedRequest, Message: msg}
		}
	} else if p := t.policies[b.policy]; p != nil && p.Failure != nil {
		msg := "the default " + p.Failure.Message
		b.rep.refError(bhv1.ReasonInvalidRef, msg)
		b.policyFailure = &snapshot.Failure{Reason: string(bhv1.ReasonInvalidRef), Status: http.StatusMisdirectedRequest, Message: b.obj + " " + msg}
	}

	// The Ingress's TLS policy is for the hosts it routes, as ingress-nginx and the HAProxy
	// controllers apply an Ingress's annotations to the hosts of its rules; a host it only
	// lists in spec.tls gets its certificate, not its policy.
	routed, everyHost := map[string]bool{}, b.ing.Spec.DefaultBackend != nil
	for _, r := range b.ing.Spec.Rules {
		if h := normalizeHost(r.Host); h == "" {
			everyHost = true
		} else {
			routed[h] = true
		}
	}
	routes := func(host string) bool {
		if everyHost || routed[host] {
			return true
		}
		for h := range routed {
			if wildcardCovers(host, h) {
				return true
			}
		}
		return false
	}
	for k, entry := range b.ing.Spec.TLS {
		e := ingressTLS{}
		for _, h := range entry.Hosts {
			if h = normalizeHost(h); h != "" {
				e.hosts = append(e.hosts, h)
			}
		}
		efield := fmt.Sprintf("spec.tls[%d]", k)
		if entry.SecretName != "" {
			r := t.certificate(b.rep, ns, entry.SecretName)
			if r.problem != nil {
				e.broken = true
				b.rep.refError(r.problem.reason, fmt.Sprintf("%s.secretName: %s%s; the default certificate is served meanwhile, which clients will refuse", efield, r.problem.message, t.secretHint(ns, entry.SecretName, r.problem)))
			} else {
				e.cert = r.cert
				b.inv.certificate(bhv1.CertificateUseEdge, r.cert)
				t.checkExpiry(b.rep, efield+".secretName", r.cert)
			}
		}
		names := e.hosts
		if len(names) == 0 && e.cert != nil {
			// No hosts: the entry applies to every host; its certificate is served for
			// the names it carries.
			names = e.cert.DNSNames
		}
		var uncovered []string
		for _, n := range names {
			c := hostClaim{
				rep: b.rep, source: b.src, routeID: fmt.Sprintf("%s/%s/ingress/tls[%d]", ns, b.ing.Name, k),
				policy: b.policy, cert: e.cert, failure: b.policyFailure, certOnly: !routes(n),
			}
			t.hostClaims[n] = append(t.hostClaims[n], c)
			if t.irec != nil {
				t.irec.claims = append(t.irec.claims, recordClaim(n, c, nsName{ns, entry.SecretName}))
			}
			if e.cert != nil && !covers(e.cert, n) {
				uncovered = append(uncovered, n)
			}
		}
		if len(uncovered) > 0 {
			b.rep.warn(bhv1.ReasonCertificateHostMismatch, fmt.Sprintf(
				"%s.secretName: the certificate from %s is valid for %s but %s.hosts lists %s; clients will refuse it for those hosts: issue a certificate that covers them",
				efield, e.cert.Source, listOrNone(append(append([]string(nil), e.cert.DNSNames...), e.cert.IPAddresses...)), efield, strings.Join(uncovered, ", ")))
		}
		b.tls = append(b.tls, e)
	}
}
