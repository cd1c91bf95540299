package translate

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	bhv1 "github.com/bridgehead/bridgehead/api/v1alpha1"
	"github.com/bridgehead/bridgehead/internal/snapshot"
)

// Standard Ingress support. An Ingress of our IngressClass becomes HTTP routes in the same
// snapshot as IngressRoutes:
//
//   - every path of every rule is served on the web entry point, and also on websecure
//     when its host is listed in spec.tls (with that entry's Secret);
//   - with bridgehead.dev/ssl-redirect, a TLS host's web routes are replaced by one
//     redirect route per host that never redirects ACME http-01 challenges;
//   - spec.defaultBackend becomes a lowest-priority catch-all;
//   - the TLS, redirect, allow-list, rewrite and passthrough annotations of ingress-nginx
//     and the HAProxy controllers are served as those controllers define them
//     (ingress_annotations.go, through the same builders as ServersTransport, TLSOption
//     and Middleware objects); the other annotations of other controllers are named in a
//     warning, or fail the Ingress closed when they restrict access (ingress_foreign.go).
//
// Ingress has no conditions, so its report is turned into Events by the status writer.

const (
	// IngressController is the spec.controller of the IngressClasses Bridgehead serves.
	IngressController = "bridgehead.dev/ingress-controller"
	// DefaultIngressClass is the IngressClass name served unless --ingress-class says otherwise.
	DefaultIngressClass = "bridgehead"

	// AnnotationIngressClass is the legacy (pre-IngressClass) class annotation.
	AnnotationIngressClass = "kubernetes.io/ingress.class"
	// AnnotationBackendProtocol is http, https or h2c: how the gateway speaks to every
	// backend of the Ingress (default: https for port 443 or a port named https*, else http).
	AnnotationBackendProtocol = "bridgehead.dev/backend-protocol"
	// AnnotationServersTransport names a ServersTransport in the Ingress's namespace: how
	// the gateway trusts and talks to the Ingress's HTTPS backends.
	AnnotationServersTransport = "bridgehead.dev/servers-transport"
	// AnnotationTLSOptions names the TLSOption (NAME or NAMESPACE/NAME) of the Ingress's TLS hosts.
	AnnotationTLSOptions = "bridgehead.dev/tls-options"
	// AnnotationSSLRedirect "true" redirects plain HTTP for the Ingress's TLS hosts to HTTPS.
	AnnotationSSLRedirect = "bridgehead.dev/ssl-redirect"
	// AnnotationMiddlewares lists Middlewares (NAME or NAMESPACE/NAME, comma-separated),
	// run in order on every route of the Ingress.
	AnnotationMiddlewares = "bridgehead.dev/middlewares"

	// acmeChallengePath is never redirected by ssl-redirect, so http-01 solvers keep working.
	acmeChallengePath = "/.well-known/acme-challenge/"
	// solverLabel marks the Ingresses cert-manager creates for http-01 challenges.
	solverLabel = "acme.cert-manager.io/http01-solver"

	entryPointWeb       = "web"
	entryPointWebsecure = "websecure"
	// catchAllPriority puts spec.defaultBackend below every other route.
	catchAllPriority = 1
)

// MayServeIngress is a cheap pre-filter for watches: false means the Ingress names
// another class and can never be served by the gateway of className, whatever the
// IngressClasses say. True means it may be (translate decides).
func MayServeIngress(ing *networkingv1.Ingress, className string) bool {
	if className == "" {
		className = DefaultIngressClass
	}
	if v, ok := ing.Annotations[AnnotationIngressClass]; ok {
		return v == className
	}
	return ing.Spec.IngressClassName == nil || *ing.Spec.IngressClassName == className
}

// ingressClassState is what the IngressClass named in the flags says.
type ingressClassState struct {
	name      string
	exists    bool
	ours      bool // spec.controller is IngressController
	isDefault bool
	other     string // the controller of a same-named class that is not ours
}

func (t *translator) ingressClass() ingressClassState {
	st := ingressClassState{name: t.opts.IngressClass}
	if st.name == "" {
		st.name = DefaultIngressClass
	}
	for _, c := range t.in.IngressClasses {
		if c.Name != st.name {
			continue
		}
		st.exists = true
		st.ours = c.Spec.Controller == IngressController
		st.isDefault = c.Annotations[networkingv1.AnnotationIsDefaultIngressClass] == "true"
		if !st.ours {
			st.other = c.Spec.Controller
		}
	}
	return st
}

