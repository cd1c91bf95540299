package ingressannotations

import (
	"fmt"
	"net/http"
	"regexp"
	"strings"

	bhv1 "github.com/bridgehead/bridgehead/api/v1alpha1"
)

// simple builds a setting whose effect does not depend on the value's family.
func simple(concept, norm string, apply func(b *builder) (Disposition, string)) (setting, *Finding) {
	return setting{concept: concept, norm: norm, apply: apply}, nil
}

func served(msg string) (Disposition, string) { return Served, msg }

// boolSetting reads a boolean annotation.
func boolSetting(concept string, onOff bool, apply func(b *builder, on bool) (Disposition, string)) parser {
	return func(_ *builder, _ Family, _, v string) (setting, *Finding) {
		on, ok := parseBool(v)
		if !ok {
			if onOff {
				return setting{}, onOffProblem(v)
			}
			return setting{}, boolProblem(v)
		}
		return simple(concept, fmt.Sprint(on), func(b *builder) (Disposition, string) { return apply(b, on) })
	}
}

// secretSetting reads a Secret reference.
func secretSetting(concept string, bareOK bool, apply func(b *builder, r *secretRef, key string) (Disposition, string)) parser {
	return func(b *builder, _ Family, key, v string) (setting, *Finding) {
		r, f := secretPath(b, v, bareOK)
		if f != nil {
			return setting{}, f
		}
		return simple(concept, r.namespace+"/"+r.name, func(b *builder) (Disposition, string) { return apply(b, r, key) })
	}
}

func hostSetting(concept string, apply func(b *builder, host, key string) (Disposition, string)) parser {
	return func(_ *builder, _ Family, key, v string) (setting, *Finding) {
		if f := hostnameProblem(v); f != nil {
			return setting{}, f
		}
		h := strings.ToLower(strings.TrimSpace(v))
		return simple(concept, h, func(b *builder) (Disposition, string) { return apply(b, h, key) })
	}
}

func allowListSetting(_ *builder, _ Family, key, v string) (setting, *Finding) {
	if strings.HasPrefix(strings.TrimSpace(v), "patterns/") {
		return setting{}, refused(fmt.Sprintf("%q is a pattern file of the HAProxy controller's ConfigMap, which Bridgehead cannot read; list the addresses and CIDRs in the annotation", v))
	}
	list, f := cidrList(v)
	if f != nil {
		return setting{}, f
	}
	return simple(cAllowList, strings.Join(list, ","), func(b *builder) (Disposition, string) {
		b.allowList, b.allowFrom = list, key
		return served("only clients from these addresses reach the backends (an ipAllowList Middleware); others get 403")
	})
}

func ca(b *builder, r *secretRef, key, caKey string) (Disposition, string) {
	if caKey != "ca.crt" && !b.hasKey(r, caKey) && b.hasKey(&secretRef{r.namespace, r.name, ""}, "ca.crt") {
		caKey = "ca.crt"
	}
	r.key = caKey
	b.ca, b.caFrom = r, key
	return served(fmt.Sprintf("backend certificates must chain to the CA at key %s of Secret %s/%s", caKey, r.namespace, r.name))
}

func clientCert(b *builder, r *secretRef, key string) (Disposition, string) {
	b.cert, b.certFrom = r, key
	return served(fmt.Sprintf("the gateway presents the certificate tls.crt/tls.key of Secret %s/%s to the backends", r.namespace, r.name))
}

// --- ingress-nginx ---------------------------------------------------------------------

// authTLSSecret reads auth-tls-secret, which ingress-nginx and HAProxy Ingress define
// alike (bareOK: a name without a namespace is the Ingress's own namespace).
func authTLSSecret(bareOK bool) parser {
	return secretSetting(cClientCA, bareOK, func(b *builder, r *secretRef, key string) (Disposition, string) {
		b.clientCA, b.clientFrom = r, key
		return served(fmt.Sprintf("client certificates are checked against ca.crt of Secret %s/%s", r.namespace, r.name))
	})
}

