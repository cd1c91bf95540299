package manifests

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// BenchmarkLoadRoutes is one reload of a folder of 1,000 IngressRoutes in 10 files, as
// Watch does after a change: what a change costs in folder mode before translate.
func BenchmarkLoadRoutes(b *testing.B) {
	dir := routesFolder(b, 1000)
	b.ReportAllocs()
	for b.Loop() {
		res, err := Load(dir)
		if err != nil || len(res.Inputs.IngressRoutes) != 1000 || len(res.Problems) != 0 {
			b.Fatalf("err %v, %d routes, problems %v", err, len(res.Inputs.IngressRoutes), res.Problems)
		}
	}
}

// BenchmarkReloadRemembered is what Watch does after one file of a 10,000-route folder
// (100 routes a file, as make bench-scale lays it out) changed: the scan, then a load that
// remembers the last one's files and documents.
func BenchmarkReloadRemembered(b *testing.B) {
	dir := routesFolder(b, 10000)
	m := newMemo()
	stamps, err := scan(dir, nil)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := loadRemembering(dir, m, stamps); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		// The scan that sees a change, then the load.
		if stamps, err = scan(dir, stamps); err != nil {
			b.Fatal(err)
		}
		res, err := loadRemembering(dir, m, stamps)
		if err != nil || len(res.Inputs.IngressRoutes) != 10000 || len(res.Problems) != 0 {
			b.Fatalf("err %v, %d routes, problems %v", err, len(res.Inputs.IngressRoutes), res.Problems)
		}
	}
}

// routesFolder writes n IngressRoutes, 100 to a file.
func routesFolder(b *testing.B, n int) string {
	dir := b.TempDir()
	for f := 0; f < n; f += 100 {
		var s strings.Builder
		for i := f; i < min(f+100, n); i++ {
			fmt.Fprintf(&s, "---\napiVersion: gateway.bridgehead.dev/v1alpha1\nkind: IngressRoute\nmetadata:\n  name: r%05d\n  namespace: scale\n"+
				"spec:\n  entryPoints: [web]\n  routes:\n  - match: Host(`r%05d.scale.test`)\n    services:\n    - name: backend\n      port: http\n", i, i)
		}
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("routes-%05d.yaml", f)), []byte(s.String()), 0o600); err != nil {
			b.Fatal(err)
		}
	}
	return dir
}
