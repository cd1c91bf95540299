package translate

import (
	"fmt"
	"net/http"
	"slices"
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
	rep     *report // the Ingress's
	obj     string  // "Ingress NAMESPACE/NAME", for messages
	field   string
	what    string
	path    *ingressPath
	remove  func(id string)
}

// ingressPath tracks whether a path counts as served, across its web and websecure routes.
type ingressPath struct {
	served, lost bool
}

func (t *translator) buildIngresses() {
	cls := t.ingressClass()
	ings := sortedByName(t.in.Ingresses)
	var slots map[ruleSlot][]ingressSlot
	if t.memo != nil {
		slots = reuse(&t.memo.memo.ingressSlots, 2*len(ings)) // a path is served on web and websecure
	} else {
		slots = make(map[ruleSlot][]ingressSlot, 2*len(ings))
	}
	redirects := map[string]bool{}
	t.snap.HTTPRoutes = slices.Grow(t.snap.HTTPRoutes, 2*len(ings))
	for _, ing := range ings {
		if !cls.serves(ing) {
			if hasNoClass(ing) && cls.classlessUnowned() {
				// Nobody serves it: say so where the user looks (status, lint), without
				// writing to an object that may be another controller's.
				r := t.reportFor(KindIngress, &ing.ObjectMeta)
				r.notServed = true
				r.notReadyf(bhv1.ReasonNoIngressClass, fmt.Sprintf(
					"not served: no class: the Ingress names no IngressClass (spec.ingressClassName, or the %s annotation) and no IngressClass is the cluster's default; set spec.ingressClassName: %s, or start the gateway with --ingress-without-class to serve Ingresses of no class (as Traefik does)",
					AnnotationIngressClass, cls.name))
			}
			continue
		}
		if t.replayIngress(ing, slots, redirects) {
			continue
		}
		t.recordIngress(ing, func() { t.buildIngress(ing, cls, slots, redirects) })
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
		if t.irec != nil {
			t.irec.redirects = append(t.irec.redirects, redirectRecord{host: host, taken: redirects[host]})
		}
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
	pathRecord := 0
	if t.irec != nil {
		pathRecord = len(t.irec.paths)
		t.irec.paths = append(t.irec.paths, path.served)
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
		slots[slot] = append(slots[slot], ingressSlot{created: b.ing.CreationTimestamp, id: hr.ID, rep: b.rep, obj: b.obj, field: s.field, what: s.what, path: path,
			remove: t.removeHTTP})
		if t.irec != nil {
			t.irec.slots = append(t.irec.slots, ingressSlotRecord{slot: slot, id: hr.ID, field: s.field, what: s.what, path: pathRecord})
		}
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
			e.remove(e.id)
			if e.path.served && !e.path.lost {
				e.rep.served--
			}
			e.path.lost = true
			by := winner.obj
			if winner.rep == e.rep {
				by = "this Ingress's " + winner.field
			}
			e.rep.invalidf(bhv1.ReasonConflicted, fmt.Sprintf(
				"%s: %s on entry point %s is already served by %s, which wins (older, or first by name); remove the duplicate or change its host or path",
				e.field, e.what, k.entryPoints, by))
		})
}

func ptrTo[T any](v T) *T { return &v }
