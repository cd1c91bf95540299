package ingressannotations

import (
	"fmt"
	"sort"
	"strings"

	bhv1 "github.com/bridgehead/bridgehead/api/v1alpha1"
)

// Concepts: what an annotation sets. Annotations of several families that set the same
// concept compete by precedence.
const (
	cScheme       = "backend scheme"
	cVerify       = "backend certificate verification"
	cCA           = "backend CA"
	cClientCert   = "client certificate presented to the backend"
	cServerName   = "backend server name"
	cSNI          = "SNI to the backend"
	cVerifyDepth  = "backend verify depth"
	cProtocols    = "backend TLS versions"
	cCiphers      = "backend cipher suites"
	cRedirect     = "HTTPS redirect"
	cForce        = "forced HTTPS redirect"
	cRedirectCode = "HTTPS redirect status code"
	cPassthrough  = "TLS passthrough"
	cClientCA     = "client CA"
	cClientMode   = "client certificate verification"
	cClientDepth  = "client verify depth"
	cPassCert     = "client certificate passed upstream"
	cMatchCN      = "client certificate subject"
	cAllowList    = "source address allow-list"
	cRewrite      = "path rewrite"
	cVhost        = "upstream Host header"
	cHTTP2        = "backend HTTP version"
)

// setting is one readable annotation, waiting for precedence to decide whether it applies.
type setting struct {
	fam        Family
	key, value string
	concept    string
	// norm is the value in a form comparable across families.
	norm  string
	apply func(b *builder) (Disposition, string)
}

type parser func(b *builder, fam Family, key, value string) (setting, *Finding)

// Read reads the annotations of in.Ingress. See the package documentation.
func Read(in Input) Result {
	b := &builder{in: in, winners: map[string]int{}}
	if in.Ingress == nil {
		return Result{}
	}
	b.ns = in.Ingress.Namespace
	ann := in.Ingress.Annotations
	keys := make([]string, 0, len(ann))
	for k := range ann {
		keys = append(keys, k)
	}
	sort.Strings(keys)

	var settings []setting
	for _, k := range keys {
		fam, name, ok := family(k)
		if !ok {
			continue
		}
		p := parsers(fam)[name]
		if p == nil {
			if fam != Bridgehead {
				b.add(Finding{Annotation: k, Value: ann[k], Disposition: Unsupported, Message: unsupportedMessage(fam, name)})
			}
			continue
		}
		s, f := p(b, fam, k, ann[k])
		if f != nil {
			if fam != Bridgehead {
				f.Annotation, f.Value = k, ann[k]
				b.add(*f)
			}
			continue
		}
		s.fam, s.key, s.value = fam, k, ann[k]
		settings = append(settings, s)
	}

	// Precedence: per concept, the highest family wins; ties within a family (two
	// spellings of one annotation, e.g. whitelist and allow-list) go to the first by key.
	sort.SliceStable(settings, func(i, j int) bool { return settings[i].fam.rank() < settings[j].fam.rank() })
	winner := map[string]setting{}
	for _, s := range settings {
		w, taken := winner[s.concept]
		if !taken {
			winner[s.concept] = s
			b.winnerCandidate = s.key
			d, msg := s.apply(b)
			if s.fam != Bridgehead {
				b.winners[s.concept] = len(b.findings)
				b.add(Finding{Annotation: s.key, Value: s.value, Concept: s.concept, Disposition: d, Message: msg})
			}
			continue
		}
		if s.norm == w.norm {
			b.add(Finding{Annotation: s.key, Value: s.value, Concept: s.concept, Disposition: Served,
				Message: fmt.Sprintf("says the same as %s (%q), which takes precedence", w.key, w.value)})
			continue
		}
		b.add(Finding{Annotation: s.key, Value: s.value, Concept: s.concept, Disposition: Overridden,
			Message: fmt.Sprintf("%s is %q here but %s says %q and takes precedence (%s); remove one of them",
				s.concept, s.value, w.key, w.value, precedenceText)})
	}
	b.finish()
	sort.SliceStable(b.findings, func(i, j int) bool { return b.findings[i].Annotation < b.findings[j].Annotation })
	b.res.Findings = b.findings
	return b.res
}

var precedenceText = func() string {
	parts := make([]string, len(Families))
	for i, f := range Families {
		parts[i] = strings.TrimSuffix(string(f), "/")
	}
	return "order: " + strings.Join(parts, " > ")
}()

// family splits an annotation key into a known family and the name after its prefix.
// ingress.kubernetes.io/ is a suffix of nginx.ingress.kubernetes.io/, so the full prefix
// is compared.
func family(key string) (Family, string, bool) {
	for _, f := range Families {
		if name, ok := strings.CutPrefix(key, string(f)); ok {
			return f, name, true
		}
	}
	return "", "", false
}

func parsers(f Family) map[string]parser {
	switch f {
	case Bridgehead:
		return bridgeheadParsers
	case Nginx:
		return nginxParsers
	case HAProxyIngress:
		return haproxyIngressParsers
	case HAProxyOrg, HAProxyCom, HAProxyLegacy:
		return haproxyParsers
	}
	return nil
}

// Known reports whether key is an annotation Read serves (in any way).
func Known(key string) bool {
	f, name, ok := family(key)
	return ok && parsers(f)[name] != nil
}