// authTLSVerifyClient reads auth-tls-verify-client (on, off, optional, optional_no_ca),
// the same in ingress-nginx and HAProxy Ingress.
func authTLSVerifyClient(_ *builder, _ Family, _, v string) (setting, *Finding) {
	mode, f := nginxVerifyClient(v)
	if f != nil {
		return setting{}, f
	}
	return simple(cClientMode, string(mode), func(b *builder) (Disposition, string) {
		b.clientMode, b.clientModeSet = mode, true
		return clientModeMessage(mode)
	})
}

var nginxParsers = map[string]parser{
	"backend-protocol": func(_ *builder, _ Family, _, v string) (setting, *Finding) {
		var s Scheme
		switch strings.ToUpper(strings.TrimSpace(v)) {
		case "HTTP", "AUTO_HTTP":
			s = SchemeHTTP
		case "HTTPS":
			s = SchemeHTTPS
		case "GRPC":
			s = SchemeH2C
		case "GRPCS":
			s = SchemeH2
		case "AJP", "FCGI":
			return setting{}, refused(fmt.Sprintf("%q backends are not supported: Bridgehead speaks HTTP/1.1, HTTP/2 and gRPC, with or without TLS; put an HTTP server in front of the application, or keep this Ingress on ingress-nginx", v))
		default:
			return setting{}, malformed(fmt.Sprintf("%q is not a backend protocol; write HTTP, HTTPS, GRPC or GRPCS", v))
		}
		return simple(cScheme, string(s), func(b *builder) (Disposition, string) {
			b.setScheme(s, string(Nginx)+"backend-protocol", Nginx)
			return served(fmt.Sprintf("backends are spoken to as %s", s))
		})
	},
	"proxy-ssl-secret": secretSetting(cCA, false, func(b *builder, r *secretRef, key string) (Disposition, string) {
		// One Secret carries both the backend CA (ca.crt) and the client certificate.
		hasCA, hasCert := b.hasKey(r, "ca.crt"), b.hasKey(r, "tls.crt") && b.hasKey(r, "tls.key")
		var parts []string
		if hasCA {
			r.key = "ca.crt"
			b.ca, b.caFrom = r, key
			parts = append(parts, "backend certificates must chain to its ca.crt")
		}
		if hasCert {
			b.cert, b.certFrom = &secretRef{r.namespace, r.name, ""}, key
			parts = append(parts, "the gateway presents its tls.crt/tls.key to the backends")
		}
		if len(parts) == 0 {
			return Malformed, fmt.Sprintf("Secret %s/%s has neither ca.crt nor tls.crt and tls.key; put the backend's CA at ca.crt and, if the backend asks for a client certificate, the gateway's at tls.crt/tls.key", r.namespace, r.name)
		}
		return served(fmt.Sprintf("Secret %s/%s: %s", r.namespace, r.name, strings.Join(parts, "; ")))
	}),
	"proxy-ssl-verify": boolSetting(cVerify, true, func(b *builder, on bool) (Disposition, string) {
		b.verify, b.verifyFrom = &on, string(Nginx)+"proxy-ssl-verify"
		if on {
			return served("backend certificates are verified")
		}
		return ServedInsecure, "backend certificates are NOT verified, as asked: anyone on the path to the backend can impersonate it; put the backend's CA in proxy-ssl-secret and remove this annotation"
	}),
	"proxy-ssl-verify-depth": func(_ *builder, _ Family, _, v string) (setting, *Finding) {
		n, f := positiveInt(v, 100)
		if f != nil {
			return setting{}, f
		}
		return simple(cVerifyDepth, fmt.Sprint(n), func(b *builder) (Disposition, string) {
			b.depth = n
			return ServedDifferently, fmt.Sprintf("Bridgehead verifies the backend's chain up to a trusted root whatever its length; the limit of %d intermediate certificates is not enforced", n)
		})
	},
	"proxy-ssl-name": hostSetting(cServerName, func(b *builder, h, key string) (Disposition, string) {
		b.serverName, b.nameFrom = h, key
		return served(fmt.Sprintf("backend certificates must be valid for %s, which is also sent as SNI", h))
	}),
	"proxy-ssl-server-name": boolSetting(cSNI, true, func(_ *builder, on bool) (Disposition, string) {
		if on {
			return served("SNI is sent to the backends (proxy-ssl-name, or the Service's DNS name)")
		}
		return ServedDifferently, "Bridgehead always sends SNI to TLS backends (proxy-ssl-name, or the Service's DNS name); backends that ignore SNI are unaffected"
	}),
	"proxy-ssl-protocols": func(_ *builder, _ Family, _, v string) (setting, *Finding) {
		lo, hi, dropped, f := nginxProtocols(v)
		if f != nil {
			return setting{}, f
		}
		return simple(cProtocols, string(lo)+"-"+string(hi), func(b *builder) (Disposition, string) {
			b.minV, b.maxV = lo, hi
			if len(dropped) > 0 {
				return ServedDifferently, fmt.Sprintf("backends are offered %s to %s; %s are not offered (Go's TLS has no SSL)", lo, hi, strings.Join(dropped, ", "))
			}
			return served(fmt.Sprintf("backends are offered %s to %s", lo, hi))
		})
	},
	"proxy-ssl-ciphers": func(_ *builder, _ Family, _, v string) (setting, *Finding) {
		suites, skipped := opensslCiphers(v)
		return simple(cCiphers, strings.Join(cipherNames(suites), ":"), func(b *builder) (Disposition, string) {
			b.ciphers = suites
			switch {
			case len(suites) == 0:
				return ServedDifferently, fmt.Sprintf("none of %q names a cipher suite Go offers; backends are offered Go's secure defaults", v)
			case len(skipped) > 0:
				return ServedDifferently, fmt.Sprintf("backends are offered %s; %s have no Go equivalent and are left out", strings.Join(cipherNames(suites), ", "), strings.Join(skipped, ", "))
			}
			return served(fmt.Sprintf("backends are offered %s (TLS 1.2; TLS 1.3 suites are fixed)", strings.Join(cipherNames(suites), ", ")))
		})
	},
	"auth-tls-secret":        authTLSSecret(false),
	"auth-tls-verify-client": authTLSVerifyClient,
	"auth-tls-verify-depth": func(_ *builder, _ Family, _, v string) (setting, *Finding) {
		n, f := positiveInt(v, 100)
		if f != nil {
			return setting{}, f
		}
		return simple(cClientDepth, fmt.Sprint(n), func(b *builder) (Disposition, string) {
			b.clientDepth = n
			return ServedDifferently, fmt.Sprintf("client chains are verified up to the client CA whatever their length; the limit of %d is not enforced", n)
		})
	},
	"auth-tls-pass-certificate-to-upstream": boolSetting(cPassCert, false, func(b *builder, on bool) (Disposition, string) {
		b.passCert = on
		if !on {
			return served("the client certificate is not passed to the backends")
		}
		return ServedDifferently, "the client certificate is passed to the backends in the header X-Forwarded-Tls-Client-Cert (base64 DER, as Traefik does), not ingress-nginx's ssl-client-cert (URL-encoded PEM); change the backend to read it there"
	}),
	"auth-tls-match-cn": func(_ *builder, _ Family, _, v string) (setting, *Finding) {
		// ingress-nginx matches the whole subject DN ($ssl_client_s_dn, RFC 2253) against
		// the value as a regular expression, "CN=" included.
		expr := strings.TrimSpace(v)
		if !strings.HasPrefix(expr, "CN=") {
			return setting{}, malformed(fmt.Sprintf("%q does not start with CN=; write CN=REGEX, for example CN=(alice|bob)", v))
		}
		if _, err := regexp.Compile(expr); err != nil {
			return setting{}, malformed(fmt.Sprintf("%q is not a regular expression (%v); fix it", v, err))
		}
		return simple(cMatchCN, expr, func(b *builder) (Disposition, string) {
			b.matchCN = expr
			return served(fmt.Sprintf("requests whose client certificate's subject does not match %s get 403", expr))
		})
	},
	"ssl-redirect": boolSetting(cRedirect, false, func(b *builder, on bool) (Disposition, string) {
		b.res.Redirect.Enabled, b.res.Redirect.Origin, b.redirectSet = on, string(Nginx)+"ssl-redirect", true
		if on {
			return served("plain HTTP to the Ingress's TLS hosts is redirected to HTTPS")
		}
		return served("plain HTTP is served, not redirected")
	}),
	"force-ssl-redirect": boolSetting(cForce, false, func(b *builder, on bool) (Disposition, string) {
		b.res.Redirect.Force = on
		if on {
			b.res.Redirect.Enabled, b.res.Redirect.Origin = true, string(Nginx)+"force-ssl-redirect"
			return served("plain HTTP to every host of the Ingress is redirected to HTTPS, with or without spec.tls")
		}
		return served("no forced redirect")
	}),
	"ssl-passthrough": boolSetting(cPassthrough, false, func(b *builder, on bool) (Disposition, string) {
		b.res.Passthrough = on
		if on {
			return served("TLS is passed to the backends untouched, routed by SNI; paths are not matched")
		}
		return served("TLS is terminated by the gateway")
	}),
	"rewrite-target": func(b *builder, _ Family, _, v string) (setting, *Finding) {
		rw, f := nginxRewrite(ingressPaths(b), v)
		if f != nil {
			return setting{}, f
		}
		return simple(cRewrite, rewriteNorm(rw), func(b *builder) (Disposition, string) { return b.setRewrite(rw, string(Nginx)+"rewrite-target") })
	},
	"whitelist-source-range": allowListSetting,
	"allowlist-source-range": allowListSetting,
	"upstream-vhost": hostSetting(cVhost, func(b *builder, h, key string) (Disposition, string) {
		b.vhost, b.vhostFrom = h, key
		return served(fmt.Sprintf("requests reach the backends with Host: %s", h))
	}),
}

