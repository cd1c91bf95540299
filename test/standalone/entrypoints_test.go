package standalone

import (
	"context"
	"fmt"
	"io"
	"net"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// udpEchoBackend answers each datagram with "NAME: " and the datagram.
func udpEchoBackend(t *testing.T, name string) string {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = pc.Close() })
	go func() {
		buf := make([]byte, 2048)
		for {
			n, from, err := pc.ReadFrom(buf)
			if err != nil {
				return
			}
			_, _ = pc.WriteTo(append([]byte(name+": "), buf[:n]...), from)
		}
	}()
	return pc.LocalAddr().String()
}

// tcpEchoBackend echoes each connection's bytes back, prefixed once with "NAME: ".
func tcpEchoBackend(t *testing.T, name string) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer func() { _ = c.Close() }()
				_ = c.SetDeadline(time.Now().Add(10 * time.Second))
				if _, err := io.WriteString(c, name+": "); err == nil {
					_, _ = io.Copy(c, c)
				}
			}()
		}
	}()
	return ln.Addr().String()
}

// portServiceYAML is a Service (no selector) with one port of protocol proto, and the
// EndpointSlice that puts addr behind it.
func portServiceYAML(t *testing.T, name string, svcPort int, proto, addr string) string {
	t.Helper()
	host, p, err := net.SplitHostPort(addr)
	if err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf(`---
apiVersion: v1
kind: Service
metadata: {name: %[1]s, namespace: %[2]s}
spec:
  ports: [{name: main, port: %[3]d, protocol: %[4]s}]
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {name: %[1]s-local, namespace: %[2]s, labels: {kubernetes.io/service-name: %[1]s}}
addressType: IPv4
ports: [{name: main, port: %[5]s, protocol: %[4]s}]
endpoints: [{addresses: [%[6]s]}]
`, name, ns, svcPort, proto, p, host)
}

// entryPointsYAML is what a Traefik user writes for a DNS service on a UDP entry point and
// a plain TCP service on a TCP entry point of its own.
const entryPointsYAML = `apiVersion: traefik.io/v1alpha1
kind: IngressRouteUDP
metadata: {name: dns, namespace: web}
spec:
  entryPoints: [dns]
  routes:
  - services:
    - name: udp-echo
      port: 53
      nativeLB: false
---
apiVersion: traefik.io/v1alpha1
kind: IngressRouteTCP
metadata: {name: echo, namespace: web}
spec:
  entryPoints: [tcpecho]
  routes:
  - match: HostSNI(` + "`*`" + `)
    services: [{name: tcp-echo, port: 9000}]
---
apiVersion: traefik.io/v1alpha1
kind: IngressRouteUDP
metadata: {name: typo, namespace: web}
spec:
  entryPoints: [dnz]
  routes:
  - services: [{name: udp-echo, port: 53}]
`

// TestServeWithEntryPoints runs `bridgehead serve --config-dir` with a UDP and a TCP entry
// point given as Traefik writes addresses (--entrypoint dns=:PORT/udp): the IngressRouteUDP
// answers datagrams (Go client and socat), the IngressRouteTCP HostSNI(*) without tls
// answers plain TCP on its entry point, and a route naming an entry point the gateway
// lacks is not Ready, naming it.
func TestServeWithEntryPoints(t *testing.T) {
	t.Parallel()
	udpAddr, tcpAddr := udpEchoBackend(t, "udp-echo"), tcpEchoBackend(t, "tcp-echo")
	dir := writeFolder(t, map[string]string{
		"services.yaml": portServiceYAML(t, "udp-echo", 53, "UDP", udpAddr) + portServiceYAML(t, "tcp-echo", 9000, "TCP", tcpAddr),
		"routes.yaml":   entryPointsYAML,
	})
	gw := startBridgehead(t, dir, append([]string{"serve", "--config-dir", ".", "--gateway-namespace", ns,
		"--entrypoint", "dns=127.0.0.1:0/udp", "--entrypoint", "tcpecho=127.0.0.1:0", "--udp-timeout", "2s"}, servePorts...)...)
	gw.waitLoaded()
	dns, tcpecho := gw.addrs["dns"], gw.addrs["tcpecho"]
	if dns == "" || tcpecho == "" {
		t.Fatalf("the serving line has no dns or tcpecho address: %v", gw.addrs)
	}

	st := gw.status()
	for _, obj := range []string{"IngressRouteUDP/web/dns", "IngressRouteTCP/web/echo"} {
		if status, reason, msg, _ := st.condition(obj, "Ready"); status != "True" {
			t.Errorf("/status: %s Ready = %q %q %q, want True", obj, status, reason, msg)
		}
	}
	if status, reason, msg, _ := st.condition("IngressRouteUDP/web/typo", "Ready"); status != "False" || reason != "UnknownEntryPoint" || !strings.Contains(msg, `"dnz" is not an entry point of the gateway`) {
		t.Errorf("/status: typo Ready = %q %q %q, want False UnknownEntryPoint naming dnz", status, reason, msg)
	}

	// A Go client: bounded count, a deadline on every read.
	conn, err := net.Dial("udp", dns)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = conn.Close() }()
	buf := make([]byte, 512)
	start := time.Now()
	const queries = 50
	for i := range queries {
		q := fmt.Sprintf("query-%d", i)
		if _, err := conn.Write([]byte(q)); err != nil {
			t.Fatal(err)
		}
		_ = conn.SetReadDeadline(time.Now().Add(2 * time.Second))
		n, err := conn.Read(buf)
		if err != nil || string(buf[:n]) != "udp-echo: "+q {
			t.Fatalf("datagram %d: %q %v", i, buf[:n], err)
		}
	}
	t.Logf("folder mode: %d datagrams answered through --entrypoint dns/udp in %v", queries, time.Since(start).Round(time.Millisecond))

	// socat, a real UDP client, from its own socket.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	out, err := socat(ctx, "ping-from-socat\n", "-T2", "-", "UDP:"+dns)
	if err != nil || out != "udp-echo: ping-from-socat\n" {
		t.Errorf("socat over UDP: %q %v", out, err)
	}
	// Plain TCP on the tcp entry point: HostSNI(*) without tls takes every connection.
	out, err = socat(ctx, "hello over tcp\n", "-t2", "-T2", "-", "TCP:"+tcpecho)
	if err != nil || out != "tcp-echo: hello over tcp\n" {
		t.Errorf("socat over TCP: %q %v", out, err)
	}
}

// socat runs socat with input on its standard input and returns what it printed.
func socat(ctx context.Context, input string, args ...string) (string, error) {
	path, err := exec.LookPath("socat")
	if err != nil {
		return "", err
	}
	cmd := exec.CommandContext(ctx, path, args...)
	cmd.Stdin = strings.NewReader(input)
	out, err := cmd.Output()
	return string(out), err
}
