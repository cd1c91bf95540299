package diagnose

import (
	"fmt"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"

	bhv1 "github.com/bridgehead/bridgehead/api/v1alpha1"
	"github.com/bridgehead/bridgehead/internal/snapshot"
	"github.com/bridgehead/bridgehead/internal/translate"
)

// svcRef is one service of a route as written.
type svcRef struct {
	obj       string // "IngressRoute web/app"
	field     string // "spec.routes[0].services[0]"
	routeNS   string
	name, ns  string
	port      bhv1.Port
	scheme    bhv1.Scheme // explicit scheme (HTTP routes)
	transport string      // serversTransport as written
	// schemeFrom names the annotation that set the scheme of an Ingress's backends
	// (backend-protocol, server-ssl, ...), when one did.
	schemeFrom string
	// annotations describes where an Ingress's annotations put a synthesized transport
	// ("Ingress web/app annotations"); the snapshot holds it under the Ingress's ID.
	annotations string
	// gatewayAPI: the backendRef of a Gateway API route (ReferenceGrants permit other
	// namespaces; a BackendTLSPolicy, not the port, makes the backend TLS).
	gatewayAPI bool
}

// view is a compiled backend of either route kind.
type view struct {
	kind        string // the transport kind: ServersTransport or ServersTransportTCP
	scheme      string // http, https, h2c; "tcp" or "tls" for TCP routes
	tls         bool
	serverName  string
	verifyNames []string
	transport   string // snapshot transport ID
	endpoints   []snapshot.Endpoint
	failure     *snapshot.Failure
	http        *snapshot.Backend
	tcp         *snapshot.TCPBackend
}

func viewHTTP(b *snapshot.Backend) view {
	return view{kind: translate.KindServersTransport, scheme: b.Scheme, tls: b.Scheme == "https", serverName: b.ServerName,
		verifyNames: b.VerifyNames, transport: b.Transport, endpoints: b.Endpoints, failure: b.Failure, http: b}
}

func viewTCP(b *snapshot.TCPBackend) view {
	v := view{kind: translate.KindServersTransportTCP, scheme: "tcp", tls: b.TLS, serverName: b.ServerName,
		verifyNames: b.VerifyNames, transport: b.Transport, endpoints: b.Endpoints, failure: b.Failure, tcp: b}
	if b.TLS {
		v.scheme = "tls"
	}
	return v
}

// backend adds the hops of one service: the Service, its ServersTransport, its endpoints.
func (e *env) backend(sec *Section, s svcRef, v view) {
	resolved := e.serviceHop(sec, s, v)
	transportHop := e.transportHop
	if s.gatewayAPI {
		transportHop = e.gatewayTransportHop
	}
	t := transportHop(sec, s, v)
	if resolved {
		e.endpointHops(sec, s, v, t)
	}
}

