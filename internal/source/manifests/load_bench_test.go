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
	dir := b.TempDir()
	for f := range 10 {
		var s strings.Builder
		for i := f * 100; i < f*100+100; i++ {
			fmt.Fprintf(&s, "---\napiVersion: gateway.bridgehead.dev/v1alpha1\nkind: IngressRoute\nmetadata:\n  name: r%05d\n  namespace: scale\n"+
				"spec:\n  entryPoints: [web]\n  routes:\n  - match: Host(`r%05d.scale.test`)\n    services:\n    - name: backend\n      port: http\n", i, i)
		}
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("routes-%02d.yaml", f)), []byte(s.String()), 0o600); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportAllocs()
	for b.Loop() {
		res, err := Load(dir)
		if err != nil || len(res.Inputs.IngressRoutes) != 1000 || len(res.Problems) != 0 {
			b.Fatalf("err %v, %d routes, problems %v", err, len(res.Inputs.IngressRoutes), res.Problems)
		}
	}
}
