package translate

import (
	"fmt"
	"net/http"
	"slices"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	bhv1 "github.com/bridgehead/bridgehead/api/v1alpha1"
	"github.com/bridgehead/bridgehead/internal/snapshot"
)

// BackendTLSPolicy: the gateway speaks TLS to the Services a policy targets, verifying
// them against the policy's CAs and names, and presents the Gateway's backend client
// certificate (spec.tls.backend.clientCertificateRef) when the backend asks for one.
// The transport is compiled by the same code as a ServersTransport's (caBundle,
// mergePools, sealTransport), so a broken trust reference fails closed the same way.

// btlsTarget is what a policy applies to: a Service, or one named port of it.
type btlsTarget struct {
	namespace, service, section string
}

// btlsPolicy is one BackendTLSPolicy being translated.
type btlsPolicy struct {
	p   *gwv1.BackendTLSPolicy
	rep *report
	// accepted: "" when Accepted; otherwise the spec's reason and the message.
	acceptedReason, acceptedMsg string
	resolvedReason, resolvedMsg string
	tr                          *snapshot.Transport // sealed; nil when conflicted
	// gateways the policy is used through (its ancestors), in order of first use.
	gateways []nsName
	memo     *btlsPolicyMemo // its record when there is a memo (memo_btls.go)
}

func (bp *btlsPolicy) obj() string {
	return KindBackendTLSPolicy + " " + bp.p.Namespace + "/" + bp.p.Name
}

// btlsState is the BackendTLSPolicy part of one translation.
type btlsState struct {
	policies []*btlsPolicy
	winners  map[btlsTarget]*btlsPolicy
	// clientCerts are the Gateways' backend client certificates, resolved once.
	clientCerts map[nsName]*gwClientCert
	// serviceGateways are the Gateways each Service a Conflicted policy targets is used
	// through, whatever policy applies: the ancestors a Conflicted policy reports through.
	// contested are those Services.
	serviceGateways map[nsName][]nsName
	contested       map[nsName]bool
}

// contest notes the Services a Conflicted policy targets (serviceGateways).
func (st *btlsState) contest(p *gwv1.BackendTLSPolicy) {
	for _, ref := range p.Spec.TargetRefs {
		st.contested[nsName{p.Namespace, string(ref.Name)}] = true
	}
}

// gwClientCert is a Gateway's spec.tls.backend.clientCertificateRef, resolved.
type gwClientCert struct {
	cert        *snapshot.Certificate
	reason, msg string // the Gateway's ResolvedRefs when the reference is bad
}

// buildBackendTLSPolicies validates every policy and decides which one applies to each
// target: the oldest, then by namespace/name; the others are Conflicted.
func (t *translator) buildBackendTLSPolicies() {
	st := &btlsState{policies: make([]*btlsPolicy, 0, len(t.in.BackendTLSPolicies)), clientCerts: map[nsName]*gwClientCert{},
		serviceGateways: map[nsName][]nsName{}, contested: map[nsName]bool{}}
	// The winners' map is the last call's emptied (1 MB of every build's garbage at
	// 10,000 policies), or sized up front.
	if t.memo != nil {
		st.winners = reuse(&t.memo.memo.btlsWinners, len(t.in.BackendTLSPolicies))
	} else {
		st.winners = make(map[btlsTarget]*btlsPolicy, len(t.in.BackendTLSPolicies))
	}
	t.gw.btls = st
	for _, p := range sortedByAge(t.in.BackendTLSPolicies) {
		if t.replayBackendTLSPolicy(st, p) {
			continue
		}
		var m *btlsPolicyMemo
		if t.memo != nil {
			m = &btlsPolicyMemo{routeMemo: routeMemo{obj: p, call: t.memo.memo.calls}}
			t.rec = &m.routeMemo // the certificate dates checkExpiry compares
		}
		bp := &btlsPolicy{p: p, rep: t.reportFor(KindBackendTLSPolicy, &p.ObjectMeta)}
		bp.rep.total = 1
		st.policies = append(st.policies, bp)
		var targets []btlsTarget
		for i, ref := range p.Spec.TargetRefs {
			if ref.Group != "" || ref.Kind != "Service" {
				bp.invalid(fmt.Sprintf("spec.targetRefs[%d]: %s is not a Service; a BackendTLSPolicy applies to Services (group \"\", kind Service)", i, groupKind(string(ref.Group), string(ref.Kind))))
				continue
			}
			tg := btlsTarget{p.Namespace, string(ref.Name), ""}
			if ref.SectionName != nil {
				tg.section = string(*ref.SectionName)
			}
			if w, ok := st.winners[tg]; ok {
				bp.acceptedReason = string(gwv1.PolicyReasonConflicted)
				bp.acceptedMsg = fmt.Sprintf("spec.targetRefs[%d]: %s, older (or first by name), already applies to %s; only one policy applies to a Service port", i, w.obj(), describeTarget(tg))
				bp.rep.invalidf(bhv1.ConditionReason(gwv1.PolicyReasonConflicted), bp.acceptedMsg)
			}
			targets = append(targets, tg)
		}
		if bp.acceptedReason == string(gwv1.PolicyReasonConflicted) {
			// Not applied anywhere: the winner's settings are used.
			targets = nil
			st.contest(p)
		} else {
			for _, tg := range targets {
				st.winners[tg] = bp
			}
			t.compileBackendTLSPolicy(bp)
		}
		if m != nil {
			t.rec = nil
			t.recordBackendTLSPolicy(m, bp, targets)
		}
	}
}