// serviceHop resolves the Service port as translate does and explains the scheme. It
// reports whether the Service resolved to endpoints.
func (e *env) serviceHop(sec *Section, s svcRef, v view) bool {
	hop := Hop{Kind: "Service", Object: fmt.Sprintf("%s/%s port %s", s.ns, s.name, s.port)}
	fail := func(reason bhv1.ConditionReason, msg, fix string) bool {
		if v.failure != nil && v.failure.Reason == string(reason) {
			msg = v.failure.Message
		}
		hop.Verdict, hop.Reason, hop.Message, hop.Fix = Fail, string(reason), msg, fix
		sec.add(hop)
		return false
	}
	svc := e.services[nsName{s.ns, s.name}]
	switch {
	case s.ns != s.routeNS && !s.gatewayAPI && !e.opts.Translate.AllowCrossNamespace:
		return fail(bhv1.ReasonRefNotPermitted,
			fmt.Sprintf("%s: Service %s/%s is in another namespace than the route, and cross-namespace references are off", s.field, s.ns, s.name),
			fmt.Sprintf("route to a Service in namespace %s, or run the gateway (and diagnose) with --allow-cross-namespace", s.routeNS))
	case svc == nil:
		return fail(bhv1.ReasonNotFound, fmt.Sprintf("%s: Service %q not found in namespace %s", s.field, s.name, s.ns),
			fmt.Sprintf("create Service %s/%s, or correct %s.name (and .namespace)", s.ns, s.name, s.field))
	case svc.Spec.Type == corev1.ServiceTypeExternalName && !e.opts.Translate.AllowExternalNameServices:
		return fail(bhv1.ReasonExternalNameNotAllowed,
			fmt.Sprintf("%s: Service %s/%s is of type ExternalName (%s), which is off by default", s.field, s.ns, s.name, svc.Spec.ExternalName),
			"run the gateway (and diagnose) with --allow-external-name-services, or route to a Service with endpoints")
	}
	port := translate.FindServicePort(svc, s.port)
	if port == nil && svc.Spec.Type != corev1.ServiceTypeExternalName {
		return fail(bhv1.ReasonPortNotFound, fmt.Sprintf("%s.port: port %q not found on Service %s/%s (it has: %s)", s.field, s.port, s.ns, s.name, translate.DescribeServicePorts(svc)),
			fmt.Sprintf("set %s.port to one of: %s", s.field, translate.DescribeServicePorts(svc)))
	}
	if port != nil {
		hop.Facts = append(hop.Facts, fmt.Sprintf("Service port %s, targetPort %s", translate.ServicePortLabel(port), port.TargetPort.String()))
	}
	scheme, why := e.schemeWhy(s, v, port)
	hop.Facts = append(hop.Facts, scheme+": "+why)
	if len(v.endpoints) == 0 {
		return fail(bhv1.ReasonNoEndpoints, fmt.Sprintf("%s: Service %s/%s port %s has no ready endpoints", s.field, s.ns, s.name, s.port), e.noEndpointsFix(svc, port))
	}
	var eps []string
	for _, ep := range v.endpoints {
		if ep.Name != "" {
			eps = append(eps, ep.Address+" ("+ep.Name+")")
		} else {
			eps = append(eps, ep.Address)
		}
	}
	hop.Facts = append(hop.Facts, "endpoints: "+strings.Join(eps, ", "))
	hop.Message = fmt.Sprintf("resolves to %d ready endpoint(s), spoken to over %s", len(v.endpoints), scheme)
	if s.transport != "" && v.http != nil && v.scheme != "https" {
		hop.Verdict, hop.Reason = Warn, ReasonTransportNotUsed
		hop.Message = fmt.Sprintf("%s names serversTransport %q, but the port resolves to scheme %s (%s), so the ServersTransport is never used and requests go to the backend in clear text",
			s.field, s.transport, v.scheme, why)
		hop.Fix = fmt.Sprintf("set scheme: https on %s, or name the Service port https (a port named https... or numbered 443 is spoken to over TLS)", s.field)
	}
	sec.add(hop)
	return true
}

// schemeWhy explains the scheme rule: explicit wins; else https for port 443 or a port
// name starting with "https"; else http.
func (e *env) schemeWhy(s svcRef, v view, port *corev1.ServicePort) (string, string) {
	if v.tcp != nil {
		if s.gatewayAPI && !v.tls { // TLSRoute, TCPRoute: no tls field; the listener decides
			return "TCP", "the gateway forwards the connection's bytes as they are (for a passthrough TLSRoute, the client's own TLS)"
		}
		if v.tls {
			return "TLS", s.field + ".tls is true: the gateway opens TLS to the backend"
		}
		return "plain TCP", s.field + ".tls is not set: bytes are forwarded as they are"
	}
	if s.gatewayAPI {
		switch t := e.transports[v.transport]; {
		case v.scheme == "https" && t != nil:
			return v.scheme, fmt.Sprintf("%s %s/%s targets the Service", t.Source.Kind, t.Source.Namespace, t.Source.Name)
		case v.scheme == "h2c":
			return v.scheme, "the Service port's appProtocol is kubernetes.io/h2c"
		}
		return v.scheme, "no BackendTLSPolicy targets the Service: the Gateway API speaks plain HTTP to a backend unless one does"
	}
	switch {
	case s.schemeFrom != "":
		return v.scheme, fmt.Sprintf("the annotation %s says so", s.schemeFrom)
	case s.scheme != "":
		return v.scheme, fmt.Sprintf("%s.scheme is %s", s.field, s.scheme)
	case v.scheme == "https" && port != nil && port.Port == 443:
		return v.scheme, "the Service port is 443"
	case v.scheme == "https" && port != nil && strings.HasPrefix(port.Name, "https"):
		return v.scheme, fmt.Sprintf("the Service port is named %q", port.Name)
	case v.scheme == "https":
		return v.scheme, fmt.Sprintf("%s.port is %s", s.field, s.port)
	}
	return v.scheme, fmt.Sprintf("no scheme is set on %s, and the port is neither 443 nor named https...", s.field)
}

