package diagnose

import (
	"context"
	"fmt"
	"net"
	"sort"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"

	bhv1 "github.com/bridgehead/bridgehead/api/v1alpha1"
	"github.com/bridgehead/bridgehead/internal/snapshot"
	"github.com/bridgehead/bridgehead/internal/source/manifests"
	"github.com/bridgehead/bridgehead/internal/translate"
	"github.com/bridgehead/bridgehead/proxy/upstream"
)

// Options configure a diagnose run.
type Options struct {
	// Translate are the gateway's flags that change translation, as `serve` sets them.
	// A zero Now means the current time.
	Translate translate.Options
	// Probe makes a real handshake and request to every endpoint, as the gateway would.
	// Without it only the static checks run.
	Probe bool
	// Timeout bounds each endpoint check; zero means 5s.
	Timeout time.Duration
	// Origin says where each object was read from (standalone mode), for titles.
	Origin *manifests.Origins
	// Problems are the documents of a manifests folder that could not be used.
	Problems []manifests.Problem
	// Notes are printed first, as warnings (e.g. namespaces that could not be read).
	Notes []string
	// DialContext, when set, replaces the upstream dialer (tests).
	DialContext func(ctx context.Context, network, addr string) (net.Conn, error)
}

// DefaultTimeout bounds one endpoint check.
const DefaultTimeout = 5 * time.Second

// Target names a route to diagnose.
type Target struct {
	// Kind is translate.KindIngressRoute, translate.KindIngressRouteTCP or
	// translate.KindIngress.
	Kind      string
	Namespace string
	Name      string
}

func (t Target) String() string { return t.Kind + " " + t.Namespace + "/" + t.Name }

// ParseTarget reads "ingressroute/NAME" (also ingressroutes, ir, ingressroutetcp,
// ingressroutetcps, irt, ingress, ingresses, ing, and the kinds' full names), with the
// namespace given apart as kubectl does.
func ParseTarget(s, namespace string) (Target, error) {
	kind, name, ok := strings.Cut(s, "/")
	if !ok || name == "" || strings.Contains(name, "/") {
		return Target{}, fmt.Errorf("%q: name a route as ingressroute/NAME, ingressroutetcp/NAME, ingress/NAME, httproute/NAME, tlsroute/NAME or tcproute/NAME, with -n NAMESPACE", s)
	}
	if namespace == "" {
		namespace = corev1.NamespaceDefault
	}
	k := strings.ToLower(kind)
	k = strings.TrimSuffix(strings.TrimSuffix(k, "."+bhv1.GroupName), ".traefik.io")
	k = strings.TrimSuffix(strings.TrimSuffix(k, ".networking.k8s.io"), ".extensions")
	switch k {
	case "ingress", "ingresses", "ing":
		return Target{Kind: translate.KindIngress, Namespace: namespace, Name: name}, nil
	case "ingressroute", "ingressroutes", "ir":
		return Target{Kind: translate.KindIngressRoute, Namespace: namespace, Name: name}, nil
	case "ingressroutetcp", "ingressroutetcps", "irt", "irtcp":
		return Target{Kind: translate.KindIngressRouteTCP, Namespace: namespace, Name: name}, nil
	case "httproute", "httproutes", "httproute.gateway.networking.k8s.io", "httproutes.gateway.networking.k8s.io":
		return Target{Kind: translate.KindHTTPRoute, Namespace: namespace, Name: name}, nil
	case "tlsroute", "tlsroutes", "tlsroute.gateway.networking.k8s.io", "tlsroutes.gateway.networking.k8s.io":
		return Target{Kind: translate.KindTLSRoute, Namespace: namespace, Name: name}, nil
	case "tcproute", "tcproutes", "tcproute.gateway.networking.k8s.io", "tcproutes.gateway.networking.k8s.io":
		return Target{Kind: translate.KindTCPRoute, Namespace: namespace, Name: name}, nil
	}
	return Target{}, fmt.Errorf("%q: unknown kind %q; diagnose walks ingressroute/NAME, ingressroutetcp/NAME, ingress/NAME, httproute/NAME, tlsroute/NAME or tcproute/NAME", s, kind)
}

