// Package readme reads the promises a README makes: each "$ command" line of a ```console
// block is followed by the exact output the command prints. The standalone suite runs
// them against a gateway on loopback, the end-to-end suite against the real node (the
// documented address and ports rewritten to where the gateway listens).
package readme

import (
	"bufio"
	"fmt"
	"os"
	"regexp"
	"strings"
)

// TB is what Steps needs of a test: *testing.T, or Ginkgo's GinkgoT().
type TB interface {
	Helper()
	Fatalf(format string, args ...any)
}

// Step is one documented command and its documented output.
type Step struct {
	Line    int // in the README, for messages
	Command string
	Want    string
}

// Steps reads the commands of the ```console blocks of a README, with keep choosing
// which to run (the others are documented for a cluster, for instance).
func Steps(t TB, path string, keep func(argv []string) bool) []Step {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatalf("%v", err)
	}
	defer func() { _ = f.Close() }()
	var steps []Step
	var cur *Step
	inBlock := false
	flush := func() {
		if cur != nil {
			cur.Want = strings.TrimSuffix(cur.Want, "\n")
			steps = append(steps, *cur)
			cur = nil
		}
	}
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		switch {
		case !inBlock && strings.TrimSpace(line) == "```console":
			inBlock = true
		case inBlock && strings.TrimSpace(line) == "```":
			flush()
			inBlock = false
		case inBlock && strings.HasPrefix(line, "$ "):
			flush()
			cur = &Step{Line: n, Command: strings.TrimPrefix(line, "$ ")}
		case inBlock && cur != nil:
			cur.Want += line + "\n"
		case inBlock:
			t.Fatalf("%s:%d: output before any $ command", path, n)
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatalf("%v", err)
	}
	if inBlock {
		t.Fatalf("%s: unterminated ```console block", path)
	}
	var kept []Step
	for _, s := range steps {
		argv, err := ShellWords(s.Command)
		if err != nil {
			t.Fatalf("%s:%d: %v", path, s.Line, err)
		}
		if keep(argv) {
			kept = append(kept, s)
		}
	}
	if len(kept) == 0 {
		t.Fatalf("%s documents no command to run", path)
	}
	return kept
}

// ShellWords splits a command line the way sh would for the simple commands a README
// shows: words separated by blanks, with '...' and "..." quoting and \ escapes. Pipes,
// redirections and variables are refused, so that what runs is exactly what is written.
func ShellWords(s string) ([]string, error) {
	var words []string
	var cur strings.Builder
	inWord := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == ' ' || c == '\t':
			if inWord {
				words = append(words, cur.String())
				cur.Reset()
				inWord = false
			}
		case c == '\'':
			end := strings.IndexByte(s[i+1:], '\'')
			if end < 0 {
				return nil, fmt.Errorf("unterminated ' in %q", s)
			}
			cur.WriteString(s[i+1 : i+1+end])
			i += end + 1
			inWord = true
		case c == '"':
			i++
			for ; i < len(s) && s[i] != '"'; i++ {
				if s[i] == '\\' && i+1 < len(s) {
					i++
				} else if s[i] == '$' || s[i] == '`' {
					return nil, fmt.Errorf("expansions are not supported in %q", s)
				}
				cur.WriteByte(s[i])
			}
			if i >= len(s) {
				return nil, fmt.Errorf("unterminated \" in %q", s)
			}
			inWord = true
		case c == '\\' && i+1 < len(s):
			i++
			cur.WriteByte(s[i])
			inWord = true
		case strings.IndexByte("|&;<>()$`*?", c) >= 0:
			return nil, fmt.Errorf("shell syntax %q is not supported in %q: write one simple command", c, s)
		default:
			cur.WriteByte(c)
			inWord = true
		}
	}
	if inWord {
		words = append(words, cur.String())
	}
	return words, nil
}

// opensslVersion varies between builds of the same Debian release.
var opensslVersion = regexp.MustCompile(`OpenSSL/\d+\.\d+\.\d+[a-z]*`)

// Normalize drops what may differ without changing the meaning: trailing blanks
// (which Markdown editors strip), trailing newlines and the OpenSSL patch version.
func Normalize(s string) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	for i, l := range lines {
		lines[i] = strings.TrimRight(l, " \t\r")
	}
	return opensslVersion.ReplaceAllString(strings.Join(lines, "\n"), "OpenSSL/x.y.z")
}