func describeTarget(tg btlsTarget) string {
	if tg.section == "" {
		return fmt.Sprintf("Service %s/%s", tg.namespace, tg.service)
	}
	return fmt.Sprintf("port %s of Service %s/%s", tg.section, tg.namespace, tg.service)
}

// invalid makes the policy not Accepted (reason Invalid); backends it targets fail closed.
func (bp *btlsPolicy) invalid(msg string) {
	if bp.acceptedReason == "" {
		bp.acceptedReason, bp.acceptedMsg = string(gwv1.PolicyReasonInvalid), msg
	}
	bp.rep.invalidf(bhv1.ReasonInvalid, bp.obj()+": "+msg)
}

// compileBackendTLSPolicy builds the policy's transport: its roots, SNI and the names
// the backend's certificate must carry.
func (t *translator) compileBackendTLSPolicy(bp *btlsPolicy) {
	p, v := bp.p, bp.p.Spec.Validation
	tr := &snapshot.Transport{
		ID:     transportID(KindBackendTLSPolicy, p.Namespace, p.Name),
		Source: snapshot.Ref{Kind: KindBackendTLSPolicy, Namespace: p.Namespace, Name: p.Name},
		// The server name is set on each backend (snapshot.Backend.ServerName).
		MaxIdleConnsPerHost: defaultMaxIdleConns,
		DialTimeout:         defaultDialTimeout, IdleConnTimeout: defaultIdleConnTimeout, PingTimeout: defaultPingTimeout,
	}
	if len(p.Spec.Options) > 0 {
		keys := make([]string, 0, len(p.Spec.Options))
		for k := range p.Spec.Options {
			keys = append(keys, string(k))
		}
		sort.Strings(keys)
		bp.invalid(fmt.Sprintf("spec.options: Bridgehead knows no option (%s); remove them", strings.Join(keys, ", ")))
	}
	if !validSNIHostname(string(v.Hostname)) || strings.HasPrefix(string(v.Hostname), "*") {
		bp.invalid(fmt.Sprintf("spec.validation.hostname: %q is not a DNS name; write the name the backend's certificate is issued for", v.Hostname))
	}
	switch {
	case len(v.CACertificateRefs) > 0 && v.WellKnownCACertificates != nil && *v.WellKnownCACertificates != "":
		bp.invalid("spec.validation: caCertificateRefs and wellKnownCACertificates are both set; keep one")
	case v.WellKnownCACertificates != nil && *v.WellKnownCACertificates != "":
		if *v.WellKnownCACertificates != gwv1.WellKnownCACertificatesSystem {
			bp.invalid(fmt.Sprintf("spec.validation.wellKnownCACertificates: %q is not known; Bridgehead knows System (the gateway's system roots)", *v.WellKnownCACertificates))
		}
		// System: RootCAs nil means the system roots.
	case len(v.CACertificateRefs) == 0:
		bp.invalid("spec.validation: neither caCertificateRefs nor wellKnownCACertificates is set; name a ConfigMap with the backend's CA at key ca.crt")
	default:
		t.backendTLSRoots(bp, tr)
	}
	for i, san := range v.SubjectAltNames {
		f := fmt.Sprintf("spec.validation.subjectAltNames[%d]", i)
		switch san.Type {
		case gwv1.HostnameSubjectAltNameType:
			if san.Hostname == "" {
				bp.invalid(f + ": type Hostname needs hostname")
				continue
			}
			tr.PeerCertDNSNames = append(tr.PeerCertDNSNames, normalizeHost(string(san.Hostname)))
		case gwv1.URISubjectAltNameType:
			if san.URI == "" {
				bp.invalid(f + ": type URI needs uri")
				continue
			}
			tr.PeerCertURIs = append(tr.PeerCertURIs, string(san.URI))
		default:
			bp.invalid(fmt.Sprintf("%s: type %q is not Hostname or URI", f, san.Type))
		}
	}
	// With subjectAltNames, the hostname is the SNI only: the SANs replace it in the check.
	tr.PinsReplaceNames = len(tr.PeerCertDNSNames)+len(tr.PeerCertURIs) > 0
	t.sealTransport(bp.rep, tr)
	if bp.acceptedReason != "" {
		bp.rep.served = 0
	}
	bp.tr = tr
}

