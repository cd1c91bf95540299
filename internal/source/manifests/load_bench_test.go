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
	dir := routesFolder(b, "IngressRoute", 1000)
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
// remembers the last one's files and documents. The kinds are the three a migrated
// folder is made of: our IngressRoutes, Ingresses (ingress-nginx users) and Gateway API
// HTTPRoutes.
func BenchmarkReloadRemembered(b *testing.B) {
	for _, kind := range []string{"IngressRoute", "Ingress", "HTTPRoute"} {
		b.Run(kind, func(b *testing.B) {
			dir, m, stamps := loadedFolder(b, kind, 10000)
			var err error
			b.ReportAllocs()
			for b.Loop() {
				// The scan that sees a change, then the load.
				if stamps, err = scan(dir, stamps); err != nil {
					b.Fatal(err)
				}
				res, err := loadRemembering(dir, m, stamps)
				in := res.Inputs
				if n := len(in.IngressRoutes) + len(in.Ingresses) + len(in.HTTPRoutes); err != nil || len(res.Problems) != 0 || n != 10000 {
					b.Fatalf("err %v, %d routes, problems %v", err, n, res.Problems)
				}
			}
		})
	}
}

// BenchmarkReloadWithAFileAddedOrRemoved is what Watch does at bench-scale's changes in
// a 10,000-route folder: one file of one route appears (one iteration), then goes (the
// next); each time the scan and a load that remembers the last one.
func BenchmarkReloadWithAFileAddedOrRemoved(b *testing.B) {
	dir, m, stamps := loadedFolder(b, "HTTPRoute", 10000)
	var err error
	extra := filepath.Join(dir, "new.yaml")
	b.ReportAllocs()
	added := false
	for b.Loop() {
		if added {
			err = os.Remove(extra)
		} else {
			err = os.WriteFile(extra, fmt.Appendf(nil, routeDocs["HTTPRoute"], 10000, 10000), 0o600)
		}
		if err != nil {
			b.Fatal(err)
		}
		added = !added
		if stamps, err = scan(dir, stamps); err != nil {
			b.Fatal(err)
		}
		res, err := loadRemembering(dir, m, stamps)
		if want := 10000 + map[bool]int{true: 1}[added]; err != nil || len(res.Problems) != 0 || len(res.Inputs.HTTPRoutes) != want || res.Origin.Len() != want {
			b.Fatalf("err %v, %d routes (%d origins), want %d, problems %v", err, len(res.Inputs.HTTPRoutes), res.Origin.Len(), want, res.Problems)
		}
	}
}

// routeDocs are one route of each kind, for host and name number %05d (twice).
var routeDocs = map[string]string{
	"IngressRoute": "---\napiVersion: gateway.bridgehead.dev/v1alpha1\nkind: IngressRoute\nmetadata:\n  name: r%05d\n  namespace: scale\n" +
		"spec:\n  entryPoints: [web]\n  routes:\n  - match: Host(`r%05d.scale.test`)\n    services:\n    - name: backend\n      port: http\n",
	"Ingress": "---\napiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata:\n  name: r%05d\n  namespace: scale\n" +
		"spec:\n  rules:\n  - host: r%05d.scale.test\n    http:\n      paths:\n      - path: /\n        pathType: Prefix\n" +
		"        backend:\n          service:\n            name: backend\n            port:\n              name: http\n",
	"HTTPRoute": "---\napiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata:\n  name: r%05d\n  namespace: scale\n" +
		"spec:\n  parentRefs:\n  - name: gw\n  hostnames: [r%05d.scale.test]\n  rules:\n  - backendRefs:\n    - name: backend\n      port: 80\n",
}

// loadedFolder writes n routes of kind (routesFolder) and loads them once with a memo,
// as Watch's first load does.
func loadedFolder(b *testing.B, kind string, n int) (string, *memo, fingerprint) {
	dir := routesFolder(b, kind, n)
	m := newMemo()
	stamps, err := scan(dir, nil)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := loadRemembering(dir, m, stamps); err != nil {
		b.Fatal(err)
	}
	return dir, m, stamps
}

// routesFolder writes n routes of kind, 100 to a file.
func routesFolder(b *testing.B, kind string, n int) string {
	dir := b.TempDir()
	for f := 0; f < n; f += 100 {
		var s strings.Builder
		for i := f; i < min(f+100, n); i++ {
			fmt.Fprintf(&s, routeDocs[kind], i, i)
		}
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("routes-%05d.yaml", f)), []byte(s.String()), 0o600); err != nil {
			b.Fatal(err)
		}
	}
	return dir
}
