package translate

import (
	"fmt"
	"net/http"
	"sort"
	"strings"

	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	bhv1 "github.com/bridgehead/bridgehead/api/v1alpha1"
	"github.com/bridgehead/bridgehead/internal/ingressannotations"
	"github.com/bridgehead/bridgehead/internal/snapshot"
)

// The annotations of other ingress controllers on an Ingress: which ones Bridgehead names
// with their replacement, and which ones (access restrictions) make the Ingress fail closed.

var knownAnnotations = []string{AnnotationBackendProtocol, AnnotationMiddlewares, AnnotationServersTransport, AnnotationSSLRedirect, AnnotationTLSOptions}

// foreignAnnotations are annotations of other ingress controllers that users bring along
// when they migrate, with what does the job in Bridgehead.
var foreignAnnotations = map[string]string{
	"traefik.ingress.kubernetes.io/router.middlewares":       AnnotationMiddlewares + " (written NAMESPACE/NAME)",
	"traefik.ingress.kubernetes.io/router.tls.options":       AnnotationTLSOptions + " (written NAMESPACE/NAME)",
	"traefik.ingress.kubernetes.io/router.tls":               "spec.tls (list the hosts there)",
	"traefik.ingress.kubernetes.io/router.entrypoints":       "nothing: rules serve on web, and on websecure for the hosts in spec.tls",
	"traefik.ingress.kubernetes.io/service.serverstransport": AnnotationServersTransport + " on the Ingress",
	"traefik.ingress.kubernetes.io/service.serversscheme":    AnnotationBackendProtocol + " on the Ingress",
}

// foreignPrefixes are the annotation prefixes of the ingress controllers users migrate
// from; an annotation under one of them that Bridgehead does not read is always named.
var foreignPrefixes = []string{
	"nginx.ingress.kubernetes.io/", "traefik.ingress.kubernetes.io/", "haproxy.org/", "haproxy.com/",
	"ingress.kubernetes.io/", "haproxy-ingress.github.io/",
}

// restrictingAnnotations are other controllers' annotations that restrict who may reach
// the backends (by client certificate, source address or credentials), by name after
// the controller's prefix, with what does the job in Bridgehead. Bridgehead does not read
// them, and ignoring one would serve to everyone what its author meant to restrict: an
// Ingress that carries one fails closed. (The allow-lists and client-certificate
// annotations Bridgehead serves are in ingress_annotations.go.)
var restrictingAnnotations = map[string]map[string]string{
	"nginx.ingress.kubernetes.io/": {
		"denylist-source-range": "an ipAllowList Middleware (listing the allowed ranges) named by " + AnnotationMiddlewares,
		"auth-type":             "a basicAuth or forwardAuth Middleware named by " + AnnotationMiddlewares,
		"auth-secret":           "a basicAuth Middleware named by " + AnnotationMiddlewares,
		"auth-url":              "a forwardAuth Middleware named by " + AnnotationMiddlewares,
	},
	"haproxy-ingress.github.io/": {
		"allowlist-source-range": "an ipAllowList Middleware named by " + AnnotationMiddlewares,
		"whitelist-source-range": "an ipAllowList Middleware named by " + AnnotationMiddlewares,
		"denylist-source-range":  "an ipAllowList Middleware (listing the allowed ranges) named by " + AnnotationMiddlewares,
		"auth-type":              "a basicAuth Middleware named by " + AnnotationMiddlewares,
		"auth-secret":            "a basicAuth Middleware named by " + AnnotationMiddlewares,
		"auth-url":               "a forwardAuth Middleware named by " + AnnotationMiddlewares,
	},
	// HAProxy Kubernetes Ingress, under its current and its older prefixes.
	"haproxy.org/":           haproxyRestrictions,
	"haproxy.com/":           haproxyRestrictions,
	"ingress.kubernetes.io/": haproxyRestrictions,
}

var haproxyRestrictions = map[string]string{
	"deny-list":   "an ipAllowList Middleware (listing the allowed ranges) named by " + AnnotationMiddlewares,
	"blacklist":   "an ipAllowList Middleware (listing the allowed ranges) named by " + AnnotationMiddlewares,
	"auth-type":   "a basicAuth Middleware named by " + AnnotationMiddlewares,
	"auth-secret": "a basicAuth Middleware named by " + AnnotationMiddlewares,
}

// restriction returns what replaces k in Bridgehead when k is a restricting annotation
// that Bridgehead does not serve.
func restriction(k string) string {
	for prefix, names := range restrictingAnnotations {
		if name, ok := strings.CutPrefix(k, prefix); ok && names[name] != "" {
			return names[name]
		}
	}
	return ""
}

// unreadAnnotation classifies an annotation that servedForeignAnnotations does not read:
// Refused when it restricts access (serving without it would fail open), Unsupported when
// it is named with its replacement, Served for Bridgehead's own; ok is false for keys of
// no known prefix. The message does not repeat the key.
func unreadAnnotation(k string) (d ingressannotations.Disposition, msg string, ok bool) {
	if use := restriction(k); use != "" {
		return ingressannotations.Refused, "restricts who may reach the backends, and Bridgehead does not read it, so serving this Ingress would drop the restriction; use " + use + " and remove the annotation", true
	}
	switch {
	case strings.HasPrefix(k, "bridgehead.dev/"):
		if containsString(knownAnnotations, k) {
			return ingressannotations.Served, "Bridgehead's own annotation", true
		}
		return ingressannotations.Unsupported, "not a Bridgehead annotation and ignored; the Ingress annotations are " + strings.Join(knownAnnotations, ", "), true
	case foreignAnnotations[k] != "":
		return ingressannotations.Unsupported, "belongs to another ingress controller and is ignored; in Bridgehead use " + foreignAnnotations[k], true
	case hasAnyPrefix(k, foreignPrefixes):
		return ingressannotations.Unsupported, "belongs to another ingress controller and is ignored; check that the Ingress does not depend on it", true
	}
	return "", "", false
}

