package translate

import (
	"fmt"
	"sort"
	"strings"

	bhv1 "github.com/bridgehead/bridgehead/api/v1alpha1"
	"github.com/bridgehead/bridgehead/internal/snapshot"
)

// pendingChain is a chain Middleware whose references are resolved once every other
// Middleware is compiled.
type pendingChain struct {
	rep  *report
	spec *bhv1.Chain
	out  *snapshot.Middleware
}

// resolveChains resolves every chain, in name order, so the outcome does not depend on
// map order. A chain that names a missing, refused or not permitted Middleware, or that
// reaches itself, is not accepted, and neither are the chains that name it.
func (t *translator) resolveChains(pending map[nsName]*pendingChain) {
	keys := make([]nsName, 0, len(pending))
	for k := range pending {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return keys[i].String() < keys[j].String() })
	for _, k := range keys {
		t.resolveChain(pending, k, nil)
	}
}

// resolveChain resolves chain k; path is the chains being resolved that lead to k.
func (t *translator) resolveChain(pending map[nsName]*pendingChain, k nsName, path []nsName) {
	p := pending[k]
	if _, done := t.builtMW[k]; done {
		return
	}
	if _, failed := t.mwProblems[k]; failed {
		return
	}
	path = append(path, k)
	for j, ref := range p.spec.Middlewares {
		ns := ref.Namespace
		if ns == "" {
			ns = k.namespace
		}
		target := nsName{ns, ref.Name}
		if i := indexOf(path, target); i >= 0 {
			loop := make([]string, 0, len(path)-i+1)
			for _, c := range path[i:] {
				loop = append(loop, c.String())
			}
			loop = append(loop, target.String())
			p.rep.invalidf(bhv1.ReasonInvalid, fmt.Sprintf("Middleware %s: spec.chain.middlewares[%d] (%s) closes a cycle of chains (%s), which would never end; remove one of these references", k, j, target, strings.Join(loop, " -> ")))
			continue
		}
		if _, ok := pending[target]; ok && t.permitted(k.namespace, ns) {
			t.resolveChain(pending, target, path)
		}
		m, f := t.middleware(k.namespace, ref)
		if f != nil {
			p.rep.refError(f.reason, fmt.Sprintf("Middleware %s: spec.chain.middlewares[%d]: %s", k, j, f.message))
			continue
		}
		p.out.Chain.Middlewares = append(p.out.Chain.Middlewares, m)
	}
	switch {
	case len(p.rep.invalid) > 0:
		t.mwProblems[k] = p.rep.invalid[0]
	case len(p.rep.refs) > 0:
		t.mwProblems[k] = p.rep.refs[0]
	default:
		p.rep.served = 1
		t.builtMW[k] = p.out
	}
}

func indexOf(path []nsName, k nsName) int {
	for i, c := range path {
		if c == k {
			return i
		}
	}
	return -1
}
