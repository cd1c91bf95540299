package translate

import (
	"crypto/tls"
	"fmt"
	"net/http"
	"net/netip"
	"net/url"
	"regexp"
	"sort"
	"strings"

	bhv1 "github.com/bridgehead/bridgehead/api/v1alpha1"
	"github.com/bridgehead/bridgehead/internal/snapshot"
)

// buildMiddlewares compiles every Middleware; routes then reference the compiled ones.
func (t *translator) buildMiddlewares() {
	chains := map[nsName]*pendingChain{}
	defer t.resolveChains(chains) // once the Middlewares they name are compiled
	for _, m := range sortedByName(t.in.Middlewares) {
		rep := t.reportFor(KindMiddleware, &m.ObjectMeta)
		rep.total = 1
		k := nsName{m.Namespace, m.Name}
		if t.refuseUnsupported(rep, "Middleware "+k.String()) {
			t.mwProblems[k] = notAccepted(rep.invalid[0])
			continue
		}
		out := &snapshot.Middleware{Source: snapshot.Ref{Kind: KindMiddleware, Namespace: m.Namespace, Name: m.Name}}
		spec := m.Spec
		set := 0
		if r := spec.RedirectScheme; r != nil {
			set++
			out.RedirectScheme = redirectScheme(rep, k, r)
		}
		if s := spec.StripPrefix; s != nil {
			set++
			out.StripPrefix = &snapshot.StripPrefix{Prefixes: s.Prefixes}
			if s.ForceSlash != nil { //nolint:staticcheck // reading it is how we warn about it
				rep.warn(bhv1.ReasonIneffectiveSetting, fmt.Sprintf("Middleware %s: spec.stripPrefix.forceSlash has no effect (Traefik v3 removed it too); remove it", k))
			}
		}
		if a := spec.AddPrefix; a != nil {
			set++
			out.AddPrefix = &snapshot.AddPrefix{Prefix: a.Prefix}
		}
		if r := spec.ReplacePath; r != nil {
			set++
			out.ReplacePath = replacePath(rep, k, r)
		}
		if h := spec.Headers; h != nil {
			set++
			out.Headers = headers(rep, k, h)
		}
		if a := spec.IPAllowList; a != nil {
			set++
			out.IPAllowList = t.ipAllowList(rep, k, a)
		}
		if a := spec.IPWhiteList; a != nil {
			set++
			out.IPAllowList = ipWhiteList(rep, k, a)
		}
		if p := spec.PassTLSClientCert; p != nil {
			set++
			out.PassTLSClientCert = &snapshot.PassTLSClientCert{PEM: p.PEM, Info: certInfoFields(p.Info)}
		}
		if s := spec.TLSClientSubject; s != nil {
			set++
			out.TLSClientSubject = tlsClientSubject(rep, k, s)
		}
		if b := spec.BasicAuth; b != nil {
			set++
			out.BasicAuth = t.basicAuth(rep, k, b)
		}
		if d := spec.DigestAuth; d != nil {
			set++
			out.DigestAuth = t.digestAuth(rep, k, d)
		}
		if r := spec.RateLimit; r != nil {
			set++
			out.RateLimit = t.rateLimit(rep, k, r)
		}
		if r := spec.InFlightReq; r != nil {
			set++
			out.InFlightReq = t.inFlightReq(rep, k, r)
		}
		if c := spec.Chain; c != nil {
			set++
			out.Chain = &snapshot.Chain{}
		}
		if b := spec.Buffering; b != nil {
			set++
			out.Buffering = buffering(rep, k, b)
		}
		if f := spec.ForwardAuth; f != nil {
			set++
			out.ForwardAuth = t.forwardAuth(rep, k, f)
		}
		if r := spec.Retry; r != nil {
			set++
			out.Retry = retry(rep, k, r)
		}
		if e := spec.Errors; e != nil {
			set++
			out.Errors = t.errorPage(rep, k, e)
		}
		if c := spec.CircuitBreaker; c != nil {
			set++
			out.CircuitBreaker = circuitBreaker(rep, k, c)
		}
		if set != 1 {
			rep.invalidf(bhv1.ReasonInvalid, fmt.Sprintf("Middleware %s: spec sets %d middlewares; set exactly one of redirectScheme, stripPrefix, addPrefix, replacePath, headers, ipAllowList, ipWhiteList, passTLSClientCert, tlsClientSubject, basicAuth, digestAuth, rateLimit, inFlightReq, chain, buffering, forwardAuth, retry, errors or circuitBreaker", k, set))
		}
		if len(rep.invalid) > 0 {
			t.mwProblems[k] = notAccepted(rep.invalid[0])
			continue
		}
		if len(rep.refs) > 0 {
			// A Secret it reads is missing or unusable: the routes that list it fail closed.
			p := rep.refs[0]
			p.message += " (the Middleware is not Ready)"
			t.mwProblems[k] = p
			continue
		}
		if out.Chain != nil {
			chains[k] = &pendingChain{rep: rep, spec: spec.Chain, out: out}
			continue
		}
		rep.served = 1
		t.builtMW[k] = out
	}
}

