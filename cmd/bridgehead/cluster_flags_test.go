package main

import (
	"io"
	"strings"
	"testing"

	"github.com/bridgehead/bridgehead/internal/snapshot"
)

// The API server rate is a production setting: client-go's default (5 a second) would
// take over half an hour to write the statuses of 10,000 routes, and a rate that is not
// positive is refused by name before anything starts.
func TestKubeAPIRateFlags(t *testing.T) {
	f, err := parseServeFlags(nil, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if f.cluster.apiQPS != 50 || f.cluster.apiBurst != 100 {
		t.Errorf("defaults: --kube-api-qps %v, --kube-api-burst %d; want 50 and 100", f.cluster.apiQPS, f.cluster.apiBurst)
	}
	if _, err := f.gatewayConfig(&snapshot.Store{}); err != nil {
		t.Errorf("the defaults are refused: %v", err)
	}
	for _, arg := range []string{"--kube-api-qps=0", "--kube-api-qps=-1", "--kube-api-burst=0"} {
		f, err := parseServeFlags([]string{arg}, io.Discard)
		if err != nil {
			t.Fatal(err)
		}
		flagName, _, _ := strings.Cut(arg, "=")
		if _, err := f.gatewayConfig(&snapshot.Store{}); err == nil || !strings.Contains(err.Error(), flagName) {
			t.Errorf("%s: %v", arg, err)
		}
	}
}
