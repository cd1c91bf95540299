package translate

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"

	bhv1 "github.com/bridgehead/bridgehead/api/v1alpha1"
	"github.com/bridgehead/bridgehead/internal/snapshot"
)

// ingressAnnotations reads the bridgehead.dev annotations. A value that cannot be read
// makes every route of the Ingress fail closed: guessing could serve plain HTTP where
// HTTPS was asked for, or skip a middleware.
func (t *translator) ingressAnnotations(b *ingressBuild) {
	ann := b.ing.Annotations
	ns := b.ing.Namespace
	fail := func(key string, reason bhv1.ConditionReason, msg string) {
		msg = fmt.Sprintf("metadata.annotations[%s]: %s; requests to this Ingress get 503 until it is fixed", key, msg)
		if reason == bhv1.ReasonUnsupportedValue {
			b.rep.invalidf(reason, msg)
		} else {
			b.rep.refError(reason, msg)
		}
		if b.failure == nil {
			b.failure = &snapshot.Failure{Reason: string(reason), Status: http.StatusServiceUnavailable, Message: b.obj + " " + msg}
		}
	}
	for _, key := range knownAnnotations {
		if v, ok := ann[key]; ok {
			if problem := ownAnnotationProblem(key, v, ns); problem != "" {
				fail(key, bhv1.ReasonUnsupportedValue, problem)
			}
		}
	}
	if v, ok := ann[AnnotationBackendProtocol]; ok && ownAnnotationProblem(AnnotationBackendProtocol, v, ns) == "" {
		b.scheme = strings.ToLower(strings.TrimSpace(v))
	}
	if v, ok := ann[AnnotationSSLRedirect]; ok {
		b.redirect, _ = strconv.ParseBool(strings.TrimSpace(v))
	}
	if v, ok := ann[AnnotationServersTransport]; ok && PlainName(strings.TrimSpace(v)) {
		b.transportName = strings.TrimSpace(v)
	}
	if v, ok := ann[AnnotationTLSOptions]; ok {
		if ref, okRef := ObjectRef(v); okRef {
			b.tlsOption = &ref
		}
	}
	if v, ok := ann[AnnotationMiddlewares]; ok {
		for _, item := range strings.Split(v, ",") {
			ref, okRef := ObjectRef(item)
			if !okRef {
				continue // reported above
			}
			m, problem := t.middleware(ns, ref)
			if problem != nil {
				fail(AnnotationMiddlewares, problem.reason, problem.message)
				continue
			}
			b.middlewares = append(b.middlewares, m)
		}
	}
	t.servedForeignAnnotations(b)
	t.foreignAnnotations(b)
}

// ownAnnotationProblem says why the value of a bridgehead.dev annotation cannot be read, or
// "" when it can; the translator fails such an Ingress closed, and AnnotationFindings
// calls the annotation malformed, with these words.
func ownAnnotationProblem(key, v, ns string) string {
	switch key {
	case AnnotationBackendProtocol:
		switch strings.ToLower(strings.TrimSpace(v)) {
		case "http", "https", "h2c":
			return ""
		}
		return fmt.Sprintf("%q is not a backend protocol: use http, https or h2c", v)
	case AnnotationSSLRedirect:
		if _, err := strconv.ParseBool(strings.TrimSpace(v)); err != nil {
			return fmt.Sprintf("%q is not a boolean: use \"true\" or \"false\"", v)
		}
	case AnnotationServersTransport:
		if !PlainName(strings.TrimSpace(v)) {
			return fmt.Sprintf("%q is not the name of a ServersTransport: write the name of one in namespace %s (Traefik's namespace-name@kubernetescrd form is not read)", v, ns)
		}
	case AnnotationTLSOptions:
		if _, ok := ObjectRef(v); !ok {
			return fmt.Sprintf("%q is not a TLSOption reference: write NAME (in namespace %s) or NAMESPACE/NAME", v, ns)
		}
	case AnnotationMiddlewares:
		for _, item := range strings.Split(v, ",") {
			if item = strings.TrimSpace(item); item == "" {
				continue
			}
			if _, ok := ObjectRef(item); !ok {
				return fmt.Sprintf("%q is not a Middleware reference: write NAME (in namespace %s) or NAMESPACE/NAME, comma-separated", item, ns)
			}
		}
	}
	return ""
}

// PlainName reports whether s can be an object name (no namespace, no Traefik suffix), as
// the bridgehead.dev/servers-transport annotation must be (bridgehead migrate reads it too).
func PlainName(s string) bool {
	return s != "" && !strings.ContainsAny(s, "/@, \t")
}

// ObjectRef reads NAME or NAMESPACE/NAME, as the bridgehead.dev/tls-options and
// bridgehead.dev/middlewares annotations hold them (bridgehead migrate reads them too).
func ObjectRef(s string) (bhv1.ObjectReference, bool) {
	s = strings.TrimSpace(s)
	ns, name, found := strings.Cut(s, "/")
	if !found {
		name, ns = ns, ""
	}
	if !PlainName(name) || (found && !PlainName(ns)) {
		return bhv1.ObjectReference{}, false
	}
	return bhv1.ObjectReference{Name: name, Namespace: ns}, true
}
