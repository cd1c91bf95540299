package translate

import (
	"crypto/tls"
	"fmt"
	"net/http"
	"strings"

	corev1 "k8s.io/api/core/v1"

	bhv1 "github.com/bridgehead/bridgehead/api/v1alpha1"
	"github.com/bridgehead/bridgehead/internal/ingressannotations"
	"github.com/bridgehead/bridgehead/internal/snapshot"
)

// Other controllers' annotations served as their controllers define them, through
// ingressannotations. The synthesized ServersTransport spec goes through the same builder
// as a ServersTransport object (upstreamTLS), with the annotations as its origin, so its
// problems are reported on the Ingress under the annotation's name.

// servedForeign are the annotations (after the family's prefix) the translator serves
// through ingressannotations. The others of the package's table still go through
// foreignAnnotations: named with a Warning, or failing closed when they restrict access.
var servedForeign = map[ingressannotations.Family]map[string]bool{
	ingressannotations.Nginx: setOf("backend-protocol", "proxy-ssl-secret", "proxy-ssl-verify", "proxy-ssl-verify-depth",
		"proxy-ssl-name", "proxy-ssl-server-name", "proxy-ssl-protocols", "proxy-ssl-ciphers",
		"ssl-redirect", "force-ssl-redirect", "whitelist-source-range", "allowlist-source-range",
		"auth-tls-secret", "auth-tls-verify-client", "auth-tls-verify-depth",
		"auth-tls-pass-certificate-to-upstream", "upstream-vhost", "rewrite-target", "auth-tls-match-cn",
		"ssl-passthrough"),
	ingressannotations.HAProxyOrg:    haproxyServed,
	ingressannotations.HAProxyCom:    haproxyServed,
	ingressannotations.HAProxyLegacy: haproxyServed,
	ingressannotations.HAProxyIngress: setOf("backend-protocol", "secure-backends", "secure-verify-ca-secret",
		"secure-verify-hostname", "secure-sni", "secure-crt-secret", "ssl-redirect",
		"auth-tls-secret", "auth-tls-verify-client", "ssl-passthrough"),
}

var haproxyServed = setOf("server-ssl", "server-ca", "server-crt", "server-proto", "ssl-redirect", "ssl-redirect-code",
	"allow-list", "whitelist", "client-ca", "client-crt-optional", "path-rewrite", "ssl-passthrough")

func setOf(names ...string) map[string]bool {
	m := make(map[string]bool, len(names))
	for _, n := range names {
		m[n] = true
	}
	return m
}

// servesForeign reports whether the translator serves annotation key through ingressannotations.
func servesForeign(key string) bool {
	for fam, names := range servedForeign {
		if name, ok := strings.CutPrefix(key, string(fam)); ok && names[name] {
			return true
		}
	}
	return false
}

// annotationDefaults are the class defaults of the controller whose class is taken over.
func (t *translator) annotationDefaults() ingressannotations.Defaults {
	return ingressannotations.DefaultsFor(t.opts.IngressClass)
}

func (t *translator) lookupSecret(namespace, name string) (*corev1.Secret, bool) {
	s, ok := t.secrets[nsName{namespace, name}]
	return s, ok
}

// servedForeignAnnotations reads the served foreign annotations of an Ingress: findings go on
// its report, a blocking one fails every route closed, and the scheme and transport they
// ask for are used by ingressBackend.
func (t *translator) servedForeignAnnotations(b *ingressBuild) {
	res := ingressannotations.Read(ingressannotations.Input{Ingress: b.ing, Defaults: t.annotationDefaults(), Secrets: t.lookupSecret})
	b.handled = map[string]bool{}
	for _, f := range res.Findings {
		if !servesForeign(f.Annotation) {
			continue
		}
		b.handled[f.Annotation] = true
		msg := fmt.Sprintf("metadata.annotations[%s]: %q: %s", f.Annotation, f.Value, f.Message)
		switch f.Disposition {
		case ingressannotations.Served:
		case ingressannotations.Malformed, ingressannotations.Refused:
			msg += "; requests to this Ingress get 503 until it is fixed"
			b.rep.invalidf(bhv1.ReasonUnsupportedValue, msg)
			if b.failure == nil {
				b.failure = &snapshot.Failure{Reason: string(bhv1.ReasonUnsupportedValue), Status: http.StatusServiceUnavailable, Message: b.obj + " " + msg}
			}
		case ingressannotations.ServedInsecure:
			b.rep.warn(bhv1.ReasonInsecureSkipVerify, msg)
		default:
			b.rep.warn(bhv1.ReasonIneffectiveSetting, msg)
		}
	}
	if _, own := b.ing.Annotations[AnnotationBackendProtocol]; !own && res.Scheme != ingressannotations.SchemeDefault {
		b.scheme = string(res.Scheme)
		if res.Scheme == ingressannotations.SchemeH2 {
			b.scheme = "https" // HTTP/2 is offered by ALPN on every TLS backend
		}
	}
	b.passthrough = res.Passthrough
	t.annotationMiddlewares(b, res.Middlewares)
	if opt := res.TLSOption; opt != nil && servesAll(opt.Origin) {
		t.annotationPolicy(b, opt)
	}
	if _, own := b.ing.Annotations[AnnotationSSLRedirect]; !own {
		// The annotations' redirect, or the class default of the controller taken over
		// (ingress-nginx: 308; the HAProxy controllers: 302).
		b.redirect, b.forceRedirect = res.Redirect.Enabled, res.Redirect.Force
		if b.redirect {
			b.redirectCode = res.Redirect.StatusCode
		}
	}
	tr := res.Transport
	if tr == nil {
		return
	}
	if b.transportName != "" {
		b.rep.warn(bhv1.ReasonIneffectiveSetting, fmt.Sprintf("metadata.annotations[%s]: ServersTransport %q is used, so the backend TLS settings of %s are not (%s takes precedence); remove one of them",
			AnnotationServersTransport, b.transportName, strings.TrimPrefix(tr.Origin, "annotation "), AnnotationServersTransport))
		return
	}
	b.foreignTransport = t.annotationTransport(b, tr)
}

