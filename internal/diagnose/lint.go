package diagnose

import (
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	bhv1 "github.com/bridgehead/bridgehead/api/v1alpha1"
	"github.com/bridgehead/bridgehead/internal/snapshot"
	"github.com/bridgehead/bridgehead/internal/source/manifests"
	"github.com/bridgehead/bridgehead/internal/translate"
)

// LintOptions configure Lint.
type LintOptions struct {
	// Translate are the gateway's flags that change translation. A zero Now means the
	// current time.
	Translate translate.Options
	// Strict also reports what depends on the cluster rather than on the manifests:
	// Services the routes name that the manifests do not hold, and Services without
	// endpoints. Without it, such Services are assumed to exist with ready endpoints.
	Strict bool
}

// Finding is one thing lint reports.
type Finding struct {
	// Origin is the document: "routes/app.yaml#2".
	Origin string `json:"origin,omitempty"`
	// Object is "Kind namespace/name"; empty for a document that could not be read.
	Object string `json:"object,omitempty"`
	// Field is the offending field of a document that could not be read.
	Field   string `json:"field,omitempty"`
	Reason  string `json:"reason"`
	Message string `json:"message"`
	Fix     string `json:"fix,omitempty"`
}

func (f Finding) String() string {
	var b strings.Builder
	if f.Origin != "" {
		b.WriteString(f.Origin + " ")
	}
	if f.Object != "" {
		b.WriteString(f.Object + " ")
	}
	if f.Field != "" {
		b.WriteString(f.Field + " ")
	}
	s := strings.TrimSuffix(b.String(), " ") + ": " + f.Reason + ": " + f.Message
	if f.Fix != "" {
		s += "\n    fix: " + f.Fix
	}
	return s
}

// LintResult is what Lint found.
type LintResult struct {
	Findings []Finding `json:"findings"`
	// Notes are said but do not fail the lint: what was assumed, and Traefik fields
	// Bridgehead ignores.
	Notes []string `json:"notes,omitempty"`
	// Objects is the number of objects read.
	Objects int `json:"objects"`
}

// Clean reports whether there is no finding.
func (r *LintResult) Clean() bool { return len(r.Findings) == 0 }

// WriteText prints one line per finding, then the notes and a summary.
func (r *LintResult) WriteText(w io.Writer) {
	for _, f := range r.Findings {
		fmt.Fprintln(w, f.String())
	}
	for _, n := range r.Notes {
		fmt.Fprintln(w, "note: "+n)
	}
	if r.Clean() {
		fmt.Fprintf(w, "no findings in %s\n", plural(r.Objects, "object", "objects"))
		return
	}
	fmt.Fprintf(w, "%s in %s\n", plural(len(r.Findings), "finding", "findings"), plural(r.Objects, "object", "objects"))
}

