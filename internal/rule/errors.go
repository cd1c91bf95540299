package rule

import (
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/bridgehead/bridgehead/internal/spelling"
)

// SyntaxError is returned (wrapped or not) for every parse/validation failure.
type SyntaxError struct {
	// Pos is the 1-based column (byte offset + 1) where the problem starts; it is
	// len(expr)+1 when the rule ended too early.
	Pos int
	// Expected says what would have been valid at Pos, e.g. "`)`".
	Expected string
	// Found says what was there instead, e.g. "end of rule" or "identifier Hostt".
	Found string
	// Msg is optional detail, e.g. a regexp compile error or "did you mean Host?".
	Msg string
}

// Error formats the error as "column N: expected X, found Y" followed by "; Msg" when
// Msg is set.
func (e *SyntaxError) Error() string {
	var b strings.Builder
	b.WriteString("column ")
	b.WriteString(strconv.Itoa(e.Pos))
	b.WriteString(": expected ")
	b.WriteString(e.Expected)
	b.WriteString(", found ")
	b.WriteString(e.Found)
	if e.Msg != "" {
		b.WriteString("; ")
		b.WriteString(e.Msg)
	}
	return b.String()
}

// Phrases reused in errors; tests compare against them, so they live in one place.
const (
	expectString   = "a string in backticks"
	expectNonEmpty = "a non-empty string"
	expectOpOrEnd  = "`&&`, `||` or end of rule"
	expectOpOrRPar = "`&&`, `||` or `)`"
	foundEnd       = "end of rule"
)

func expectMatcher(k Kind) string {
	if k == TCP {
		return "a matcher name such as HostSNI or ALPN"
	}
	return "a matcher name such as Host or PathPrefix"
}

// describe renders a token for SyntaxError.Found.
func describe(t token) string {
	switch t.typ {
	case tEOF:
		return foundEnd
	case tIdent:
		return "identifier " + t.text
	case tString:
		return describeString(t.val)
	case tIllegal:
		r, _ := utf8.DecodeRuneInString(t.text)
		if unicode.IsPrint(r) && r != '`' {
			return "`" + t.text + "`"
		}
		return "character " + strconv.QuoteRune(r)
	default:
		return "`" + t.text + "`"
	}
}

// describeString quotes a string value, shortened so that a pasted certificate or a
// huge regexp does not flood a status condition.
func describeString(s string) string {
	const limit = 40
	if s == "" {
		return "empty string"
	}
	if len(s) > limit {
		cut := limit
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		s = s[:cut] + "…"
	}
	return "string " + quote(s)
}

// illegalHint explains the usual reasons for a character the language does not have.
func illegalHint(text string) string {
	switch text {
	case "&":
		return "the and operator is written &&"
	case "|":
		return "the or operator is written ||"
	case "'":
		return "single quotes do not delimit strings; use backticks or double quotes"
	}
	return ""
}

// quote writes s as a rule string literal: backticks when they can hold s exactly,
// otherwise a double-quoted Go literal.
func quote(s string) string {
	if strconv.CanBackquote(s) {
		return "`" + s + "`"
	}
	return strconv.Quote(s)
}

// suggest returns the known matcher name closest to name, or "" when none is close
// enough to be a plausible typo.
func suggest(name string, names []string) string {
	best, bestD := "", 0
	ln := strings.ToLower(name)
	for _, n := range names {
		d := spelling.Distance(ln, strings.ToLower(n))
		if best == "" || d < bestD {
			best, bestD = n, d
		}
	}
	if best == "" || bestD > 2 || bestD*3 > len(best) {
		return ""
	}
	return best
}