// servesAll reports whether every annotation of an origin ("annotation a, b") is served.
func servesAll(origin string) bool {
	for _, k := range strings.Split(strings.TrimPrefix(origin, "annotation "), ", ") {
		if !servesForeign(k) {
			return false
		}
	}
	return true
}

// annotationPolicy compiles the client-certificate policy synthesized from annotations
// with the TLSOption builder, as the policy of the Ingress's TLS hosts. Where it requires
// a certificate, plain HTTP to the Ingress is refused (403), as ingress-nginx does: a
// request without TLS carries no certificate.
func (t *translator) annotationPolicy(b *ingressBuild, opt *ingressannotations.TLSOption) {
	ns := b.ing.Namespace
	annotations := strings.TrimPrefix(opt.Origin, "annotation ")
	if _, own := b.ing.Annotations[AnnotationTLSOptions]; own {
		b.rep.warn(bhv1.ReasonIneffectiveSetting, fmt.Sprintf("metadata.annotations[%s]: the TLSOption it names is used, so the client certificate settings of %s are not (%s takes precedence); remove one of them",
			AnnotationTLSOptions, annotations, AnnotationTLSOptions))
		return
	}
	id := transportID(KindIngress, ns, b.ing.Name)
	fail := func(reason bhv1.ConditionReason, msg string) {
		msg = "metadata.annotations[" + annotations + "]: " + msg + "; requests to this Ingress get 503 until it is fixed (serving it would drop the client certificate check)"
		b.rep.invalidf(reason, msg)
		if b.failure == nil {
			b.failure = &snapshot.Failure{Reason: string(reason), Status: http.StatusServiceUnavailable, Message: b.obj + " " + msg}
		}
	}
	if len(b.ing.Spec.TLS) == 0 && opt.Spec.ClientAuth.ClientAuthType != bhv1.NoClientCert {
		fail(bhv1.ReasonUnsupportedValue, "client certificates are asked for, but the Ingress has no spec.tls, so no TLS handshake could ask for one; list its hosts in spec.tls")
		return
	}
	if opt.Namespace != ns && !t.permitted(ns, opt.Namespace) {
		fail(bhv1.ReasonRefNotPermitted, fmt.Sprintf("the client CA Secret is in namespace %s; cross-namespace references are off (start the gateway with --allow-cross-namespace, or copy the Secret to namespace %s)", opt.Namespace, ns))
		return
	}
	fields := func(string) string { return "metadata.annotations[" + annotations + "]" }
	scratch := &report{key: b.rep.key}
	p := t.policyFromSpec(scratch, policyOrigin{id: id, source: b.src, namespace: opt.Namespace, obj: b.obj, field: fields}, &opt.Spec)
	b.rep.invalid = append(b.rep.invalid, ownFindings(b, scratch.invalid)...)
	b.rep.refs = append(b.rep.refs, ownFindings(b, scratch.refs)...)
	b.rep.warnings = append(b.rep.warnings, ownFindings(b, scratch.warnings)...)
	t.policies[id] = p
	b.annotationPolicy = id
	switch p.ClientAuth {
	case tls.RequireAndVerifyClientCert, tls.RequireAnyClientCert:
		b.plainRefused = &snapshot.Failure{Reason: "ClientCertificateRequired", Status: http.StatusForbidden,
			Message: b.obj + ": " + annotations + " requires a client certificate, which plain HTTP cannot carry; use HTTPS"}
	}
}