// WriteJSON prints the result as indented JSON.
func (r *LintResult) WriteJSON(w io.Writer) error {
	if r.Findings == nil {
		r.Findings = []Finding{}
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

// Lint runs the static checks on a set of manifests, offline: the documents that could not
// be read, every condition translate computes that a user must act on (False Ready, which
// carries Accepted and ResolvedRefs, and True Warnings), and the checks translate cannot
// make alone (a TLSOption trusting a serving certificate, a certificate a route can never
// serve).
func Lint(res *manifests.Result, opts LintOptions) *LintResult {
	if opts.Translate.Now.IsZero() {
		opts.Translate.Now = time.Now()
	}
	out := &LintResult{}
	for _, p := range res.Problems {
		out.Findings = append(out.Findings, Finding{Origin: p.File + docSuffix(p.Doc), Field: p.Field, Reason: "DocumentNotUsed", Message: p.Message})
	}
	in := *res.Inputs
	out.Objects = countObjects(&in)
	if !opts.Strict {
		out.Notes = append(out.Notes, assumeCluster(&in)...)
	}
	snap, statuses := translate.Translate(&in, opts.Translate)
	origin := res.Origin.Of
	for _, k := range statuses.Keys() {
		st := statuses[k]
		obj := k.Kind + " " + k.Namespace + "/" + k.Name
		if c := st.Condition(bhv1.ConditionReady); c != nil && c.Status != metav1.ConditionTrue {
			out.Findings = append(out.Findings, Finding{Origin: origin(k), Object: obj, Reason: c.Reason, Message: c.Message})
		}
		if c := st.Condition(bhv1.ConditionWarnings); c != nil && c.Status == metav1.ConditionTrue {
			out.Findings = append(out.Findings, Finding{Origin: origin(k), Object: obj, Reason: c.Reason, Message: c.Message})
		}
	}
	mixups := findMixups(&in)
	for _, k := range sortedNsNames(mixups) {
		key := translate.Key{Kind: translate.KindTLSOption, Namespace: k.namespace, Name: k.name}
		for _, m := range mixups[k] {
			out.Findings = append(out.Findings, Finding{Origin: origin(key), Object: "TLSOption " + k.String(),
				Reason: ReasonClientAuthTrustsServingCertificate, Message: m.message(), Fix: m.fix()})
		}
	}
	out.Findings = append(out.Findings, unservedCertificates(&in, snap, origin)...)
	return out
}

func docSuffix(doc int) string {
	if doc == 0 {
		return ""
	}
	return fmt.Sprintf("#%d", doc)
}

func sortedNsNames[V any](m map[nsName]V) []nsName {
	out := make([]nsName, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].String() < out[j].String() })
	return out
}

func countObjects(in *translate.Inputs) int {
	n := 0
	for _, k := range translate.Kinds {
		n += len(k.Objects(in))
	}
	return n
}

// claimedHosts are the TLS hosts a route serves.
func claimedHosts(snap *snapshot.Snapshot, ref snapshot.Ref) []*snapshot.HostTLS {
	var out []*snapshot.HostTLS
	for _, h := range snap.TLS.Hosts {
		for _, r := range h.Routes {
			if r == ref {
				out = append(out, h)
				break
			}
		}
	}
	return out
}

// unservedCertificates finds routes whose spec.tls.secretName can never be served: they
// claim no host, and certificates are chosen by SNI among claimed hosts.
func unservedCertificates(in *translate.Inputs, snap *snapshot.Snapshot, origin func(translate.Key) string) []Finding {
	var out []Finding
	check := func(kind, ns, name string, secret bhv1.SecretName) {
		ref := snapshot.Ref{Kind: kind, Namespace: ns, Name: name}
		if secret == "" || len(claimedHosts(snap, ref)) > 0 {
			return
		}
		out = append(out, Finding{Origin: origin(translate.Key{Kind: kind, Namespace: ns, Name: name}), Object: kind + " " + ns + "/" + name,
			Reason:  ReasonCertificateNotServed,
			Message: fmt.Sprintf("spec.tls.secretName %q is set, but no rule pins a host and spec.tls.domains is empty: certificates are chosen by SNI among the hosts routes claim, so this one is never served", secret),
			Fix:     "add Host() (HostSNI() for TCP) to the match, or list the names in spec.tls.domains"})
	}
	for _, ir := range in.IngressRoutes {
		if t := ir.Spec.TLS; t != nil {
			check(translate.KindIngressRoute, ir.Namespace, ir.Name, t.SecretName)
		}
	}
	for _, ir := range in.IngressRouteTCPs {
		if t := ir.Spec.TLS; t != nil && !t.Passthrough {
			check(translate.KindIngressRouteTCP, ir.Namespace, ir.Name, t.SecretName)
		}
	}
	return out
}

// lintAddress is where assumed endpoints point (TEST-NET-1: never dialled by lint).
const lintAddress = "192.0.2.1"