func ingressPaths(b *builder) []string {
	var out []string
	for _, r := range b.in.Ingress.Spec.Rules {
		if r.HTTP == nil {
			continue
		}
		for _, p := range r.HTTP.Paths {
			out = append(out, p.Path)
		}
	}
	return out
}

func rewriteNorm(rw rewrite) string {
	if rw.replacePath != "" {
		return "replace:" + rw.replacePath
	}
	return "strip:" + strings.Join(rw.strip, ",")
}

func (b *builder) setRewrite(rw rewrite, origin string) (Disposition, string) {
	m := Middleware{Origin: origin}
	msg := ""
	if rw.replacePath != "" {
		m.ReplacePath = rw.replacePath
		msg = fmt.Sprintf("the whole request path is replaced by %s", rw.replacePath)
	} else {
		m.Spec.StripPrefix = &bhv1.StripPrefix{Prefixes: rw.strip}
		m.MatchPrefixes = rw.match
		msg = fmt.Sprintf("the prefix %s is stripped before requests reach the backends (a stripPrefix Middleware)", strings.Join(rw.strip, ", "))
	}
	b.rewrite = &m
	return served(msg)
}

var sslProtocols = map[string]bhv1.TLSVersion{
	"TLSV1": bhv1.VersionTLS10, "TLSV1.0": bhv1.VersionTLS10, "TLSV1.1": bhv1.VersionTLS11,
	"TLSV1.2": bhv1.VersionTLS12, "TLSV1.3": bhv1.VersionTLS13,
}

