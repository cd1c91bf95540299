package ingressannotations

import (
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"

	bhv1 "github.com/bridgehead/bridgehead/api/v1alpha1"
)

// Family is an annotation prefix, including its trailing slash.
type Family string

// The families Read knows, in precedence order (Families).
const (
	Bridgehead     Family = "bridgehead.dev/"
	Nginx          Family = "nginx.ingress.kubernetes.io/"
	HAProxyIngress Family = "haproxy-ingress.github.io/"
	HAProxyOrg     Family = "haproxy.org/"
	HAProxyCom     Family = "haproxy.com/"
	HAProxyLegacy  Family = "ingress.kubernetes.io/"
)

// Families lists the families from highest to lowest precedence.
var Families = []Family{Bridgehead, Nginx, HAProxyIngress, HAProxyOrg, HAProxyCom, HAProxyLegacy}

func (f Family) rank() int {
	for i, g := range Families {
		if g == f {
			return i
		}
	}
	return len(Families)
}

// Controller is the ingress controller whose class defaults apply to the Ingress.
type Controller string

// Controllers whose defaults Read knows.
const (
	// ControllerBridgehead: no redirect unless an annotation asks for one.
	ControllerBridgehead Controller = ""
	// ControllerNginx: TLS hosts are redirected to HTTPS with 308, as ingress-nginx does.
	ControllerNginx Controller = "nginx"
	// ControllerHAProxy: TLS hosts are redirected to HTTPS with 302, as both HAProxy
	// controllers do.
	ControllerHAProxy Controller = "haproxy"
)

// Defaults are the class-wide defaults of the controller whose Ingresses are taken over.
type Defaults struct {
	Controller Controller
}

// SecretLookup returns a Secret by namespace and name. It may be nil: then Read assumes
// each Secret holds every key the annotation's controller reads.
type SecretLookup func(namespace, name string) (*corev1.Secret, bool)

// Input is what Read looks at.
type Input struct {
	Ingress  *networkingv1.Ingress
	Defaults Defaults
	Secrets  SecretLookup
}

// Scheme is how the gateway speaks to the Ingress's backends.
type Scheme string

// The schemes. SchemeH2 is HTTP/2 over TLS (gRPC over TLS).
const (
	SchemeDefault Scheme = ""
	SchemeHTTP    Scheme = "http"
	SchemeHTTPS   Scheme = "https"
	SchemeH2C     Scheme = "h2c"
	SchemeH2      Scheme = "h2"
)

// TLS reports whether the scheme speaks TLS to the backend.
func (s Scheme) TLS() bool { return s == SchemeHTTPS || s == SchemeH2 }

// Disposition is what Bridgehead does with one annotation.
type Disposition string

// The dispositions; see the package documentation.
const (
	Served            Disposition = "Served"
	ServedInsecure    Disposition = "ServedInsecure"
	ServedDifferently Disposition = "ServedDifferently"
	Overridden        Disposition = "Overridden"
	Refused           Disposition = "Refused"
	Malformed         Disposition = "Malformed"
	Unsupported       Disposition = "Unsupported"
)

// Blocking reports whether the disposition makes the Ingress fail closed.
func (d Disposition) Blocking() bool { return d == Refused || d == Malformed }

// Warning reports whether the finding deserves a Warning Event.
func (d Disposition) Warning() bool { return d != Served }

// Finding is the verdict on one annotation.
type Finding struct {
	// Annotation is the full key, for example nginx.ingress.kubernetes.io/proxy-ssl-secret.
	Annotation string
	Value      string
	// Concept is what the annotation sets ("backend scheme", "backend CA", ...); annotations
	// of different families with the same Concept compete by precedence.
	Concept     string
	Disposition Disposition
	// Message says what Bridgehead does and, unless Served, what to do about it. It does
	// not repeat the annotation key.
	Message string
}

// Transport is a ServersTransportSpec synthesized from annotations.
type Transport struct {
	Spec bhv1.ServersTransportSpec
	// Namespace holds the Secrets Spec names (annotations may point to another namespace).
	Namespace string
	// Origin names the annotations it comes from, for status messages.
	Origin string
	// OldControllerVerified is false when the old controller would not have verified the
	// backend's certificate but Bridgehead does; VerifyFix then says what to do when
	// verification fails.
	OldControllerVerified bool
	VerifyFix             string
}

// TLSOption is a TLSOptionSpec synthesized from annotations (client certificates).
type TLSOption struct {
	Spec      bhv1.TLSOptionSpec
	Namespace string
	Origin    string
	// VerifyDepth is the longest client chain the old controller accepted (0: unset).
	VerifyDepth int
}

// Middleware is a MiddlewareSpec synthesized from one annotation, or a whole-path rewrite
// (ReplacePath) or client-subject check (MatchCN), which the Middleware API now has as
// replacePath and tlsClientSubject; a consumer that cannot serve those must fail closed.
type Middleware struct {
	Origin string
	Spec   bhv1.MiddlewareSpec
	// ReplacePath replaces the whole request path (nginx rewrite-target without captures,
	// HAProxy path-rewrite with one argument).
	ReplacePath string
	// MatchCN is a regular expression the client certificate's whole subject (RFC 2253)
	// must match (nginx auth-tls-match-cn, "CN=..." included, unanchored).
	MatchCN string
	// MatchPrefixes maps the Ingress paths written as ingress-nginx regular expressions
	// (/api(/|$)(.*)) to the prefix they stand for (/api), which is what must be matched.
	MatchPrefixes map[string]string
}

// Redirect says whether plain HTTP is redirected to HTTPS.
type Redirect struct {
	Enabled bool
	// Force also redirects hosts not listed in spec.tls (nginx force-ssl-redirect).
	Force      bool
	StatusCode int
	Origin     string
}

// Result is what Read found.
type Result struct {
	Scheme      Scheme
	SchemeFrom  string
	Transport   *Transport
	TLSOption   *TLSOption
	Middlewares []Middleware
	Redirect    Redirect
	Passthrough bool
	Findings    []Finding
}

// Blocking returns the findings that make the Ingress fail closed.
func (r *Result) Blocking() []Finding {
	var out []Finding
	for _, f := range r.Findings {
		if f.Disposition.Blocking() {
			out = append(out, f)
		}
	}
	return out
}

// Finding returns the finding of one annotation key.
func (r *Result) Finding(key string) (Finding, bool) {
	for _, f := range r.Findings {
		if f.Annotation == key {
			return f, true
		}
	}
	return Finding{}, false
}

// DefaultsFor returns the class defaults of the controller an IngressClass name belongs to
// by convention: "nginx" is ingress-nginx's, "haproxy" both HAProxy controllers'; any other
// class gets Bridgehead's (no redirect unless asked).
func DefaultsFor(class string) Defaults {
	switch class {
	case "nginx":
		return Defaults{Controller: ControllerNginx}
	case "haproxy":
		return Defaults{Controller: ControllerHAProxy}
	}
	return Defaults{}
}
