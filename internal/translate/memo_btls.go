package translate

import (
	"slices"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/bridgehead/bridgehead/internal/snapshot"
)

// The memo of BackendTLSPolicies. End-to-end TLS on the Gateway API is typically a policy
// per Service (each names the Service's own host name), so a cluster of 10,000 HTTPRoutes
// has as many policies, and compiling them all at every build was 30 ms of it, after the
// memo had made their transports' hashes free (keptTransport).
//
// What the policies compile to depends only on the policies, their CAs' ConfigMaps and
// Secrets, and the refusals of lastgood: all in the memo's basis. So while the basis
// holds, the build before's policies are this build's, but for their reports (no report
// outlives its build: each is replayed, as a route's is) and what the routes write of
// them (the Gateways they are used through), which starts empty at every build.

// btlsPolicyMemo is what buildBackendTLSPolicies did for one policy.
type btlsPolicyMemo struct {
	routeMemo                                       // obj, its report and the certificate dates it compared (from, until)
	won                         []btlsTarget        // the targets the policy applies to; nil when Conflicted
	tr                          *snapshot.Transport // nil when Conflicted
	acceptedReason, acceptedMsg string
	resolvedReason, resolvedMsg string
	// gwStatus is the Gateway API status the last build made of the policy, used through
	// ancestors (finishBackendTLSPolicies).
	gwStatus  *GatewayAPIStatus
	ancestors []nsName
	// withCert are the policy's transports with a Gateway's client certificate made so
	// far (withClientCertificate).
	withCert []gatewayTransport
}

// gatewayTransport is a policy's transport with the client certificate of Gateway from.
type gatewayTransport struct {
	from nsName
	tr   *snapshot.Transport
}

// replayBackendTLSPolicies fills st with the policies of the build before, if it may.
func (t *translator) replayBackendTLSPolicies(st *btlsState, policies []*gwv1.BackendTLSPolicy) bool {
	if t.memo == nil || !t.memo.usable || len(t.memo.memo.btlsPolicies) != len(policies) {
		return false
	}
	recs := t.memo.memo.btlsPolicies
	for i, m := range recs {
		if m.obj != metav1.Object(policies[i]) && !sameGeneration(m.obj, policies[i]) || !m.covers(t.opts.Now) {
			return false
		}
	}
	for i, m := range recs {
		p := policies[i]
		bp := &btlsPolicy{p: p, rep: t.replayReport(Key{Kind: KindBackendTLSPolicy, Namespace: p.Namespace, Name: p.Name}, &m.routeMemo),
			acceptedReason: m.acceptedReason, acceptedMsg: m.acceptedMsg, resolvedReason: m.resolvedReason, resolvedMsg: m.resolvedMsg, tr: m.tr, memo: m}
		m.obj, m.call = p, t.memo.memo.calls
		st.policies = append(st.policies, bp)
		for _, tg := range m.won {
			st.winners[tg] = bp
		}
		if m.acceptedReason == string(gwv1.PolicyReasonConflicted) {
			st.contest(p)
		}
		if m.tr != nil {
			t.built[m.tr.ID] = m.tr
		}
	}
	return true
}

// recordBackendTLSPolicy remembers what building bp did; won are the targets it
// applies to.
func (t *translator) recordBackendTLSPolicy(m *btlsPolicyMemo, bp *btlsPolicy, won []btlsTarget) {
	bp.memo = m
	m.keepReport(bp.rep)
	m.won, m.tr = slices.Clip(won), bp.tr
	m.acceptedReason, m.acceptedMsg, m.resolvedReason, m.resolvedMsg = bp.acceptedReason, bp.acceptedMsg, bp.resolvedReason, bp.resolvedMsg
	t.memo.memo.btlsPolicies = append(t.memo.memo.btlsPolicies, m)
}