// backendTLSRoots reads caCertificateRefs. A bad reference sets ResolvedRefs false and
// fails the transport closed (sealTransport); when none is usable the policy is not
// Accepted either (NoValidCACertificate), as the spec asks.
func (t *translator) backendTLSRoots(bp *btlsPolicy, tr *snapshot.Transport) {
	var bundles []caResult
	for i, ref := range bp.p.Spec.Validation.CACertificateRefs {
		f := fmt.Sprintf("spec.validation.caCertificateRefs[%d]", i)
		var reason gwv1.PolicyConditionReason
		var msg string
		switch {
		case ref.Group != "" || (ref.Kind != KindConfigMap && ref.Kind != KindSecret):
			reason, msg = gwv1.BackendTLSPolicyReasonInvalidKind, fmt.Sprintf("%s: %s is not a ConfigMap or a Secret; name a ConfigMap with the CA at key ca.crt", f, groupKind(string(ref.Group), string(ref.Kind)))
		default:
			r := t.caBundle(bp.rep, caSource{kind: string(ref.Kind), namespace: bp.p.Namespace, name: string(ref.Name)}, false)
			if r.problem != nil {
				reason, msg = gwv1.BackendTLSPolicyReasonInvalidCACertificateRef, f+": "+r.problem.message
			} else {
				bundles = append(bundles, r)
			}
		}
		if msg == "" {
			continue
		}
		if bp.resolvedReason == "" {
			bp.resolvedReason, bp.resolvedMsg = string(reason), msg
		}
		bp.rep.refError(bhv1.ConditionReason(reason), bp.obj()+": "+msg+"; requests to the Services it targets fail until it is fixed")
	}
	if len(bundles) == 0 {
		if bp.acceptedReason == "" {
			bp.acceptedReason, bp.acceptedMsg = string(gwv1.BackendTLSPolicyReasonNoValidCACertificate), "no CA certificate reference is usable: "+bp.resolvedMsg
		}
		return
	}
	tr.RootCAs = mergePools(bundles)
	for i, na := range tr.RootCAs.NotAfters {
		t.checkExpiry(bp.rep, "spec.validation.caCertificateRefs", &snapshot.Certificate{Subject: tr.RootCAs.Subjects[i], NotAfter: na, Source: tr.RootCAs.Sources[min(i, len(tr.RootCAs.Sources)-1)]})
	}
}