type nsName struct{ namespace, name string }

func (n nsName) String() string { return n.namespace + "/" + n.name }

// env is one diagnose run: the inputs, what translate made of them, and indexes.
type env struct {
	ctx        context.Context
	opts       Options
	in         *translate.Inputs
	snap       *snapshot.Snapshot
	statuses   translate.Statuses
	pool       *upstream.Pool
	services   map[nsName]*corev1.Service
	slices     map[nsName][]*discoveryv1.EndpointSlice
	secrets    map[nsName]*corev1.Secret
	transports map[string]*snapshot.Transport
	policies   map[string]*snapshot.Policy
	mixups     map[nsName][]mixup
}

func newEnv(ctx context.Context, in *translate.Inputs, opts Options) *env {
	if opts.Translate.Now.IsZero() {
		opts.Translate.Now = time.Now()
	}
	if opts.Translate.ClusterDomain == "" {
		opts.Translate.ClusterDomain = "cluster.local"
	}
	if opts.Timeout <= 0 {
		opts.Timeout = DefaultTimeout
	}
	snap, statuses := translate.Translate(in, opts.Translate)
	e := &env{
		ctx: ctx, opts: opts, in: in, snap: snap, statuses: statuses,
		pool:     upstream.NewPool(upstream.Options{DialContext: opts.DialContext}),
		services: map[nsName]*corev1.Service{}, slices: map[nsName][]*discoveryv1.EndpointSlice{},
		secrets: map[nsName]*corev1.Secret{}, transports: snap.TransportsByID(),
		policies: map[string]*snapshot.Policy{},
	}
	for _, s := range in.Services {
		e.services[nsName{s.Namespace, s.Name}] = s
	}
	for _, s := range in.EndpointSlices {
		if svc := s.Labels[discoveryv1.LabelServiceName]; svc != "" {
			k := nsName{s.Namespace, svc}
			e.slices[k] = append(e.slices[k], s)
		}
	}
	for _, s := range in.Secrets {
		e.secrets[nsName{s.Namespace, s.Name}] = s
	}
	for _, p := range snap.TLS.Policies {
		e.policies[p.ID] = p
	}
	e.mixups = findMixups(in)
	return e
}

// Routes diagnoses the named routes, or every IngressRoute and IngressRouteTCP when
// targets is empty. With opts.Probe, every endpoint gets a real handshake and request.
func Routes(ctx context.Context, in *translate.Inputs, targets []Target, opts Options) *Report {
	e := newEnv(ctx, in, opts)
	defer e.pool.Close()
	r := &Report{Verdict: OK}
	if len(opts.Notes) > 0 || len(opts.Problems) > 0 {
		sec := Section{Title: "Inputs"}
		for _, n := range opts.Notes {
			sec.add(Hop{Kind: "Note", Verdict: Warn, Message: n})
		}
		for _, p := range opts.Problems {
			sec.add(Hop{Kind: "Document", Object: docName(p), Verdict: Warn, Reason: "DocumentNotUsed", Message: p.Message,
				Fix: "fix the document; until then the object is missing, and every reference to it fails"})
		}
		r.addSection(sec)
	}
	if len(targets) == 0 {
		targets = allTargets(in, opts.Translate, e.statuses)
		if len(targets) == 0 {
			sec := Section{Title: "Routes"}
			sec.add(Hop{Kind: "Routes", Object: "(none)", Verdict: Fail, Reason: "NothingToDiagnose",
				Message: "no IngressRoute, IngressRouteTCP, Ingress of the gateway's class or HTTPRoute of its Gateways was found", Fix: "point diagnose at the folder or cluster that holds the routes"})
			r.addSection(sec)
		}
	}
	for _, t := range targets {
		r.addSection(e.target(t))
	}
	return r
}