func (e *env) noEndpointsFix(svc *corev1.Service, port *corev1.ServicePort) string {
	if len(svc.Spec.Selector) > 0 {
		return "no pod matching the Service's selector is ready: check the pods' labels and readiness (kubectl get endpointslices -l kubernetes.io/service-name=" + svc.Name + ")"
	}
	want := ""
	if port != nil {
		want = port.Name
	}
	slices := e.slices[nsName{svc.Namespace, svc.Name}]
	if len(slices) == 0 {
		return fmt.Sprintf("the Service has no selector and no EndpointSlice: add an EndpointSlice labelled kubernetes.io/service-name: %s with a port named %q and the backend's addresses", svc.Name, want)
	}
	var names []string
	for _, es := range slices {
		for _, p := range es.Ports {
			n := ""
			if p.Name != nil {
				n = *p.Name
			}
			if n == want {
				return "every endpoint of the Service's EndpointSlices is not ready or is terminating: check the backends"
			}
			names = append(names, strconv.Quote(n))
		}
	}
	return fmt.Sprintf("the EndpointSlices of Service %s/%s have ports named %s, but endpoints are matched to the Service port by name: name the slice's port %q",
		svc.Namespace, svc.Name, strings.Join(names, ", "), want)
}

// transportHop describes how the gateway trusts and identifies itself to the backend. It
// returns the compiled transport (nil: the default one, system roots).
func (e *env) transportHop(sec *Section, s svcRef, v view) *snapshot.Transport {
	if s.transport == "" && s.annotations != "" && e.transports[v.transport] != nil {
		return e.annotationTransportHop(sec, s, v, e.transports[v.transport])
	}
	if s.transport == "" {
		if v.tls {
			sec.add(Hop{Kind: v.kind, Object: "(none)", Facts: []string{
				"roots: the system roots",
				fmt.Sprintf("SNI %s; names checked: %s", v.serverName, names(v.verifyNames)),
				"client certificate: none",
			}, Message: "no serversTransport on " + s.field + ": the backend's certificate must be signed by a public CA and carry one of the names checked"})
		}
		return nil
	}
	obj := s.routeNS + "/" + s.transport
	t := e.transports[v.kind+"/"+obj]
	if t == nil {
		where := ""
		if s.ns != s.routeNS {
			where = " (a serversTransport is looked up in the route's namespace, not the Service's)"
		}
		sec.add(Hop{Kind: v.kind, Object: obj, Verdict: Fail, Reason: string(bhv1.ReasonNotFound),
			Message: fmt.Sprintf("%s.serversTransport: %s %q not found in namespace %s%s; the gateway answers 502 for this backend until it exists", s.field, v.kind, s.transport, s.routeNS, where),
			Fix:     fmt.Sprintf("create %s %s, or correct %s.serversTransport", v.kind, obj, s.field)})
		return nil
	}
	key := translate.Key{Kind: v.kind, Namespace: s.routeNS, Name: s.transport}
	hop := Hop{Kind: v.kind, Object: obj, Facts: transportFacts(t, v)}
	failure := ""
	if t.Failure != nil {
		failure = t.Failure.Message
		if st := e.statuses[key]; st != nil {
			if c := st.Condition(bhv1.ConditionReady); c != nil && c.Status != "True" {
				failure = c.Message // every finding, where the failure keeps the first
			}
		}
	}
	judgeTransport(&hop, t, v, failure,
		"insecureSkipVerify is true: the backend's certificate is not verified, so anyone on the path can impersonate it",
		"set spec.rootCAs to the backend's CA and remove insecureSkipVerify")
	sec.add(hop)
	if st := e.statuses[key]; st != nil && t.InsecureSkipVerify {
		// The insecureSkipVerify warning is the hop above; show only others.
		if c := st.Condition(bhv1.ConditionWarnings); c != nil && c.Status == "True" && c.Reason != string(bhv1.ReasonInsecureSkipVerify) {
			sec.add(Hop{Kind: v.kind, Object: obj, Verdict: Warn, Reason: c.Reason, Message: c.Message, Fix: conditionFix(c.Reason)})
		}
	} else {
		e.conditionWarnings(sec, key, true)
	}
	return t
}

