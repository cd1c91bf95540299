package translate

import (
	"fmt"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"

	bhv1 "github.com/bridgehead/bridgehead/api/v1alpha1"
	"github.com/bridgehead/bridgehead/internal/snapshot"
)

// forwardAuth compiles spec.forwardAuth. The auth server is reached the way backends are:
// an address naming a Service by its DNS name goes to the Service's ready endpoints, and
// https goes through the same verified transport code, its trust compiled into a
// snapshot.Transport of ID Middleware/namespace/name. A Secret or Service it names that
// is missing makes the Middleware not Ready, so the routes that list it answer 503.
func (t *translator) forwardAuth(rep *report, k nsName, f *bhv1.ForwardAuth) *snapshot.ForwardAuth {
	out := &snapshot.ForwardAuth{
		Address:                  f.Address,
		TrustForwardHeader:       f.TrustForwardHeader,
		AuthResponseHeadersRegex: f.AuthResponseHeadersRegex,
		ForwardBody:              f.ForwardBody,
		PreserveLocationHeader:   f.PreserveLocationHeader,
		PreserveRequestMethod:    f.PreserveRequestMethod,
		AuthSigninURL:            f.AuthSigninURL,
		MaxResponseBodySize:      sizeOrUnlimited(rep, k, "spec.forwardAuth.maxResponseBodySize", f.MaxResponseBodySize),
		MaxBodySize:              sizeOrUnlimited(rep, k, "spec.forwardAuth.maxBodySize", f.MaxBodySize),
	}
	out.AuthResponseHeaders = headerNames(rep, k, "spec.forwardAuth.authResponseHeaders", f.AuthResponseHeaders)
	out.AuthRequestHeaders = headerNames(rep, k, "spec.forwardAuth.authRequestHeaders", f.AuthRequestHeaders)
	if len(f.AddAuthCookiesToResponse) > 0 {
		out.AddAuthCookiesToResponse = append([]string(nil), f.AddAuthCookiesToResponse...)
	}
	if f.AuthResponseHeadersRegex != "" {
		if _, err := regexp.Compile(f.AuthResponseHeadersRegex); err != nil {
			rep.invalidf(bhv1.ReasonInvalid, fmt.Sprintf("Middleware %s: spec.forwardAuth.authResponseHeadersRegex %q is not a Go regular expression (%v); fix it, e.g. ^X-Auth- for every header starting with X-Auth-", k, f.AuthResponseHeadersRegex, err))
		}
	}
	if f.AuthSigninURL != "" {
		if _, err := url.Parse(f.AuthSigninURL); err != nil {
			rep.invalidf(bhv1.ReasonInvalid, fmt.Sprintf("Middleware %s: spec.forwardAuth.authSigninURL %q is not a URL (%v); write the sign-in page's URL, such as https://login.example.com/", k, f.AuthSigninURL, err))
		}
	}
	if f.ForwardBody && f.MaxBodySize == nil {
		rep.warn(bhv1.ReasonIneffectiveSetting, fmt.Sprintf("Middleware %s: spec.forwardAuth.forwardBody is true without maxBodySize, so request bodies of any size are read into memory before the auth request; set maxBodySize (in bytes)", k))
	}

	u, host, port := forwardAuthURL(rep, k, f.Address)
	if u == nil {
		return out
	}
	out.Server = &snapshot.Backend{Scheme: u.Scheme, Port: port, Weight: 1, ServerName: host, VerifyNames: []string{host}}
	t.forwardAuthTLS(rep, k, u.Scheme, f.TLS, out.Server)
	if svcNS, svc, ok := t.serviceDNSName(host); ok {
		out.Server.Service = snapshot.Ref{Kind: KindService, Namespace: svcNS, Name: svc}
		res, p, status := t.resolveService(k.namespace, svcNS, svc, bhv1.Port(port))
		switch {
		case p != nil && p.reason == bhv1.ReasonNoEndpoints:
			// Endpoints come and go: the Middleware stays, and answers 503 meanwhile.
			rep.notReadyf(p.reason, fmt.Sprintf("Middleware %s: spec.forwardAuth.address: %s", k, p.message))
			out.Server.Failure = &snapshot.Failure{Reason: string(p.reason), Status: status, Message: p.message, Detail: svcNS + "/" + svc}
		case p != nil:
			rep.refErrorDetail(p.reason, fmt.Sprintf("Middleware %s: spec.forwardAuth.address %q names Service %s/%s: %s", k, f.Address, svcNS, svc, p.message), svcNS+"/"+svc)
		default:
			out.Server.Endpoints = res.endpoints
		}
		return out
	}
	out.Server.Endpoints = []snapshot.Endpoint{{Address: net.JoinHostPort(host, port), Name: host}}
	return out
}

