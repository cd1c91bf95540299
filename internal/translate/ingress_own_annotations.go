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
	if v, ok := ann[AnnotationBackendProtocol]; ok {
		switch strings.ToLower(strings.TrimSpace(v)) {
		case "http", "https", "h2c":
			b.scheme = strings.ToLower(strings.TrimSpace(v))
		default:
			fail(AnnotationBackendProtocol, bhv1.ReasonUnsupportedValue, fmt.Sprintf("%q is not a backend protocol: use http, https or h2c", v))
		}
	}
	if v, ok := ann[AnnotationSSLRedirect]; ok {
		on, err := strconv.ParseBool(strings.TrimSpace(v))
		if err != nil {
			fail(AnnotationSSLRedirect, bhv1.ReasonUnsupportedValue, fmt.Sprintf("%q is not a boolean: use \"true\" or \"false\"", v))
		}
		b.redirect = on
	}
	if v, ok := ann[AnnotationServersTransport]; ok {
		name := strings.TrimSpace(v)
		if !PlainName(name) {
			fail(AnnotationServersTransport, bhv1.ReasonUnsupportedValue, fmt.Sprintf(
				"%q is not the name of a ServersTransport: write the name of one in namespace %s (Traefik's namespace-name@kubernetescrd form is not read)", v, ns))
		} else {
			b.transportName = name
		}
	}
	if v, ok := ann[AnnotationTLSOptions]; ok {
		ref, okRef := ObjectRef(v)
		if !okRef {
			fail(AnnotationTLSOptions, bhv1.ReasonUnsupportedValue, fmt.Sprintf("%q is not a TLSOption reference: write NAME (in namespace %s) or NAMESPACE/NAME", v, ns))
		} else {
			b.tlsOption = &ref
		}
	}
	if v, ok := ann[AnnotationMiddlewares]; ok {
		for _, item := range strings.Split(v, ",") {
			item = strings.TrimSpace(item)
			if item == "" {
				continue
			}
			ref, okRef := ObjectRef(item)
			if !okRef {
				fail(AnnotationMiddlewares, bhv1.ReasonUnsupportedValue, fmt.Sprintf("%q is not a Middleware reference: write NAME (in namespace %s) or NAMESPACE/NAME, comma-separated", item, ns))
				continue
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