func rootsSummary(t *snapshot.Transport) string {
	if t.RootCAs == nil {
		return "the system roots"
	}
	return strings.Join(describeRoots(t.RootCAs), "; ")
}

func transportFacts(t *snapshot.Transport, v view) []string {
	facts := []string{"roots: " + rootsSummary(t)}
	switch {
	case !v.tls && t.ServerName != "":
		facts = append(facts, "serverName: "+t.ServerName)
	case !v.tls:
	case t.ServerName == "":
		facts = append(facts, "serverName: not set, so the SNI is "+v.serverName+"; names checked: "+names(v.verifyNames))
	default:
		facts = append(facts, "serverName: "+t.ServerName+"; names checked: "+names(v.verifyNames))
	}
	if pins := peerPins(t); len(pins) > 0 {
		facts = append(facts, "peerCertSANs: "+names(pins))
	}
	if t.PeerCertURI != "" {
		facts = append(facts, "peerCertURI: "+t.PeerCertURI)
	}
	if len(t.ClientCertificates) == 0 {
		facts = append(facts, "client certificate: none (certificatesSecrets not set)")
	}
	for _, c := range t.ClientCertificates {
		facts = append(facts, "client "+describeCertificate(c))
	}
	if t.MinVersion != 0 || t.MaxVersion != 0 {
		facts = append(facts, "versions: "+versionRange(t.MinVersion, t.MaxVersion))
	}
	return facts
}

// annotationTransportHop shows the transport an Ingress's annotations made (ingress-nginx's
// proxy-ssl-*, HAProxy's server-ca, ...): the same roots, names and client certificate the
// gateway verifies with, under the annotations' name rather than an object's.
func (e *env) annotationTransportHop(sec *Section, s svcRef, v view, t *snapshot.Transport) *snapshot.Transport {
	hop := Hop{Kind: v.kind, Object: s.annotations, Facts: transportFacts(t, v)}
	failure := ""
	if t.Failure != nil {
		failure = t.Failure.Message
	}
	judgeTransport(&hop, t, v, failure,
		"the annotations ask for an unverified backend: anyone on the path can impersonate it",
		"give the annotations the backend's CA (e.g. nginx proxy-ssl-secret with ca.crt and proxy-ssl-verify \"on\", HAProxy server-ca)")
	sec.add(hop)
	return t
}

// judgeTransport gives a transport hop its verdict: the transport as the gateway compiled
// it (failure is the message to show for a transport that failed), for this backend.
func judgeTransport(hop *Hop, t *snapshot.Transport, v view, failure, insecure, insecureFix string) {
	switch {
	case t.Failure != nil:
		hop.Verdict, hop.Reason = Fail, t.Failure.Reason
		hop.Message = failure + "; every backend using it answers 502 (it never falls back to weaker verification)"
		hop.Fix = conditionFix(t.Failure.Reason)
	case !v.tls:
		hop.Message = "its TLS settings are not used for this backend, which is spoken to in clear text (see the Service hop)"
	case t.InsecureSkipVerify:
		hop.Verdict, hop.Reason = Warn, string(bhv1.ReasonInsecureSkipVerify)
		hop.Message, hop.Fix = insecure, insecureFix
	default:
		hop.Message = "the backend's certificate must chain to these roots and carry one of the names checked"
	}
}

// peerPins lists a transport's peerCertSANs entries of both forms, for the report.
func peerPins(t *snapshot.Transport) []string {
	out := append([]string(nil), t.PeerCertSANs...)
	for _, d := range t.PeerCertDNSNames {
		out = append(out, "DNSName "+d)
	}
	for _, u := range t.PeerCertURIs {
		out = append(out, "URI "+u)
	}
	return out
}
