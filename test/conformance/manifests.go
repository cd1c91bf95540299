// Package conformance runs the upstream Gateway API conformance suite
// (sigs.k8s.io/gateway-api/conformance) against Bridgehead installed on a real node.
// It is its own Go module so the gateway's go.mod does not carry the suite's
// dependencies; hack/conformance.sh (make conformance) drives it.
package conformance

import (
	"bytes"
	"fmt"
	"io/fs"
	"testing/fstest"
	"time"

	upstream "sigs.k8s.io/gateway-api/conformance"
)

// BaseManifestsPath is where the suite reads the shared infrastructure (namespaces,
// echo backends, the CoreDNS used by the UDP tests).
const BaseManifestsPath = "base/manifests.yaml"

// externalForward is the CoreDNS line in the base manifests that forwards every name other
// than the suite's own zone to public resolvers. Bridgehead's test node may only send
// traffic to its own pods and Services, so the line is removed: names outside foo.bar.com
// then get SERVFAIL instead of a query leaving the machine. No conformance test resolves
// such a name.
var externalForward = []byte("        forward . 8.8.8.8 9.9.9.9\n")

// LocalManifests returns the suite's embedded manifests with the one line that would send
// traffic off the machine removed. It fails if that line is not found, so a suite upgrade
// that moves or changes it is noticed instead of silently forwarding again.
func LocalManifests() (fs.FS, error) {
	return withoutExternalForward(&upstream.Manifests)
}

func withoutExternalForward(manifests fs.FS) (fs.FS, error) {
	base, err := fs.ReadFile(manifests, BaseManifestsPath)
	if err != nil {
		return nil, fmt.Errorf("reading the suite's %s: %w", BaseManifestsPath, err)
	}
	if n := bytes.Count(base, externalForward); n != 1 {
		return nil, fmt.Errorf("the suite's %s has %d CoreDNS forward lines to public resolvers, want exactly 1: "+
			"review the manifest and update externalForward", BaseManifestsPath, n)
	}
	patched := bytes.Replace(base, externalForward, nil, 1)
	return overlayFS{base: manifests, files: fstest.MapFS{
		BaseManifestsPath: {Data: patched, Mode: 0o444, ModTime: time.Unix(0, 0)},
	}}, nil
}

// overlayFS serves the files in files and everything else from base. The suite reads every
// FS it is given and concatenates the results, so the replacement must hide the original
// rather than be passed as a second FS.
type overlayFS struct {
	base  fs.FS
	files fstest.MapFS
}

func (o overlayFS) Open(name string) (fs.File, error) {
	if _, ok := o.files[name]; ok {
		return o.files.Open(name)
	}
	return o.base.Open(name)
}
