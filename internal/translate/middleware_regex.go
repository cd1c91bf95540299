package translate

import (
	"errors"
	"fmt"
	"regexp"
	"regexp/syntax"
	"strings"
	"unicode/utf8"

	bhv1 "github.com/bridgehead/bridgehead/api/v1alpha1"
	"github.com/bridgehead/bridgehead/internal/snapshot"
)

// replacePathRegex compiles Traefik's replacePathRegex. Traefik trims spaces around the
// regex and the replacement; so do we, so that the same manifest rewrites alike.
func replacePathRegex(rep *report, k nsName, r *bhv1.ReplacePathRegex) *snapshot.ReplacePathRegex {
	out := &snapshot.ReplacePathRegex{Regex: strings.TrimSpace(r.Regex), Replacement: strings.TrimSpace(r.Replacement)}
	if re := compileRegex(rep, k, "spec.replacePathRegex.regex", out.Regex); re != nil {
		warnMissingGroups(rep, k, "spec.replacePathRegex.replacement", out.Replacement, re)
	}
	return out
}

// stripPrefixRegex compiles Traefik's stripPrefixRegex, each regex trimmed as Traefik does.
func stripPrefixRegex(rep *report, k nsName, s *bhv1.StripPrefixRegex) *snapshot.StripPrefixRegex {
	out := &snapshot.StripPrefixRegex{}
	if len(s.Regex) == 0 {
		rep.invalidf(bhv1.ReasonInvalid, fmt.Sprintf("Middleware %s: spec.stripPrefixRegex.regex is empty, so nothing would be stripped; list the prefixes to strip, such as /api/v[0-9]+", k))
	}
	for i, r := range s.Regex {
		r = strings.TrimSpace(r)
		compileRegex(rep, k, fmt.Sprintf("spec.stripPrefixRegex.regex[%d]", i), r)
		out.Regex = append(out.Regex, r)
	}
	return out
}

// redirectRegex compiles Traefik's redirectRegex (not trimmed, as in Traefik).
func redirectRegex(rep *report, k nsName, r *bhv1.RedirectRegex) *snapshot.RedirectRegex {
	out := &snapshot.RedirectRegex{Regex: r.Regex, Replacement: r.Replacement, Permanent: r.Permanent}
	if r.Replacement == "" {
		rep.invalidf(bhv1.ReasonInvalid, fmt.Sprintf("Middleware %s: spec.redirectRegex.replacement is empty; write the URL to redirect to, such as https://new.example.com/${1}", k))
	}
	if re := compileRegex(rep, k, "spec.redirectRegex.regex", r.Regex); re != nil {
		warnMissingGroups(rep, k, "spec.redirectRegex.replacement", r.Replacement, re)
	}
	return out
}

// compileRegex compiles a Traefik regex with Go's RE2, as Traefik does. One it cannot
// compile (a PCRE lookaround or backreference, say) makes the Middleware not Ready with
// the field and the position of the first thing RE2 refused: Traefik would refuse the
// same regex, but only in its log.
func compileRegex(rep *report, k nsName, field, pattern string) *regexp.Regexp {
	if pattern == "" {
		rep.invalidf(bhv1.ReasonInvalid, fmt.Sprintf("Middleware %s: %s is empty; write a Go regular expression (RE2), such as ^/api/(.*)", k, field))
		return nil
	}
	re, err := regexp.Compile(pattern)
	if err == nil {
		return re
	}
	rep.invalidf(bhv1.ReasonInvalid, fmt.Sprintf("Middleware %s: %s %q is not a Go regular expression (RE2): %s", k, field, pattern, regexProblem(pattern, err)))
	return nil
}

