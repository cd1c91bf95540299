package translate

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	bhv1 "github.com/bridgehead/bridgehead/api/v1alpha1"
	"github.com/bridgehead/bridgehead/internal/rule"
	"github.com/bridgehead/bridgehead/internal/snapshot"
)

// Health-check defaults.
const (
	defaultHealthInterval = 30 * time.Second
	defaultHealthTimeout  = 5 * time.Second
)

// ruleSlot identifies routes that would compete for the same requests: same rule text,
// same priority, same entry points.
type ruleSlot struct {
	match, entryPoints string
	priority           int
	tcp                bool
	parents            string // the parent IngressRoutes of a child's route (see parents.go)
}

// slotEntry is one route in a slot, with what decides which route wins.
type slotEntry struct {
	created metav1.Time
	id      string
	rep     *report
	field   string
	served  bool
	remove  func(id string) // takes the route out of the snapshot when it loses its slot
}

func (t *translator) buildIngressRoutes() {
	irs := sortedByName(t.in.IngressRoutes)
	var slots map[ruleSlot][]slotEntry
	if t.memo != nil {
		slots = reuse(&t.memo.memo.slots, len(irs))
	} else {
		slots = make(map[ruleSlot][]slotEntry, len(irs))
	}
	tree := t.parentage(irs)
	t.snap.HTTPRoutes = slices.Grow(t.snap.HTTPRoutes, len(irs))
	for _, ir := range irs {
		if !t.memoizable(ir, tree) {
			t.buildIngressRoute(ir, slots, tree)
			continue
		}
		if t.replay(ir, slots) {
			continue
		}
		t.record(ir, func() { t.buildIngressRoute(ir, slots, tree) })
	}
	t.resolveConflicts(slots)
	t.pruneRouteTree(slots, tree)
}

func (t *translator) buildIngressRoute(ir *bhv1.IngressRoute, slots map[ruleSlot][]slotEntry, tree *parentage) {
	ro, ok := t.newRouteObject(KindIngressRoute, &ir.ObjectMeta, ir.Spec.EntryPoints, len(ir.Spec.Routes), slots, false)
	if !ok {
		return
	}
	rep := ro.rep
	key := nsName{ir.Namespace, ir.Name}
	if tree.refuse(key, rep) {
		rep.total = len(ir.Spec.Routes)
		return
	}
	parentIDs := tree.parentRouteIDs(key)
	ro.parents = tree.slotKey(key)
	var front *edge
	if tlsSpec := ir.Spec.TLS; tlsSpec != nil {
		front = t.edgeTLS(rep, ro.obj, ir.Namespace, tlsSpec.SecretName, tlsSpec.Options, tlsSpec.Domains)
	}
	// Entry points of the other kind (TLS vs plain) or unknown would drop the routes there
	// silently; entrypoints.go reports them.
	reachable := ro.httpEntryPoints(front != nil)
	allHosts := map[string]bool{}
	var inv inventory
	if front != nil {
		inv.certificate(bhv1.CertificateUseEdge, front.cert)
	}

	for i, r := range ir.Spec.Routes {
		head, parsed, field, ok := ro.head(i, r.Match, r.Priority, rule.HTTP)
		if !ok {
			continue
		}
		hosts, anyHost := parsed.Hosts()
		for _, h := range hosts {
			allHosts[h] = true
		}
		if len(r.Services) == 0 && !tree.parents[key] {
			rep.notReadyf(bhv1.ReasonNoChildRoutes, fmt.Sprintf(
				"%s has no services and no served IngressRoute names %s in spec.parentRefs, so it answers nothing and is not served; add services, or a child IngressRoute whose spec.parentRefs names this one",
				field, ro.obj))
			continue
		}
		hr := &snapshot.HTTPRoute{RouteHead: head, TLS: front != nil, Parents: parentIDs}
		if len(r.Services) == 0 {
			tree.parentRoutes[hr.ID] = true
		}
		hr.Middlewares = middlewares(ro, field, r.Middlewares, t.middleware, "requests on this route get 503", &hr.Failure)
		// The route's services are the top level of its tree; a route without a
		// TraefikService keeps its backends and their weights as written.
		root := &tsnode{source: snapshot.Ref{Kind: KindIngressRoute, Namespace: ir.Namespace, Name: ir.Name}}
		nested := false
		for j, s := range r.Services {
			nested = nested || s.Kind == bhv1.ServiceKindTraefikService
			root.children = append(root.children, t.entryNode(rep, ro.obj, field+".services["+strconv.Itoa(j)+"]", ir.Namespace, s, nil))
			root.weights = append(root.weights, entryWeight(s))
		}
		if nested {
			hr.Backends, hr.Balance = routeBackends(root)
		} else {
			for _, c := range root.children {
				hr.Backends = append(hr.Backends, c.backend)
			}
		}
		for _, b := range hr.Backends {
			inv.transport(t.built[b.Transport])
		}
		if front != nil {
			names := append(append([]string(nil), hosts...), front.domains...)
			if len(names) == 0 || (anyHost && len(front.domains) == 0) {
				t.warnHostless(rep, field, front)
			}
			ro.edge(front, hr.ID, names, &hr.Policy, &hr.Failure)
		}
		t.snap.HTTPRoutes = append(t.snap.HTTPRoutes, hr)
		serves := reachable && hr.Failure == nil && (root.serves() || tree.parentRoutes[hr.ID])
		ro.claim(parsed, head, field, serves, t.removeHTTP)
	}
	rep.hosts = sortedKeys(allHosts)
	rep.certs = inv.result()
}