// notAccepted is why a Middleware refused for its spec cannot be used, as routes quote it.
func notAccepted(f finding) finding {
	f.message += " (the Middleware is not accepted)"
	return f
}

// warnUnverifiedSubjects flags a route whose tlsClientSubject Middleware can admit nobody:
// the subject is read from a client certificate the TLS handshake verified, so on plain
// HTTP, or under a TLS policy that does not verify client certificates, every request
// gets 403. That fails closed, but it should not be a surprise. Only Middleware objects
// are checked: the Ingress annotations that compile to the same thing report their own.
func (t *translator) warnUnverifiedSubjects() {
	type seen struct {
		route Key
		mw    snapshot.Ref
	}
	done := map[seen]bool{}
	for _, hr := range t.snap.HTTPRoutes {
		for _, m := range hr.Middlewares {
			if m.TLSClientSubject == nil || m.Source.Kind != KindMiddleware {
				continue
			}
			route := Key{Kind: hr.Source.Kind, Namespace: hr.Source.Namespace, Name: hr.Source.Name}
			rep, ok := t.reports[route]
			if !ok || done[seen{route, m.Source}] {
				continue
			}
			const verifying = "a TLSOption whose clientAuth.clientAuthType is VerifyClientCertIfGiven or RequireAndVerifyClientCert"
			var why, fix string
			switch p := t.policies[hr.Policy]; {
			case !hr.TLS:
				why = "the route serves plain HTTP, where there is no client certificate"
				fix = "serve it over TLS with " + verifying
			case p == nil || (p.ClientAuth != tls.VerifyClientCertIfGiven && p.ClientAuth != tls.RequireAndVerifyClientCert):
				why = fmt.Sprintf("the route's TLS policy (%s) does not verify client certificates", hr.Policy)
				fix = "use " + verifying + " for the route's hosts"
			default:
				continue
			}
			done[seen{route, m.Source}] = true
			rep.warn(bhv1.ReasonIneffectiveSetting, fmt.Sprintf(
				"Middleware %s/%s admits only verified client certificates whose subject matches spec.tlsClientSubject.pattern, but %s, so every request gets 403: %s",
				m.Source.Namespace, m.Source.Name, why, fix))
		}
	}
}

// redirectStatusCodes are the codes redirectScheme.statusCode may name (the schema's enum;
// checked here too because standalone mode reads manifests no API server has validated).
var redirectStatusCodes = map[int]bool{
	http.StatusMovedPermanently: true, http.StatusFound: true, http.StatusSeeOther: true,
	http.StatusTemporaryRedirect: true, http.StatusPermanentRedirect: true,
}

func redirectScheme(rep *report, k nsName, r *bhv1.RedirectScheme) *snapshot.RedirectScheme {
	out := &snapshot.RedirectScheme{Scheme: r.Scheme, Port: r.Port, Permanent: r.Permanent}
	if r.StatusCode == 0 {
		return out
	}
	if !redirectStatusCodes[r.StatusCode] {
		rep.invalidf(bhv1.ReasonInvalid, fmt.Sprintf("Middleware %s: spec.redirectScheme.statusCode %d is not a redirect status; use 301, 302, 303, 307 or 308, or remove it (then permanent chooses)", k, r.StatusCode))
		return out
	}
	// permanent beside statusCode is ignored, as documented, without a Warning: bridgehead
	// migrate writes both (permanent for readers who know only Traefik's field).
	out.StatusCode = r.StatusCode
	return out
}

func replacePath(rep *report, k nsName, r *bhv1.ReplacePath) *snapshot.ReplacePath {
	if !strings.HasPrefix(r.Path, "/") {
		rep.invalidf(bhv1.ReasonInvalid, fmt.Sprintf("Middleware %s: spec.replacePath.path %q does not start with /; write the whole path the backend should receive, such as /index.html", k, r.Path))
	} else if _, err := url.PathUnescape(r.Path); err != nil {
		// The path is read in its escaped form, as Traefik does: /a%20b is sent as written.
		rep.invalidf(bhv1.ReasonInvalid, fmt.Sprintf("Middleware %s: spec.replacePath.path %q has a %% that does not start an escape; the path is sent as written, escapes included, so write a literal %% as %%25", k, r.Path))
	}
	return &snapshot.ReplacePath{Path: r.Path}
}

