package ingressannotations

import (
	"fmt"
	"net/http"
	"strings"

	bhv1 "github.com/bridgehead/bridgehead/api/v1alpha1"
)

// transportConcepts are the concepts that end up in the synthesized ServersTransport.
var transportConcepts = []string{cCA, cClientCert, cServerName, cSNI, cVerify, cVerifyDepth, cProtocols, cCiphers}

// finish turns the winners' effects into the Result's specs, and rewrites the findings
// whose meaning depends on other annotations (verification, redirects, client auth).
func (b *builder) finish() {
	b.finishScheme()
	b.finishTransport()
	b.finishRedirect()
	b.finishClientAuth()
	b.finishMiddlewares()
}

func (b *builder) finishScheme() {
	if !b.h2 {
		return
	}
	switch b.res.Scheme {
	case SchemeHTTPS:
		b.res.Scheme = SchemeH2
	case SchemeHTTP, SchemeDefault:
		b.res.Scheme = SchemeH2C
	}
	if b.res.SchemeFrom == "" {
		b.res.SchemeFrom = b.winnerKey(cHTTP2)
	}
}

func (b *builder) finishTransport() {
	var set []string
	for _, c := range transportConcepts {
		if k := b.winnerKey(c); k != "" {
			set = append(set, k)
		}
	}
	scheme := b.res.Scheme
	// An explicit plain-text scheme makes every TLS setting moot.
	if scheme != SchemeDefault && !scheme.TLS() {
		for _, c := range transportConcepts {
			if k := b.winnerKey(c); k != "" {
				b.adjust(c, ServedDifferently, fmt.Sprintf("has no effect: %s makes the gateway speak %s to the backends; remove it, or speak TLS to the backends", b.res.SchemeFrom, scheme))
			}
		}
		return
	}
	schemeTLSFromAnnotation := scheme.TLS() && b.schemeFam != Bridgehead
	if len(set) == 0 && !schemeTLSFromAnnotation {
		return
	}
	tr := &Transport{Namespace: b.ns, OldControllerVerified: true}
	var origins []string
	if schemeTLSFromAnnotation {
		origins = append(origins, b.res.SchemeFrom)
	}
	origins = append(origins, set...)
	tr.Origin = "annotation " + strings.Join(dedupe(origins), ", ")

	if b.ca != nil {
		tr.Namespace = b.ca.namespace
		name := bhv1.SecretName(b.ca.name)
		root := bhv1.RootCA{Secret: &name}
		if b.ca.key != "" && b.ca.key != "ca.crt" {
			root.Key = b.ca.key
		}
		tr.Spec.RootCAs = []bhv1.RootCA{root}
	}
	if b.cert != nil {
		if b.ca != nil && b.cert.namespace != b.ca.namespace {
			i := b.winners[cClientCert]
			b.findings[i].Disposition = Refused
			b.findings[i].Message = fmt.Sprintf("the client certificate's Secret is in namespace %s but the backend CA's (%s) is in %s; put both Secrets in one namespace", b.cert.namespace, b.caFrom, b.ca.namespace)
		} else {
			tr.Namespace = b.cert.namespace
			tr.Spec.CertificatesSecrets = []bhv1.SecretName{bhv1.SecretName(b.cert.name)}
		}
	}
	if b.serverName != "" {
		tr.Spec.ServerName = b.serverName
	} else if b.sni != "" {
		tr.Spec.ServerName = b.sni
	}
	if b.serverName != "" && b.sni != "" && b.serverName != b.sni {
		b.adjust(cSNI, ServedDifferently, fmt.Sprintf("Bridgehead sends as SNI the name it verifies (%s, from %s), not %s; set both to one name", b.serverName, b.nameFrom, b.sni))
	}
	tr.Spec.MinVersion, tr.Spec.MaxVersion = b.minV, b.maxV
	tr.Spec.CipherSuites = b.ciphers

	explicitOff := b.verify != nil && !*b.verify
	explicitOn := b.verify != nil && *b.verify
	haproxyFamily := b.schemeFam == HAProxyOrg || b.schemeFam == HAProxyCom || b.schemeFam == HAProxyLegacy || b.schemeFam == HAProxyIngress
	switch {
	case explicitOff:
		tr.Spec.InsecureSkipVerify = true
		tr.Spec.RootCAs = nil
		if b.ca != nil {
			b.adjust(cCA, ServedDifferently, fmt.Sprintf("the CA is not used: %s turns verification off", b.verifyFrom))
		}
	case b.ca == nil && haproxyFamily && scheme.TLS():
		// HAProxy and HAProxy Ingress speak TLS without verifying when no CA is given: the
		// user's own words for "unverified".
		tr.Spec.InsecureSkipVerify = true
		caAnn := "server-ca"
		if b.schemeFam == HAProxyIngress {
			caAnn = "secure-verify-ca-secret"
		}
		b.adjust(cScheme, ServedInsecure, fmt.Sprintf(
			"backends are spoken to as %s WITHOUT verifying their certificates, as the HAProxy controller does when %s is not set: anyone on the path to the backend can impersonate it; add %s%s with the backend's CA",
			scheme, caAnn, b.schemeFam, caAnn))
	case !explicitOn && (b.schemeFam == Nginx || strings.HasPrefix(b.caFrom, string(Nginx))):
		// ingress-nginx verifies only with proxy-ssl-verify "on"; Bridgehead verifies anyway.
		tr.OldControllerVerified = false
		roots := "the system roots"
		if b.ca != nil {
			roots = fmt.Sprintf("ca.crt of Secret %s/%s", b.ca.namespace, b.ca.name)
		}
		tr.VerifyFix = fmt.Sprintf("ingress-nginx did not verify backend certificates without %sproxy-ssl-verify: \"on\"; Bridgehead verifies them against %s: put the backend's CA at ca.crt of the Secret named by %sproxy-ssl-secret, or write %sproxy-ssl-verify: \"off\" to keep them unverified", Nginx, roots, Nginx, Nginx)
		msg := "backends are spoken to as " + string(scheme) + " and their certificates are verified (against " + roots + "), where ingress-nginx did not verify them without proxy-ssl-verify: \"on\"; if verification fails, put the backend's CA in proxy-ssl-secret, or write proxy-ssl-verify: \"off\""
		if b.schemeFam == Nginx && scheme.TLS() {
			b.adjust(cScheme, ServedDifferently, msg)
		} else if b.ca != nil {
			b.adjust(cCA, ServedDifferently, msg)
		}
	}
	b.res.Transport = tr
}