// serves decides whether an Ingress is ours: the legacy annotation names our class; or
// spec.ingressClassName does and that IngressClass (if it exists) is ours; or neither is
// set and our IngressClass is the cluster's default.
func (cls ingressClassState) serves(ing *networkingv1.Ingress) bool {
	if v, ok := ing.Annotations[AnnotationIngressClass]; ok {
		return v == cls.name
	}
	if n := ing.Spec.IngressClassName; n != nil {
		return *n == cls.name && (cls.ours || !cls.exists)
	}
	return cls.ours && cls.isDefault
}

// ingressBuild is the state of one Ingress while it is translated.
type ingressBuild struct {
	ing *networkingv1.Ingress
	rep *report
	src snapshot.Ref
	obj string

	scheme   string // from backend-protocol; "" = by port
	redirect bool
	// forceRedirect also redirects hosts without TLS (nginx force-ssl-redirect);
	// redirectCode fixes the redirect's status (0: 301/308 by method).
	forceRedirect bool
	redirectCode  int
	middlewares   []*snapshot.Middleware
	// failure makes every route of the Ingress fail closed (a bad annotation or middleware).
	failure *snapshot.Failure

	transportName     string
	transportResolved bool
	transport         *snapshot.Transport
	transportFailure  *snapshot.Failure
	anyHTTPS          bool
	// foreignTransport is synthesized from other controllers' annotations (see
	// ingress_annotations.go); handled lists the annotations read that way.
	foreignTransport *snapshot.Transport
	handled          map[string]bool
	// annotationPolicy is the ID of the client-certificate policy synthesized from
	// annotations; plainRefused fails the web routes when it requires a certificate.
	annotationPolicy string
	plainRefused     *snapshot.Failure
	// passthrough: TLS for the Ingress's hosts goes to the backends untouched.
	passthrough bool
	// pathPrefixes maps paths written as ingress-nginx regular expressions for
	// rewrite-target to the prefix they match.
	pathPrefixes map[string]string

	tlsOption     *bhv1.ObjectReference
	policy        string
	policyFailure *snapshot.Failure
	tls           []ingressTLS

	paths int       // routes numbered for RouteIndex
	inv   inventory // the certificates the Ingress depends on
}

type ingressTLS struct {
	hosts []string
	cert  *snapshot.Certificate
	// broken: the Secret cannot be used, so clients get the default certificate.
	broken bool
}

// ingressSlot is one Ingress route competing for a rule slot; the oldest Ingress wins.
type ingressSlot struct {
	created metav1.Time
	id      string
	b       *ingressBuild
	field   string
	what    string
	path    *ingressPath
	remove  func()
}

// ingressPath tracks whether a path counts as served, across its web and websecure routes.
type ingressPath struct {
	served, lost bool
}

func (t *translator) buildIngresses() {
	cls := t.ingressClass()
	slots := map[ruleSlot][]ingressSlot{}
	redirects := map[string]bool{}
	for _, ing := range sortedByName(t.in.Ingresses) {
		if !cls.serves(ing) {
			continue
		}
		t.buildIngress(ing, cls, slots, redirects)
	}
	t.resolveIngressConflicts(slots)
}

