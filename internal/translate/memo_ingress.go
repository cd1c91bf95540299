package translate

import (
	"slices"

	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// The memo of Ingresses: what the memo does for IngressRoutes (memo.go), for the other
// route kind a migrated cluster is made of. Without it a change to one Ingress of 10,000
// translated all of them again: 184 ms and 74 MB (BenchmarkTranslate10kOthersOneChanged).
//
// An Ingress's translation writes its report, its routes, its rule slots (resolved among
// Ingresses, after all of them), its TLS host claims, and the hosts it redirects to HTTPS:
// the redirect route of a host is added by the first Ingress (by name) that asks for it.
// Those five are recorded and replayed. The redirects are the one thing it reads of the
// other Ingresses, so a replay also needs each of its hosts to be taken or not by an
// earlier Ingress as it was when recorded.
//
// An Ingress whose translation writes anything else (a TLS policy or a backend transport
// from annotations, ssl-passthrough TCP routes, a Middleware built on first use) is not
// recorded, and is translated at every build.

// ingressMemo is what translating one Ingress did. Its routeMemo holds the report, the
// routes, the status and the certificate dates; its own slots and claims stay empty.
type ingressMemo struct {
	routeMemo
	name string // "Ingress NAMESPACE/NAME", as ingressBuild.obj
	// paths are the served flags of the Ingress's paths as translated: a path's web and
	// websecure routes share one (ingressPath), which the slots point to by index.
	paths     []bool
	slots     []ingressSlotRecord
	claims    []claimRecord
	redirects []redirectRecord
}

// ingressSlotRecord is an ingressSlot without what a build supplies.
type ingressSlotRecord struct {
	slot            ruleSlot
	id, field, what string
	path            int // index in ingressMemo.paths
}

// redirectRecord is a host the Ingress redirects to HTTPS, and whether an Ingress before
// it had already done so (its own redirect route then does not exist).
type redirectRecord struct {
	host  string
	taken bool
}

// sideEffects counts what a translation may add besides what an ingressMemo records.
type sideEffects struct {
	policies, transports, tcpRoutes, udpRoutes, middlewares, middlewaresTCP, reports, btlsUses int
}

func (t *translator) sideEffects() sideEffects {
	return sideEffects{
		policies: len(t.policies), transports: len(t.built), tcpRoutes: len(t.snap.TCPRoutes), udpRoutes: len(t.snap.UDPRoutes),
		middlewares: len(t.builtMW) + len(t.mwProblems), middlewaresTCP: len(t.builtMWT) + len(t.mwtProblems), reports: len(t.reports),
		btlsUses: t.btlsUses,
	}
}

// recordIngress translates ing with build and, when the translation did only what an
// ingressMemo holds, remembers it.
func (t *translator) recordIngress(ing *networkingv1.Ingress, build func()) {
	if t.memo == nil {
		build()
		return
	}
	key := Key{Kind: KindIngress, Namespace: ing.Namespace, Name: ing.Name}
	before := len(t.snap.HTTPRoutes)
	want := t.sideEffects()
	want.reports++ // its own
	m := &ingressMemo{routeMemo: routeMemo{obj: ing, call: t.memo.memo.calls}}
	t.rec, t.irec = &m.routeMemo, m
	build()
	t.rec, t.irec = nil, nil
	rep, ok := t.reports[key]
	if !ok || t.sideEffects() != want || len(m.routeMemo.slots) > 0 || len(m.routeMemo.claims) > 0 {
		return
	}
	m.routes = slices.Clone(t.snap.HTTPRoutes[before:])
	m.name = "Ingress " + ing.Namespace + "/" + ing.Name
	m.keepReport(rep)
	if prev, ok := t.memo.memo.ingresses[key]; !ok || prev.call != t.memo.memo.calls {
		t.memo.memo.usedIngresses++
	}
	t.memo.memo.ingresses[key] = m
	t.memo.memo.ingressOf[ing] = m
}

// replayIngress adds a remembered translation of ing to this build, if there is one it
// may use.
func (t *translator) replayIngress(ing *networkingv1.Ingress, slots map[ruleSlot][]ingressSlot, redirects map[string]bool) bool {
	if t.memo == nil || !t.memo.usable && !t.memo.partial {
		return false
	}
	key := Key{Kind: KindIngress, Namespace: ing.Namespace, Name: ing.Name}
	m, ok := lookupRecord(t.memo.memo.ingressOf, t.memo.memo.ingresses, ing, key)
	if !ok || m.call == t.memo.memo.calls || !sameGeneration(m.obj, ing) || !m.covers(t.opts.Now) || !t.memo.replayable(&m.routeMemo) {
		return false
	}
	for _, r := range m.redirects {
		if redirects[r.host] != r.taken {
			return false
		}
	}
	rep := t.replayReport(key, &m.routeMemo)
	t.snap.HTTPRoutes = append(t.snap.HTTPRoutes, m.routes...)
	for _, r := range m.redirects {
		redirects[r.host] = true
	}
	paths := make([]ingressPath, len(m.paths))
	for i, served := range m.paths {
		paths[i].served = served
	}
	for _, s := range m.slots {
		// The creation time is the new object's, as for IngressRoutes (memo.go, replay).
		slots[s.slot] = append(slots[s.slot], ingressSlot{created: ing.CreationTimestamp, id: s.id, rep: rep, obj: m.name, field: s.field, what: s.what,
			path: &paths[s.path], remove: t.removeHTTP})
	}
	for _, c := range m.claims {
		hc := c.claim
		hc.rep = rep
		if c.hasCert {
			hc.cert = t.cachedCertificate(c.secret).cert
		}
		t.hostClaims[c.name] = append(t.hostClaims[c.name], hc)
	}
	if m.obj != metav1.Object(ing) {
		t.memo.memo.ingressOf[ing] = m
	}
	m.obj, m.call = ing, t.memo.memo.calls
	t.memo.memo.usedIngresses++
	return true
}
