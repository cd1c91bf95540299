package rule

import (
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

type tokType uint8

const (
	tEOF tokType = iota
	tIdent
	tString
	tLParen
	tRParen
	tComma
	tAnd
	tOr
	tNot
	tIllegal
)

type token struct {
	typ  tokType
	pos  int    // byte offset of the first byte
	text string // source text (identifier name, operator, offending character)
	val  string // decoded value of a string literal
}

// parser is a recursive-descent parser over a hand-written lexer. Traefik hands rules to
// go/parser; we accept the same surface (Go string literals, Go operator precedence) but
// need positions and wording that make sense to someone editing YAML.
type parser struct {
	src   string
	kind  Kind
	off   int // byte offset of the next unread byte
	tok   token
	depth int
}

func (p *parser) parse() (*node, error) {
	if err := p.next(); err != nil {
		return nil, err
	}
	n, err := p.parseOr()
	if err != nil {
		return nil, err
	}
	if p.tok.typ != tEOF {
		return nil, p.unexpected(expectOpOrEnd)
	}
	return n, nil
}

func (p *parser) parseOr() (*node, error) {
	n, err := p.parseAnd()
	if err != nil {
		return nil, err
	}
	kids := []*node{n}
	for p.tok.typ == tOr {
		if err := p.next(); err != nil {
			return nil, err
		}
		n, err := p.parseAnd()
		if err != nil {
			return nil, err
		}
		kids = append(kids, n)
	}
	return join(opOr, kids), nil
}

func (p *parser) parseAnd() (*node, error) {
	n, err := p.parseUnary()
	if err != nil {
		return nil, err
	}
	kids := []*node{n}
	for p.tok.typ == tAnd {
		if err := p.next(); err != nil {
			return nil, err
		}
		n, err := p.parseUnary()
		if err != nil {
			return nil, err
		}
		kids = append(kids, n)
	}
	return join(opAnd, kids), nil
}

func (p *parser) parseUnary() (*node, error) {
	switch p.tok.typ {
	case tNot, tLParen:
		if p.depth >= maxDepth {
			return nil, &SyntaxError{
				Pos:      p.tok.pos + 1,
				Expected: "at most " + strconv.Itoa(maxDepth) + " nested `!` and `(`",
				Found:    describe(p.tok),
			}
		}
		p.depth++
		defer func() { p.depth-- }()
	}
	switch p.tok.typ {
	case tNot:
		if err := p.next(); err != nil {
			return nil, err
		}
		n, err := p.parseUnary()
		if err != nil {
			return nil, err
		}
		return &node{op: opNot, kids: []*node{n}}, nil
	case tLParen:
		if err := p.next(); err != nil {
			return nil, err
		}
		n, err := p.parseOr()
		if err != nil {
			return nil, err
		}
		if p.tok.typ != tRParen {
			return nil, p.unexpected(expectOpOrRPar)
		}
		return n, p.next()
	case tIdent:
		return p.parseCall()
	default:
		return nil, p.unexpected(expectMatcher(p.kind))
	}
}

type arg struct {
	val string
	pos int
}

func (p *parser) parseCall() (*node, error) {
	nameTok := p.tok
	sp, err := p.lookup(nameTok)
	if err != nil {
		return nil, err
	}
	if err := p.next(); err != nil {
		return nil, err
	}
	if p.tok.typ != tLParen {
		e := p.unexpected("`(`")
		e.Msg = "a matcher is called like " + sp.name + "(" + quote(sp.example) + ")"
		return nil, e
	}
	if err := p.next(); err != nil {
		return nil, err
	}
	var args []arg
	if p.tok.typ != tRParen {
		for {
			if p.tok.typ != tString {
				return nil, p.unexpected(expectString)
			}
			args = append(args, arg{val: p.tok.val, pos: p.tok.pos})
			if err := p.next(); err != nil {
				return nil, err
			}
			if p.tok.typ == tComma {
				if err := p.next(); err != nil {
					return nil, err
				}
				continue
			}
			if p.tok.typ == tRParen {
				break
			}
			if len(args) >= sp.max {
				return nil, p.unexpected("`)`")
			}
			return nil, p.unexpected("`,` or `)`")
		}
	}
	closePos := p.tok.pos
	if err := p.next(); err != nil {
		return nil, err
	}
	m, err := build(sp, args, closePos)
	if err != nil {
		return nil, err
	}
	return &node{op: opLeaf, m: m}, nil
}

// lookup resolves a matcher name. Besides the canonical spelling it accepts the
// all-lower, all-upper and capitalised-lower spellings, as Traefik v3 does.
func (p *parser) lookup(t token) (*spec, error) {
	if sp := table[p.kind][t.text]; sp != nil {
		return sp, nil
	}
	e := &SyntaxError{Pos: t.pos + 1, Expected: expectMatcher(p.kind), Found: "identifier " + t.text}
	if sp := otherKind(p.kind, t.text); sp != nil {
		e.Expected = "an HTTP matcher"
		if p.kind == TCP {
			e.Expected = "a TCP matcher"
		}
		e.Found = sp.kind.String() + " matcher " + sp.name
		e.Msg = sp.name + " only applies to " + sp.kind.String() + " routers"
		if alt := crossKind[sp.name]; alt != "" {
			e.Msg += "; use " + alt
		}
		return nil, e
	}
	e.Msg = "unknown matcher"
	if repl, ok := removedV2[t.text]; ok {
		e.Msg = t.text + " was removed in Traefik v3; use " + repl
	} else if s := suggest(t.text, names[p.kind]); s != "" {
		e.Msg = "unknown matcher; did you mean " + s + "?"
	}
	return nil, e
}

func (p *parser) unexpected(expected string) *SyntaxError {
	e := &SyntaxError{Pos: p.tok.pos + 1, Expected: expected, Found: describe(p.tok)}
	if p.tok.typ == tIllegal {
		e.Msg = illegalHint(p.tok.text)
	}
	return e
}

// join builds an n-ary node, flattening children of the same operator so that
// parenthesised and unparenthesised chains produce one canonical shape.
func join(o op, kids []*node) *node {
	if len(kids) == 1 {
		return kids[0]
	}
	flat := make([]*node, 0, len(kids))
	for _, k := range kids {
		if k.op == o {
			flat = append(flat, k.kids...)
		} else {
			flat = append(flat, k)
		}
	}
	return &node{op: o, kids: flat}
}

// next scans one token into p.tok. Lexical errors that no context could repair (an
// unterminated or malformed string, invalid UTF-8) are reported here; a stray character
// becomes a tIllegal token so the parser can say what it expected instead.
func (p *parser) next() error {
	for p.off < len(p.src) && isSpace(p.src[p.off]) {
		p.off++
	}
	start := p.off
	if start >= len(p.src) {
		p.tok = token{typ: tEOF, pos: start}
		return nil
	}
	c := p.src[start]
	simple := func(t tokType, n int) error {
		p.off = start + n
		p.tok = token{typ: t, pos: start, text: p.src[start:p.off]}
		return nil
	}
	switch {
	case isIdentStart(c):
		end := start + 1
		for end < len(p.src) && isIdentPart(p.src[end]) {
			end++
		}
		return simple(tIdent, end-start)
	case c == '`':
		return p.rawString(start)
	case c == '"':
		return p.quotedString(start)
	case c == '(':
		return simple(tLParen, 1)
	case c == ')':
		return simple(tRParen, 1)
	case c == ',':
		return simple(tComma, 1)
	case c == '!':
		return simple(tNot, 1)
	case c == '&' && strings.HasPrefix(p.src[start:], "&&"):
		return simple(tAnd, 2)
	case c == '|' && strings.HasPrefix(p.src[start:], "||"):
		return simple(tOr, 2)
	}
	r, size := utf8.DecodeRuneInString(p.src[start:])
	if r == utf8.RuneError && size == 1 {
		return badUTF8(start, c)
	}
	return simple(tIllegal, size)
}

func badUTF8(off int, b byte) *SyntaxError {
	return &SyntaxError{
		Pos:      off + 1,
		Expected: "UTF-8 text",
		Found:    "byte 0x" + strconv.FormatUint(uint64(b), 16),
	}
}

// rawString scans a backtick literal. As in Go, carriage returns are dropped from the
// value so that a rule behaves the same whatever line endings its file had.
func (p *parser) rawString(start int) error {
	end := strings.IndexByte(p.src[start+1:], '`')
	if end < 0 {
		return &SyntaxError{
			Pos:      start + 1,
			Expected: "a closing backtick for this string",
			Found:    foundEnd,
		}
	}
	end += start + 1
	body := p.src[start+1 : end]
	for i := 0; i < len(body); {
		r, size := utf8.DecodeRuneInString(body[i:])
		if r == utf8.RuneError && size == 1 {
			return badUTF8(start+1+i, body[i])
		}
		i += size
	}
	if strings.IndexByte(body, '\r') >= 0 {
		body = strings.ReplaceAll(body, "\r", "")
	}
	p.off = end + 1
	p.tok = token{typ: tString, pos: start, text: p.src[start:p.off], val: body}
	return nil
}

// quotedString scans a double-quoted literal with Go escapes, reporting the column of
// the first bad escape rather than just "invalid syntax" for the whole literal.
func (p *parser) quotedString(start int) error {
	var b strings.Builder
	i := start + 1
	for {
		if i >= len(p.src) || p.src[i] == '\n' {
			found := foundEnd
			if i < len(p.src) {
				found = "a line break"
			}
			return &SyntaxError{Pos: start + 1, Expected: "a closing `\"` for this string", Found: found}
		}
		c := p.src[i]
		switch c {
		case '"':
			p.off = i + 1
			p.tok = token{typ: tString, pos: start, text: p.src[start:p.off], val: b.String()}
			return nil
		case '\\':
			v, multibyte, tail, err := strconv.UnquoteChar(p.src[i:], '"')
			if err != nil {
				found := "`\\` at the end of the rule"
				if i+1 < len(p.src) {
					r, _ := utf8.DecodeRuneInString(p.src[i+1:])
					found = "`\\" + string(r) + "`"
					if !unicode.IsPrint(r) || r == '`' {
						found = "`\\` followed by " + strconv.QuoteRune(r)
					}
				}
				return &SyntaxError{
					Pos:      i + 1,
					Expected: "a Go escape sequence such as \\\" or \\\\",
					Found:    found,
				}
			}
			if multibyte {
				b.WriteRune(v)
			} else {
				b.WriteByte(byte(v))
			}
			i = len(p.src) - len(tail)
		default:
			r, size := utf8.DecodeRuneInString(p.src[i:])
			if r == utf8.RuneError && size == 1 {
				return badUTF8(i, c)
			}
			b.WriteString(p.src[i : i+size])
			i += size
		}
	}
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

func isIdentStart(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '_'
}

func isIdentPart(c byte) bool { return isIdentStart(c) || c >= '0' && c <= '9' }
