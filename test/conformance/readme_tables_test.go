package conformance

import (
	"strings"
	"testing"

	confv1 "sigs.k8s.io/gateway-api/conformance/apis/v1"
)

// The tables show the report's own numbers and name every failed test once.
func TestTablesShowTheReportsNumbers(t *testing.T) {
	report := confv1.ConformanceReport{
		Implementation:    confv1.Implementation{Version: "v0.2.0"},
		GatewayAPIVersion: "v1.6.3", GatewayAPIChannel: "standard", Mode: "default", Date: "2026-12-04",
		ProfileReports: []confv1.ProfileReport{{
			Name: "GATEWAY-HTTP",
			Core: confv1.Status{Result: confv1.Failure, Statistics: confv1.Statistics{Passed: 33, Failed: 2, Skipped: 1},
				FailedTests: []string{"HTTPRouteWeight", "HTTPRouteSimpleSameNamespace"}},
			Extended: &confv1.ExtendedStatus{
				Status:            confv1.Status{Result: confv1.Success, Statistics: confv1.Statistics{Passed: 8}},
				SupportedFeatures: []string{"HTTPRoutePathRedirect", "HTTPRoutePortRedirect"},
			},
		}, {
			Name: "GATEWAY-TLS",
			Core: confv1.Status{Result: confv1.Failure, Statistics: confv1.Statistics{Passed: 18, Failed: 1, Skipped: 2},
				FailedTests: []string{"HTTPRouteWeight"}, SkippedTests: []string{"TLSRouteHostnameIntersection", "SomeOtherTest"}},
		}},
	}
	got := Tables(map[string]confv1.ConformanceReport{"standard-v0.2.0-default-report.yaml": report})
	for _, want := range []string{
		"| standard | v0.2.0 | default | [v0.2.0 report](./standard-v0.2.0-default-report.yaml) |",
		"| GATEWAY-HTTP | failure | 33 / 2 / 1 | success | 8 / 0 / 0 | 2 |",
		"| GATEWAY-TLS | failure | 18 / 1 / 2 | - | - | - |",
		"Failed tests: HTTPRouteSimpleSameNamespace, HTTPRouteWeight.",
		// A skip names its reason: the published list's, or that the run itself chose it.
		"- TLSRouteHostnameIntersection: " + Skipped["TLSRouteHostnameIntersection"] + ".",
		"- SomeOtherTest: skipped by the run that wrote this report",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("tables lack %q:\n%s", want, got)
		}
	}
}

func TestReplaceTablesNeedsTheMarkers(t *testing.T) {
	if _, err := ReplaceTables([]byte("# no markers\n"), "x"); err == nil {
		t.Fatal("a README without the markers was accepted")
	}
	out, err := ReplaceTables([]byte("a\n"+tablesBegin+"\nold\n"+tablesEnd+"\nb\n"), "new\n")
	if err != nil {
		t.Fatal(err)
	}
	if s := string(out); strings.Contains(s, "old") || !strings.Contains(s, "new") || !strings.HasSuffix(s, tablesEnd+"\nb\n") {
		t.Fatalf("tables not replaced in place:\n%s", s)
	}
}
