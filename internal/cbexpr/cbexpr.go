// Package cbexpr reads the expressions of Traefik's circuitBreaker middleware, such as
//
//	NetworkErrorRatio() > 0.30 || (ResponseCodeRatio(500, 600, 0, 600) > 0.25 && LatencyAtQuantileMS(50.0) > 100)
//
// into a tree that the data plane evaluates against its rolling metrics. It is shared by
// translate (which refuses an expression that does not parse, naming the position) and
// the proxy, so both read the same language; it imports the standard library only.
//
// The language: comparisons of a metric with a number (==, !=, <, <=, >, >=), joined by
// && and ||, grouped with parentheses; && binds tighter than ||. The metrics are those of
// Traefik (vulcand/oxy): NetworkErrorRatio(), ResponseCodeRatio(a, b, c, d) (answers with
// a status in [a, b) over those in [c, d)), LatencyAtQuantileMS(q) (q a percentile, such
// as 50.0) and RequestThreshold() (requests in the window).
package cbexpr

import (
	"fmt"
	"strconv"
	"strings"
)

// Metrics are what an expression reads; the data plane keeps them over a rolling window.
type Metrics interface {
	NetworkErrorRatio() float64
	ResponseCodeRatio(startA, endA, startB, endB int) float64
	LatencyAtQuantileMS(quantile float64) float64
	Requests() int64
}

// Expr is a parsed expression: a comparison, or And/Or of two expressions.
type Expr struct {
	Op          string // "&&", "||", or a comparison operator
	Left, Right *Expr  // for && and ||
	Metric      Metric // for comparisons
	Value       float64
}

// Metric is one call of a metric function.
type Metric struct {
	Name string
	Args []float64
}

// Error is a parse error at a byte position (0-based) of the expression.
type Error struct {
	Pos int
	Msg string
}

func (e *Error) Error() string { return fmt.Sprintf("at position %d: %s", e.Pos, e.Msg) }

// functions are the metric functions and how many arguments each takes.
var functions = map[string]int{
	"NetworkErrorRatio":   0,
	"ResponseCodeRatio":   4,
	"LatencyAtQuantileMS": 1,
	"RequestThreshold":    0,
}

// maxDepth bounds nesting, so a hostile expression cannot exhaust the stack.
const maxDepth = 64

// Parse reads an expression.
func Parse(s string) (*Expr, error) {
	p := &parser{src: s}
	p.next()
	if p.tok.kind == tokEOF {
		return nil, &Error{Pos: 0, Msg: "the expression is empty; write a condition such as NetworkErrorRatio() > 0.5"}
	}
	e, err := p.or(0)
	if err != nil {
		return nil, err
	}
	if p.tok.kind != tokEOF {
		return nil, p.errorf("unexpected %s after a complete condition; join conditions with && or ||", p.tok)
	}
	return e, nil
}

// Eval evaluates the expression against m.
func (e *Expr) Eval(m Metrics) bool {
	switch e.Op {
	case "&&":
		return e.Left.Eval(m) && e.Right.Eval(m)
	case "||":
		return e.Left.Eval(m) || e.Right.Eval(m)
	}
	v := e.Metric.value(m)
	switch e.Op {
	case "==":
		return v == e.Value
	case "!=":
		return v != e.Value
	case "<":
		return v < e.Value
	case "<=":
		return v <= e.Value
	case ">":
		return v > e.Value
	case ">=":
		return v >= e.Value
	}
	return false
}

func (f Metric) value(m Metrics) float64 {
	switch f.Name {
	case "NetworkErrorRatio":
		return m.NetworkErrorRatio()
	case "ResponseCodeRatio":
		return m.ResponseCodeRatio(int(f.Args[0]), int(f.Args[1]), int(f.Args[2]), int(f.Args[3]))
	case "LatencyAtQuantileMS":
		return m.LatencyAtQuantileMS(f.Args[0])
	case "RequestThreshold":
		return float64(m.Requests())
	}
	return 0
}

// String writes the expression back, fully parenthesized: Parse(e.String()) is e.
func (e *Expr) String() string {
	switch e.Op {
	case "&&", "||":
		return "(" + e.Left.String() + " " + e.Op + " " + e.Right.String() + ")"
	}
	args := make([]string, len(e.Metric.Args))
	for i, a := range e.Metric.Args {
		args[i] = strconv.FormatFloat(a, 'g', -1, 64)
	}
	return e.Metric.Name + "(" + strings.Join(args, ", ") + ") " + e.Op + " " + strconv.FormatFloat(e.Value, 'g', -1, 64)
}

type tokKind int

const (
	tokEOF tokKind = iota
	tokIdent
	tokNumber
	tokOp    // && || == != < <= > >=
	tokPunct // ( ) ,
	tokBad
)

type token struct {
	kind tokKind
	text string
	pos  int
}

func (t token) String() string {
	switch t.kind {
	case tokEOF:
		return "the end of the expression"
	case tokNumber:
		return "number " + t.text
	case tokIdent:
		return "name " + t.text
	}
	return strconv.Quote(t.text)
}

type parser struct {
	src string
	off int
	tok token
}

func (p *parser) errorf(format string, args ...any) error {
	return &Error{Pos: p.tok.pos, Msg: fmt.Sprintf(format, args...)}
}

