package standalone

import (
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// hrwRoutes: hrw.example.test goes to the highestRandomWeight TraefikService "by-client"
// over svc-a (weight 2) and svc-b (weight 1).
const hrwRoutes = `apiVersion: gateway.bridgehead.dev/v1alpha1
kind: IngressRoute
metadata: {name: hrw, namespace: web}
spec:
  entryPoints: [websecure]
  routes:
  - match: Host(` + "`hrw.example.test`" + `)
    services: [{name: by-client, kind: TraefikService}]
  tls: {secretName: edge-tls}
---
apiVersion: gateway.bridgehead.dev/v1alpha1
kind: TraefikService
metadata: {name: by-client, namespace: web}
spec:
  highestRandomWeight:
    services:
    - {name: svc-a, port: https, serversTransport: backends, weight: 2}
    - {name: svc-b, port: https, serversTransport: backends}
`

// TestTraefikServiceHighestRandomWeight: over real TLS, clients from 60 loopback
// addresses (127.0.0.10-69) each get every answer from one backend, and the addresses
// split about 2:1 as the weights say; curl from one address agrees with the Go client.
func TestTraefikServiceHighestRandomWeight(t *testing.T) {
	t.Parallel()
	p := newPKI(t)
	a, b := tlsBackend(t, p, "A", false), tlsBackend(t, p, "B", false)
	dir := writeFolder(t, map[string]string{
		"secrets.yaml":   p.secretsYAML(),
		"backends.yaml":  serviceYAML(t, "svc-a", addrOf(a)) + serviceYAML(t, "svc-b", addrOf(b)),
		"transport.yaml": transportYAML,
		"routes.yaml":    hrwRoutes,
	})
	gw := serveFolder(t, dir)
	const url = "https://hrw.example.test/"
	waitBody(t, gw.httpsClient(p.edgeCA, true), url, http.StatusOK, "")
	wantCondition(t, gw, "TraefikService/web/by-client", "Ready", "True")

	from := func(ip string) *http.Client {
		d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}}
		tr := &http.Transport{
			TLSClientConfig: &tls.Config{RootCAs: p.edgeCA.Pool()},
			DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
				return d.DialContext(ctx, network, gw.websecure)
			},
		}
		t.Cleanup(tr.CloseIdleConnections)
		return &http.Client{Timeout: 10 * time.Second, Transport: tr}
	}
	byBackend := map[string]int{}
	chosen := map[string]string{}
	for i := 10; i < 70; i++ {
		ip := fmt.Sprintf("127.0.0.%d", i)
		c := from(ip)
		var first string
		for k := range 5 {
			_, body, err := get(c, url)
			if err != nil {
				t.Fatalf("from %s: %v", ip, err)
			}
			if k == 0 {
				first = body
			} else if body != first {
				t.Fatalf("from %s: answers %q then %q; want one backend per client address", ip, first, body)
			}
		}
		byBackend[first]++
		chosen[ip] = first
	}
	t.Logf("60 client addresses, 5 requests each, every address kept its backend: %v (weights 2:1)", byBackend)
	if byBackend["A"] < 30 || byBackend["B"] < 10 || byBackend["A"]+byBackend["B"] != 60 {
		t.Errorf("addresses per backend %v; want about 40 A and 20 B", byBackend)
	}

	ca := writePEM(t, "edge-ca.crt", p.edgeCA.PEM)
	port := port(t, gw.websecure)
	out, code := runTool(t, dir, "curl", "-sS", "--interface", "127.0.0.10", "--cacert", ca, "--resolve", "hrw.example.test:"+port+":127.0.0.1", "https://hrw.example.test:"+port+"/")
	t.Logf("curl from 127.0.0.10: %q (the Go client from there got %q)", out, chosen["127.0.0.10"])
	if code != 0 || strings.TrimSpace(out) != chosen["127.0.0.10"] {
		t.Errorf("curl from 127.0.0.10: exit %d %q; want %q", code, out, chosen["127.0.0.10"])
	}
}
