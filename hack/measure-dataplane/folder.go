package main

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
)

// ns is the namespace of every object in the generated folder (and --gateway-namespace).
const ns = "web"

// routesPerFile is how many IngressRoutes one generated file holds: 10,000 routes are 100
// files, which is how a large folder is usually split (one file per team or app), and
// keeps the watcher's per-poll stat of the folder from dominating idle CPU.
const routesPerFile = 100

// host is the name route i answers for.
func host(i int) string { return fmt.Sprintf("r%05d.example.test", i) }

// routeYAML is an IngressRoute for h, terminating TLS with edge-tls and forwarding over
// TLS (ServersTransport "backends") to the one Service.
func routeYAML(name, h string) string {
	return fmt.Sprintf(`---
apiVersion: gateway.bridgehead.dev/v1alpha1
kind: IngressRoute
metadata:
  name: %s
  namespace: %s
spec:
  entryPoints: [websecure]
  routes:
  - match: Host(`+"`%s`"+`)
    services:
    - name: backend
      port: https
      serversTransport: backends
  tls:
    secretName: edge-tls
`, name, ns, h)
}

// writeFolder writes a folder of n routes to one Service whose EndpointSlice names
// backendAddr (a loopback address), with the Secrets and ServersTransport they use.
func writeFolder(dir string, n int, edge *leaf, backendCA *authority, backendAddr string) error {
	bhost, bport, err := net.SplitHostPort(backendAddr)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	indent := func(b []byte) string {
		return strings.ReplaceAll(strings.TrimSpace(string(b)), "\n", "\n    ")
	}
	base := fmt.Sprintf(`apiVersion: v1
kind: Secret
metadata:
  name: edge-tls
  namespace: %[1]s
type: kubernetes.io/tls
stringData:
  tls.crt: |
    %[2]s
  tls.key: |
    %[3]s
---
apiVersion: v1
kind: Secret
metadata:
  name: backend-ca
  namespace: %[1]s
type: Opaque
stringData:
  ca.crt: |
    %[4]s
---
apiVersion: gateway.bridgehead.dev/v1alpha1
kind: ServersTransport
metadata:
  name: backends
  namespace: %[1]s
spec:
  serverName: backend.web.svc
  rootCAs:
  - secret: backend-ca
---
apiVersion: v1
kind: Service
metadata:
  name: backend
  namespace: %[1]s
spec:
  ports:
  - name: https
    port: 443
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata:
  name: backend-local
  namespace: %[1]s
  labels:
    kubernetes.io/service-name: backend
addressType: IPv4
ports:
- name: https
  port: %[6]s
endpoints:
- addresses: [%[5]s]
`, ns, indent(edge.certPEM), indent(edge.keyPEM), indent(backendCA.pem), bhost, bport)
	if err := os.WriteFile(filepath.Join(dir, "base.yaml"), []byte(base), 0o600); err != nil {
		return err
	}
	for start := 0; start < n; start += routesPerFile {
		var b strings.Builder
		for i := start; i < n && i < start+routesPerFile; i++ {
			b.WriteString(routeYAML(fmt.Sprintf("r%05d", i), host(i)))
		}
		if err := os.WriteFile(filepath.Join(dir, routeFile(start)), []byte(b.String()), 0o600); err != nil {
			return err
		}
	}
	return nil
}

// routeFile is the file holding route i (and its neighbours).
func routeFile(i int) string { return fmt.Sprintf("routes-%03d.yaml", i/routesPerFile) }

// appendRoute adds an IngressRoute for h to the file of route 0, as an editor would save
// it (write a temporary file, rename it over the original), so the watcher sees one change.
func appendRoute(dir, name, h string) error {
	path := filepath.Join(dir, routeFile(0))
	old, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	tmp := filepath.Join(dir, ".edit.tmp") // hidden: the loader skips dot files
	if err := os.WriteFile(tmp, append(old, routeYAML(name, h)...), 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}
