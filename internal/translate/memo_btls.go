package translate

import (
	"slices"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/bridgehead/bridgehead/internal/snapshot"
)

// The memo of BackendTLSPolicies. End-to-end TLS on the Gateway API is typically a policy
// per Service (each names the Service's own host name), so a cluster of 10,000 HTTPRoutes
// has as many policies, and compiling them all (each transport and its copy with a
// Gateway's client certificate made, marshalled and hashed) was most of a build.
//
// What a policy compiles to depends only on the policy, its CAs' ConfigMaps and Secrets,
// the refusals of lastgood, and the other policies of its targets: all in the memo's
// basis, or followed by Service when only Services, their EndpointSlices and policies
// changed (memo_services.go). So while those hold, a policy is the build before's, but
// for its report (no report outlives its build: each is replayed, as a route's is) and
// what the routes write of it (the Gateways it is used through), which starts empty at
// every build.

// btlsPolicyMemo is what buildBackendTLSPolicies did for one policy.
type btlsPolicyMemo struct {
	routeMemo                                       // obj, its report, the certificate dates it compared (from, until), its targets (services)
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
	// policy is the policy of the build that replays the record, used again by every
	// replay (with its list of Gateways) since none outlives its build: 10,000 made
	// afresh were 1.6 MB of every build's garbage.
	policy btlsPolicy
}

// gatewayTransport is a policy's transport with the client certificate of Gateway from.
type gatewayTransport struct {
	from nsName
	tr   *snapshot.Transport
}

// replayBackendTLSPolicy adds the record of p to st, if there is one it may use: the
// policy is the same, and so are the Services it targets and what it reads (the basis
// holds, or holds but for Services it does not target). A policy's outcome depends on the
// other policies only through its targets (the oldest policy of a target wins it), and a
// policy that changed, came or went marks its targets changed (changedServices).
func (t *translator) replayBackendTLSPolicy(st *btlsState, p *gwv1.BackendTLSPolicy) bool {
	if t.memo == nil || !t.memo.usable && !t.memo.partial {
		return false
	}
	key := Key{Kind: KindBackendTLSPolicy, Namespace: p.Namespace, Name: p.Name}
	m, ok := t.memo.memo.btlsPolicies[key]
	if !ok || m.call == t.memo.memo.calls || m.obj != metav1.Object(p) && !sameGeneration(m.obj, p) || !m.covers(t.opts.Now) || !t.memo.replayable(&m.routeMemo) {
		return false
	}
	bp := &m.policy
	*bp = btlsPolicy{p: p, rep: t.replayReport(key, &m.routeMemo),
		acceptedReason: m.acceptedReason, acceptedMsg: m.acceptedMsg, resolvedReason: m.resolvedReason, resolvedMsg: m.resolvedMsg, tr: m.tr,
		gateways: bp.gateways[:0], memo: m}
	m.obj, m.call = p, t.memo.memo.calls
	t.memo.memo.usedPolicies++
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
	return true
}

// recordBackendTLSPolicy remembers what building bp did; won are the targets it
// applies to.
func (t *translator) recordBackendTLSPolicy(m *btlsPolicyMemo, bp *btlsPolicy, won []btlsTarget) {
	bp.memo = m
	m.keepReport(bp.rep)
	m.won, m.tr = slices.Clip(won), bp.tr
	m.acceptedReason, m.acceptedMsg, m.resolvedReason, m.resolvedMsg = bp.acceptedReason, bp.acceptedMsg, bp.resolvedReason, bp.resolvedMsg
	for _, ref := range bp.p.Spec.TargetRefs {
		if k := (nsName{bp.p.Namespace, string(ref.Name)}); !slices.Contains(m.services, k) {
			m.services = append(m.services, k)
		}
	}
	key := Key{Kind: KindBackendTLSPolicy, Namespace: bp.p.Namespace, Name: bp.p.Name}
	if prev, ok := t.memo.memo.btlsPolicies[key]; !ok || prev.call != t.memo.memo.calls {
		t.memo.memo.usedPolicies++
	}
	t.memo.memo.btlsPolicies[key] = m
}