func docName(p manifests.Problem) string {
	s := p.File
	if p.Doc > 0 {
		s += fmt.Sprintf("#%d", p.Doc)
	}
	if p.Field != "" {
		s += " " + p.Field
	}
	return s
}

// allTargets are every route of in, every Ingress the gateway serves, and every Gateway
// API route attached to a Gateway of ours.
func allTargets(in *translate.Inputs, opts translate.Options, statuses translate.Statuses) []Target {
	var out []Target
	for _, ing := range in.Ingresses {
		if served, _, _ := translate.IngressClassVerdict(in, opts, ing); served {
			out = append(out, Target{Kind: translate.KindIngress, Namespace: ing.Namespace, Name: ing.Name})
		}
	}
	for _, ir := range in.IngressRoutes {
		out = append(out, Target{Kind: translate.KindIngressRoute, Namespace: ir.Namespace, Name: ir.Name})
	}
	for _, ir := range in.IngressRouteTCPs {
		out = append(out, Target{Kind: translate.KindIngressRouteTCP, Namespace: ir.Namespace, Name: ir.Name})
	}
	for _, hr := range in.HTTPRoutes {
		if st := statuses[translate.Key{Kind: translate.KindHTTPRoute, Namespace: hr.Namespace, Name: hr.Name}]; st != nil && st.GatewayAPI != nil {
			out = append(out, Target{Kind: translate.KindHTTPRoute, Namespace: hr.Namespace, Name: hr.Name})
		}
	}
	for _, r := range in.TLSRoutes {
		if st := statuses[translate.Key{Kind: translate.KindTLSRoute, Namespace: r.Namespace, Name: r.Name}]; st != nil && st.GatewayAPI != nil {
			out = append(out, Target{Kind: translate.KindTLSRoute, Namespace: r.Namespace, Name: r.Name})
		}
	}
	for _, r := range in.TCPRoutes {
		if st := statuses[translate.Key{Kind: translate.KindTCPRoute, Namespace: r.Namespace, Name: r.Name}]; st != nil && st.GatewayAPI != nil {
			out = append(out, Target{Kind: translate.KindTCPRoute, Namespace: r.Namespace, Name: r.Name})
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Kind != out[j].Kind {
			return out[i].Kind < out[j].Kind
		}
		return out[i].Namespace+"/"+out[i].Name < out[j].Namespace+"/"+out[j].Name
	})
	return out
}

func (e *env) target(t Target) Section {
	switch t.Kind {
	case translate.KindIngressRoute:
		for _, ir := range e.in.IngressRoutes {
			if ir.Namespace == t.Namespace && ir.Name == t.Name {
				return e.ingressRoute(ir)
			}
		}
	case translate.KindIngressRouteTCP:
		for _, ir := range e.in.IngressRouteTCPs {
			if ir.Namespace == t.Namespace && ir.Name == t.Name {
				return e.ingressRouteTCP(ir)
			}
		}
	case translate.KindIngress:
		for _, ing := range e.in.Ingresses {
			if ing.Namespace == t.Namespace && ing.Name == t.Name {
				return e.ingress(ing)
			}
		}
		// Known to the API server but not translated: not of our class, filtered out.
	case translate.KindHTTPRoute:
		for _, hr := range e.in.HTTPRoutes {
			if hr.Namespace == t.Namespace && hr.Name == t.Name {
				return e.httpRoute(hr)
			}
		}
	case translate.KindTLSRoute:
		for _, r := range e.in.TLSRoutes {
			if r.Namespace == t.Namespace && r.Name == t.Name {
				return e.tlsRoute(r)
			}
		}
	case translate.KindTCPRoute:
		for _, r := range e.in.TCPRoutes {
			if r.Namespace == t.Namespace && r.Name == t.Name {
				return e.tcpRoute(r)
			}
		}
	}
	sec := Section{Title: t.String()}
	var have []string
	for _, o := range allTargets(e.in, e.opts.Translate, e.statuses) {
		if o.Kind == t.Kind && o.Namespace == t.Namespace {
			have = append(have, o.Name)
		}
	}
	fix := fmt.Sprintf("check the name and the namespace (-n); namespace %s has no %s", t.Namespace, t.Kind)
	if len(have) > 0 {
		fix = fmt.Sprintf("check the name and the namespace (-n); namespace %s has: %s", t.Namespace, strings.Join(have, ", "))
	}
	if len(e.opts.Problems) > 0 {
		fix += "; if it is in one of the documents not used (above), fix that document"
	}
	sec.add(Hop{Kind: t.Kind, Object: t.Namespace + "/" + t.Name, Verdict: Fail, Reason: string(bhv1.ReasonNotFound),
		Message: fmt.Sprintf("%s %s/%s not found", t.Kind, t.Namespace, t.Name), Fix: fix})
	return sec
}

