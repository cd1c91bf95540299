package rule

import (
	"slices"
	"strings"
)

// hostSet describes the hosts a sub-rule admits: any of names, or (when any is set)
// also hosts it does not constrain at all.
type hostSet struct {
	names []string
	any   bool
}

var unconstrained = hostSet{any: true}

// analyzeHosts computes the hostSet of n, with neg telling whether n sits under an odd
// number of !. Negation is pushed down to the leaves (De Morgan), so that !!Host(`a`)
// still constrains while !Host(`a`) does not.
func analyzeHosts(n *node, neg bool) hostSet {
	switch n.op {
	case opNot:
		return analyzeHosts(n.kids[0], !neg)
	case opAnd, opOr:
		if (n.op == opAnd) == neg {
			// A disjunction: gather everything and sort once, so that a rule listing
			// thousands of hosts costs n log n rather than n² to analyse.
			var out hostSet
			for _, k := range n.kids {
				s := analyzeHosts(k, neg)
				out.names = append(out.names, s.names...)
				out.any = out.any || s.any
			}
			out.names = sortedSet(out.names)
			return out
		}
		acc := analyzeHosts(n.kids[0], neg)
		for _, k := range n.kids[1:] {
			acc = intersect(acc, analyzeHosts(k, neg))
		}
		return acc
	}
	if h := n.m.hostKey(); h != "" && !neg {
		return hostSet{names: []string{h}}
	}
	return unconstrained
}

// intersect combines the host sets of two conjuncts. A side that may leave the host
// unconstrained lets every name of the other side through; otherwise only names both
// sides admit survive, where a wildcard admits the concrete names it covers.
func intersect(a, b hostSet) hostSet {
	var out []string
	if a.any {
		out = append(out, b.names...)
	}
	if b.any {
		out = append(out, a.names...)
	}
	out = appendAdmitted(out, a.names, b.names)
	out = appendAdmitted(out, b.names, a.names)
	return hostSet{names: sortedSet(out), any: a.any && b.any}
}

// appendAdmitted appends the names of ys that the sorted set xs admits, by equality or
// by a wildcard of xs covering them. Lookups are binary searches so that two long lists
// of hosts do not cost the product of their lengths.
func appendAdmitted(out, xs, ys []string) []string {
	for _, y := range ys {
		if _, ok := slices.BinarySearch(xs, y); ok {
			out = append(out, y)
			continue
		}
		if strings.HasPrefix(y, "*.") {
			continue
		}
		if i := strings.IndexByte(y, '.'); i > 0 {
			if _, ok := slices.BinarySearch(xs, "*."+y[i+1:]); ok {
				out = append(out, y)
			}
		}
	}
	return out
}

func sortedSet(s []string) []string {
	slices.Sort(s)
	return slices.Compact(s)
}

// String renders the canonical text of the sub-rule.
func (n *node) String() string {
	var b strings.Builder
	n.write(&b)
	return b.String()
}

func (n *node) write(b *strings.Builder) {
	switch n.op {
	case opAnd, opOr:
		sep := " && "
		if n.op == opOr {
			sep = " || "
		}
		for i, k := range n.kids {
			if i > 0 {
				b.WriteString(sep)
			}
			// Flattening guarantees kids never share their parent's operator, so only
			// an || under && needs parentheses.
			k.writeOperand(b, n.op == opAnd && k.op == opOr)
		}
	case opNot:
		b.WriteByte('!')
		k := n.kids[0]
		k.writeOperand(b, k.op == opAnd || k.op == opOr)
	default:
		b.WriteString(n.m.name)
		b.WriteByte('(')
		for i, a := range n.m.args {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(quote(a))
		}
		b.WriteByte(')')
	}
}

func (n *node) writeOperand(b *strings.Builder, paren bool) {
	if paren {
		b.WriteByte('(')
	}
	n.write(b)
	if paren {
		b.WriteByte(')')
	}
}