func (t *translator) buildIngress(ing *networkingv1.Ingress, cls ingressClassState, slots map[ruleSlot][]ingressSlot, redirects map[string]bool) {
	b := &ingressBuild{
		ing: ing,
		rep: t.reportFor(KindIngress, &ing.ObjectMeta),
		src: snapshot.Ref{Kind: KindIngress, Namespace: ing.Namespace, Name: ing.Name},
		obj: "Ingress " + ing.Namespace + "/" + ing.Name,
	}
	if ing.Spec.IngressClassName != nil && !cls.exists {
		b.rep.warn(bhv1.ReasonIneffectiveSetting, fmt.Sprintf(
			"spec.ingressClassName: IngressClass %q does not exist; Bridgehead serves this Ingress, but create the IngressClass (controller %s; the Helm chart and config/default install it) so that other controllers and tools know who serves it",
			cls.name, IngressController))
	}
	t.ingressAnnotations(b)
	if len(ing.Spec.Rules) == 0 && ing.Spec.DefaultBackend == nil {
		b.rep.invalidf(bhv1.ReasonInvalid, "spec: neither rules nor defaultBackend is set, so nothing is served; add rules")
	}
	t.ingressTLS(b)
	t.checkIngressTLS(b)
	t.noteRemovedAPIVersion(b)

	hosts := map[string]bool{}
	redirectHosts := map[string]bool{}
	for i, r := range ing.Spec.Rules {
		host := normalizeHost(r.Host)
		if host != "" {
			hosts[host] = true
		}
		tlsIndex := b.tlsFor(host)
		redirect := (b.redirect && tlsIndex >= 0 || b.forceRedirect) && host != ""
		if redirect {
			redirectHosts[host] = true
		}
		field := fmt.Sprintf("spec.rules[%d]", i)
		if r.HTTP == nil || len(r.HTTP.Paths) == 0 {
			if ing.Spec.DefaultBackend == nil {
				b.rep.warn(bhv1.ReasonIneffectiveSetting, fmt.Sprintf("%s: host %s has no http paths and the Ingress has no defaultBackend, so nothing is served for it; add paths", field, hostLabel(host)))
			}
			continue
		}
		for j, p := range r.HTTP.Paths {
			pfield := fmt.Sprintf("%s.http.paths[%d]", field, j)
			path, pathType := p.Path, p.PathType
			if prefix, ok := b.pathPrefixes[path]; ok {
				path, pathType = prefix, ptrTo(networkingv1.PathTypePrefix)
			}
			match, priority, what, problem := ingressMatch(host, path, pathType)
			if problem != "" {
				b.rep.total++
				b.rep.invalidf(bhv1.ReasonInvalid, pfield+": "+problem)
				continue
			}
			backend := t.ingressBackend(b, pfield+".backend", &p.Backend)
			t.addIngressPath(b, slots, ingressRouteSpec{
				id: fmt.Sprintf("rules[%d].paths[%d]", i, j), field: pfield, what: what,
				match: match, priority: priority, backend: backend,
				web: !redirect, websecure: tlsIndex >= 0, tlsBroken: tlsIndex >= 0 && b.tls[tlsIndex].broken,
			})
		}
	}
	if d := ing.Spec.DefaultBackend; d != nil {
		catchAll, _ := CatchAllRule()
		backend := t.ingressBackend(b, "spec.defaultBackend", d)
		t.addIngressPath(b, slots, ingressRouteSpec{
			id: "defaultBackend", field: "spec.defaultBackend", what: "the catch-all (spec.defaultBackend)",
			match: catchAll, priority: catchAllPriority, backend: backend,
			web: true, websecure: len(b.tls) > 0,
		})
	}
	for _, host := range sortedKeys(redirectHosts) {
		if redirects[host] {
			continue // another Ingress already redirects this host, the same way
		}
		redirects[host] = true
		t.addRedirect(b, host)
	}
	if b.passthrough {
		t.addPassthrough(b)
	}
	t.finishIngressTransport(b)
	b.rep.hosts = sortedKeys(hosts)
	b.rep.certs = b.inv.result()
}

func hostLabel(host string) string {
	if host == "" {
		return "(any)"
	}
	return host
}

// ingressRouteSpec is one path of an Ingress, to be served on web and/or websecure.
type ingressRouteSpec struct {
	id, field, what string
	match           string
	priority        int
	backend         *snapshot.Backend
	web, websecure  bool
	tlsBroken       bool // its TLS host is served with the default certificate
}

