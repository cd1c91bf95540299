package dataplane

import (
	"io"
	"net"
	"sync/atomic"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	bhv1 "github.com/bridgehead/bridgehead/api/v1alpha1"
	"github.com/bridgehead/bridgehead/proxy"
)

// lateReplyBackend reads a connection to its end (the client's FIN), then answers after
// delay: what a backend that computes once it has the whole request does.
func lateReplyBackend(t *testing.T, delay time.Duration) (string, *atomic.Int64) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ln.Close() })
	var accepted atomic.Int64
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			accepted.Add(1)
			go func() {
				defer func() { _ = c.Close() }()
				_ = c.SetDeadline(time.Now().Add(10 * time.Second))
				req, _ := io.ReadAll(c)
				time.Sleep(delay) // the backend's own work, after the request ended
				_, _ = c.Write(append([]byte("late reply to "), req...))
			}()
		}
	}()
	return ln.Addr().String(), &accepted
}

// withPlainEntryPoint adds a plain TCP entry point, as --entrypoint NAME=127.0.0.1:0 does.
func withPlainEntryPoint(name string, goroutines bool) gatewayOption {
	return func(c *proxy.Config) {
		c.EntryPoints = append(c.EntryPoints, proxy.EntryPoint{Name: name, Address: "127.0.0.1:0"})
		c.GoroutineTCPCopy = goroutines
	}
}

// halfClose sends msg, ends its sending half, and reads the answer to the end.
func halfClose(t *testing.T, addr, msg string) string {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = c.Close() }()
	_ = c.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.WriteString(c, msg); err != nil {
		t.Fatal(err)
	}
	_ = c.(*net.TCPConn).CloseWrite()
	out, _ := io.ReadAll(c)
	return string(out)
}

// ServersTransportTCP's terminationDelay, as Traefik reads it: after the client's FIN the
// backend's direction may go on this long (default 100ms, 0 not at all), and -1 means
// until the backend finishes. Both ways of copying bytes agree. The route is an
// IngressRouteTCP HostSNI(`*`) without tls on a plain entry point of its own.
func TestServersTransportTCPTerminationDelay(t *testing.T) {
	backend, _ := lateReplyBackend(t, 400*time.Millisecond)
	for _, copying := range []struct {
		name       string
		goroutines bool
	}{{"event loop", false}, {"goroutines", true}} {
		for _, tc := range []struct {
			delay bhv1.Duration
			want  string
		}{
			{"-1", "late reply to query"},
			{"2s", "late reply to query"},
			{"100ms", ""},
			{"0", ""},
		} {
			t.Run(copying.name+"/terminationDelay="+string(tc.delay), func(t *testing.T) {
				st := &bhv1.ServersTransportTCP{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "st"},
					Spec: bhv1.ServersTransportTCPSpec{TerminationDelay: &tc.delay, DialTimeout: ptrTo(bhv1.Duration("45s")), DialKeepAlive: ptrTo(bhv1.Duration("-1"))}}
				route := tcpRoute("echo", "HostSNI(`*`)", "echo", false, func(r *bhv1.IngressRouteTCP) {
					r.Spec.EntryPoints, r.Spec.TLS = []string{"tcp"}, nil
					r.Spec.Routes[0].Services[0].ServersTransport = "st"
				})
				g := startGateway(t, append([]client.Object{st, route}, service("echo", "tcp", backend)...), withPlainEntryPoint("tcp", copying.goroutines))
				start := time.Now()
				got := halfClose(t, g.srv.Addrs()["tcp"], "query")
				t.Logf("terminationDelay %s: %q after %v", tc.delay, got, time.Since(start).Round(10*time.Millisecond))
				if got != tc.want {
					t.Errorf("answer %q, want %q", got, tc.want)
				}
			})
		}
	}
}

// ipWhiteList, Traefik's former name of a MiddlewareTCP's ipAllowList, filters the same: a
// client outside it is closed before the backend is dialled.
func TestMiddlewareTCPIPWhiteListFilters(t *testing.T) {
	backend, accepted := lateReplyBackend(t, 0)
	deny := middlewareTCP("office", bhv1.MiddlewareTCPSpec{IPWhiteList: &bhv1.TCPIPAllowList{SourceRange: []string{"192.0.2.0/24"}}}) //nolint:staticcheck // the deprecated name is the point
	allow := middlewareTCP("local", bhv1.MiddlewareTCPSpec{IPWhiteList: &bhv1.TCPIPAllowList{SourceRange: []string{"127.0.0.0/8"}}})  //nolint:staticcheck // the deprecated name is the point
	route := func(mw string) *bhv1.IngressRouteTCP {
		return tcpRoute("echo", "HostSNI(`*`)", "echo", false, withMiddlewares(mw), func(r *bhv1.IngressRouteTCP) {
			r.Spec.EntryPoints, r.Spec.TLS = []string{"tcp"}, nil
		})
	}
	objs := append([]client.Object{deny, allow}, service("echo", "tcp", backend)...)
	g := startGateway(t, append(objs, route("office")), withPlainEntryPoint("tcp", false))
	if got := halfClose(t, g.srv.Addrs()["tcp"], "q"); got != "" || accepted.Load() != 0 {
		t.Errorf("a client outside ipWhiteList got %q and the backend %d connections", got, accepted.Load())
	}
	g.apply(append(objs, route("local"))...)
	if got := halfClose(t, g.srv.Addrs()["tcp"], "q"); got != "late reply to q" {
		t.Errorf("a client inside ipWhiteList: %q", got)
	}
}

func ptrTo[T any](v T) *T { return &v }
