package translate

import (
	"regexp"
	"strings"
	"testing"
)

// The group names replacementRefs finds are the ones regexp.Expand uses: expanding with
// a regex that names exactly those groups (each matching its own name) inserts them all.
func TestReplacementRefs(t *testing.T) {
	for repl, want := range map[string]string{
		"/v2/$1":        "1",
		"/x/${1}x/$2y":  "1,2y",
		"$$1 ${name}":   "name",
		"${bad-name} $": "",
		"$a_b.c":        "a_b",
	} {
		if got := strings.Join(replacementRefs(repl), ","); got != want {
			t.Errorf("replacementRefs(%q) = %q, want %q", repl, got, want)
		}
	}
}

// FuzzRegexDiagnostics: whatever a user writes as regex and replacement, the messages
// translate builds from them never panic, a refused regex gets a message that names
// what RE2 refused, and every group a replacement names is one regexp.Expand would read.
func FuzzRegexDiagnostics(f *testing.F) {
	for _, s := range [][2]string{
		{`^/(?!admin)(.*)`, `/public/$1`},
		{`/(a)\1`, `$1`},
		{`^http://x/(a`, `https://y/`},
		{`[(]`, `${1`},
		{`(?P<id>[0-9]+)`, `${id}-$id-$$`},
		{`a**`, `$1x`},
		{`\`, `$`},
	} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, pattern, replacement string) {
		if _, err := regexp.Compile(pattern); err != nil {
			if msg := regexProblem(pattern, err); msg == "" {
				t.Fatalf("no message for %q", pattern)
			}
			_ = unclosedParen(pattern)
		}
		for _, ref := range replacementRefs(replacement) {
			if !isGroupName(ref) {
				t.Fatalf("replacement %q: ref %q is not a group name", replacement, ref)
			}
		}
	})
}