// regexProblem says what RE2 refused, where, and how to write it instead.
func regexProblem(pattern string, err error) string {
	var se *syntax.Error
	if !errors.As(err, &se) {
		return err.Error()
	}
	where := ""
	if se.Code == syntax.ErrMissingParen {
		// Expr is then the whole pattern: point at the parenthesis left open instead.
		if i := unclosedParen(pattern); i >= 0 {
			where = fmt.Sprintf(" (the ( at character %d is never closed)", utf8.RuneCountInString(pattern[:i])+1)
		}
	} else if i := strings.Index(pattern, se.Expr); se.Expr != "" && i >= 0 {
		// Characters, 1-based, as an editor counts columns.
		where = fmt.Sprintf(" at character %d", utf8.RuneCountInString(pattern[:i])+1)
	}
	msg := fmt.Sprintf("%s %q%s", se.Code, se.Expr, where)
	switch {
	case se.Code == syntax.ErrInvalidPerlOp && (strings.HasPrefix(se.Expr, "(?=") || strings.HasPrefix(se.Expr, "(?!") || strings.HasPrefix(se.Expr, "(?<")):
		msg += "; RE2 has no lookahead or lookbehind ((?=, (?!, (?<=, (?<!): match the text itself and capture the part to keep, e.g. ^/api/(.*)"
	case se.Code == syntax.ErrInvalidEscape && len(se.Expr) == 2 && se.Expr[1] >= '1' && se.Expr[1] <= '9':
		msg += "; RE2 has no backreferences: repeat the group's pattern instead"
	case se.Code == syntax.ErrMissingParen || se.Code == syntax.ErrUnexpectedParen:
		msg += "; balance the parentheses, or escape a literal one as \\("
	case se.Code == syntax.ErrMissingRepeatArgument:
		msg += "; escape a literal *, + or ? with a backslash"
	default:
		msg += "; fix the expression (Go's regexp syntax, as Traefik uses)"
	}
	return msg
}

// unclosedParen returns the byte offset of the first ( of pattern that is never closed,
// skipping escapes and character classes, or -1.
func unclosedParen(pattern string) int {
	var open []int
	inClass := false
	for i := 0; i < len(pattern); i++ {
		switch c := pattern[i]; {
		case c == '\\':
			i++
		case inClass:
			inClass = c != ']'
		case c == '[':
			inClass = true
			if i+1 < len(pattern) && pattern[i+1] == ']' {
				i++ // a ] first in a class is literal
			}
		case c == '(':
			open = append(open, i)
		case c == ')' && len(open) > 0:
			open = open[:len(open)-1]
		}
	}
	if len(open) == 0 {
		return -1
	}
	return open[0]
}

// warnMissingGroups flags a replacement that names a group the regex does not have: it
// expands to nothing (in Traefik too). $1x reads as the group named "1x", a common
// surprise, hence the hint to write ${1}x.
func warnMissingGroups(rep *report, k nsName, field, replacement string, re *regexp.Regexp) {
	names := map[string]bool{}
	for _, n := range re.SubexpNames() {
		if n != "" {
			names[n] = true
		}
	}
	for _, ref := range replacementRefs(replacement) {
		if n, ok := groupNumber(ref); ok && n <= re.NumSubexp() || names[ref] {
			continue
		}
		rep.warn(bhv1.ReasonIneffectiveSetting, fmt.Sprintf("Middleware %s: %s names group %q, which the regex does not have (%d groups), so it inserts nothing; write ${1} to follow a group number with letters or digits, and $$ for a literal $", k, field, ref, re.NumSubexp()))
		return
	}
}

// replacementRefs lists the group names a replacement refers to, as regexp.Expand reads
// them: $name (the longest run of letters, digits and _) or ${name}; $$ is a literal $.
func replacementRefs(s string) []string {
	var out []string
	for i := 0; i < len(s); i++ {
		if s[i] != '$' || i+1 >= len(s) {
			continue
		}
		if s[i+1] == '$' {
			i++
			continue
		}
		if s[i+1] == '{' {
			if end := strings.IndexByte(s[i+2:], '}'); end > 0 && isGroupName(s[i+2:i+2+end]) {
				out = append(out, s[i+2:i+2+end])
				i += 2 + end
			}
			continue
		}
		j := i + 1
		for j < len(s) && isGroupByte(s[j]) {
			j++
		}
		if j > i+1 {
			out = append(out, s[i+1:j])
			i = j - 1
		}
	}
	return out
}

func isGroupName(s string) bool {
	for i := 0; i < len(s); i++ {
		if !isGroupByte(s[i]) {
			return false
		}
	}
	return s != ""
}

func isGroupByte(c byte) bool {
	return c == '_' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9'
}

func groupNumber(s string) (int, bool) {
	n := 0
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' || n > 1e6 {
			return 0, false
		}
		n = n*10 + int(s[i]-'0')
	}
	return n, s != ""
}