// nginxProtocols reads "TLSv1.2 TLSv1.3" into a version range.
func nginxProtocols(v string) (lo, hi bhv1.TLSVersion, dropped []string, f *Finding) {
	for _, tok := range strings.Fields(v) {
		up := strings.ToUpper(tok)
		if up == "SSLV2" || up == "SSLV3" {
			dropped = append(dropped, tok)
			continue
		}
		ver, ok := sslProtocols[up]
		if !ok {
			return "", "", nil, malformed(fmt.Sprintf("%q in %q is not a protocol; write versions separated by spaces, such as \"TLSv1.2 TLSv1.3\"", tok, v))
		}
		if lo == "" || ver < lo {
			lo = ver
		}
		if hi == "" || ver > hi {
			hi = ver
		}
	}
	if lo == "" {
		return "", "", nil, malformed(fmt.Sprintf("%q names no TLS version; write versions separated by spaces, such as \"TLSv1.2 TLSv1.3\"", v))
	}
	return lo, hi, dropped, nil
}

// opensslToGo maps OpenSSL cipher names to Go's.
var opensslToGo = map[string]bhv1.CipherSuite{
	"ECDHE-ECDSA-AES128-GCM-SHA256": "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
	"ECDHE-RSA-AES128-GCM-SHA256":   "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
	"ECDHE-ECDSA-AES256-GCM-SHA384": "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
	"ECDHE-RSA-AES256-GCM-SHA384":   "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
	"ECDHE-ECDSA-CHACHA20-POLY1305": "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256",
	"ECDHE-RSA-CHACHA20-POLY1305":   "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256",
	"ECDHE-ECDSA-AES128-SHA":        "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA",
	"ECDHE-RSA-AES128-SHA":          "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA",
	"ECDHE-ECDSA-AES256-SHA":        "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA",
	"ECDHE-RSA-AES256-SHA":          "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA",
	"AES128-GCM-SHA256":             "TLS_RSA_WITH_AES_128_GCM_SHA256",
	"AES256-GCM-SHA384":             "TLS_RSA_WITH_AES_256_GCM_SHA384",
	"AES128-SHA":                    "TLS_RSA_WITH_AES_128_CBC_SHA",
	"AES256-SHA":                    "TLS_RSA_WITH_AES_256_CBC_SHA",
}