func (t *translator) addIngressPath(b *ingressBuild, slots map[ruleSlot][]ingressSlot, s ingressRouteSpec) {
	b.rep.total++
	tlsOK := !s.websecure || (!s.tlsBroken && b.policyFailure == nil)
	path := &ingressPath{served: b.failure == nil && tlsOK && anyBackendServes([]*snapshot.Backend{s.backend})}
	if path.served {
		b.rep.served++
	}
	index := b.paths
	b.paths++
	add := func(ep string, tls bool) {
		hr := &snapshot.HTTPRoute{
			RouteHead:   snapshot.RouteHead{ID: fmt.Sprintf("%s/%s/ingress/%s/%s", b.ing.Namespace, b.ing.Name, s.id, ep), Source: b.src, RouteIndex: index, Match: s.match, Priority: s.priority, EntryPoints: []string{ep}},
			TLS:         tls,
			Middlewares: b.middlewares,
			Backends:    []*snapshot.Backend{s.backend},
			Failure:     b.failure,
		}
		if tls {
			hr.Policy = b.policy
			if hr.Failure == nil {
				hr.Failure = b.policyFailure
			}
		} else if hr.Failure == nil {
			hr.Failure = b.plainRefused
		}
		t.snap.HTTPRoutes = append(t.snap.HTTPRoutes, hr)
		slot := ruleSlot{match: s.match, entryPoints: ep, priority: s.priority}
		slots[slot] = append(slots[slot], ingressSlot{created: b.ing.CreationTimestamp, id: hr.ID, b: b, field: s.field, what: s.what, path: path,
			remove: func() { t.removeHTTPRoute(hr.ID) }})
	}
	if s.web {
		add(entryPointWeb, false)
	}
	if s.websecure {
		add(entryPointWebsecure, true)
	}
}

// addRedirect adds the route that sends plain HTTP for a TLS host to HTTPS. It never
// matches ACME http-01 challenges, and any more specific route on web for the host (such
// as cert-manager's solver Ingress) outranks it.
func (t *translator) addRedirect(b *ingressBuild, host string) {
	index := b.paths
	b.paths++
	match, priority := RedirectRule(host)
	t.snap.HTTPRoutes = append(t.snap.HTTPRoutes, &snapshot.HTTPRoute{
		RouteHead:   snapshot.RouteHead{ID: fmt.Sprintf("%s/%s/ingress/ssl-redirect/%s", b.ing.Namespace, b.ing.Name, host), Source: b.src, RouteIndex: index, Match: match, Priority: priority, EntryPoints: []string{entryPointWeb}},
		Middlewares: []*snapshot.Middleware{{Source: b.src, RedirectScheme: &snapshot.RedirectScheme{Scheme: "https", Port: t.opts.RedirectPort, Permanent: true, StatusCode: b.redirectCode}}},
	})
}

// ingressMatch compiles a rule's host and a path into a match rule and its priority.
// Prefix (and ImplementationSpecific) match whole path elements, as the Ingress API says:
// /foo matches /foo and /foo/bar but not /foobar.
func ingressMatch(host, path string, pathType *networkingv1.PathType) (match string, priority int, what, problem string) {
	pt := networkingv1.PathTypeImplementationSpecific
	if pathType != nil {
		pt = *pathType
	}
	if path == "" && pt == networkingv1.PathTypeImplementationSpecific {
		path = "/"
	}
	if !strings.HasPrefix(path, "/") {
		return "", 0, "", fmt.Sprintf("path %q must start with /", path)
	}
	var pathRule string
	switch pt {
	case networkingv1.PathTypeExact:
		pathRule = "Path(" + quoteRule(path) + ")"
		priority = pathPriority(host, path, true)
	case networkingv1.PathTypePrefix, networkingv1.PathTypeImplementationSpecific:
		trimmed := strings.TrimRight(path, "/")
		if trimmed == "" {
			pathRule = "PathPrefix(`/`)"
		} else {
			pathRule = "(Path(" + quoteRule(trimmed) + ") || PathPrefix(" + quoteRule(trimmed+"/") + "))"
		}
		priority = pathPriority(host, path, false)
	default:
		return "", 0, "", fmt.Sprintf("pathType %q is not one of Exact, Prefix, ImplementationSpecific", pt)
	}
	what = fmt.Sprintf("host %s, path %s (%s)", hostLabel(host), path, pt)
	if host == "" {
		return pathRule, priority, what, ""
	}
	return "Host(" + quoteRule(host) + ") && " + pathRule, priority, what, ""
}

// pathPriority ranks Ingress paths on the scale of IngressRoute priorities (the length of
// the rule Host(`h`) && PathPrefix(`/p`)), so both kinds mix as they do in Traefik: a
// longer prefix wins, and an Exact path beats any prefix that matches the same request.
func pathPriority(host, path string, exact bool) int {
	n := len("PathPrefix(``)")
	if host != "" {
		n += len("Host(``) && ") + len(host)
	}
	if exact {
		return n + len(path) + 1
	}
	trimmed := strings.TrimRight(path, "/")
	if trimmed == "" {
		trimmed = "/"
	}
	return n + len(trimmed)
}