// ownFindings drops the object from messages that go on its own status.
func ownFindings(b *ingressBuild, fs []finding) []finding {
	out := make([]finding, len(fs))
	for i, f := range fs {
		f.message = strings.TrimPrefix(f.message, b.obj+": ")
		out[i] = f
	}
	return out
}

// annotationMiddlewares compiles the Middlewares synthesized from served annotations
// with the Middleware builders; they run before the ones bridgehead.dev/middlewares names,
// so that an allow-list refuses before anything else happens.
func (t *translator) annotationMiddlewares(b *ingressBuild, ms []ingressannotations.Middleware) {
	var out []*snapshot.Middleware
	k := nsName{b.ing.Namespace, b.ing.Name}
	// checked runs a Middleware builder on what an annotation asks for. The annotation
	// reader checks values already; a value the builder still refuses is a bug to
	// surface, closed, rather than a value for the data plane to trip on.
	checked := func(origin string, build func(*report) *snapshot.Middleware) {
		scratch := &report{key: b.rep.key}
		compiled := build(scratch)
		if len(scratch.invalid) == 0 {
			compiled.Source = b.src
			out = append(out, compiled)
			return
		}
		why := strings.TrimPrefix(scratch.invalid[0].message, "Middleware "+k.String()+": ")
		msg := fmt.Sprintf("metadata.annotations[%s]: as a Middleware, %s; requests to this Ingress get 503 until it is fixed", origin, why)
		b.rep.invalidf(bhv1.ReasonUnsupportedValue, msg)
		if b.failure == nil {
			b.failure = &snapshot.Failure{Reason: string(bhv1.ReasonUnsupportedValue), Status: http.StatusServiceUnavailable, Message: b.obj + " " + msg}
		}
	}
	for _, m := range ms {
		if !servesForeign(m.Origin) {
			continue
		}
		if a := m.Spec.IPAllowList; a != nil {
			checked(m.Origin, func(r *report) *snapshot.Middleware {
				return &snapshot.Middleware{IPAllowList: t.ipAllowList(r, k, a)}
			})
		}
		if p := m.Spec.PassTLSClientCert; p != nil {
			out = append(out, &snapshot.Middleware{Source: b.src, PassTLSClientCert: &snapshot.PassTLSClientCert{PEM: p.PEM, Info: certInfoFields(p.Info)}})
		}
		if sp := m.Spec.StripPrefix; sp != nil {
			out = append(out, &snapshot.Middleware{Source: b.src, StripPrefix: &snapshot.StripPrefix{Prefixes: sp.Prefixes}})
			b.pathPrefixes = m.MatchPrefixes
		}
		if m.MatchCN != "" {
			checked(m.Origin, func(r *report) *snapshot.Middleware {
				return &snapshot.Middleware{TLSClientSubject: tlsClientSubject(r, k, &bhv1.TLSClientSubject{Pattern: m.MatchCN})}
			})
		}
		if m.ReplacePath != "" {
			checked(m.Origin, func(r *report) *snapshot.Middleware {
				return &snapshot.Middleware{ReplacePath: replacePath(r, k, &bhv1.ReplacePath{Path: m.ReplacePath})}
			})
		}
		if h := m.Spec.Headers; h != nil {
			out = append(out, &snapshot.Middleware{Source: b.src, Headers: &snapshot.Headers{Request: h.CustomRequestHeaders, Response: h.CustomResponseHeaders}})
		}
	}
	b.middlewares = append(out, b.middlewares...)
}

