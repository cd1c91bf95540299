package migrate

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	bhv1 "github.com/bridgehead/bridgehead/api/v1alpha1"
	"github.com/bridgehead/bridgehead/internal/ingressannotations"
	"github.com/bridgehead/bridgehead/internal/translate"
)

const (
	entryPointWeb       = "web"
	entryPointWebsecure = "websecure"
)

// converter builds the objects of one Ingress, mirroring what the translator serves for it
// (internal/translate/ingress.go): every path on web, and on websecure for the hosts of a
// spec.tls entry; a redirect route instead of the web paths of redirected hosts; the
// annotations' middlewares before the ones bridgehead.dev/middlewares names.
type converter struct {
	ing      *networkingv1.Ingress
	res      *ingressannotations.Result
	services map[[2]string]*corev1.Service

	notes   []Note
	refused bool

	scheme          bhv1.Scheme // explicit; "" means by port, as for an Ingress
	transport       *bhv1.ServersTransport
	transportName   string
	tlsOption       *bhv1.TLSOption
	tlsOptionRef    *bhv1.ObjectReference
	middlewares     []*bhv1.Middleware
	refs            []bhv1.ObjectReference
	pathPrefixes    map[string]string
	redirect, force bool
	redirectCode    int
	plainRefused    bool

	web    *bhv1.IngressRoute
	secure []*bhv1.IngressRoute // one per spec.tls entry
	tcp    *bhv1.IngressRouteTCP
}

func (c *converter) note(d ingressannotations.Disposition, format string, args ...any) {
	c.notes = append(c.notes, Note{Disposition: d, Message: fmt.Sprintf(format, args...)})
}

func (c *converter) refuse(format string, args ...any) {
	c.note(ingressannotations.Refused, format, args...)
	c.refused = true
}

func (c *converter) convert() {
	c.ownAnnotations()
	if c.refused {
		return
	}
	c.backendTLS()
	c.clientAuth()
	if c.refused {
		return
	}
	c.annotationMiddlewares()
	c.routes()
	if c.res.Passthrough {
		c.passthrough()
	}
}

// ownAnnotations reads the bridgehead.dev annotations, as the translator does: a value
// that cannot be read fails the Ingress closed, so it is not converted either.
func (c *converter) ownAnnotations() {
	// Values the gateway cannot read were found by translate.AnnotationFindings (Malformed),
	// and the Ingress is not converted: here every value reads.
	ann := c.ing.Annotations
	if v, ok := ann[translate.AnnotationBackendProtocol]; ok {
		c.scheme = bhv1.Scheme(strings.ToLower(strings.TrimSpace(v)))
	}
	if v, ok := ann[translate.AnnotationServersTransport]; ok {
		c.transportName = strings.TrimSpace(v)
	}
	if v, ok := ann[translate.AnnotationTLSOptions]; ok {
		if ref, ok := translate.ObjectRef(v); ok {
			c.tlsOptionRef = &ref
		}
	}
	if v, ok := ann[translate.AnnotationMiddlewares]; ok {
		for _, item := range strings.Split(v, ",") {
			if ref, ok := translate.ObjectRef(item); ok {
				c.refs = append(c.refs, ref)
			}
		}
	}
	if v, ok := ann[translate.AnnotationSSLRedirect]; ok {
		c.redirect, _ = strconv.ParseBool(strings.TrimSpace(v))
	} else {
		c.redirect, c.force, c.redirectCode = c.res.Redirect.Enabled, c.res.Redirect.Force, c.res.Redirect.StatusCode
	}
}

// backendTLS: the scheme and the ServersTransport the annotations ask for.
func (c *converter) backendTLS() {
	if c.scheme == "" {
		switch c.res.Scheme {
		case ingressannotations.SchemeHTTP:
			c.scheme = bhv1.SchemeHTTP
		case ingressannotations.SchemeHTTPS, ingressannotations.SchemeH2:
			c.scheme = bhv1.SchemeHTTPS // HTTP/2 is offered by ALPN on every TLS backend
		case ingressannotations.SchemeH2C:
			c.scheme = bhv1.SchemeH2C
		}
	}
	tr := c.res.Transport
	if tr == nil {
		return
	}
	if c.transportName != "" {
		c.note(ingressannotations.ServedDifferently, "ServersTransport %s (from %s) is used, so the backend TLS settings of %s are not; remove one of them",
			c.transportName, translate.AnnotationServersTransport, strings.TrimPrefix(tr.Origin, "annotation "))
		return
	}
	c.transportName = c.ing.Name
	c.transport = &bhv1.ServersTransport{
		TypeMeta:   typeMeta(translate.KindServersTransport),
		ObjectMeta: c.meta(c.ing.Name, ""),
		Spec:       *tr.Spec.DeepCopy(),
	}
	if tr.Namespace != c.ing.Namespace {
		c.note(ingressannotations.ServedDifferently, "the backend TLS Secrets (%s) are in namespace %s, and a ServersTransport reads the Secrets of its own namespace: copy them to namespace %s",
			strings.Join(transportSecrets(&tr.Spec), ", "), tr.Namespace, c.ing.Namespace)
	}
}