// quoteRule writes a rule string literal.
func quoteRule(s string) string {
	if !strings.ContainsRune(s, '`') {
		return "`" + s + "`"
	}
	return strconv.Quote(s)
}

// tlsFor returns the index of the spec.tls entry that covers host, or -1: an exact host
// first, then a wildcard, then an entry without hosts (which covers every host).
func (b *ingressBuild) tlsFor(host string) int {
	if host != "" {
		for k, e := range b.tls {
			for _, h := range e.hosts {
				if h == host {
					return k
				}
			}
		}
		for k, e := range b.tls {
			for _, h := range e.hosts {
				if wildcardCovers(h, host) {
					return k
				}
			}
		}
	}
	for k, e := range b.tls {
		if len(e.hosts) == 0 {
			return k
		}
	}
	return -1
}

func wildcardCovers(pattern, host string) bool {
	suffix, ok := strings.CutPrefix(pattern, "*.")
	if !ok || strings.HasPrefix(host, "*.") {
		return false
	}
	i := strings.IndexByte(host, '.')
	return i > 0 && host[i+1:] == suffix
}

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
		if !plainName(name) {
			fail(AnnotationServersTransport, bhv1.ReasonUnsupportedValue, fmt.Sprintf(
				"%q is not the name of a ServersTransport: write the name of one in namespace %s (Traefik's namespace-name@kubernetescrd form is not read)", v, ns))
		} else {
			b.transportName = name
		}
	}
	if v, ok := ann[AnnotationTLSOptions]; ok {
		ref, okRef := objectRef(v)
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
			ref, okRef := objectRef(item)
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

// plainName reports whether s can be an object name (no namespace, no Traefik suffix).
func plainName(s string) bool {
	return s != "" && !strings.ContainsAny(s, "/@, \t")
}

// objectRef reads NAME or NAMESPACE/NAME.
func objectRef(s string) (bhv1.ObjectReference, bool) {
	s = strings.TrimSpace(s)
	ns, name, found := strings.Cut(s, "/")
	if !found {
		name, ns = ns, ""
	}
	if !plainName(name) || (found && !plainName(ns)) {
		return bhv1.ObjectReference{}, false
	}
	return bhv1.ObjectReference{Name: name, Namespace: ns}, true
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
			t.hostClaims[n] = append(t.hostClaims[n], hostClaim{
				rep: b.rep, source: b.src, routeID: fmt.Sprintf("%s/%s/ingress/tls[%d]", ns, b.ing.Name, k),
				policy: b.policy, cert: e.cert, failure: b.policyFailure, certOnly: !routes(n),
			})
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

// ingressBackend resolves one backend of an Ingress to a Service port and its endpoints.
func (t *translator) ingressBackend(b *ingressBuild, field string, be *networkingv1.IngressBackend) *snapshot.Backend {
	ns := b.ing.Namespace
	if be.Service == nil {
		ref := snapshot.Ref{Kind: "Resource", Namespace: ns}
		what := "no Service"
		if r := be.Resource; r != nil {
			ref.Kind, ref.Name = r.Kind, r.Name
			what = "a " + r.Kind
		}
		msg := fmt.Sprintf("%s: only Service backends are supported, this one is %s; route to a Service", field, what)
		b.rep.invalidf(bhv1.ReasonUnsupportedValue, msg+"; requests on this path get 503 until it is fixed")
		return &snapshot.Backend{Service: ref, Weight: 1, Failure: &snapshot.Failure{Reason: string(bhv1.ReasonUnsupportedValue), Status: http.StatusServiceUnavailable, Message: b.obj + " " + msg}}
	}
	svc := be.Service
	port := bhv1.Port(svc.Port.Name)
	if port == "" {
		port = bhv1.Port(strconv.Itoa(int(svc.Port.Number)))
	}
	out := &snapshot.Backend{
		Service:        snapshot.Ref{Kind: "Service", Namespace: ns, Name: svc.Name},
		Port:           string(port),
		Weight:         1,
		PassHostHeader: true,
	}
	res, problem, status := t.resolveService(ns, ns, svc.Name, port)
	var sp *corev1.ServicePort
	if res != nil {
		out.Endpoints, sp = res.endpoints, res.port
	}
	out.Scheme = backendScheme(bhv1.Scheme(b.scheme), sp, port)
	if problem != nil {
		msg := fmt.Sprintf("%s: %s", field, problem.message)
		if problem.reason == bhv1.ReasonNoEndpoints {
			b.rep.notReadyf(problem.reason, msg)
		} else {
			b.rep.refError(problem.reason, msg+fmt.Sprintf("; requests on this path get %d until it is fixed", status))
		}
		out.Failure = &snapshot.Failure{Reason: string(problem.reason), Status: status, Message: b.obj + " " + msg}
	}
	if out.Scheme == "https" {
		b.anyHTTPS = true
		out.ServerName, out.VerifyNames = t.upstreamNames(res, ns, svc.Name)
	}
	if b.transportName != "" {
		t.resolveIngressTransport(b, out.Scheme == "https")
		if tr := b.transport; tr != nil {
			out.Transport = tr.ID
			if tr.ServerName != "" && out.Scheme == "https" {
				out.ServerName, out.VerifyNames = tr.ServerName, []string{tr.ServerName}
			}
		}
		if out.Failure == nil && b.transportFailure != nil {
			out.Failure = b.transportFailure
		}
		b.inv.transport(b.transport)
	} else if tr := b.foreignTransport; tr != nil {
		out.Transport = tr.ID
		if tr.ServerName != "" && out.Scheme == "https" {
			out.ServerName, out.VerifyNames = tr.ServerName, []string{tr.ServerName}
		}
		if out.Failure == nil && tr.Failure != nil && out.Scheme == "https" {
			out.Failure = &snapshot.Failure{Reason: tr.Failure.Reason, Status: http.StatusBadGateway, Detail: tr.Failure.Detail,
				Message: tr.Failure.Message + "; requests to this Ingress's backends get 502 until it is fixed"}
		}
		b.inv.transport(tr)
	}
	return out
}

// resolveIngressTransport looks the servers-transport annotation up once per Ingress.
func (t *translator) resolveIngressTransport(b *ingressBuild, https bool) {
	if b.transportResolved {
		return
	}
	b.transportResolved = true
	ns := b.ing.Namespace
	t.useTransport(b.rep, b.obj, "metadata.annotations["+AnnotationServersTransport+"]", KindServersTransport, ns, ns, b.transportName,
		https, "requests to this Ingress's backends get 502",
		func(tr *snapshot.Transport) { b.transport = tr },
		func(f *snapshot.Failure) { b.transportFailure = f })
}

// finishIngressTransport warns when the servers-transport annotation can have no effect.
func (t *translator) finishIngressTransport(b *ingressBuild) {
	if tr := b.foreignTransport; tr != nil && !b.anyHTTPS {
		b.rep.warn(bhv1.ReasonIneffectiveSetting, fmt.Sprintf(
			"metadata.annotations: the backend TLS settings of %s are never used, because every backend is spoken to over plain HTTP; ask for TLS to the backends (backend-protocol HTTPS, server-ssl \"true\", ...) or name the Services' https ports",
			strings.Join(sortedKeys(b.handled), ", ")))
	}
	if b.transportName == "" || b.anyHTTPS || !b.transportResolved {
		return
	}
	b.rep.warn(bhv1.ReasonIneffectiveSetting, fmt.Sprintf(
		"metadata.annotations[%s]: ServersTransport %q is set but every backend is spoken to over plain HTTP, so its TLS settings are never used; set %s: https or name the Services' https ports",
		AnnotationServersTransport, b.transportName, AnnotationBackendProtocol))
}

// resolveIngressConflicts keeps one route per slot, as for IngressRoutes: the oldest
// Ingress wins, then by name; each loser is told which Ingress won.
func (t *translator) resolveIngressConflicts(slots map[ruleSlot][]ingressSlot) {
	eachConflict(slots, func(e ingressSlot) (metav1.Time, string) { return e.created, e.id },
		func(k ruleSlot, winner, e ingressSlot) {
			e.remove()
			if e.path.served && !e.path.lost {
				e.b.rep.served--
			}
			e.path.lost = true
			by := winner.b.obj
			if winner.b == e.b {
				by = "this Ingress's " + winner.field
			}
			e.b.rep.invalidf(bhv1.ReasonConflicted, fmt.Sprintf(
				"%s: %s on entry point %s is already served by %s, which wins (older, or first by name); remove the duplicate or change its host or path",
				e.field, e.what, k.entryPoints, by))
		})
}

func ptrTo[T any](v T) *T { return &v }