func anyBackendServes(bs []*snapshot.Backend) bool {
	for _, b := range bs {
		if b.Failure == nil && b.Weight > 0 {
			return true
		}
	}
	return false
}

// httpBackend resolves one service of a route.
func (t *translator) httpBackend(rep *report, obj, field, ns string, s bhv1.Service) *snapshot.Backend {
	return t.httpBackendFor(rep, obj, field, ns, s, "requests on this route get")
}

// httpBackendFor resolves a service; consequence, followed by a status, says what a
// problem with it does (a mirror's only loses copies).
func (t *translator) httpBackendFor(rep *report, obj, field, ns string, s bhv1.Service, consequence string) *snapshot.Backend {
	svcNS := s.Namespace
	if svcNS == "" {
		svcNS = ns
	}
	b := &snapshot.Backend{
		Service:        snapshot.Ref{Kind: "Service", Namespace: svcNS, Name: s.Name},
		Port:           string(s.Port),
		Weight:         1,
		PassHostHeader: true,
	}
	if s.Weight != nil {
		b.Weight = *s.Weight
	}
	if s.PassHostHeader != nil {
		b.PassHostHeader = *s.PassHostHeader
	}
	res, problem, status := t.resolveService(ns, svcNS, s.Name, s.Port)
	var port *corev1.ServicePort
	if res != nil {
		b.Endpoints, port = res.endpoints, res.port
	}
	b.Scheme = backendScheme(s.Scheme, port, s.Port)
	if problem != nil {
		msg := fmt.Sprintf("%s: %s", field, problem.message)
		if problem.reason == bhv1.ReasonNoEndpoints {
			rep.notReadyf(problem.reason, msg)
		} else {
			rep.refError(problem.reason, msg+fmt.Sprintf("; %s %d until it is fixed", consequence, status))
		}
		b.Failure = &snapshot.Failure{Reason: string(problem.reason), Status: status, Message: obj + " " + msg}
	}

	if b.Scheme == "https" {
		b.ServerName, b.VerifyNames = t.upstreamNames(res, svcNS, s.Name)
	}
	if s.ServersTransport != "" {
		t.useTransport(rep, obj, field, KindServersTransport, ns, svcNS, s.ServersTransport, b.Scheme == "https", consequence+" 502",
			func(tr *snapshot.Transport) {
				b.Transport = tr.ID
				if tr.ServerName != "" && b.Scheme == "https" {
					b.ServerName, b.VerifyNames = tr.ServerName, []string{tr.ServerName}
				}
			},
			func(f *snapshot.Failure) {
				if b.Failure == nil {
					b.Failure = f
				}
			})
		if b.Scheme != "https" {
			rep.warn(bhv1.ReasonIneffectiveSetting, fmt.Sprintf(
				"%s: serversTransport %q is set but the backend is spoken to over plain %s (port %s), so its TLS settings are never used; set scheme: https or name the Service's https port",
				field, s.ServersTransport, b.Scheme, string(s.Port)))
		}
	}
	if s.Sticky != nil && s.Sticky.Cookie != nil {
		b.Sticky = stickyCookie(rep.key, field, s.Sticky.Cookie)
	}
	if s.HealthCheck != nil {
		b.HealthCheck = t.healthCheck(rep, field, b.Scheme, s.HealthCheck)
	}
	return b
}

