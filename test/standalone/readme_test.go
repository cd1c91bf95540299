package standalone

import (
	"bufio"
	"fmt"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"
)

// A README's ```console blocks are its promise: each "$ command" line is followed by the
// exact output the command prints. These helpers run those commands against a gateway on
// ephemeral ports (the documented ports 8000, 8443 and 9000 are rewritten to the real
// ones, in the commands and in the expected output) and compare.

// step is one documented command and its documented output.
type step struct {
	line    int // in the README, for messages
	command string
	want    string
}

// readmeSteps reads the commands of the ```console blocks of a README, with keep choosing
// which to run (the others are documented for a cluster, for instance).
func readmeSteps(t *testing.T, path string, keep func(argv []string) bool) []step {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = f.Close() }()
	var steps []step
	var cur *step
	inBlock := false
	flush := func() {
		if cur != nil {
			cur.want = strings.TrimSuffix(cur.want, "\n")
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
			cur = &step{line: n, command: strings.TrimPrefix(line, "$ ")}
		case inBlock && cur != nil:
			cur.want += line + "\n"
		case inBlock:
			t.Fatalf("%s:%d: output before any $ command", path, n)
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if inBlock {
		t.Fatalf("%s: unterminated ```console block", path)
	}
	var kept []step
	for _, s := range steps {
		argv, err := shellWords(s.command)
		if err != nil {
			t.Fatalf("%s:%d: %v", path, s.line, err)
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

// shellWords splits a command line the way sh would for the simple commands a README
// shows: words separated by blanks, with '...' and "..." quoting and \ escapes. Pipes,
// redirections and variables are refused, so that what runs is exactly what is written.
func shellWords(s string) ([]string, error) {
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

// normalizeOutput drops what may differ without changing the meaning: trailing blanks
// (which Markdown editors strip), trailing newlines and the OpenSSL patch version.
func normalizeOutput(s string) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	for i, l := range lines {
		lines[i] = strings.TrimRight(l, " \t\r")
	}
	return opensslVersion.ReplaceAllString(strings.Join(lines, "\n"), "OpenSSL/x.y.z")
}

// runSteps runs the documented commands in dir (where the README's relative paths
// resolve), with the documented ports rewritten to the gateway's. A command that follows
// one that edits a file (sed -i) is retried until it prints what is documented, for at
// most reloadLimit plus a margin: the gateway picks up edits by watching the folder.
func runSteps(t *testing.T, readme, dir string, gw *gatewayProc, steps []step) {
	t.Helper()
	ports := strings.NewReplacer(":8443", ":"+port(t, gw.websecure), ":8000", ":"+port(t, gw.web), ":9000", ":"+port(t, gw.admin))
	afterEdit := false
	for _, s := range steps {
		argv, err := shellWords(ports.Replace(s.command))
		if err != nil {
			t.Fatalf("%s:%d: %v", readme, s.line, err)
		}
		if argv[0] == "curl" {
			// In a terminal, as the README shows, curl draws no progress meter; here its
			// output is a pipe, so ask for the same explicitly.
			argv = append([]string{"curl", "--no-progress-meter"}, argv[1:]...)
		}
		want := normalizeOutput(ports.Replace(s.want))
		var got string
		attempt := func() bool {
			out, _ := runTool(t, dir, argv[0], argv[1:]...)
			got = normalizeOutput(out)
			return got == want
		}
		limit := time.Duration(0)
		if afterEdit {
			limit = reloadLimit + 500*time.Millisecond
		}
		if _, ok := eventually(limit, attempt); !ok {
			t.Errorf("%s:%d: $ %s\nprinted:\n%s\nthe README documents:\n%s", readme, s.line, s.command, got, want)
		}
		afterEdit = argv[0] == "sed" && len(argv) > 1 && argv[1] == "-i"
	}
}

// exampleCommands are what an example's README may run: curl against the gateway, and
// sed -i to edit the example's manifests.
func exampleCommands(argv []string) bool {
	return len(argv) > 0 && (argv[0] == "curl" || (argv[0] == "sed" && len(argv) > 1 && argv[1] == "-i"))
}

func TestShellWords(t *testing.T) {
	got, err := shellWords(`curl -sS -w 'a b\n' -H "Host: x" https://h:8443/ a\ b`)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"curl", "-sS", "-w", `a b\n`, "-H", "Host: x", "https://h:8443/", "a b"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Fatalf("got %q, want %q", got, want)
	}
	for _, bad := range []string{"curl x | head", "curl $HOME", "echo 'open", "a > b"} {
		if _, err := shellWords(bad); err == nil {
			t.Errorf("%q: want an error", bad)
		}
	}
}
