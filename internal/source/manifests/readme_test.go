package manifests

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the generated list of refused Traefik fields in README.md")

const (
	readmeBegin = "<!-- BEGIN refused Traefik fields: generated from internal/source/manifests/traefikfields.go by go test ./internal/source/manifests -run TestREADME -update -->"
	readmeEnd   = "<!-- END refused Traefik fields -->"
)

// refusedFieldsMarkdown is the README's list of the Traefik fields Bridgehead refuses,
// made from traefikFields, so that the two cannot disagree.
func refusedFieldsMarkdown() string {
	var b strings.Builder
	b.WriteString("| Kind | Traefik field | Served when | What to do |\n| --- | --- | --- | --- |\n")
	rows := append([]traefikField(nil), traefikFields...)
	sort.SliceStable(rows, func(i, j int) bool {
		if rows[i].kind != rows[j].kind {
			return rows[i].kind < rows[j].kind
		}
		return rows[i].path < rows[j].path
	})
	for _, f := range rows {
		when := "never"
		if len(f.accept) > 0 {
			var vs []string
			for _, v := range f.accept {
				vs = append(vs, fmt.Sprintf("`%v`", v))
			}
			when = strings.Join(vs, " or ")
		}
		fmt.Fprintf(&b, "| %s | `%s` | %s | %s |\n", f.kind, f.path, when, strings.ReplaceAll(f.hint, "|", `\|`))
	}
	kinds := make([]string, 0, len(unreadTraefikKinds))
	for k := range unreadTraefikKinds {
		kinds = append(kinds, k)
	}
	sort.Strings(kinds)
	if len(kinds) == 0 {
		b.WriteString("\nEvery kind of Traefik v3's CRDs is read; a kind Bridgehead does not know is refused as a whole, naming it.\n")
		return b.String()
	}
	b.WriteString("\nTraefik kinds Bridgehead does not read are refused as a whole:\n\n")
	for _, k := range kinds {
		fmt.Fprintf(&b, "- `%s`: %s.\n", k, unreadTraefikKinds[k])
	}
	return b.String()
}

// TestREADMEListsTheRefusedTraefikFields: the README's list is the table's.
func TestREADMEListsTheRefusedTraefikFields(t *testing.T) {
	path := filepath.Join("..", "..", "..", "README.md")
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	text := string(data)
	begin, end := strings.Index(text, readmeBegin), strings.Index(text, readmeEnd)
	if begin < 0 || end < begin {
		t.Fatalf("README.md has no section between %q and %q", readmeBegin, readmeEnd)
	}
	want := "\n" + refusedFieldsMarkdown()
	got := text[begin+len(readmeBegin) : end]
	if got == want {
		return
	}
	if *update {
		if err := os.WriteFile(path, []byte(text[:begin+len(readmeBegin)]+want+text[end:]), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	t.Errorf("README.md's list of refused Traefik fields differs from traefikFields: run go test ./internal/source/manifests -run TestREADME -update")
}
