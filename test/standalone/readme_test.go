package standalone

import (
	"strings"
	"testing"
	"time"

	"github.com/bridgehead/bridgehead/test/readme"
)

// runSteps runs the documented commands in dir (where the README's relative paths
// resolve), with the documented ports rewritten to the gateway's. A command that follows
// one that edits a file (sed -i) is retried until it prints what is documented, for at
// most reloadLimit plus a margin: the gateway picks up edits by watching the folder.
func runSteps(t *testing.T, readmePath, dir string, gw *gatewayProc, steps []readme.Step) {
	t.Helper()
	ports := strings.NewReplacer(":8443", ":"+port(t, gw.websecure), ":8000", ":"+port(t, gw.web), ":9000", ":"+port(t, gw.admin))
	afterEdit := false
	for _, s := range steps {
		argv, err := readme.ShellWords(ports.Replace(s.Command))
		if err != nil {
			t.Fatalf("%s:%d: %v", readmePath, s.Line, err)
		}
		if argv[0] == "curl" {
			// In a terminal, as the README shows, curl draws no progress meter; here its
			// output is a pipe, so ask for the same explicitly.
			argv = append([]string{"curl", "--no-progress-meter"}, argv[1:]...)
		}
		want := readme.Normalize(ports.Replace(s.Want))
		var got string
		attempt := func() bool {
			out, _ := runTool(t, dir, argv[0], argv[1:]...)
			got = readme.Normalize(out)
			return got == want
		}
		limit := time.Duration(0)
		if afterEdit {
			limit = reloadLimit + 500*time.Millisecond
		}
		if _, ok := eventually(limit, attempt); !ok {
			t.Errorf("%s:%d: $ %s\nprinted:\n%s\nthe README documents:\n%s", readmePath, s.Line, s.Command, got, want)
		}
		afterEdit = argv[0] == "sed" && len(argv) > 1 && argv[1] == "-i"
	}
}

// exampleCommands are what an example's README may run: curl against the gateway, and
// sed -i to edit the example's manifests.
func exampleCommands(argv []string) bool {
	return len(argv) > 0 && (argv[0] == "curl" || (argv[0] == "sed" && len(argv) > 1 && argv[1] == "-i"))
}