func opensslCiphers(v string) (suites []bhv1.CipherSuite, skipped []string) {
	for _, tok := range strings.FieldsFunc(v, func(r rune) bool { return r == ':' || r == ',' || r == ' ' }) {
		if s, ok := opensslToGo[strings.ToUpper(tok)]; ok {
			suites = append(suites, s)
			continue
		}
		skipped = append(skipped, tok)
	}
	return suites, skipped
}

func cipherNames(s []bhv1.CipherSuite) []string {
	out := make([]string, len(s))
	for i, c := range s {
		out[i] = string(c)
	}
	return out
}

// nginxVerifyClient maps ingress-nginx's (and HAProxy Ingress's) auth-tls-verify-client.
func nginxVerifyClient(v string) (bhv1.ClientAuthType, *Finding) {
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "on":
		return bhv1.RequireAndVerifyClientCert, nil
	case "optional":
		return bhv1.VerifyClientCertIfGiven, nil
	case "optional_no_ca":
		return bhv1.RequestClientCert, nil
	case "off":
		return bhv1.NoClientCert, nil
	}
	return "", malformed(fmt.Sprintf("%q is not one of on, off, optional, optional_no_ca; write one of them", v))
}

func clientModeMessage(m bhv1.ClientAuthType) (Disposition, string) {
	switch m {
	case bhv1.RequireAndVerifyClientCert:
		return served("clients must present a certificate from the client CA")
	case bhv1.VerifyClientCertIfGiven:
		return served("a client certificate is optional, and verified when presented")
	case bhv1.RequestClientCert:
		return ServedInsecure, "a client certificate is asked for but NOT verified (optional_no_ca), as asked; the backend must verify what it is passed"
	}
	return served("no client certificate is asked for")
}

// --- HAProxy Kubernetes Ingress (haproxy.org, haproxy.com, ingress.kubernetes.io) -------