// useTransport resolves a serversTransport reference in the route's namespace.
func (t *translator) useTransport(rep *report, obj, field, kind, ns, svcNS, name string, used bool, consequence string, ok func(*snapshot.Transport), fail func(*snapshot.Failure)) {
	tr, found := t.built[transportID(kind, ns, name)]
	if !found {
		where := ""
		if svcNS != ns {
			where = " (a serversTransport is looked up in the route's namespace, not the Service's)"
		}
		msg := fmt.Sprintf("%s: %s %q not found in namespace %s%s; %s until it exists", field, kind, name, ns, where, consequence)
		rep.refError(bhv1.ReasonNotFound, msg)
		fail(&snapshot.Failure{Reason: string(bhv1.ReasonNotFound), Status: http.StatusBadGateway, Message: obj + " " + msg})
		return
	}
	ok(tr)
	if tr.Failure != nil {
		until := "it is fixed"
		if tr.Failure.Reason == string(bhv1.ReasonNotFound) {
			until = "it exists"
		}
		if tr.Failure.Reason == string(bhv1.ReasonCASecretNotFound) || tr.Failure.Reason == string(bhv1.ReasonCAConfigMapNotFound) {
			until = "it exists"
		}
		msg := fmt.Sprintf("%s: %s; %s until %s", field, tr.Failure.Message, consequence, until)
		rep.refErrorDetail(bhv1.ConditionReason(tr.Failure.Reason), msg, tr.Failure.Detail)
		fail(&snapshot.Failure{Reason: tr.Failure.Reason, Status: http.StatusBadGateway, Message: obj + " " + msg, Detail: tr.Failure.Detail})
	}
	if tr.InsecureSkipVerify && used {
		rep.warn(bhv1.ReasonInsecureSkipVerify, fmt.Sprintf("%s: %s %s/%s has insecureSkipVerify: the backend's certificate is not verified", field, kind, ns, name))
	}
}

func stickyCookie(k Key, field string, c *bhv1.Cookie) *snapshot.StickyCookie {
	out := &snapshot.StickyCookie{Name: c.Name, Secure: c.Secure, HTTPOnly: c.HTTPOnly, SameSite: string(c.SameSite), MaxAge: c.MaxAge, Path: "/"}
	if c.Path != nil {
		out.Path = *c.Path
	}
	if out.Name == "" {
		sum := sha256.Sum256([]byte(k.String() + "/" + field))
		out.Name = "_bh_" + hex.EncodeToString(sum[:6])
	}
	return out
}