// next reads the next token.
func (p *parser) next() {
	for p.off < len(p.src) && strings.IndexByte(" \t\r\n", p.src[p.off]) >= 0 {
		p.off++
	}
	start := p.off
	if p.off >= len(p.src) {
		p.tok = token{kind: tokEOF, pos: start}
		return
	}
	c := p.src[p.off]
	switch {
	case isLetter(c):
		for p.off < len(p.src) && (isLetter(p.src[p.off]) || isDigit(p.src[p.off])) {
			p.off++
		}
		p.tok = token{kind: tokIdent, text: p.src[start:p.off], pos: start}
	case isDigit(c) || c == '.' || c == '-':
		p.off++
		for p.off < len(p.src) && (isDigit(p.src[p.off]) || p.src[p.off] == '.' || p.src[p.off] == 'e' || p.src[p.off] == 'E' ||
			((p.src[p.off] == '-' || p.src[p.off] == '+') && (p.src[p.off-1] == 'e' || p.src[p.off-1] == 'E'))) {
			p.off++
		}
		p.tok = token{kind: tokNumber, text: p.src[start:p.off], pos: start}
	case c == '(' || c == ')' || c == ',':
		p.off++
		p.tok = token{kind: tokPunct, text: string(c), pos: start}
	default:
		for _, op := range []string{"&&", "||", "==", "!=", "<=", ">=", "<", ">"} {
			if strings.HasPrefix(p.src[p.off:], op) {
				p.off += len(op)
				p.tok = token{kind: tokOp, text: op, pos: start}
				return
			}
		}
		p.off++
		p.tok = token{kind: tokBad, text: string(c), pos: start}
	}
}

func isLetter(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '_' }
func isDigit(c byte) bool  { return c >= '0' && c <= '9' }

func (p *parser) or(depth int) (*Expr, error) {
	left, err := p.and(depth)
	if err != nil {
		return nil, err
	}
	for p.tok.kind == tokOp && p.tok.text == "||" {
		p.next()
		right, err := p.and(depth)
		if err != nil {
			return nil, err
		}
		left = &Expr{Op: "||", Left: left, Right: right}
	}
	return left, nil
}

func (p *parser) and(depth int) (*Expr, error) {
	left, err := p.term(depth)
	if err != nil {
		return nil, err
	}
	for p.tok.kind == tokOp && p.tok.text == "&&" {
		p.next()
		right, err := p.term(depth)
		if err != nil {
			return nil, err
		}
		left = &Expr{Op: "&&", Left: left, Right: right}
	}
	return left, nil
}

// term is a parenthesized expression or a comparison.
func (p *parser) term(depth int) (*Expr, error) {
	if p.tok.kind == tokPunct && p.tok.text == "(" {
		if depth >= maxDepth {
			return nil, p.errorf("parentheses nest deeper than %d", maxDepth)
		}
		p.next()
		e, err := p.or(depth + 1)
		if err != nil {
			return nil, err
		}
		if p.tok.kind != tokPunct || p.tok.text != ")" {
			return nil, p.errorf("expected \")\", found %s", p.tok)
		}
		p.next()
		return e, nil
	}
	m, err := p.metric()
	if err != nil {
		return nil, err
	}
	switch {
	case p.tok.kind == tokOp && p.tok.text != "&&" && p.tok.text != "||":
	case p.tok.kind == tokOp:
		return nil, p.errorf("%s() is a number, not a condition: compare it, such as %s() > 0.5", m.Name, m.Name)
	default:
		return nil, p.errorf("expected a comparison (>, >=, <, <=, == or !=) after %s(...), found %s", m.Name, p.tok)
	}
	op := p.tok.text
	p.next()
	v, err := p.number("the value to compare with")
	if err != nil {
		return nil, err
	}
	return &Expr{Op: op, Metric: m, Value: v}, nil
}

func (p *parser) metric() (Metric, error) {
	if p.tok.kind != tokIdent {
		return Metric{}, p.errorf("expected a metric (NetworkErrorRatio(), ResponseCodeRatio(...), LatencyAtQuantileMS(...)) or \"(\", found %s", p.tok)
	}
	name, at := p.tok.text, p.tok
	want, ok := functions[name]
	if !ok {
		return Metric{}, p.errorf("unknown metric %s; use NetworkErrorRatio(), ResponseCodeRatio(from, to, dividedByFrom, dividedByTo), LatencyAtQuantileMS(quantile) or RequestThreshold()", name)
	}
	p.next()
	if p.tok.kind != tokPunct || p.tok.text != "(" {
		return Metric{}, p.errorf("expected \"(\" after %s", name)
	}
	p.next()
	var args []float64
	for p.tok.kind != tokPunct || p.tok.text != ")" {
		if len(args) > 0 {
			if p.tok.kind != tokPunct || p.tok.text != "," {
				return Metric{}, p.errorf("expected \",\" or \")\" in the arguments of %s, found %s", name, p.tok)
			}
			p.next()
		}
		v, err := p.number("an argument of " + name)
		if err != nil {
			return Metric{}, err
		}
		args = append(args, v)
		if len(args) > want {
			break
		}
	}
	if len(args) != want {
		return Metric{}, &Error{Pos: at.pos, Msg: fmt.Sprintf("%s takes %d arguments, not %d", name, want, len(args))}
	}
	if name == "ResponseCodeRatio" {
		for _, a := range args {
			if a != float64(int(a)) || a < 0 || a > 1000 {
				return Metric{}, &Error{Pos: at.pos, Msg: fmt.Sprintf("the arguments of ResponseCodeRatio are statuses (whole numbers from 0 to 1000), not %v", a)}
			}
		}
	}
	p.next()
	return Metric{Name: name, Args: args}, nil
}

func (p *parser) number(what string) (float64, error) {
	if p.tok.kind != tokNumber {
		return 0, p.errorf("expected a number as %s, found %s", what, p.tok)
	}
	v, err := strconv.ParseFloat(p.tok.text, 64)
	if err != nil || v != v || v > 1e300 || v < -1e300 {
		return 0, p.errorf("%q is not a number", p.tok.text)
	}
	p.next()
	return v, nil
}
