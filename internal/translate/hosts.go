package translate

import (
	"crypto/tls"
	"fmt"
	"net/http"
	"slices"
	"sort"
	"strings"

	bhv1 "github.com/bridgehead/bridgehead/api/v1alpha1"
	"github.com/bridgehead/bridgehead/internal/snapshot"
)

// edge is a route's resolved client-facing TLS: its policy and certificate.
type edge struct {
	policy  string
	cert    *snapshot.Certificate
	domains []string
	// secret is where cert comes from (set with cert).
	secret nsName
	// failure refuses the route's hosts: its TLSOption cannot be used, and serving them
	// under another policy would silently drop what it asks for (e.g. client mTLS).
	failure *snapshot.Failure
}

// hostClaim is one route asking to serve a name over TLS.
type hostClaim struct {
	rep     *report
	source  snapshot.Ref
	routeID string
	policy  string
	cert    *snapshot.Certificate
	failure *snapshot.Failure
	// certOnly: the claimer serves its certificate for the host but routes nothing there
	// (an Ingress listing in spec.tls a host that only another Ingress has rules for), so
	// its TLS policy does not compete for the host.
	certOnly bool
}

// edgeTLS resolves an IngressRoute's (or IngressRouteTCP's) tls section.
func (t *translator) edgeTLS(rep *report, obj, ns string, secretName bhv1.SecretName, options *bhv1.ObjectReference, domains []bhv1.Domain) *edge {
	e := &edge{policy: t.snap.TLS.DefaultPolicy}
	if options != nil {
		optNS := options.Namespace
		if optNS == "" {
			optNS = ns
		}
		id := nsName{optNS, options.Name}.String()
		var problem *finding
		until := "it exists"
		switch p, found := t.policies[id]; {
		case !t.permitted(ns, optNS):
			problem = &finding{reason: bhv1.ReasonRefNotPermitted, message: fmt.Sprintf("spec.tls.options: TLSOption %s is in another namespace; cross-namespace references are off (start the gateway with --allow-cross-namespace, or use a TLSOption in namespace %s)", id, ns)}
			until = "the reference is permitted"
		case !found:
			problem = &finding{reason: bhv1.ReasonNotFound, message: fmt.Sprintf("spec.tls.options: TLSOption %q not found in namespace %s", options.Name, optNS)}
		case p.Failure != nil:
			e.policy = id
			problem = &finding{reason: bhv1.ReasonInvalidRef, message: "spec.tls.options: " + p.Failure.Message}
			until = "it is fixed"
		default:
			e.policy = id
		}
		if problem != nil {
			msg := problem.message
			if problem.reason != bhv1.ReasonInvalidRef {
				msg += "; TLS handshakes for this route's hosts are refused until " + until + " (they are never served under a weaker policy)"
			}
			rep.refError(problem.reason, msg)
			e.failure = &snapshot.Failure{Reason: string(problem.reason), Status: http.StatusMisdirectedRequest, Message: obj + " " + msg}
		}
	}
	if p := t.policies[e.policy]; options == nil && p != nil && p.Failure != nil {
		msg := "the default " + p.Failure.Message
		rep.refError(bhv1.ReasonInvalidRef, msg)
		e.failure = &snapshot.Failure{Reason: string(bhv1.ReasonInvalidRef), Status: http.StatusMisdirectedRequest, Message: obj + " " + msg}
	}
	if secretName != "" {
		r := t.certificate(rep, ns, string(secretName))
		if r.problem != nil {
			rep.refError(r.problem.reason, fmt.Sprintf("spec.tls.secretName: %s; the default certificate is served meanwhile, which clients will refuse", r.problem.message))
		} else {
			e.cert, e.secret = r.cert, nsName{ns, string(secretName)}
			t.checkExpiry(rep, "spec.tls.secretName", r.cert)
		}
	}
	for _, d := range domains {
		if d.Main != "" {
			e.domains = append(e.domains, normalizeHost(d.Main))
		}
		for _, s := range d.SANs {
			e.domains = append(e.domains, normalizeHost(s))
		}
	}
	return e
}

func normalizeHost(h string) string { return strings.TrimSuffix(strings.ToLower(h), ".") }

// claimHosts records that a route serves names over TLS, and warns when its certificate
// does not cover them.
func (t *translator) claimHosts(rep *report, src snapshot.Ref, routeID string, names []string, e *edge) {
	var uncovered []string
	for _, n := range names {
		n = normalizeHost(n)
		c := hostClaim{rep: rep, source: src, routeID: routeID, policy: e.policy, cert: e.cert, failure: e.failure}
		add(t.hostClaims, n, c, &t.claimLists)
		if t.rec != nil {
			t.rec.claims = append(t.rec.claims, recordClaim(n, c, e.secret))
		}
		if e.cert != nil && !covers(e.cert, n) {
			uncovered = append(uncovered, n)
		}
	}
	if len(uncovered) > 0 {
		rep.warn(bhv1.ReasonCertificateHostMismatch, fmt.Sprintf(
			"spec.tls.secretName: the certificate from %s is valid for %s but the route serves %s; clients will refuse it for those hosts: issue a certificate that covers them",
			e.cert.Source, listOrNone(append(append([]string(nil), e.cert.DNSNames...), e.cert.IPAddresses...)), strings.Join(uncovered, ", ")))
	}
}