// annotationTransport compiles a synthesized ServersTransport spec, reporting its
// problems on the Ingress. A transport that cannot be built fails closed (502), as a
// ServersTransport object does.
func (t *translator) annotationTransport(b *ingressBuild, tr *ingressannotations.Transport) *snapshot.Transport {
	ns := b.ing.Namespace
	if tr.Namespace != ns && !t.permitted(ns, tr.Namespace) {
		msg := fmt.Sprintf("%s: the Secrets are in namespace %s; cross-namespace references are off (start the gateway with --allow-cross-namespace, or copy the Secrets to namespace %s); requests to this Ingress's backends get 502 until then",
			tr.Origin, tr.Namespace, ns)
		b.rep.refError(bhv1.ReasonRefNotPermitted, "metadata."+msg)
		out := &snapshot.Transport{ID: transportID(KindIngress, ns, b.ing.Name), Source: b.src,
			Failure: &snapshot.Failure{Reason: string(bhv1.ReasonRefNotPermitted), Status: http.StatusBadGateway, Message: b.obj + " " + msg}}
		t.addTransport(out)
		return out
	}
	fields := transportFieldOrigins(tr.Origin)
	o := tlsOrigin{
		kind: KindIngress, namespace: tr.Namespace, name: b.ing.Name, annotations: true,
		obj:   b.obj,
		field: func(f string) string { return "metadata.annotations[" + fields(f) + "]" },
	}
	scratch := &report{key: b.rep.key}
	out := t.upstreamTLS(scratch, o, &tr.Spec.UpstreamTLS)
	// The namespace of an annotation transport is the Ingress's, whatever its Secrets'.
	out.ID, out.Source = transportID(KindIngress, ns, b.ing.Name), b.src
	out.MaxIdleConnsPerHost = defaultMaxIdleConns
	out.DialTimeout, out.IdleConnTimeout, out.PingTimeout = defaultDialTimeout, defaultIdleConnTimeout, defaultPingTimeout
	out.VerifyHint = tr.VerifyFix
	problems := append(append([]finding(nil), scratch.invalid...), scratch.refs...)
	b.rep.invalid = append(b.rep.invalid, ownFindings(b, scratch.invalid)...)
	b.rep.refs = append(b.rep.refs, ownFindings(b, scratch.refs)...)
	b.rep.warnings = append(b.rep.warnings, ownFindings(b, scratch.warnings)...)
	if len(problems) > 0 {
		out.Failure = &snapshot.Failure{Reason: string(problems[0].reason), Status: http.StatusBadGateway, Message: problems[0].message, Detail: problems[0].detail}
		out.RootCAs, out.ClientCertificates = nil, nil
	}
	t.addTransport(out)
	return out
}

// transportFieldOrigins maps a spec field to the annotation it comes from, for messages.
// Origin lists the annotations ("annotation a, b"); the field's own annotation is picked by
// what it sets.
func transportFieldOrigins(origin string) func(string) string {
	keys := strings.Split(strings.TrimPrefix(origin, "annotation "), ", ")
	pick := func(names ...string) string {
		for _, k := range keys {
			for _, n := range names {
				if strings.HasSuffix(k, "/"+n) {
					return k
				}
			}
		}
		return strings.Join(keys, ", ")
	}
	return func(f string) string {
		switch {
		case strings.HasPrefix(f, "rootCAs"):
			return pick("proxy-ssl-secret", "server-ca", "secure-verify-ca-secret")
		case strings.HasPrefix(f, "certificatesSecrets"):
			return pick("proxy-ssl-secret", "server-crt", "secure-crt-secret")
		case strings.HasPrefix(f, "cipherSuites"):
			return pick("proxy-ssl-ciphers")
		case strings.HasPrefix(f, "insecureSkipVerify"):
			return pick("proxy-ssl-verify", "server-ssl", "secure-backends", "backend-protocol")
		}
		return strings.Join(keys, ", ")
	}
}

// addPassthrough serves ssl-passthrough as the controllers do: TLS connections on
// websecure whose SNI is one of the Ingress's hosts go to the backend of that host's
// first path untouched (paths cannot be seen), as an IngressRouteTCP with tls.passthrough
// would; plain HTTP keeps its HTTP routes.
func (t *translator) addPassthrough(b *ingressBuild) {
	seen := map[string]bool{}
	for i, r := range b.ing.Spec.Rules {
		host := normalizeHost(r.Host)
		field := fmt.Sprintf("spec.rules[%d]", i)
		if host == "" || strings.HasPrefix(host, "*.") {
			b.rep.invalidf(bhv1.ReasonUnsupportedValue, fmt.Sprintf("%s: ssl-passthrough routes TLS by its SNI, so each rule needs a host name (not %q); connections for it are not passed through", field, r.Host))
			continue
		}
		if seen[host] || r.HTTP == nil || len(r.HTTP.Paths) == 0 || r.HTTP.Paths[0].Backend.Service == nil {
			continue
		}
		seen[host] = true
		svc := r.HTTP.Paths[0].Backend.Service
		port := bhv1.Port(svc.Port.Name)
		if port == "" {
			port = bhv1.Port(fmt.Sprint(svc.Port.Number))
		}
		backend := t.tcpBackend(b.rep, b.obj, field+".http.paths[0].backend", b.ing.Namespace, bhv1.ServiceTCP{Name: svc.Name, Port: port})
		t.snap.TCPRoutes = append(t.snap.TCPRoutes, &snapshot.TCPRoute{
			RouteHead:   snapshot.RouteHead{ID: fmt.Sprintf("%s/%s/ingress/ssl-passthrough/%s", b.ing.Namespace, b.ing.Name, host), Source: b.src, RouteIndex: b.paths, Match: PassthroughRule(host), Priority: len("HostSNI(``)") + len(host), EntryPoints: []string{entryPointWebsecure}},
			Passthrough: true,
			Hosts:       []string{host},
			Backends:    []*snapshot.TCPBackend{backend},
			Failure:     b.failure,
		})
		b.paths++
	}
}
