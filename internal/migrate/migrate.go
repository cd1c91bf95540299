// Package migrate turns Ingresses written for ingress-nginx or the HAProxy controllers into
// Bridgehead's own objects, and says what changes on the way.
//
// It serves `bridgehead migrate`. For each Ingress it reports what Bridgehead does with each
// annotation — the translator's own verdicts (translate.AnnotationFindings over
// ingressannotations.Read), so the report cannot disagree with what the gateway serves —
// and builds the equivalent IngressRoutes, ServersTransport, TLSOption, Middlewares and
// IngressRouteTCP: the same match rules at the same priorities (translate.IngressPathRule),
// the same specs the annotations synthesize. An Ingress the gateway would refuse (a
// refused or malformed annotation) is not converted: converting it would serve what the
// gateway fails closed.
//
// It is pure: no API server, no files.
package migrate

import (
	"sort"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/bridgehead/bridgehead/internal/ingressannotations"
	"github.com/bridgehead/bridgehead/internal/translate"
)

// Options tune a migration.
type Options struct {
	// Controller, when set, is the controller whose class defaults apply to every Ingress
	// (its redirects). When nil it is taken from each Ingress's class name: nginx is
	// ingress-nginx's, haproxy the HAProxy controllers'.
	Controller *ingressannotations.Controller
}

// Inputs are the objects a migration reads. Services and Secrets are optional: with a
// Service, the scheme of a backend written by port number is known; with a Secret, the
// keys an annotation needs are checked.
type Inputs struct {
	Ingresses []*networkingv1.Ingress
	Services  []*corev1.Service
	Secrets   []*corev1.Secret
}

// Note is a difference that belongs to no single annotation (how a Secret must move, what
// plain HTTP gets), or the reason an Ingress is not converted.
type Note struct {
	Disposition ingressannotations.Disposition
	Message     string
}

// Ingress is the migration of one Ingress.
type Ingress struct {
	Namespace, Name string
	// Class is the Ingress's class name; Controller the controller whose defaults applied.
	Class      string
	Controller ingressannotations.Controller
	// Findings say, per annotation, what Bridgehead does with it.
	Findings []ingressannotations.Finding
	Notes    []Note
	// Objects are the equivalent Bridgehead objects; nil when the Ingress is not converted.
	Objects []client.Object
}

// Converted reports whether equivalent objects were built.
func (i *Ingress) Converted() bool { return i.Objects != nil }

// ChangesBehaviour reports whether serving the Ingress with Bridgehead differs from what
// its controller did: an annotation served differently, overridden, refused, malformed or
// not read, or a difference noted on the Ingress.
func (i *Ingress) ChangesBehaviour() bool {
	for _, f := range i.Findings {
		if changes(f.Disposition) {
			return true
		}
	}
	for _, n := range i.Notes {
		if changes(n.Disposition) {
			return true
		}
	}
	return false
}

// changes: Served and ServedInsecure (unverified, as the old controller was) keep the
// behaviour; everything else does not.
func changes(d ingressannotations.Disposition) bool {
	return d != ingressannotations.Served && d != ingressannotations.ServedInsecure
}

// Migrate migrates every Ingress of in, sorted by namespace and name.
func Migrate(in Inputs, opts Options) []*Ingress {
	secrets := map[[2]string]*corev1.Secret{}
	for _, s := range in.Secrets {
		secrets[[2]string{s.Namespace, s.Name}] = s
	}
	var lookup ingressannotations.SecretLookup
	if len(secrets) > 0 {
		lookup = func(ns, name string) (*corev1.Secret, bool) {
			s, ok := secrets[[2]string{ns, name}]
			return s, ok
		}
	}
	services := map[[2]string]*corev1.Service{}
	for _, s := range in.Services {
		services[[2]string{s.Namespace, s.Name}] = s
	}
	ings := append([]*networkingv1.Ingress(nil), in.Ingresses...)
	sort.Slice(ings, func(a, b int) bool {
		if ings[a].Namespace != ings[b].Namespace {
			return ings[a].Namespace < ings[b].Namespace
		}
		return ings[a].Name < ings[b].Name
	})
	out := make([]*Ingress, 0, len(ings))
	for _, ing := range ings {
		out = append(out, migrateOne(ing, opts, lookup, services))
	}
	return out
}

func migrateOne(ing *networkingv1.Ingress, opts Options, secrets ingressannotations.SecretLookup, services map[[2]string]*corev1.Service) *Ingress {
	m := &Ingress{Namespace: ing.Namespace, Name: ing.Name, Class: classOf(ing)}
	defaults := ingressannotations.DefaultsFor(m.Class)
	if opts.Controller != nil {
		defaults.Controller = *opts.Controller
	}
	m.Controller = defaults.Controller
	res := ingressannotations.Read(ingressannotations.Input{Ingress: ing, Defaults: defaults, Secrets: secrets})
	m.Findings = translate.AnnotationFindings(ing, &res)
	for _, f := range m.Findings {
		if f.Disposition.Blocking() {
			m.Notes = append(m.Notes, Note{Disposition: ingressannotations.Refused,
				Message: "not converted: the gateway refuses this Ingress (requests get 503) until " + f.Annotation + " is fixed; converting it would serve what the gateway refuses"})
			return m
		}
	}
	c := &converter{ing: ing, res: &res, services: services}
	c.convert()
	if c.refused {
		m.Notes = append(m.Notes, c.notes...)
		return m
	}
	m.Notes = append(m.Notes, c.notes...)
	m.Objects = c.objects()
	return m
}

// classOf is the Ingress's class: the legacy annotation wins, as controllers read it.
func classOf(ing *networkingv1.Ingress) string {
	if v, ok := ing.Annotations[translate.AnnotationIngressClass]; ok {
		return v
	}
	if ing.Spec.IngressClassName != nil {
		return *ing.Spec.IngressClassName
	}
	return ""
}
