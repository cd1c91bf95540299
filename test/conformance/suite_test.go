package conformance

import (
	"context"
	"flag"
	"io/fs"
	"os"
	"testing"

	"k8s.io/apimachinery/pkg/types"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"
	upstream "sigs.k8s.io/gateway-api/conformance"
	"sigs.k8s.io/gateway-api/conformance/utils/suite"
	"sigs.k8s.io/gateway-api/pkg/features"
)

// Defaults for a run started by hand (`go test ./ -args ...`); hack/conformance.sh passes
// every one of them explicitly. A flag given on the command line always wins.
var defaults = map[string]string{
	"gateway-class":        "bridgehead",
	"conformance-profiles": "GATEWAY-HTTP,GATEWAY-TLS,GATEWAY-GRPC,GATEWAY-TCP",
	"organization":         "bridgehead",
	"project":              "bridgehead",
	"url":                  "https://github.com/bridgehead/bridgehead",
	"contact":              "https://github.com/bridgehead/bridgehead/issues",
	// Every Gateway of the class shares the gateway's address (skipped.go), so two tests
	// running at once whose Gateways take the same host on the same port (several use
	// example.org on 443) would answer each other's requests: the upstream option for
	// implementations that cannot run tests concurrently.
	"disable-parallel-tests": "true",
}

// TestConformance runs the upstream suite against the cluster in $KUBECONFIG. It needs a
// node with Bridgehead installed, so it runs only when hack/conformance.sh asks for it.
func TestConformance(t *testing.T) {
	if os.Getenv("BRIDGEHEAD_CONFORMANCE") != "1" {
		t.Skip("needs a real node with Bridgehead installed: run `make conformance` (sets BRIDGEHEAD_CONFORMANCE=1)")
	}
	set := map[string]bool{}
	flag.Visit(func(f *flag.Flag) { set[f.Name] = true })
	for name, value := range defaults {
		if !set[name] {
			if err := flag.Set(name, value); err != nil {
				t.Fatalf("setting -%s: %v", name, err)
			}
		}
	}

	opts := upstream.DefaultOptions(t)
	manifests, err := LocalManifests()
	if err != nil {
		t.Fatal(err)
	}
	opts.ManifestFS = []fs.FS{manifests}
	// The published skip list (skipped.go) always applies; -skip-tests adds to it.
	opts.SkipTests = append(opts.SkipTests, SkippedNames()...)

	// The suite infers the supported features from the GatewayClass status only for a
	// full run; -run-test would otherwise skip every Extended test it names. Read the
	// status here too, so a single test runs with the features the gateway claims.
	if opts.RunTest != "" && len(opts.SupportedFeatures) == 0 && !opts.EnableAllSupportedFeatures {
		opts.SupportedFeatures = claimedFeatures(t, opts)
	}
	upstream.RunConformanceWithOptions(t, opts)
}

func claimedFeatures(t *testing.T, opts suite.ConformanceOptions) []features.FeatureName {
	t.Helper()
	gwc := &gatewayv1.GatewayClass{}
	if err := opts.Client.Get(context.Background(), types.NamespacedName{Name: opts.GatewayClassName}, gwc); err != nil {
		t.Fatalf("reading GatewayClass %s for its supportedFeatures: %v", opts.GatewayClassName, err)
	}
	var claimed []features.FeatureName
	for _, f := range gwc.Status.SupportedFeatures {
		claimed = append(claimed, features.FeatureName(f.Name))
	}
	t.Logf("GatewayClass %s claims %d features: %v", opts.GatewayClassName, len(claimed), claimed)
	return claimed
}