// foreignAnnotations warns about annotations Bridgehead does not read: unknown
// bridgehead.dev keys (typos) and other controllers' keys, with what to use instead.
func (t *translator) foreignAnnotations(b *ingressBuild) {
	if b.ing.Labels[solverLabel] == "true" {
		return // cert-manager adds ingress-nginx annotations to every solver Ingress
	}
	keys := make([]string, 0, len(b.ing.Annotations))
	for k := range b.ing.Annotations {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var unread []string            // annotations of other controllers' families, ignored
	generic := map[string]string{} // what unreadAnnotation says about each
	for _, k := range keys {
		if b.handled[k] {
			continue // served, and reported, by servedForeignAnnotations
		}
		d, msg, ok := unreadAnnotation(k)
		switch {
		case !ok || d == ingressannotations.Served:
		case d == ingressannotations.Refused:
			msg = fmt.Sprintf("metadata.annotations[%s]: %s; requests to this Ingress get 503 until then", k, msg)
			b.rep.invalidf(bhv1.ReasonUnsupportedAnnotation, msg)
			if b.failure == nil {
				b.failure = &snapshot.Failure{Reason: string(bhv1.ReasonUnsupportedAnnotation), Status: http.StatusServiceUnavailable, Message: b.obj + " " + msg}
			}
		case strings.HasPrefix(k, "bridgehead.dev/") || foreignAnnotations[k] != "":
			b.rep.warn(bhv1.ReasonIneffectiveSetting, fmt.Sprintf("metadata.annotations[%s]: %s", k, msg))
		default:
			unread = append(unread, k)
			generic[k] = msg
		}
	}
	// One finding each, so that each is its own Warning Event and a change to one of them
	// is announced alone; in the family's own words on what to do instead where
	// ingressannotations has them.
	words := unsupportedWords(b.ing, unread)
	for _, k := range unread {
		msg := generic[k]
		if w := words[k]; w != "" {
			msg = "belongs to another ingress controller; " + w
		}
		b.rep.warn(bhv1.ReasonIneffectiveSetting, fmt.Sprintf("metadata.annotations[%s]: %s", k, msg))
	}
}

// AnnotationFindings says what the gateway does with each annotation of ing that
// Bridgehead knows of (its own, and the other controllers' families), given what
// ingressannotations.Read found for it: one finding per annotation, sorted by key. It is
// the translator's own classification, for `bridgehead migrate`.
func AnnotationFindings(ing *networkingv1.Ingress, res *ingressannotations.Result) []ingressannotations.Finding {
	keys := make([]string, 0, len(ing.Annotations))
	for k := range ing.Annotations {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var out []ingressannotations.Finding
	for _, k := range keys {
		f, read := res.Finding(k)
		if read && servesForeign(k) {
			out = append(out, f)
			continue
		}
		d, msg, ok := unreadAnnotation(k)
		if !ok {
			continue
		}
		if problem := ownAnnotationProblem(k, ing.Annotations[k], ing.Namespace); d == ingressannotations.Served && problem != "" {
			d, msg = ingressannotations.Malformed, problem+"; the gateway refuses the Ingress (503) until it is fixed"
		}
		if read && d == ingressannotations.Unsupported && f.Disposition == ingressannotations.Unsupported {
			msg = f.Message // the family's own words on what to do instead
		}
		out = append(out, ingressannotations.Finding{Annotation: k, Value: ing.Annotations[k], Disposition: d, Message: msg})
	}
	return out
}

// unsupportedWords returns what ingressannotations says about each of keys that it names
// Unsupported (an annotation of a family it reads, which Bridgehead ignores): that it is
// ignored, and what to do instead.
func unsupportedWords(ing *networkingv1.Ingress, keys []string) map[string]string {
	words := make(map[string]string, len(keys))
	if len(keys) == 0 {
		return words
	}
	// Only these annotations are read: an unsupported annotation's verdict does not depend
	// on the others, and the served ones are reported by servedForeignAnnotations.
	only := &networkingv1.Ingress{ObjectMeta: metav1.ObjectMeta{Namespace: ing.Namespace, Name: ing.Name, Annotations: make(map[string]string, len(keys))}}
	for _, k := range keys {
		only.Annotations[k] = ing.Annotations[k]
	}
	res := ingressannotations.Read(ingressannotations.Input{Ingress: only})
	for _, k := range keys {
		if f, ok := res.Finding(k); ok && f.Disposition == ingressannotations.Unsupported {
			words[k] = f.Message
		}
	}
	return words
}

func hasAnyPrefix(s string, prefixes []string) bool {
	for _, p := range prefixes {
		if strings.HasPrefix(s, p) {
			return true
		}
	}
	return false
}

func containsString(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}