// tlsClientSubject checks the pattern compiles, so that a typo makes the Middleware not
// Ready here instead of answering 403 to everyone (which is what the data plane does with
// a pattern it cannot compile).
func tlsClientSubject(rep *report, k nsName, s *bhv1.TLSClientSubject) *snapshot.TLSClientSubject {
	if s.Pattern == "" {
		rep.invalidf(bhv1.ReasonInvalid, fmt.Sprintf("Middleware %s: spec.tlsClientSubject.pattern is empty and would admit every client certificate; write a regular expression for the subjects to admit, such as CN=(alice|bob)", k))
	} else if _, err := regexp.Compile(s.Pattern); err != nil {
		rep.invalidf(bhv1.ReasonInvalid, fmt.Sprintf("Middleware %s: spec.tlsClientSubject.pattern %q is not a Go regular expression (%v); fix it, e.g. CN=(alice|bob) for subjects like CN=alice,O=Example", k, s.Pattern, err))
	}
	return &snapshot.TLSClientSubject{Pattern: s.Pattern}
}

func (t *translator) ipAllowList(rep *report, k nsName, a *bhv1.IPAllowList) *snapshot.IPAllowList {
	return ipAllowListAt(rep, k, "spec.ipAllowList", a)
}

// ipWhiteList is served as the ipAllowList it was renamed to, with a nudge to rename it.
func ipWhiteList(rep *report, k nsName, a *bhv1.IPWhiteList) *snapshot.IPAllowList {
	rep.warn(bhv1.ReasonDeprecatedField, fmt.Sprintf("Middleware %s: spec.ipWhiteList is Traefik v2's name, deprecated since Traefik v3: rename it ipAllowList (the same fields)", k))
	return ipAllowListAt(rep, k, "spec.ipWhiteList", &bhv1.IPAllowList{SourceRange: a.SourceRange, IPStrategy: a.IPStrategy})
}

// ipAllowListAt compiles an allow-list written at field (for messages).
func ipAllowListAt(rep *report, k nsName, field string, a *bhv1.IPAllowList) *snapshot.IPAllowList {
	out := &snapshot.IPAllowList{RejectStatusCode: http.StatusForbidden}
	if a.RejectStatusCode != 0 {
		out.RejectStatusCode = a.RejectStatusCode
	}
	parse := func(field string, list []string) []netip.Prefix {
		var ps []netip.Prefix
		for i, s := range list {
			p, err := parsePrefix(s)
			if err != nil {
				rep.invalidf(bhv1.ReasonInvalid, fmt.Sprintf("Middleware %s: %s[%d] %q is neither an IP address nor a CIDR", k, field, i, s))
				continue
			}
			ps = append(ps, p)
		}
		return ps
	}
	out.SourceRange = parse(field+".sourceRange", a.SourceRange)
	if s := a.IPStrategy; s != nil {
		out.Depth = s.Depth
		out.ExcludedIPs = parse(field+".ipStrategy.excludedIPs", s.ExcludedIPs)
	}
	return out
}

func parsePrefix(s string) (netip.Prefix, error) {
	if p, err := netip.ParsePrefix(s); err == nil {
		return p.Masked(), nil
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Prefix{}, err
	}
	return netip.PrefixFrom(a, a.BitLen()), nil
}

// certInfoFields lists the selected certificate fields, sorted.
func certInfoFields(info *bhv1.TLSClientCertInfo) []string {
	if info == nil {
		return nil
	}
	var out []string
	add := func(on bool, name string) {
		if on {
			out = append(out, name)
		}
	}
	add(info.NotAfter, "notAfter")
	add(info.NotBefore, "notBefore")
	add(info.Sans, "sans")
	add(info.SerialNumber, "serialNumber")
	for prefix, dn := range map[string]*bhv1.TLSClientCertDN{"subject": info.Subject, "issuer": info.Issuer} {
		if dn == nil {
			continue
		}
		add(dn.Country, prefix+".country")
		add(dn.Province, prefix+".province")
		add(dn.Locality, prefix+".locality")
		add(dn.Organization, prefix+".organization")
		add(dn.OrganizationalUnit, prefix+".organizationalUnit")
		add(dn.CommonName, prefix+".commonName")
		add(dn.SerialNumber, prefix+".serialNumber")
		add(dn.DomainComponent, prefix+".domainComponent")
	}
	sort.Strings(out)
	return out
}

// middleware resolves a route's reference to a compiled middleware.
func (t *translator) middleware(fromNS string, ref bhv1.ObjectReference) (*snapshot.Middleware, *finding) {
	ns := ref.Namespace
	if ns == "" {
		ns = fromNS
	}
	if !t.permitted(fromNS, ns) {
		return nil, &finding{reason: bhv1.ReasonRefNotPermitted, message: fmt.Sprintf("Middleware %s/%s is in another namespace; cross-namespace references are off (start the gateway with --allow-cross-namespace, or move the Middleware to namespace %s)", ns, ref.Name, fromNS)}
	}
	k := nsName{ns, ref.Name}
	if m, ok := t.builtMW[k]; ok {
		return m, nil
	}
	if p, ok := t.mwProblems[k]; ok {
		return nil, &finding{reason: bhv1.ReasonInvalidRef, message: p.message}
	}
	return nil, &finding{reason: bhv1.ReasonNotFound, message: fmt.Sprintf("Middleware %q not found in namespace %s", ref.Name, ns)}
}
