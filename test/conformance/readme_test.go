package conformance

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the generated tables of the reports README")

// reportsDir is the folder of the published reports, in the upstream layout
// (conformance/reports/<Gateway API version>/<implementation>/).
var reportsDir = filepath.Join("..", "..", "conformance", "reports", "v1.6.3", "bridgehead")

// TestReportsREADME keeps the README's tables equal to what the report files say.
func TestReportsREADME(t *testing.T) {
	reports, err := ReadReports(reportsDir)
	if err != nil {
		t.Fatal(err)
	}
	if len(reports) == 0 {
		t.Skipf("no *-report.yaml in %s yet: `make conformance` writes one", reportsDir)
	}
	readmePath := filepath.Join(reportsDir, "README.md")
	readme, err := os.ReadFile(readmePath)
	if err != nil {
		t.Fatal(err)
	}
	want, err := ReplaceTables(readme, Tables(reports))
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(readme, want) {
		return
	}
	if *update {
		if err := os.WriteFile(readmePath, want, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	t.Errorf("%s does not show what the reports say: run `go test ./ -run TestReportsREADME -update` in test/conformance", readmePath)
}