// forwardAuthURL parses the address; the host is lower-cased, the port defaulted by scheme.
func forwardAuthURL(rep *report, k nsName, address string) (u *url.URL, host, port string) {
	u, err := url.Parse(address)
	switch {
	case address == "":
		rep.invalidf(bhv1.ReasonInvalid, fmt.Sprintf("Middleware %s: spec.forwardAuth.address is empty; write the auth server's URL, such as http://auth.default.svc:8080/verify", k))
		return nil, "", ""
	case err != nil:
		rep.invalidf(bhv1.ReasonInvalid, fmt.Sprintf("Middleware %s: spec.forwardAuth.address %q is not a URL (%v); write the auth server's URL, such as http://auth.default.svc:8080/verify", k, address, err))
		return nil, "", ""
	case u.Scheme != "http" && u.Scheme != "https":
		rep.invalidf(bhv1.ReasonInvalid, fmt.Sprintf("Middleware %s: spec.forwardAuth.address %q must start with http:// or https://", k, address))
		return nil, "", ""
	case u.Hostname() == "":
		rep.invalidf(bhv1.ReasonInvalid, fmt.Sprintf("Middleware %s: spec.forwardAuth.address %q names no host; write the auth server's URL, such as http://auth.default.svc:8080/verify", k, address))
		return nil, "", ""
	}
	host = strings.TrimSuffix(strings.ToLower(u.Hostname()), ".")
	port = u.Port()
	if port == "" {
		port = "80"
		if u.Scheme == "https" {
			port = "443"
		}
	}
	if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
		rep.invalidf(bhv1.ReasonInvalid, fmt.Sprintf("Middleware %s: spec.forwardAuth.address %q has port %q; write a port from 1 to 65535, or none for the scheme's", k, address, port))
		return nil, "", ""
	}
	if net.ParseIP(host) == nil && !validDNSName(host) {
		rep.invalidf(bhv1.ReasonInvalid, fmt.Sprintf("Middleware %s: spec.forwardAuth.address %q: %q is neither an IP address nor a DNS name; write the auth server's URL, such as http://auth.default.svc:8080/verify", k, address, host))
		return nil, "", ""
	}
	return u, host, port
}

// validDNSName: dot-separated labels of letters, digits, - and _ (which some service
// records use), each 1 to 63 long.
func validDNSName(h string) bool {
	if h == "" || len(h) > 253 {
		return false
	}
	for _, label := range strings.Split(h, ".") {
		if label == "" || len(label) > 63 {
			return false
		}
		for _, c := range label {
			switch {
			case c >= 'a' && c <= 'z', c >= '0' && c <= '9', c == '-', c == '_':
			default:
				return false
			}
		}
	}
	return true
}

// serviceDNSName reads NAME.NAMESPACE.svc and NAME.NAMESPACE.svc.<cluster domain>, the names
// a pod resolves a Service by.
func (t *translator) serviceDNSName(host string) (ns, name string, ok bool) {
	parts := strings.SplitN(host, ".", 4)
	if len(parts) < 3 || parts[2] != "svc" || parts[0] == "" || parts[1] == "" {
		return "", "", false
	}
	if len(parts) == 4 && parts[3] != strings.ToLower(strings.TrimSuffix(t.opts.ClusterDomain, ".")) {
		return "", "", false
	}
	return parts[1], parts[0], true
}