// applyBackendTLS is gwBackend's hook: when a policy targets the backend's Service (port
// sp, nil when unknown), the backend is spoken to over TLS with the policy's transport,
// and the policy is marked as used through the route's Gateways.
func (t *translator) applyBackendTLS(r *gwRoute, b *snapshot.Backend, sp *corev1.ServicePort) {
	st := t.gw.btls
	if st == nil || len(st.winners) == 0 {
		return
	}
	use := btlsUse{svc: nsName{b.Service.Namespace, b.Service.Name}, gateways: routeGateways(r)}
	if sp != nil {
		use.section = sp.Name
	}
	if t.hrec != nil {
		t.hrec.btls = append(t.hrec.btls, use) // replayed by useBackendTLS
	} else {
		t.btlsUses++
	}
	bp, tr := t.useBackendTLS(use, func(from, g nsName) {
		r.rep.warn(bhv1.ReasonIneffectiveSetting, fmt.Sprintf("%s is attached to Gateways %s and %s, which present different backend client certificates; its TLS backends get the one of %s", r.obj, from, g, from))
	})
	if bp == nil {
		return
	}
	hostname := normalizeHost(string(bp.p.Spec.Validation.Hostname))
	b.Scheme, b.ServerName, b.VerifyNames = "https", hostname, []string{hostname}
	if bp.tr.PinsReplaceNames {
		b.VerifyNames = nil
	}
	if tr == nil {
		// Fail closed: never plain HTTP nor weaker verification to a backend the policy
		// says must be verified.
		b.Failure = &snapshot.Failure{Reason: bp.tr.Failure.Reason, Status: http.StatusBadGateway,
			Message: fmt.Sprintf("%s: %s applies to Service %s/%s and cannot be used: %s", r.obj, bp.obj(), b.Service.Namespace, b.Service.Name, bp.tr.Failure.Message)}
		return
	}
	b.Transport = tr.ID
}

// btlsUse is a backend of a route handed to applyBackendTLS: what its use of the policies'
// state depends on. An HTTPRoute's record keeps its uses, and its replay makes them again.
type btlsUse struct {
	svc      nsName
	section  string   // the Service port's name; "" when unknown
	gateways []nsName // routeGateways
}

// useBackendTLS writes what a backend's use changes of the policies' state: the Gateways
// its Service is used through, those of the policy that applies to it (returned, nil when
// none does), and the transport of the policy with the Gateways' client certificate
// (returned; nil when the policy's transport failed). warn, when not nil, hears of
// Gateways with different client certificates (withClientCertificate).
func (t *translator) useBackendTLS(u btlsUse, warn func(from, g nsName)) (*btlsPolicy, *snapshot.Transport) {
	st := t.gw.btls
	if len(st.contested) > 0 && st.contested[u.svc] {
		for _, g := range u.gateways {
			if !containsNsName(st.serviceGateways[u.svc], g) {
				st.serviceGateways[u.svc] = append(st.serviceGateways[u.svc], g)
			}
		}
	}
	var bp *btlsPolicy
	if u.section != "" {
		bp = st.winners[btlsTarget{u.svc.namespace, u.svc.name, u.section}]
	}
	if bp == nil {
		bp = st.winners[btlsTarget{u.svc.namespace, u.svc.name, ""}]
	}
	if bp == nil {
		return nil, nil
	}
	for _, g := range u.gateways {
		bp.usedThrough(g)
	}
	if bp.tr.Failure != nil {
		return bp, nil
	}
	transports := len(t.built)
	tr := t.withClientCertificate(bp, u.gateways, warn)
	if t.hrec != nil {
		// The first use of a policy through a Gateway with a client certificate makes its
		// transport; a replay in the same place makes it again.
		t.hrec.transports += len(t.built) - transports
	}
	return bp, tr
}

// routeGateways are the Gateways a route is attached to, in order.
func routeGateways(r *gwRoute) []nsName {
	var out []nsName
	seen := map[nsName]bool{}
	for _, atts := range r.attached {
		for _, a := range atts {
			k := nsName{a.l.gw.Namespace, a.l.gw.Name}
			if !seen[k] {
				seen[k] = true
				out = append(out, k)
			}
		}
	}
	return out
}

func (bp *btlsPolicy) usedThrough(g nsName) {
	if !containsNsName(bp.gateways, g) {
		bp.gateways = append(bp.gateways, g)
	}
}