var haproxyParsers = map[string]parser{
	"server-ssl": func(_ *builder, _ Family, _, v string) (setting, *Finding) {
		on, ok := parseBool(v)
		if !ok {
			return setting{}, boolProblem(v)
		}
		s := SchemeHTTP
		if on {
			s = SchemeHTTPS
		}
		return simple(cScheme, string(s), func(b *builder) (Disposition, string) {
			b.setScheme(s, b.winnerCandidate, familyOf(b.winnerCandidate))
			return served(fmt.Sprintf("backends are spoken to as %s", s))
		})
	},
	"server-ca": secretSetting(cCA, true, func(b *builder, r *secretRef, key string) (Disposition, string) {
		return ca(b, r, key, "tls.crt") // HAProxy reads the CA at tls.crt
	}),
	"server-crt": secretSetting(cClientCert, true, clientCert),
	"server-proto": func(_ *builder, _ Family, _, v string) (setting, *Finding) {
		if strings.TrimSpace(strings.ToLower(v)) != "h2" {
			return setting{}, malformed(fmt.Sprintf("%q is not a server protocol; the only value is h2", v))
		}
		return simple(cHTTP2, "h2", func(b *builder) (Disposition, string) {
			b.h2 = true
			return served("backends are spoken to over HTTP/2 (h2 with server-ssl, h2c without)")
		})
	},
	"ssl-redirect": boolSetting(cRedirect, false, func(b *builder, on bool) (Disposition, string) {
		b.res.Redirect.Enabled, b.res.Redirect.Origin, b.redirectSet = on, b.winnerCandidate, true
		if on {
			return served("plain HTTP to the Ingress's TLS hosts is redirected to HTTPS")
		}
		return served("plain HTTP is served, not redirected")
	}),
	"ssl-redirect-code": func(_ *builder, _ Family, _, v string) (setting, *Finding) {
		code := strings.TrimSpace(v)
		var n int
		switch code {
		case "301":
			n = http.StatusMovedPermanently
		case "302":
			n = http.StatusFound
		case "303":
			n = http.StatusSeeOther
		case "307": // HAProxy's redirect takes 307 and 308 too, and the controller passes the code through
			n = http.StatusTemporaryRedirect
		case "308":
			n = http.StatusPermanentRedirect
		default:
			return setting{}, malformed(fmt.Sprintf("%q is not one of 301, 302, 303, 307, 308 (the codes HAProxy redirects with); write one of them", v))
		}
		return simple(cRedirectCode, code, func(b *builder) (Disposition, string) {
			b.res.Redirect.StatusCode, b.codeSet = n, true
			return served(fmt.Sprintf("redirects to HTTPS answer %d", n))
		})
	},
	"ssl-passthrough": boolSetting(cPassthrough, false, func(b *builder, on bool) (Disposition, string) {
		b.res.Passthrough = on
		if on {
			return served("TLS is passed to the backends untouched, routed by SNI; paths are not matched")
		}
		return served("TLS is terminated by the gateway")
	}),
	"client-ca": secretSetting(cClientCA, true, func(b *builder, r *secretRef, key string) (Disposition, string) {
		b.clientCA, b.clientFrom = r, key
		return ServedDifferently, fmt.Sprintf("HAProxy reads client-ca only from its ConfigMap (for every host); Bridgehead applies it to this Ingress's TLS hosts: client certificates are checked against Secret %s/%s", r.namespace, r.name)
	}),
	"client-crt-optional": boolSetting(cClientMode, false, func(b *builder, on bool) (Disposition, string) {
		b.clientMode, b.clientModeSet = bhv1.RequireAndVerifyClientCert, true
		if on {
			b.clientMode = bhv1.VerifyClientCertIfGiven
			return ServedDifferently, "a client certificate is optional, and verified when presented: a certificate that fails verification is refused, where HAProxy let the connection through"
		}
		return served("clients must present a certificate from the client CA")
	}),
	"allow-list": allowListSetting,
	"whitelist":  allowListSetting,
	"path-rewrite": func(_ *builder, _ Family, _, v string) (setting, *Finding) {
		rw, f := haproxyRewrite(v)
		if f != nil {
			return setting{}, f
		}
		return simple(cRewrite, rewriteNorm(rw), func(b *builder) (Disposition, string) { return b.setRewrite(rw, b.winnerCandidate) })
	},
}

func familyOf(key string) Family {
	f, _, _ := family(key)
	return f
}

// --- HAProxy Ingress (haproxy-ingress.github.io) ----------------------------------------