// forwardAuthTLS compiles spec.forwardAuth.tls into the Middleware's own transport, with
// the code that compiles a ServersTransport: the same Secret reading, the same failures.
func (t *translator) forwardAuthTLS(rep *report, k nsName, scheme string, tlsSpec *bhv1.ForwardAuthTLS, server *snapshot.Backend) {
	if tlsSpec == nil {
		return // https: the system roots, verified
	}
	if tlsSpec.CAOptional != nil { //nolint:staticcheck // reading it is how we warn about it
		rep.warn(bhv1.ReasonIneffectiveSetting, fmt.Sprintf("Middleware %s: spec.forwardAuth.tls.caOptional has no effect (Traefik v3 deprecates it: whether a client certificate is required is the auth server's choice); remove it", k))
	}
	if scheme != "https" {
		if tlsSpec.CASecret != "" || tlsSpec.CertSecret != "" || tlsSpec.InsecureSkipVerify {
			rep.warn(bhv1.ReasonIneffectiveSetting, fmt.Sprintf("Middleware %s: spec.forwardAuth.tls has no effect: the address is http://, so no TLS is spoken to the auth server; write an https:// address, or remove tls", k))
		}
		return
	}
	spec := &bhv1.UpstreamTLS{InsecureSkipVerify: tlsSpec.InsecureSkipVerify}
	if tlsSpec.CASecret != "" {
		name := bhv1.SecretName(tlsSpec.CASecret)
		spec.RootCAs = []bhv1.RootCA{{Secret: &name}}
	}
	if tlsSpec.CertSecret != "" {
		spec.CertificatesSecrets = []bhv1.SecretName{bhv1.SecretName(tlsSpec.CertSecret)}
	}
	o := objectTLSOrigin(KindMiddleware, k.namespace, k.name, "spec.forwardAuth.tls.")
	o.field = func(f string) string {
		switch {
		case strings.HasPrefix(f, "rootCAs"):
			return "spec.forwardAuth.tls.caSecret"
		case strings.HasPrefix(f, "certificatesSecrets"):
			return "spec.forwardAuth.tls.certSecret"
		}
		return "spec.forwardAuth.tls." + f
	}
	o.annotations = true // the insecureSkipVerify warning below names forwardAuth's own field
	if tlsSpec.InsecureSkipVerify {
		rep.warn(bhv1.ReasonInsecureSkipVerify, fmt.Sprintf("Middleware %s: spec.forwardAuth.tls.insecureSkipVerify is true: the auth server's certificate is not verified, so anyone on the path to it can answer in its name and admit any request; set tls.caSecret to its CA instead", k))
	}
	before := len(rep.refs) + len(rep.invalid)
	tr := t.upstreamTLS(rep, o, spec)
	if len(rep.refs)+len(rep.invalid) > before {
		return // the Middleware is not Ready: nothing uses the transport
	}
	t.addTransport(tr)
	server.Transport = tr.ID
}

// sizeOrUnlimited reads an optional byte bound where -1 (and unset) means no limit.
func sizeOrUnlimited(rep *report, k nsName, field string, v *int64) int64 {
	if v == nil {
		return -1
	}
	if *v < -1 {
		rep.invalidf(bhv1.ReasonInvalid, fmt.Sprintf("Middleware %s: %s is %d; write a size in bytes, or -1 for no limit", k, field, *v))
		return -1
	}
	return *v
}

// headerNames checks header names (the schema's pattern, again for folders no API
// server validated) and returns them canonical.
func headerNames(rep *report, k nsName, field string, names []string) []string {
	var out []string
	for i, n := range names {
		if !validHeaderName(n) {
			rep.invalidf(bhv1.ReasonInvalid, fmt.Sprintf("Middleware %s: %s[%d] %q is not an HTTP header name; use letters, digits and - only, such as X-Auth-User", k, field, i, n))
			continue
		}
		out = append(out, http.CanonicalHeaderKey(n))
	}
	return out
}

func validHeaderName(n string) bool {
	if n == "" {
		return false
	}
	for _, c := range n {
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		case strings.ContainsRune("!#$%&'*+-.^_`|~", c):
		default:
			return false
		}
	}
	return true
}

// forwardAuthRefs are the Secrets of a forwardAuth's tls and the Service its address
// names, so that a change to any of them rebuilds.
func forwardAuthRefs(m *bhv1.Middleware) []string {
	f := m.Spec.ForwardAuth
	if f == nil {
		return nil
	}
	var out []string
	if f.TLS != nil {
		for _, s := range []string{f.TLS.CASecret, f.TLS.CertSecret} {
			if s != "" {
				out = append(out, Reference(KindSecret, m.Namespace, s))
			}
		}
	}
	if u, err := url.Parse(f.Address); err == nil {
		parts := strings.SplitN(strings.ToLower(u.Hostname()), ".", 4)
		if len(parts) >= 3 && parts[2] == "svc" && parts[0] != "" && parts[1] != "" {
			out = append(out, Reference(KindService, parts[1], parts[0]))
		}
	}
	return out
}