func transportSecrets(s *bhv1.ServersTransportSpec) []string {
	var out []string
	for _, r := range s.RootCAs {
		if r.Secret != nil {
			out = append(out, string(*r.Secret))
		}
	}
	for _, n := range s.CertificatesSecrets {
		out = append(out, string(n))
	}
	return out
}

// clientAuth: the TLSOption the client-certificate annotations synthesize.
func (c *converter) clientAuth() {
	opt := c.res.TLSOption
	if opt == nil {
		return
	}
	if c.tlsOptionRef != nil {
		c.note(ingressannotations.ServedDifferently, "TLSOption %s (from %s) is used, so the client certificate settings of %s are not; remove one of them",
			c.tlsOptionRef.Name, translate.AnnotationTLSOptions, strings.TrimPrefix(opt.Origin, "annotation "))
		return
	}
	if len(c.ing.Spec.TLS) == 0 && opt.Spec.ClientAuth.ClientAuthType != bhv1.NoClientCert {
		c.refuse("not converted: client certificates are asked for, but the Ingress has no spec.tls, so the gateway refuses it; list its hosts in spec.tls")
		return
	}
	c.tlsOption = &bhv1.TLSOption{
		TypeMeta:   typeMeta(translate.KindTLSOption),
		ObjectMeta: c.meta(c.ing.Name, opt.Namespace),
		Spec:       *opt.Spec.DeepCopy(),
	}
	ref := bhv1.ObjectReference{Name: c.ing.Name}
	if opt.Namespace != c.ing.Namespace {
		ref.Namespace = opt.Namespace
	}
	c.tlsOptionRef = &ref
	switch opt.Spec.ClientAuth.ClientAuthType {
	case bhv1.RequireAndVerifyClientCert, bhv1.RequireAnyClientCert:
		c.plainRefused = true
	}
}

// annotationMiddlewares: one Middleware per job the annotations ask for, in their order,
// before the ones bridgehead.dev/middlewares names.
func (c *converter) annotationMiddlewares() {
	var refs []bhv1.ObjectReference
	add := func(suffix string, spec bhv1.MiddlewareSpec) {
		name := c.ing.Name + "-" + suffix
		for n := 2; c.hasMiddleware(name); n++ {
			name = fmt.Sprintf("%s-%s-%d", c.ing.Name, suffix, n)
		}
		c.middlewares = append(c.middlewares, &bhv1.Middleware{TypeMeta: typeMeta(translate.KindMiddleware), ObjectMeta: c.meta(name, ""), Spec: spec})
		refs = append(refs, bhv1.ObjectReference{Name: name})
	}
	for _, m := range c.res.Middlewares {
		if a := m.Spec.IPAllowList; a != nil {
			add("allowlist", bhv1.MiddlewareSpec{IPAllowList: a.DeepCopy()})
		}
		if p := m.Spec.PassTLSClientCert; p != nil {
			add("pass-client-cert", bhv1.MiddlewareSpec{PassTLSClientCert: p.DeepCopy()})
		}
		if s := m.Spec.StripPrefix; s != nil {
			add("strip-prefix", bhv1.MiddlewareSpec{StripPrefix: s.DeepCopy()})
			c.pathPrefixes = m.MatchPrefixes
		}
		if m.MatchCN != "" {
			add("client-subject", bhv1.MiddlewareSpec{TLSClientSubject: &bhv1.TLSClientSubject{Pattern: m.MatchCN}})
		}
		if m.ReplacePath != "" {
			add("replace-path", bhv1.MiddlewareSpec{ReplacePath: &bhv1.ReplacePath{Path: m.ReplacePath}})
		}
		if h := m.Spec.Headers; h != nil {
			add("headers", bhv1.MiddlewareSpec{Headers: h.DeepCopy()})
		}
	}
	c.refs = append(refs, c.refs...)
}

