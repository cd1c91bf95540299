package translate

import (
	"fmt"

	bhv1 "github.com/bridgehead/bridgehead/api/v1alpha1"
	"github.com/bridgehead/bridgehead/internal/snapshot"
)

// buildMiddlewareTCPs compiles every MiddlewareTCP; TCP routes then reference the
// compiled ones. One that cannot be compiled makes every route naming it fail closed.
func (t *translator) buildMiddlewareTCPs() {
	for _, m := range sortedByName(t.in.MiddlewareTCPs) {
		rep := t.reportFor(KindMiddlewareTCP, &m.ObjectMeta)
		rep.total = 1
		k := nsName{m.Namespace, m.Name}
		if t.refuseUnsupported(rep, "MiddlewareTCP "+k.String()) {
			t.mwtProblems[k] = rep.invalid[0]
			continue
		}
		out := &snapshot.TCPMiddleware{Source: snapshot.Ref{Kind: KindMiddlewareTCP, Namespace: m.Namespace, Name: m.Name}}
		set := 0
		allowList := func(field string, a *bhv1.TCPIPAllowList) {
			set++
			out.IPAllowList = &snapshot.TCPIPAllowList{}
			for i, s := range a.SourceRange {
				p, err := parsePrefix(s)
				if err != nil {
					rep.invalidf(bhv1.ReasonInvalid, fmt.Sprintf("MiddlewareTCP %s: spec.%s.sourceRange[%d] %q is neither an IP address nor a CIDR", k, field, i, s))
					continue
				}
				out.IPAllowList.SourceRange = append(out.IPAllowList.SourceRange, p)
			}
			if len(a.SourceRange) == 0 {
				rep.invalidf(bhv1.ReasonInvalid, fmt.Sprintf("MiddlewareTCP %s: spec.%s.sourceRange is empty; list the client addresses to allow", k, field))
			}
		}
		if a := m.Spec.IPAllowList; a != nil {
			allowList("ipAllowList", a)
		}
		if a := m.Spec.IPWhiteList; a != nil { //nolint:staticcheck // Traefik v3 still serves its former name
			allowList("ipWhiteList", a)
			rep.warn(bhv1.ReasonDeprecatedField, fmt.Sprintf("MiddlewareTCP %s: spec.ipWhiteList is Traefik's deprecated name of ipAllowList; it is served the same: rename it ipAllowList", k))
		}
		if c := m.Spec.InFlightConn; c != nil {
			set++
			out.InFlightConn = &snapshot.TCPInFlightConn{Amount: c.Amount}
			if c.Amount < 1 {
				rep.invalidf(bhv1.ReasonInvalid, fmt.Sprintf("MiddlewareTCP %s: spec.inFlightConn.amount %d: set at least 1 connection per client IP", k, c.Amount))
			}
		}
		if set != 1 {
			rep.invalidf(bhv1.ReasonInvalid, fmt.Sprintf("MiddlewareTCP %s: spec sets %d TCP middlewares; set exactly one of ipAllowList (or its former name ipWhiteList) or inFlightConn", k, set))
		}
		if len(rep.invalid) > 0 {
			t.mwtProblems[k] = rep.invalid[0]
			continue
		}
		rep.served = 1
		t.builtMWT[k] = out
	}
}

// middlewareTCP resolves a TCP route's reference to a compiled TCP middleware.
func (t *translator) middlewareTCP(fromNS string, ref bhv1.ObjectReference) (*snapshot.TCPMiddleware, *finding) {
	ns := ref.Namespace
	if ns == "" {
		ns = fromNS
	}
	if !t.permitted(fromNS, ns) {
		return nil, &finding{reason: bhv1.ReasonRefNotPermitted, message: fmt.Sprintf("MiddlewareTCP %s/%s is in another namespace; cross-namespace references are off (start the gateway with --allow-cross-namespace, or move the MiddlewareTCP to namespace %s)", ns, ref.Name, fromNS)}
	}
	k := nsName{ns, ref.Name}
	if m, ok := t.builtMWT[k]; ok {
		return m, nil
	}
	if p, ok := t.mwtProblems[k]; ok {
		return nil, &finding{reason: bhv1.ReasonInvalidRef, message: p.message + " (the MiddlewareTCP is not accepted)"}
	}
	return nil, &finding{reason: bhv1.ReasonNotFound, message: fmt.Sprintf("MiddlewareTCP %q not found in namespace %s", ref.Name, ns)}
}