func containsNsName(list []nsName, k nsName) bool {
	for _, have := range list {
		if have == k {
			return true
		}
	}
	return false
}

// withClientCertificate is the policy's transport with the client certificate of the
// route's Gateway added (a transport per policy and Gateway). Backends are shared by
// every listener a rule serves on, so a route attached to Gateways with different
// certificates gets the first one's, and warn (when not nil) is told of each other one.
func (t *translator) withClientCertificate(bp *btlsPolicy, gateways []nsName, warn func(from, g nsName)) *snapshot.Transport {
	var cert *snapshot.Certificate
	var from nsName
	for _, g := range gateways {
		c := t.gatewayClientCert(g)
		if c == nil || c.cert == nil {
			continue
		}
		if cert == nil {
			cert, from = c.cert, g
		} else if c.cert != cert && warn != nil {
			warn(from, g)
		}
	}
	if cert == nil {
		return bp.tr
	}
	if bp.memo != nil {
		// The policy's record holds the transports made of it, under the basis it is
		// replayed with (memo_btls.go).
		for _, w := range bp.memo.withCert {
			if w.from == from {
				t.built[w.tr.ID] = w.tr
				return w.tr
			}
		}
	}
	id := bp.tr.ID + "@" + from.String()
	tr, ok := t.built[id]
	if !ok {
		c := *bp.tr
		c.ID = id
		c.ClientCertificates = []*snapshot.Certificate{cert}
		t.addTransport(&c)
		tr = &c
	}
	if bp.memo != nil {
		bp.memo.withCert = append(bp.memo.withCert, gatewayTransport{from, tr})
	}
	return tr
}

// gatewayClientCert resolves a Gateway's spec.tls.backend.clientCertificateRef; nil
// when it sets none.
func (t *translator) gatewayClientCert(g nsName) *gwClientCert {
	st := t.gw.btls
	if c, ok := st.clientCerts[g]; ok {
		return c
	}
	gw := t.gw.gateways[g]
	if gw == nil || gw.Spec.TLS == nil || gw.Spec.TLS.Backend == nil || gw.Spec.TLS.Backend.ClientCertificateRef == nil {
		st.clientCerts[g] = nil
		return nil
	}
	ref := gw.Spec.TLS.Backend.ClientCertificateRef
	const f = "spec.tls.backend.clientCertificateRef"
	ns := gw.Namespace
	if ref.Namespace != nil {
		ns = string(*ref.Namespace)
	}
	group, kind := "", KindSecret
	if ref.Group != nil {
		group = string(*ref.Group)
	}
	if ref.Kind != nil {
		kind = string(*ref.Kind)
	}
	out := &gwClientCert{}
	switch {
	case group != "" || kind != KindSecret:
		out.reason, out.msg = string(gwv1.GatewayReasonInvalidClientCertificateRef), fmt.Sprintf("%s: %s is not a Secret; name a kubernetes.io/tls Secret", f, groupKind(group, kind))
	case ns != gw.Namespace && !t.granted(KindGateway, gw.Namespace, "", KindSecret, ns, string(ref.Name)):
		out.reason, out.msg = string(gwv1.GatewayReasonRefNotPermitted), fmt.Sprintf("%s: Secret %s/%s is in another namespace and no ReferenceGrant in %s allows Gateways of namespace %s to use it; add one", f, ns, ref.Name, ns, gw.Namespace)
	default:
		rep := t.reportFor(KindGateway, &gw.ObjectMeta)
		res := t.certificate(rep, ns, string(ref.Name))
		if res.problem != nil {
			out.reason, out.msg = string(gwv1.GatewayReasonInvalidClientCertificateRef), f+": "+res.problem.message
		} else {
			out.cert = res.cert
			t.checkExpiry(rep, f, res.cert)
		}
	}
	if out.msg != "" {
		// Backends are still spoken to, without a client certificate: one that requires
		// it refuses the handshake, and the runtime verdict names that.
		t.reportFor(KindGateway, &gw.ObjectMeta).refError(bhv1.ReasonInvalidRef, out.msg+"; TLS backends asking for a client certificate refuse this Gateway's connections meanwhile")
	}
	st.clientCerts[g] = out
	return out
}