// assumeCluster adds, to inputs that describe a set of manifests rather than a cluster,
// the Services the routes name but the set lacks, and an EndpointSlice for every Service
// the set holds none for, so that only what the manifests themselves get wrong is
// reported. It returns notes that say what was assumed.
func assumeCluster(in *translate.Inputs) []string {
	type portRef struct {
		nsName
		port bhv1.Port
	}
	var refs []portRef
	for _, ir := range in.IngressRoutes {
		for _, r := range ir.Spec.Routes {
			for _, s := range r.Services {
				refs = append(refs, portRef{nsName{orNS(s.Namespace, ir.Namespace), s.Name}, s.Port})
			}
		}
	}
	for _, ir := range in.IngressRouteTCPs {
		for _, r := range ir.Spec.Routes {
			for _, s := range r.Services {
				refs = append(refs, portRef{nsName{orNS(s.Namespace, ir.Namespace), s.Name}, s.Port})
			}
		}
	}
	// Fresh slices: the caller's inputs are not to be changed.
	in.Services = append([]*corev1.Service(nil), in.Services...)
	in.EndpointSlices = append([]*discoveryv1.EndpointSlice(nil), in.EndpointSlices...)
	services := map[nsName]*corev1.Service{}
	for _, s := range in.Services {
		services[nsName{s.Namespace, s.Name}] = s
	}
	assumed := map[nsName]bool{}
	var assumedSlices []string
	for _, r := range refs {
		svc, ok := services[r.nsName]
		if !ok {
			svc = &corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: r.namespace, Name: r.name}}
			services[r.nsName] = svc
			in.Services = append(in.Services, svc)
			assumed[r.nsName] = true
		}
		// A Service of the manifests keeps its ports: a port it lacks is a finding.
		if assumed[r.nsName] && translate.FindServicePort(svc, r.port) == nil {
			p := corev1.ServicePort{Port: 80, Protocol: corev1.ProtocolTCP}
			if n, isNumber := r.port.Number(); isNumber {
				p.Port = n
			} else {
				p.Name = string(r.port)
			}
			svc.Spec.Ports = append(svc.Spec.Ports, p)
		}
	}
	hasSlices := map[nsName]bool{}
	for _, es := range in.EndpointSlices {
		hasSlices[nsName{es.Namespace, es.Labels[discoveryv1.LabelServiceName]}] = true
	}
	for _, k := range sortedNsNames(services) {
		svc := services[k]
		if hasSlices[k] || svc.Spec.Type == corev1.ServiceTypeExternalName || len(svc.Spec.Ports) == 0 {
			continue
		}
		es := &discoveryv1.EndpointSlice{
			ObjectMeta:  metav1.ObjectMeta{Namespace: svc.Namespace, Name: svc.Name + "-assumed", Labels: map[string]string{discoveryv1.LabelServiceName: svc.Name}},
			AddressType: discoveryv1.AddressTypeIPv4,
			Endpoints:   []discoveryv1.Endpoint{{Addresses: []string{lintAddress}}},
		}
		for _, p := range svc.Spec.Ports {
			name, port := p.Name, p.Port
			es.Ports = append(es.Ports, discoveryv1.EndpointPort{Name: &name, Port: &port})
		}
		in.EndpointSlices = append(in.EndpointSlices, es)
		if !assumed[k] {
			assumedSlices = append(assumedSlices, k.String())
		}
	}
	var notes []string
	if len(assumed) > 0 {
		var list []string
		for _, k := range sortedNsNames(assumed) {
			list = append(list, k.String())
		}
		notes = append(notes, "not in the manifests, assumed to exist with ready endpoints (--strict reports them): Service "+strings.Join(list, ", Service "))
	}
	if len(assumedSlices) > 0 {
		notes = append(notes, "no EndpointSlice in the manifests, assumed to have ready endpoints (--strict reports them): Service "+strings.Join(assumedSlices, ", Service "))
	}
	return notes
}

func orNS(ns, def string) string {
	if ns == "" {
		return def
	}
	return ns
}