// conditionHops adds an object's conditions, as translate computed them: one hop for
// Ready (which carries every blocking finding, UnsupportedField included), one for Warnings.
// okMessage is the summary of a healthy object; empty adds no hop for it.
func (e *env) conditionHops(sec *Section, key translate.Key, okMessage string, facts ...string) {
	st := e.statuses[key]
	if st == nil {
		return
	}
	kind, obj := key.Kind, key.Namespace+"/"+key.Name
	if c := st.Condition(bhv1.ConditionReady); c != nil && c.Status != "True" {
		sec.add(Hop{Kind: kind, Object: obj, Verdict: Fail, Reason: c.Reason, Message: c.Message, Fix: conditionFix(c.Reason), Facts: facts})
	} else if okMessage != "" {
		sec.add(Hop{Kind: kind, Object: obj, Message: okMessage, Facts: facts})
	}
	if c := st.Condition(bhv1.ConditionWarnings); c != nil && c.Status == "True" {
		sec.add(Hop{Kind: kind, Object: obj, Verdict: Warn, Reason: c.Reason, Message: c.Message, Fix: conditionFix(c.Reason)})
	}
}

// tlsSpec is the tls section shared by both route kinds.
type tlsSpec struct {
	secretName bhv1.SecretName
	options    *bhv1.ObjectReference
	domains    []bhv1.Domain
}

func (t tlsSpec) domainNames() []string {
	var out []string
	for _, d := range t.domains {
		if d.Main != "" {
			out = append(out, d.Main)
		}
		out = append(out, d.SANs...)
	}
	return out
}