func (c *converter) hasMiddleware(name string) bool {
	for _, m := range c.middlewares {
		if m.Name == name {
			return true
		}
	}
	return false
}

// routes builds the web and websecure IngressRoutes.
func (c *converter) routes() {
	c.web = &bhv1.IngressRoute{TypeMeta: typeMeta(translate.KindIngressRoute), ObjectMeta: c.meta(c.ing.Name, ""),
		Spec: bhv1.IngressRouteSpec{EntryPoints: []string{entryPointWeb}}}
	for k, e := range c.ing.Spec.TLS {
		name := c.ing.Name + "-tls"
		if len(c.ing.Spec.TLS) > 1 {
			name = fmt.Sprintf("%s-tls-%d", c.ing.Name, k)
		}
		c.secure = append(c.secure, &bhv1.IngressRoute{TypeMeta: typeMeta(translate.KindIngressRoute), ObjectMeta: c.meta(name, ""),
			Spec: bhv1.IngressRouteSpec{EntryPoints: []string{entryPointWebsecure},
				TLS: &bhv1.TLS{SecretName: bhv1.SecretName(e.SecretName), Options: c.tlsOptionRef}}})
	}
	plainSkipped := false
	redirectHosts := map[string]bhv1.Service{}
	for i, r := range c.ing.Spec.Rules {
		host := translate.NormalizeHost(r.Host)
		tlsIndex := translate.IngressTLSFor(c.ing.Spec.TLS, host)
		redirect := (c.redirect && tlsIndex >= 0 || c.force) && host != ""
		if r.HTTP == nil {
			continue
		}
		for j, p := range r.HTTP.Paths {
			field := fmt.Sprintf("spec.rules[%d].http.paths[%d]", i, j)
			svc, ok := c.service(field, &p.Backend)
			if !ok {
				continue
			}
			path, pathType := p.Path, p.PathType
			if prefix, ok := c.pathPrefixes[path]; ok {
				path, pathType = prefix, ptrTo(networkingv1.PathTypePrefix)
			}
			match, priority, problem := translate.IngressPathRule(host, path, pathType)
			if problem != "" {
				c.note(ingressannotations.Refused, "%s is not converted (the gateway does not serve it either): %s", field, problem)
				continue
			}
			route := bhv1.Route{Match: match, Kind: "Rule", Priority: priority, Services: []bhv1.Service{svc}, Middlewares: c.refs}
			if redirect {
				if _, seen := redirectHosts[host]; !seen {
					redirectHosts[host] = svc
				}
			} else if c.plainRefused {
				plainSkipped = true
			} else {
				c.web.Spec.Routes = append(c.web.Spec.Routes, route)
			}
			if tlsIndex >= 0 {
				c.secure[tlsIndex].Spec.Routes = append(c.secure[tlsIndex].Spec.Routes, route)
			}
		}
	}
	if d := c.ing.Spec.DefaultBackend; d != nil {
		if svc, ok := c.service("spec.defaultBackend", d); ok {
			match, priority := translate.CatchAllRule()
			route := bhv1.Route{Match: match, Kind: "Rule", Priority: priority, Services: []bhv1.Service{svc}, Middlewares: c.refs}
			if c.plainRefused {
				plainSkipped = true
			} else {
				c.web.Spec.Routes = append(c.web.Spec.Routes, route)
			}
			if len(c.secure) > 0 {
				c.secure[0].Spec.Routes = append(c.secure[0].Spec.Routes, route)
			}
		}
	}
	if plainSkipped {
		c.note(ingressannotations.ServedDifferently, "plain HTTP is not routed (a client certificate is required, and plain HTTP cannot carry one): it gets 404 instead of the Ingress's 403; use HTTPS")
	}
	c.redirects(redirectHosts)
}

// redirects adds one web route per redirected host, answered by a redirectScheme
// Middleware before the service is reached (a route needs a service all the same).
func (c *converter) redirects(hosts map[string]bhv1.Service) {
	if len(hosts) == 0 {
		return
	}
	name := c.ing.Name + "-redirect-https"
	c.middlewares = append(c.middlewares, &bhv1.Middleware{TypeMeta: typeMeta(translate.KindMiddleware), ObjectMeta: c.meta(name, ""),
		Spec: bhv1.MiddlewareSpec{RedirectScheme: &bhv1.RedirectScheme{Scheme: "https", Permanent: true, StatusCode: c.redirectCode}}})
	keys := make([]string, 0, len(hosts))
	for h := range hosts {
		keys = append(keys, h)
	}
	sort.Strings(keys)
	for _, h := range keys {
		match, priority := translate.RedirectRule(h)
		c.web.Spec.Routes = append(c.web.Spec.Routes, bhv1.Route{Match: match, Kind: "Rule", Priority: priority,
			Services: []bhv1.Service{hosts[h]}, Middlewares: []bhv1.ObjectReference{{Name: name}}})
	}
}