// warnHostless flags a route whose TLSOption can never apply: the policy is chosen by SNI,
// and a route that does not pin its hosts is reached under the default policy (421).
func (t *translator) warnHostless(rep *report, field string, e *edge) {
	if e.policy == t.snap.TLS.DefaultPolicy {
		return
	}
	p := t.policies[e.policy]
	if p == nil || p.ClientAuth == tls.NoClientCert {
		return
	}
	rep.warn(bhv1.ReasonIneffectiveSetting, fmt.Sprintf(
		"%s: the match has no Host() that pins the host, but spec.tls.options names TLSOption %s with client authentication; the TLS policy is chosen by SNI, so connections for unlisted hosts are negotiated under the default policy and get 421 here: add Host() to the match or list the names in spec.tls.domains",
		field, e.policy))
}

// buildHosts turns the claims into the snapshot's per-host TLS entries. Two routes that
// ask for different TLSOptions on one host make that host fail closed, with a condition on
// every route involved: there is no silent downgrade.
func (t *translator) buildHosts() {
	names := make([]string, 0, len(t.hostClaims))
	for n := range t.hostClaims {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		claims := t.hostClaims[n]
		if len(claims) > 1 { // (sort.SliceStable's closure and swapper were 10,000 allocations a build)
			slices.SortStableFunc(claims, func(a, b hostClaim) int { return strings.Compare(a.routeID, b.routeID) })
		}
		h := &snapshot.HostTLS{Name: n, Policy: claims[0].policy}
		for _, c := range claims {
			if !c.certOnly {
				h.Policy = c.policy
				break
			}
		}
		conflict := false // routes that ask for different TLSOptions
		for _, c := range claims {
			if !c.certOnly && c.policy != h.Policy {
				conflict = true
			}
			// A host has a handful of routes: a scan is cheaper than a set per host.
			if !slices.Contains(h.Routes, c.source) {
				h.Routes = append(h.Routes, c.source)
			}
			switch {
			case h.Certificate == nil && c.cert != nil:
				h.Certificate = c.cert
			case c.cert != nil && c.cert.Fingerprint != h.Certificate.Fingerprint:
				c.rep.warn(bhv1.ReasonIneffectiveSetting, fmt.Sprintf(
					"spec.tls.secretName: host %s is also served by %s with the certificate from %s, which is used (first route by name); the certificate from %s is not served for it: use one Secret for the host",
					n, claimsWithCert(claims, h.Certificate), h.Certificate.Source, c.cert.Source))
			}
			if h.Failure == nil && c.failure != nil && (!c.certOnly || c.policy == h.Policy) {
				h.Failure = c.failure
			}
		}
		if p := t.policies[h.Policy]; h.Failure == nil && p != nil && p.Failure != nil {
			h.Failure = p.Failure
		}
		if conflict {
			policies := map[string][]string{}
			for _, c := range claims {
				if !c.certOnly || c.policy == h.Policy {
					policies[c.policy] = append(policies[c.policy], c.source.Kind+" "+c.source.Namespace+"/"+c.source.Name)
				}
			}
			msg := fmt.Sprintf("host %s: %s; the host fails closed (TLS handshakes for it are refused) until every route for it names the same TLSOption", n, describePolicies(policies))
			h.Failure = &snapshot.Failure{Reason: string(bhv1.ReasonTLSOptionConflict), Status: http.StatusMisdirectedRequest, Message: msg}
			for _, c := range claims {
				if !c.certOnly {
					c.rep.notReadyf(bhv1.ReasonTLSOptionConflict, msg)
				}
			}
		}
		t.snap.TLS.Hosts = append(t.snap.TLS.Hosts, h)
	}
}

func claimsWithCert(claims []hostClaim, cert *snapshot.Certificate) string {
	for _, c := range claims {
		if c.cert == cert {
			return c.source.Kind + " " + c.source.Namespace + "/" + c.source.Name
		}
	}
	return "another route"
}

func describePolicies(policies map[string][]string) string {
	ids := make([]string, 0, len(policies))
	for id := range policies {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	parts := make([]string, 0, len(ids))
	for _, id := range ids {
		parts = append(parts, fmt.Sprintf("%s asks for TLSOption %s", strings.Join(policies[id], " and "), id))
	}
	return strings.Join(parts, ", while ")
}

// covers reports whether a certificate is valid for a host name (wildcards one label deep).
func covers(c *snapshot.Certificate, host string) bool {
	for _, ip := range c.IPAddresses {
		if ip == host {
			return true
		}
	}
	for _, san := range c.DNSNames {
		if san == host {
			return true
		}
		if strings.HasPrefix(san, "*.") && !strings.HasPrefix(host, "*.") {
			if i := strings.IndexByte(host, '.'); i > 0 && host[i:] == san[1:] {
				return true
			}
		}
	}
	return false
}

func listOrNone(names []string) string {
	if len(names) == 0 {
		return "no names"
	}
	return strings.Join(names, ", ")
}