func (t *translator) healthCheck(rep *report, field, scheme string, h *bhv1.HealthCheck) *snapshot.HealthCheck {
	out := &snapshot.HealthCheck{
		Scheme: string(h.Scheme), Path: h.Path, Method: h.Method, Status: h.Status, Port: h.Port,
		Hostname: h.Hostname, Headers: h.Headers, Interval: defaultHealthInterval, Timeout: defaultHealthTimeout,
	}
	if out.Scheme == "" {
		out.Scheme = scheme
	}
	if out.Path == "" {
		out.Path = "/"
	}
	if out.Method == "" {
		out.Method = http.MethodGet
	}
	// A bad health-check duration does not stop the route: it is a warning and the default
	// applies (the schema refuses it in a cluster; a manifests folder is not validated).
	warnDuration := func(name string, d *bhv1.Duration, dst *time.Duration) {
		if d == nil {
			return
		}
		if v, err := d.Parse(); err != nil {
			rep.warn(bhv1.ReasonIneffectiveSetting, fmt.Sprintf("%s.healthCheck.%s: %v; the default %s is used", field, name, err, *dst))
		} else {
			*dst = v
		}
	}
	warnDuration("interval", h.Interval, &out.Interval)
	warnDuration("timeout", h.Timeout, &out.Timeout)
	out.UnhealthyInterval = out.Interval
	warnDuration("unhealthyInterval", h.UnhealthyInterval, &out.UnhealthyInterval)
	return out
}

// removeHTTPRoute drops a route that lost a rule conflict.
func (t *translator) removeHTTPRoute(id string) {
	routes := t.snap.HTTPRoutes[:0]
	for _, r := range t.snap.HTTPRoutes {
		if r.ID != id {
			routes = append(routes, r)
		}
	}
	t.snap.HTTPRoutes = routes
}

// resolveConflicts keeps one route per slot: the oldest object wins, then by name, and each
// loser is told which route won and how to fix it.
func (t *translator) resolveConflicts(slots map[ruleSlot][]slotEntry) {
	eachConflict(slots, func(e slotEntry) (metav1.Time, string) { return e.created, e.id },
		func(_ ruleSlot, winner, e slotEntry) {
			e.remove(e.id)
			if e.served {
				e.rep.served--
			}
			e.rep.invalidf(bhv1.ReasonConflicted, fmt.Sprintf(
				"%s: route %s has the same match, priority and entry points as route %s, which wins (older, or first by name); give one of them a different priority or match",
				e.field, e.id, winner.id))
		})
}

// eachConflict calls lose for every entry of a slot that more than one route claims,
// with the winner: the oldest object, then the first by ID. Slots are visited in a
// stable order, so the outcome does not depend on map iteration.
func eachConflict[E any](slots map[ruleSlot][]E, order func(E) (metav1.Time, string), lose func(slot ruleSlot, winner, loser E)) {
	var keys []ruleSlot // only the slots in conflict: few
	firstID := func(k ruleSlot) string { _, id := order(slots[k][0]); return id }
	for k, v := range slots {
		if len(v) > 1 {
			keys = append(keys, k)
		}
	}
	sort.Slice(keys, func(i, j int) bool { return firstID(keys[i]) < firstID(keys[j]) })
	for _, k := range keys {
		entries := slots[k]
		sort.SliceStable(entries, func(i, j int) bool {
			ca, ia := order(entries[i])
			cb, ib := order(entries[j])
			if !ca.Equal(&cb) {
				return ca.Before(&cb)
			}
			return ia < ib
		})
		for _, e := range entries[1:] {
			lose(k, entries[0], e)
		}
	}
}

// entryPointsKey is order-insensitive: [web, websecure] and [websecure, web] compete.
func entryPointsKey(eps []string) string {
	s := append([]string(nil), eps...)
	sort.Strings(s)
	return strings.Join(s, ",")
}

// upstreamNames are the SNI and the accepted certificate names of a backend without a
// serverName: the in-cluster Service names, or the target of an ExternalName Service.
func (t *translator) upstreamNames(res *resolved, ns, svc string) (string, []string) {
	if res != nil && res.service.Spec.Type == corev1.ServiceTypeExternalName {
		host := strings.TrimSuffix(strings.ToLower(res.service.Spec.ExternalName), ".")
		return host, []string{host}
	}
	return t.serviceNames(ns, svc)
}

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