var haproxyIngressParsers = map[string]parser{
	"backend-protocol": func(b *builder, _ Family, _, v string) (setting, *Finding) {
		var s Scheme
		switch strings.ToLower(strings.TrimSpace(v)) {
		case "h1", "http":
			s = SchemeHTTP
		case "h2", "grpc":
			s = SchemeH2C
		case "h1-ssl", "https":
			s = SchemeHTTPS
		case "h2-ssl", "grpcs":
			s = SchemeH2
		default:
			return setting{}, malformed(fmt.Sprintf("%q is not a backend protocol; write h1, h2, h1-ssl or h2-ssl", v))
		}
		// secure-backends: "true" adds TLS to h1 or h2.
		if on, ok := parseBool(b.in.Ingress.Annotations[string(HAProxyIngress)+"secure-backends"]); ok && on {
			switch s {
			case SchemeHTTP:
				s = SchemeHTTPS
			case SchemeH2C:
				s = SchemeH2
			}
		}
		return simple(cScheme, string(s), func(b *builder) (Disposition, string) {
			b.setScheme(s, string(HAProxyIngress)+"backend-protocol", HAProxyIngress)
			return served(fmt.Sprintf("backends are spoken to as %s", s))
		})
	},
	"secure-backends": func(b *builder, _ Family, _, v string) (setting, *Finding) {
		on, ok := parseBool(v)
		if !ok {
			return setting{}, boolProblem(v)
		}
		if _, both := b.in.Ingress.Annotations[string(HAProxyIngress)+"backend-protocol"]; both {
			return simple("secure-backends with backend-protocol", fmt.Sprint(on), func(*builder) (Disposition, string) {
				return served("read together with backend-protocol")
			})
		}
		s := SchemeHTTP
		if on {
			s = SchemeHTTPS
		}
		return simple(cScheme, string(s), func(b *builder) (Disposition, string) {
			b.setScheme(s, string(HAProxyIngress)+"secure-backends", HAProxyIngress)
			return served(fmt.Sprintf("backends are spoken to as %s", s))
		})
	},
	"secure-verify-ca-secret": secretSetting(cCA, true, func(b *builder, r *secretRef, key string) (Disposition, string) {
		return ca(b, r, key, "ca.crt")
	}),
	"secure-verify-hostname": hostSetting(cServerName, func(b *builder, h, key string) (Disposition, string) {
		b.serverName, b.nameFrom = h, key
		return served(fmt.Sprintf("backend certificates must be valid for %s", h))
	}),
	"secure-sni": func(_ *builder, _ Family, _, v string) (setting, *Finding) {
		sni := strings.ToLower(strings.TrimSpace(v))
		if sni == "sni" || sni == "host" {
			return simple(cSNI, sni, func(*builder) (Disposition, string) {
				return ServedDifferently, fmt.Sprintf("the SNI sent to the backends is the Service's DNS name (or secure-verify-hostname), not the client's %s; set secure-sni to the name the backend's certificate is valid for", map[string]string{"sni": "SNI", "host": "Host header"}[sni])
			})
		}
		if f := hostnameProblem(v); f != nil {
			f.Message = fmt.Sprintf("%q is neither sni, host nor a host name; write one of them", v)
			return setting{}, f
		}
		return simple(cSNI, sni, func(b *builder) (Disposition, string) {
			b.sni = sni
			return served(fmt.Sprintf("%s is sent as SNI to the backends", sni))
		})
	},
	"secure-crt-secret": secretSetting(cClientCert, true, clientCert),
	"ssl-redirect": boolSetting(cRedirect, false, func(b *builder, on bool) (Disposition, string) {
		b.res.Redirect.Enabled, b.res.Redirect.Origin, b.redirectSet = on, string(HAProxyIngress)+"ssl-redirect", true
		if on {
			return served("plain HTTP to the Ingress's TLS hosts is redirected to HTTPS")
		}
		return served("plain HTTP is served, not redirected")
	}),
	"ssl-passthrough": boolSetting(cPassthrough, false, func(b *builder, on bool) (Disposition, string) {
		b.res.Passthrough = on
		if on {
			return served("TLS is passed to the backends untouched, routed by SNI; paths are not matched")
		}
		return served("TLS is terminated by the gateway")
	}),
	"auth-tls-secret":        authTLSSecret(true),
	"auth-tls-verify-client": authTLSVerifyClient,
}
