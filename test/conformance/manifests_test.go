package conformance

import (
	"bytes"
	"io/fs"
	"strings"
	"testing"
	"testing/fstest"
)

func TestLocalManifestsDropOnlyThePublicForwarder(t *testing.T) {
	local, err := LocalManifests()
	if err != nil {
		t.Fatal(err)
	}
	base, err := fs.ReadFile(local, BaseManifestsPath)
	if err != nil {
		t.Fatal(err)
	}
	for _, public := range []string{"8.8.8.8", "9.9.9.9"} {
		if bytes.Contains(base, []byte(public)) {
			t.Errorf("%s still names the public resolver %s", BaseManifestsPath, public)
		}
	}
	// The suite's own zone and the rest of the infrastructure are untouched.
	for _, kept := range []string{"foo.bar.com:53", "whoami", "name: infra-backend-v1", "registry.k8s.io/coredns/coredns:v1.12.2"} {
		if !bytes.Contains(base, []byte(kept)) {
			t.Errorf("%s lost %q", BaseManifestsPath, kept)
		}
	}
	// Test manifests are served from the embedded suite unchanged.
	if _, err := fs.ReadFile(local, "tests/httproute-simple-same-namespace.yaml"); err != nil {
		t.Errorf("a test manifest is not readable through the overlay: %v", err)
	}
}

func TestLocalManifestsRefuseAChangedUpstream(t *testing.T) {
	for name, corefile := range map[string]string{
		"forwarder moved":      "    forward . 1.1.1.1\n",
		"forwarder duplicated": string(externalForward) + string(externalForward),
	} {
		t.Run(name, func(t *testing.T) {
			_, err := withoutExternalForward(fstest.MapFS{BaseManifestsPath: {Data: []byte(corefile)}})
			if err == nil || !strings.Contains(err.Error(), "update externalForward") {
				t.Fatalf("want an error asking to review the forwarder, got %v", err)
			}
		})
	}
}