// gatewayBackendTLSCondition is the Gateway's ResolvedRefs condition when it sets
// spec.tls.backend (nil otherwise).
func (t *translator) gatewayBackendTLSCondition(gw *gwv1.Gateway) *metav1.Condition {
	if t.gw.btls == nil {
		return nil
	}
	c := t.gatewayClientCert(nsName{gw.Namespace, gw.Name})
	if c == nil {
		return nil
	}
	cond := &metav1.Condition{Type: string(gwv1.GatewayConditionResolvedRefs), Status: metav1.ConditionTrue,
		Reason: string(gwv1.GatewayReasonResolvedRefs), Message: "every reference resolves", ObservedGeneration: gw.Generation}
	if c.msg != "" {
		cond.Status, cond.Reason, cond.Message = metav1.ConditionFalse, c.reason, c.msg
	}
	return cond
}

// finishBackendTLSPolicies writes each policy's status: one ancestor per Gateway it is
// used through, with Accepted and ResolvedRefs.
func (t *translator) finishBackendTLSPolicies() {
	if t.gw.btls == nil {
		return
	}
	for _, bp := range t.gw.btls.policies {
		if bp.acceptedReason == string(gwv1.PolicyReasonConflicted) {
			// A conflicted policy is not used, but its status still says so through the
			// Gateways of the routes using its Services.
			for _, ref := range bp.p.Spec.TargetRefs {
				for _, g := range t.gw.btls.serviceGateways[nsName{bp.p.Namespace, string(ref.Name)}] {
					bp.usedThrough(g)
				}
			}
		}
		if len(bp.gateways) == 0 {
			continue
		}
		if m := bp.memo; m != nil && m.gwStatus != nil && slices.Equal(m.ancestors, bp.gateways) {
			// As the build before made it: the same object lets the status's consumers
			// skip it.
			t.gw.status[Key{Kind: KindBackendTLSPolicy, Namespace: bp.p.Namespace, Name: bp.p.Name}] = m.gwStatus
			continue
		}
		gen := bp.p.Generation
		accepted := metav1.Condition{Type: string(gwv1.PolicyConditionAccepted), Status: metav1.ConditionTrue,
			Reason: string(gwv1.PolicyReasonAccepted), Message: "the gateway verifies the Services it targets with it", ObservedGeneration: gen}
		if bp.acceptedReason != "" {
			accepted.Status, accepted.Reason, accepted.Message = metav1.ConditionFalse, bp.acceptedReason, bp.acceptedMsg
		}
		resolved := metav1.Condition{Type: string(gwv1.BackendTLSPolicyConditionResolvedRefs), Status: metav1.ConditionTrue,
			Reason: string(gwv1.BackendTLSPolicyReasonResolvedRefs), Message: "every CA certificate reference resolves", ObservedGeneration: gen}
		if bp.resolvedReason != "" {
			resolved.Status, resolved.Reason, resolved.Message = metav1.ConditionFalse, bp.resolvedReason, bp.resolvedMsg
		}
		st := &GatewayAPIStatus{}
		for _, g := range bp.gateways {
			st.Ancestors = append(st.Ancestors, gwv1.PolicyAncestorStatus{
				AncestorRef:    gwv1.ParentReference{Group: ptrGroup(gatewayGroup), Kind: ptrKind(KindGateway), Namespace: ptrNamespace(g.namespace), Name: gwv1.ObjectName(g.name)},
				ControllerName: GatewayController,
				Conditions:     []metav1.Condition{accepted, resolved},
			})
		}
		t.gw.status[Key{Kind: KindBackendTLSPolicy, Namespace: bp.p.Namespace, Name: bp.p.Name}] = st
		if m := bp.memo; m != nil {
			m.gwStatus, m.ancestors = st, slices.Clone(bp.gateways)
		}
	}
}

func ptrKind(k string) *gwv1.Kind { v := gwv1.Kind(k); return &v }

func ptrNamespace(ns string) *gwv1.Namespace { v := gwv1.Namespace(ns); return &v }