// service converts an Ingress backend; a Resource backend is not served by the gateway.
func (c *converter) service(field string, b *networkingv1.IngressBackend) (bhv1.Service, bool) {
	s := b.Service
	if s == nil {
		c.note(ingressannotations.Refused, "%s.backend is not converted (the gateway does not serve it either): only Service backends are served", field)
		return bhv1.Service{}, false
	}
	port := bhv1.Port(s.Port.Name)
	if port == "" {
		port = bhv1.Port(strconv.Itoa(int(s.Port.Number)))
	}
	out := bhv1.Service{Name: s.Name, Port: port, Scheme: c.scheme}
	scheme := translate.BackendScheme(c.scheme, c.servicePort(s), port)
	if scheme == string(bhv1.SchemeHTTPS) && c.transportName != "" {
		out.ServersTransport = c.transportName
	}
	return out, true
}

// servicePort finds the Service's port a backend names, when the Service was given.
func (c *converter) servicePort(b *networkingv1.IngressServiceBackend) *corev1.ServicePort {
	svc := c.services[[2]string{c.ing.Namespace, b.Name}]
	if svc == nil {
		return nil
	}
	for i, p := range svc.Spec.Ports {
		if (b.Port.Name != "" && p.Name == b.Port.Name) || (b.Port.Name == "" && p.Port == b.Port.Number) {
			return &svc.Spec.Ports[i]
		}
	}
	return nil
}

// passthrough: TLS for each host goes untouched to the backend of its first path.
func (c *converter) passthrough() {
	c.tcp = &bhv1.IngressRouteTCP{TypeMeta: typeMeta(translate.KindIngressRouteTCP), ObjectMeta: c.meta(c.ing.Name+"-passthrough", ""),
		Spec: bhv1.IngressRouteTCPSpec{EntryPoints: []string{entryPointWebsecure}, TLS: &bhv1.TLSTCP{Passthrough: true}}}
	seen := map[string]bool{}
	for i, r := range c.ing.Spec.Rules {
		host := translate.NormalizeHost(r.Host)
		if host == "" || strings.HasPrefix(host, "*.") {
			c.note(ingressannotations.Refused, "spec.rules[%d]: ssl-passthrough routes TLS by its SNI, so each rule needs a host name (not %q); connections for it are not passed through (the gateway does not either)", i, r.Host)
			continue
		}
		if seen[host] || r.HTTP == nil || len(r.HTTP.Paths) == 0 || r.HTTP.Paths[0].Backend.Service == nil {
			continue
		}
		seen[host] = true
		b := r.HTTP.Paths[0].Backend.Service
		port := bhv1.Port(b.Port.Name)
		if port == "" {
			port = bhv1.Port(strconv.Itoa(int(b.Port.Number)))
		}
		c.tcp.Spec.Routes = append(c.tcp.Spec.Routes, bhv1.RouteTCP{Match: translate.PassthroughRule(host), Services: []bhv1.ServiceTCP{{Name: b.Name, Port: port}}})
	}
}

// objects lists what was built, in the order a reader (and kubectl apply) wants them:
// what routes refer to first.
func (c *converter) objects() []client.Object {
	out := []client.Object{}
	if c.transport != nil {
		out = append(out, c.transport)
	}
	if c.tlsOption != nil {
		out = append(out, c.tlsOption)
	}
	for _, m := range c.middlewares {
		out = append(out, m)
	}
	if c.web != nil && len(c.web.Spec.Routes) > 0 {
		out = append(out, c.web)
	}
	for _, r := range c.secure {
		if len(r.Spec.Routes) > 0 {
			out = append(out, r)
		}
	}
	if c.tcp != nil && len(c.tcp.Spec.Routes) > 0 {
		out = append(out, c.tcp)
	}
	return out
}

func (c *converter) meta(name, namespace string) metav1.ObjectMeta {
	if namespace == "" {
		namespace = c.ing.Namespace
	}
	return metav1.ObjectMeta{Name: name, Namespace: namespace}
}

func typeMeta(kind string) metav1.TypeMeta {
	return metav1.TypeMeta{APIVersion: bhv1.GroupVersion.String(), Kind: kind}
}

func ptrTo[T any](v T) *T { return &v }