func dedupe(s []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, v := range s {
		if v != "" && !seen[v] {
			seen[v] = true
			out = append(out, v)
		}
	}
	return out
}

func (b *builder) finishRedirect() {
	r := &b.res.Redirect
	if !b.redirectSet && !r.Force {
		switch b.in.Defaults.Controller {
		case ControllerNginx:
			r.Enabled, r.Origin = true, "the nginx class default"
		case ControllerHAProxy:
			r.Enabled, r.Origin = true, "the haproxy class default"
		}
	}
	if r.StatusCode == 0 {
		switch {
		case b.in.Defaults.Controller == ControllerHAProxy || strings.HasPrefix(r.Origin, "haproxy") || strings.HasPrefix(r.Origin, string(HAProxyLegacy)):
			r.StatusCode = http.StatusFound
		default:
			r.StatusCode = http.StatusPermanentRedirect
		}
	}
	if !r.Enabled {
		if k := b.winnerKey(cRedirectCode); k != "" {
			b.adjust(cRedirectCode, ServedDifferently, "has no effect: nothing is redirected; set ssl-redirect: \"true\" or remove it")
		}
	}
}

func (b *builder) finishClientAuth() {
	if b.clientCA == nil {
		if b.clientModeSet && b.clientMode != bhv1.NoClientCert && b.clientMode != bhv1.RequestClientCert {
			i := b.winners[cClientMode]
			b.findings[i].Disposition = Refused
			b.findings[i].Message = "asks for verified client certificates but names no client CA, so none could be verified; add the auth-tls-secret (or client-ca) annotation with the CA that signs the clients' certificates"
			return
		}
		if b.clientModeSet && b.clientMode == bhv1.RequestClientCert {
			b.res.TLSOption = &TLSOption{Namespace: b.ns, Origin: "annotation " + b.winnerKey(cClientMode), Spec: bhv1.TLSOptionSpec{ClientAuth: bhv1.ClientAuth{ClientAuthType: bhv1.RequestClientCert}}}
		}
		if k := b.winnerKey(cClientDepth); k != "" {
			b.adjust(cClientDepth, ServedDifferently, "has no effect: no client CA is set")
		}
		return
	}
	mode := bhv1.RequireAndVerifyClientCert
	if b.clientModeSet {
		mode = b.clientMode
	}
	origin := []string{b.clientFrom}
	if k := b.winnerKey(cClientMode); k != "" {
		origin = append(origin, k)
	}
	opt := &TLSOption{Namespace: b.clientCA.namespace, Origin: "annotation " + strings.Join(origin, ", "), VerifyDepth: b.clientDepth}
	opt.Spec.ClientAuth.ClientAuthType = mode
	if mode != bhv1.NoClientCert {
		opt.Spec.ClientAuth.SecretNames = []bhv1.SecretName{bhv1.SecretName(b.clientCA.name)}
	} else {
		b.adjust(cClientCA, ServedDifferently, fmt.Sprintf("has no effect: %s is off", b.winnerKey(cClientMode)))
	}
	b.res.TLSOption = opt
}

func (b *builder) finishMiddlewares() {
	if len(b.allowList) > 0 {
		b.res.Middlewares = append(b.res.Middlewares, Middleware{Origin: b.allowFrom, Spec: bhv1.MiddlewareSpec{IPAllowList: &bhv1.IPAllowList{SourceRange: b.allowList}}})
	}
	if b.matchCN != "" {
		if b.clientCA == nil {
			i := b.winners[cMatchCN]
			b.findings[i].Disposition = Refused
			b.findings[i].Message = "checks the client certificate's subject but no client CA is set, so no certificate is verified; add auth-tls-secret"
		} else {
			b.res.Middlewares = append(b.res.Middlewares, Middleware{Origin: b.winnerKey(cMatchCN), MatchCN: b.matchCN})
		}
	}
	if b.passCert {
		b.res.Middlewares = append(b.res.Middlewares, Middleware{Origin: b.winnerKey(cPassCert), Spec: bhv1.MiddlewareSpec{PassTLSClientCert: &bhv1.PassTLSClientCert{PEM: true}}})
	}
	if b.rewrite != nil {
		b.res.Middlewares = append(b.res.Middlewares, *b.rewrite)
	}
	if b.vhost != "" {
		b.res.Middlewares = append(b.res.Middlewares, Middleware{Origin: b.vhostFrom, Spec: bhv1.MiddlewareSpec{Headers: &bhv1.Headers{CustomRequestHeaders: map[string]string{"Host": b.vhost}}}})
	}
}
