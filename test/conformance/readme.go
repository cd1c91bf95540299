package conformance

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	confv1 "sigs.k8s.io/gateway-api/conformance/apis/v1"
	"sigs.k8s.io/yaml"
)

// The tables in a reports README sit between these markers and are generated from the
// report files next to it, so the numbers a reader sees are the report's.
const (
	tablesBegin = "<!-- tables: generated from the report files by `go test ./test/conformance -run TestReportsREADME -update`; do not edit -->"
	tablesEnd   = "<!-- end of generated tables -->"
)

// ReadReports reads every *-report.yaml in dir, by file name.
func ReadReports(dir string) (map[string]confv1.ConformanceReport, error) {
	files, err := filepath.Glob(filepath.Join(dir, "*-report.yaml"))
	if err != nil {
		return nil, err
	}
	out := map[string]confv1.ConformanceReport{}
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		var r confv1.ConformanceReport
		if err := yaml.UnmarshalStrict(raw, &r); err != nil {
			return nil, fmt.Errorf("%s: %w", f, err)
		}
		out[filepath.Base(f)] = r
	}
	return out, nil
}

// Tables renders the upstream table of contents (one row per report) and, per report,
// one row per profile with the core and extended results.
func Tables(reports map[string]confv1.ConformanceReport) string {
	names := make([]string, 0, len(reports))
	for n := range reports {
		names = append(names, n)
	}
	sort.Strings(names)
	var b strings.Builder
	b.WriteString("| API channel | Implementation version | Mode | Report |\n")
	b.WriteString("|-------------|------------------------|------|--------|\n")
	for _, n := range names {
		r := reports[n]
		fmt.Fprintf(&b, "| %s | %s | %s | [%s report](./%s) |\n", r.GatewayAPIChannel, r.Version, r.Mode, r.Version, n)
	}
	for _, n := range names {
		r := reports[n]
		fmt.Fprintf(&b, "\n### %s (Gateway API %s, %s)\n\n", n, r.GatewayAPIVersion, r.Date)
		b.WriteString("| Profile | Core | Core passed / failed / skipped | Extended | Extended passed / failed / skipped | Extended features claimed |\n")
		b.WriteString("|---------|------|--------------------------------|----------|------------------------------------|---------------------------|\n")
		for _, p := range r.ProfileReports {
			ext, extStats, claimed := "-", "-", "-"
			if e := p.Extended; e != nil {
				ext = string(e.Result)
				extStats = stats(e.Statistics)
				claimed = fmt.Sprint(len(e.SupportedFeatures))
			}
			fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %s |\n", p.Name, p.Core.Result, stats(p.Core.Statistics), ext, extStats, claimed)
		}
		if failed := failedTests(r); len(failed) > 0 {
			fmt.Fprintf(&b, "\nFailed tests: %s.\n", strings.Join(failed, ", "))
		}
		b.WriteString(SkippedSection(skippedTests(r)))
	}
	return b.String()
}

func stats(s confv1.Statistics) string {
	return fmt.Sprintf("%d / %d / %d", s.Passed, s.Failed, s.Skipped)
}

func failedTests(r confv1.ConformanceReport) []string {
	return testsOf(r, func(s confv1.Status) []string { return s.FailedTests })
}

func skippedTests(r confv1.ConformanceReport) []string {
	return testsOf(r, func(s confv1.Status) []string { return s.SkippedTests })
}

// testsOf collects one list of test names from every profile's core and extended
// results, each name once, sorted.
func testsOf(r confv1.ConformanceReport, list func(confv1.Status) []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, p := range r.ProfileReports {
		all := list(p.Core)
		if p.Extended != nil {
			all = append(append([]string{}, all...), list(p.Extended.Status)...)
		}
		for _, t := range all {
			if !seen[t] {
				seen[t] = true
				out = append(out, t)
			}
		}
	}
	sort.Strings(out)
	return out
}

// ReplaceTables puts tables between the markers of readme.
func ReplaceTables(readme []byte, tables string) ([]byte, error) {
	i := bytes.Index(readme, []byte(tablesBegin))
	j := bytes.Index(readme, []byte(tablesEnd))
	if i < 0 || j < i {
		return nil, fmt.Errorf("the README has no %q ... %q section", tablesBegin, tablesEnd)
	}
	var out bytes.Buffer
	out.Write(readme[:i+len(tablesBegin)])
	out.WriteString("\n\n" + tables + "\n")
	out.Write(readme[j:])
	return out.Bytes(), nil
}