// bridgehead.dev annotations are read by the gateway itself; they appear here only so that
// they win over the other families. Their malformed values are the gateway's to report.
var bridgeheadParsers = map[string]parser{
	"backend-protocol": func(_ *builder, _ Family, _, v string) (setting, *Finding) {
		s := Scheme(strings.ToLower(strings.TrimSpace(v)))
		switch s {
		case SchemeHTTP, SchemeHTTPS, SchemeH2C:
		default:
			return setting{}, &Finding{Disposition: Malformed}
		}
		return setting{concept: cScheme, norm: string(s), apply: func(b *builder) (Disposition, string) {
			b.setScheme(s, string(Bridgehead)+"backend-protocol", Bridgehead)
			return Served, ""
		}}, nil
	},
	"ssl-redirect": func(_ *builder, _ Family, _, v string) (setting, *Finding) {
		on, ok := parseBool(v)
		if !ok {
			return setting{}, &Finding{Disposition: Malformed}
		}
		return setting{concept: cRedirect, norm: fmt.Sprint(on), apply: func(b *builder) (Disposition, string) {
			b.res.Redirect.Enabled, b.res.Redirect.Origin = on, string(Bridgehead)+"ssl-redirect"
			b.redirectSet = true
			return Served, ""
		}}, nil
	},
}

func unsupportedMessage(f Family, name string) string {
	if use := unsupportedHints[name]; use != "" {
		return "Bridgehead does not read it and ignores it; " + use
	}
	return fmt.Sprintf("Bridgehead does not read this %s annotation and ignores it; check that the Ingress does not depend on it, or express it with a Bridgehead Middleware, ServersTransport or TLSOption", strings.TrimSuffix(string(f), "/"))
}

// unsupportedHints name what to use instead of common annotations Bridgehead does not read.
var unsupportedHints = map[string]string{
	"use-regex":             "write Prefix or Exact paths (regular expressions are not matched)",
	"configuration-snippet": "snippets are never run; use a headers Middleware named by bridgehead.dev/middlewares",
	"server-snippet":        "snippets are never run",
	"proxy-body-size":       "request bodies are not limited by the gateway",
	"proxy-read-timeout":    "use forwardingTimeouts in a ServersTransport named by bridgehead.dev/servers-transport",
	"proxy-send-timeout":    "use forwardingTimeouts in a ServersTransport named by bridgehead.dev/servers-transport",
	"proxy-connect-timeout": "use forwardingTimeouts.dialTimeout in a ServersTransport named by bridgehead.dev/servers-transport",
	"timeout-server":        "use forwardingTimeouts in a ServersTransport named by bridgehead.dev/servers-transport",
	"timeout-connect":       "use forwardingTimeouts.dialTimeout in a ServersTransport named by bridgehead.dev/servers-transport",
	"enable-cors":           "set the CORS response headers with a headers Middleware named by bridgehead.dev/middlewares",
	"cors-enable":           "set the CORS response headers with a headers Middleware named by bridgehead.dev/middlewares",
}

// builder accumulates the winners' effects.
type builder struct {
	in       Input
	ns       string
	res      Result
	findings []Finding
	winners  map[string]int // concept -> index of the winner's finding

	schemeFam Family
	// winnerCandidate is the key of the setting being applied.
	winnerCandidate string
	h2              bool
	sni             string

	verify     *bool
	verifyFrom string
	ca         *secretRef
	caFrom     string
	cert       *secretRef
	certFrom   string
	serverName string
	nameFrom   string
	minV, maxV bhv1.TLSVersion
	ciphers    []bhv1.CipherSuite
	depth      int

	redirectSet bool
	codeSet     bool

	clientCA      *secretRef
	clientFrom    string
	clientMode    bhv1.ClientAuthType
	clientModeSet bool
	clientDepth   int

	passCert  bool
	matchCN   string
	allowList []string
	allowFrom string
	rewrite   *Middleware
	vhost     string
	vhostFrom string
}

type secretRef struct {
	namespace, name, key string
}

func (b *builder) add(f Finding) { b.findings = append(b.findings, f) }

func (b *builder) setScheme(s Scheme, from string, fam Family) {
	b.res.Scheme, b.res.SchemeFrom, b.schemeFam = s, from, fam
}

// adjust rewrites the finding of a concept's winner (for effects that depend on others).
func (b *builder) adjust(concept string, d Disposition, msg string) {
	if i, ok := b.winners[concept]; ok {
		b.findings[i].Disposition, b.findings[i].Message = d, msg
	}
}

// winnerKey returns the annotation that won a concept, or "".
func (b *builder) winnerKey(concept string) string {
	if i, ok := b.winners[concept]; ok {
		return b.findings[i].Annotation
	}
	return ""
}

func (b *builder) secret(ns, name string) (map[string][]byte, bool) {
	if b.in.Secrets == nil {
		return nil, false
	}
	s, ok := b.in.Secrets(ns, name)
	if !ok || s == nil {
		return nil, false
	}
	return s.Data, true
}

// hasKey reports whether the Secret holds key; without a lookup (or when the Secret is
// missing, which the consumer reports) it assumes so.
func (b *builder) hasKey(r *secretRef, key string) bool {
	data, ok := b.secret(r.namespace, r.name)
	if !ok {
		return true
	}
	return len(data[key]) > 0
}

// Annotations lists every annotation key Read serves, for every family but bridgehead.dev.
func Annotations() []string {
	var out []string
	for _, f := range Families {
		if f == Bridgehead {
			continue
		}
		for name := range parsers(f) {
			out = append(out, string(f)+name)
		}
	}
	sort.Strings(out)
	return out
}