func (e *env) ingressRoute(ir *bhv1.IngressRoute) Section {
	key := translate.Key{Kind: translate.KindIngressRoute, Namespace: ir.Namespace, Name: ir.Name}
	ref := snapshot.Ref{Kind: key.Kind, Namespace: key.Namespace, Name: key.Name}
	obj := "IngressRoute " + ir.Namespace + "/" + ir.Name
	sec := Section{Title: obj, Origin: e.opts.Origin.Of(key)}
	var hostsFact []string
	if st := e.statuses[key]; st != nil && len(st.Hosts) > 0 {
		hostsFact = []string{"hosts: " + strings.Join(st.Hosts, ", ")}
	}
	e.conditionHops(&sec, key, "accepted, every reference resolves, serving", hostsFact...)

	routes := map[int]*snapshot.HTTPRoute{}
	for _, hr := range e.snap.HTTPRoutes {
		if hr.Source == ref {
			routes[hr.RouteIndex] = hr
		}
	}
	if t := ir.Spec.TLS; t != nil {
		spec := tlsSpec{secretName: t.SecretName, options: t.Options, domains: t.Domains}
		matches := make([]string, len(ir.Spec.Routes))
		for i, r := range ir.Spec.Routes {
			matches[i] = r.Match
		}
		e.edge(&sec, ref, ir.Namespace, spec, matches, false)
	} else if len(ir.Spec.ParentRefs) > 0 {
		sec.add(Hop{Kind: "TLS", Object: "(parents')", Message: "a child IngressRoute (spec.parentRefs): served on its parents' entry points, with their TLS; diagnose the parent IngressRoutes for the edge"})
	} else {
		sec.add(Hop{Kind: "TLS", Object: "(none)", Message: "no spec.tls: the route is served on the plain HTTP entry points only"})
	}
	for i, r := range ir.Spec.Routes {
		field := fmt.Sprintf("spec.routes[%d]", i)
		hr := routes[i]
		if !e.routeHops(&sec, key, field, r.Match, hr) {
			continue
		}
		if len(hr.Parents) > 0 {
			last := &sec.Hops[len(sec.Hops)-1]
			last.Message = strings.Replace(last.Message, "on every entry point", "below parent routes "+strings.Join(hr.Parents, ", ")+
				" (only for requests one of them matched, after its middlewares)", 1)
		}
		for j, s := range r.Services {
			if j >= len(hr.Backends) {
				break
			}
			b := hr.Backends[j]
			ref := svcRef{obj: obj, field: fmt.Sprintf("%s.services[%d]", field, j), routeNS: ir.Namespace, name: s.Name, ns: s.Namespace,
				port: s.Port, scheme: s.Scheme, transport: s.ServersTransport}
			if ref.ns == "" {
				ref.ns = ir.Namespace
			}
			e.backend(&sec, ref, viewHTTP(b))
		}
	}
	return sec
}

// routeHop summarises one rule. A failure with status 421 comes from the edge (its TLS
// hops say why); any other (a middleware) is this hop's.
// routeHops reports one route of a route object: not served (translate left it out of
// the snapshot; the object's condition says why), or its match, priority, entry points and
// the failure its requests get. It returns whether the route is served, so that the
// caller goes on to its backends.
func (e *env) routeHops(sec *Section, key translate.Key, field, written string, route any) bool {
	obj := key.Namespace + "/" + key.Name + " " + field
	head, f := routeParts(route)
	if head == nil {
		sec.add(Hop{Kind: "Route", Object: obj, Verdict: Fail, Reason: "NotServed",
			Message: fmt.Sprintf("%s (%s) is not served: see the %s's Ready condition above", field, written, key.Kind),
			Fix:     "fix what the condition names for this route"})
		return false
	}
	e.routeHop(sec, obj, head.Match, head.Priority, head.EntryPoints, f)
	return true
}

// routeParts reads the head and failure of a compiled route (an *snapshot.HTTPRoute or
// *snapshot.TCPRoute); nil when translate left the route out.
func routeParts(r any) (*snapshot.RouteHead, *snapshot.Failure) {
	switch r := r.(type) {
	case *snapshot.HTTPRoute:
		if r != nil {
			return &r.RouteHead, r.Failure
		}
	case *snapshot.TCPRoute:
		if r != nil {
			return &r.RouteHead, r.Failure
		}
	}
	return nil, nil
}

func (e *env) routeHop(sec *Section, obj, match string, priority int, entryPoints []string, f *snapshot.Failure) {
	eps := "every entry point"
	if len(entryPoints) > 0 {
		eps = "entry points " + strings.Join(entryPoints, ", ")
	}
	h := Hop{Kind: "Route", Object: obj, Message: fmt.Sprintf("match %s, priority %d, on %s", match, priority, eps)}
	if f != nil && f.Status != 421 {
		h.Verdict, h.Reason = Fail, f.Reason
		h.Message = fmt.Sprintf("requests matching %s get %d: %s", match, f.Status, f.Message)
		h.Fix = conditionFix(f.Reason)
	}
	sec.add(h)
}
