// Package dataplane tests the gateway end to end on 127.0.0.1: Kubernetes objects are
// translated into a snapshot exactly as in production, the real proxy serves it, and
// real TLS clients and backends (with certificates the tests generate) talk through it.
package dataplane

import (
	"context"
	"crypto/tls"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	bhv1 "github.com/bridgehead/bridgehead/api/v1alpha1"
	"github.com/bridgehead/bridgehead/internal/lastgood"
	"github.com/bridgehead/bridgehead/internal/pki"
	"github.com/bridgehead/bridgehead/internal/snapshot"
	"github.com/bridgehead/bridgehead/internal/translate"
	"github.com/bridgehead/bridgehead/proxy"
)

const ns = "web"

// gateway is a running data plane fed by translate.
type gateway struct {
	t       testing.TB
	store   *snapshot.Store
	srv     *proxy.Server
	web     string // 127.0.0.1:port
	secure  string
	admin   string
	opts    translate.Options
	objects []client.Object
	// keeper translates as the gateway does: a broken version of an object is replaced
	// by its last good version.
	keeper lastgood.Keeper
	// shutdown stops the gateway as SIGTERM does and returns Serve's error (once; the
	// test's cleanup calls it too).
	shutdown func() error
}

type gatewayOption func(*proxy.Config)

func withRedirect() gatewayOption {
	return func(c *proxy.Config) { c.EntryPoints[0].RedirectTo = "websecure" }
}

func startGateway(t testing.TB, objs []client.Object, opts ...gatewayOption) *gateway {
	t.Helper()
	g := &gateway{t: t, store: &snapshot.Store{}, opts: translate.DefaultOptions()}
	g.opts.GatewayNamespace = "bridgehead"
	g.apply(objs...)
	cfg := proxy.Config{
		EntryPoints: []proxy.EntryPoint{
			{Name: "web", Address: "127.0.0.1:0"},
			{Name: "websecure", Address: "127.0.0.1:0", TLS: true},
		},
		AdminAddress: "127.0.0.1:0",
		ErrorHeader:  true,
		Grace:        5 * time.Second,
	}
	for _, o := range opts {
		o(&cfg)
	}
	srv, err := proxy.New(cfg, g.store)
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Listen(); err != nil {
		t.Fatal(err)
	}
	addrs := srv.Addrs()
	g.srv, g.web, g.secure, g.admin = srv, addrs["web"], addrs["websecure"], addrs["admin"]
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx) }()
	g.shutdown = sync.OnceValue(func() error {
		cancel()
		return <-done
	})
	t.Cleanup(func() {
		if err := g.shutdown(); err != nil {
			t.Errorf("gateway shutdown: %v", err)
		}
	})
	return g
}

// apply replaces the gateway's objects and swaps in the new snapshot.
func (g *gateway) apply(objs ...client.Object) translate.Statuses {
	g.t.Helper()
	snap, statuses := g.translate(objs...)
	if err := g.store.Swap(snap); err != nil {
		g.t.Fatalf("swap: %v", err)
	}
	return statuses
}

// translate replaces the gateway's objects and translates them, as the gateway does.
func (g *gateway) translate(objs ...client.Object) (*snapshot.Snapshot, translate.Statuses) {
	g.t.Helper()
	g.objects = objs
	in := &translate.Inputs{}
	for _, o := range objs {
		switch v := o.(type) {
		case *bhv1.IngressRoute:
			in.IngressRoutes = append(in.IngressRoutes, v)
		case *bhv1.IngressRouteTCP:
			in.IngressRouteTCPs = append(in.IngressRouteTCPs, v)
		case *bhv1.IngressRouteUDP:
			in.IngressRouteUDPs = append(in.IngressRouteUDPs, v)
		case *bhv1.TLSOption:
			in.TLSOptions = append(in.TLSOptions, v)
		case *bhv1.TLSStore:
			in.TLSStores = append(in.TLSStores, v)
		case *bhv1.ServersTransport:
			in.ServersTransports = append(in.ServersTransports, v)
		case *bhv1.ServersTransportTCP:
			in.ServersTransportTCPs = append(in.ServersTransportTCPs, v)
		case *bhv1.Middleware:
			in.Middlewares = append(in.Middlewares, v)
		case *bhv1.MiddlewareTCP:
			in.MiddlewareTCPs = append(in.MiddlewareTCPs, v)
		case *corev1.Secret:
			in.Secrets = append(in.Secrets, v)
		case *corev1.ConfigMap:
			in.ConfigMaps = append(in.ConfigMaps, v)
		case *corev1.Service:
			in.Services = append(in.Services, v)
		case *discoveryv1.EndpointSlice:
			in.EndpointSlices = append(in.EndpointSlices, v)
		default:
			g.t.Fatalf("unsupported object %T", o)
		}
	}
	g.opts.Now = time.Now()
	return g.keeper.Translate(in, g.opts)
}

// --- objects ---

func tlsSecret(name string, l *pki.Leaf) *corev1.Secret {
	return &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}, Type: corev1.SecretTypeTLS,
		Data: map[string][]byte{"tls.crt": l.CertPEM, "tls.key": l.KeyPEM}}
}

func caSecret(name string, ca *pki.CA) *corev1.Secret {
	return &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}, Data: map[string][]byte{"ca.crt": ca.PEM}}
}

// service returns a Service named name whose one endpoint is the backend at addr. Port
// name "https" makes the scheme https by the scheme rule.
func service(name, portName, addr string) []client.Object {
	host, port, _ := net.SplitHostPort(addr)
	p, _ := strconv.Atoi(port)
	return []client.Object{
		&corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
			Spec: corev1.ServiceSpec{Ports: []corev1.ServicePort{{Name: portName, Port: 443}}}},
		&discoveryv1.EndpointSlice{
			ObjectMeta:  metav1.ObjectMeta{Namespace: ns, Name: name + "-1", Labels: map[string]string{discoveryv1.LabelServiceName: name}},
			AddressType: discoveryv1.AddressTypeIPv4,
			Ports:       []discoveryv1.EndpointPort{{Name: ptr.To(portName), Port: ptr.To(int32(p))}},
			Endpoints:   []discoveryv1.Endpoint{{Addresses: []string{host}}},
		},
	}
}

type routeSpec struct {
	name, match, svc, transport, secret, option string
	scheme                                      bhv1.Scheme
	middlewares                                 []string
	entryPoints                                 []string
}

func ingressRoute(r routeSpec) *bhv1.IngressRoute {
	ir := &bhv1.IngressRoute{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: r.name},
		Spec: bhv1.IngressRouteSpec{
			EntryPoints: r.entryPoints,
			Routes: []bhv1.Route{{Match: r.match, Services: []bhv1.Service{{
				Name: r.svc, Port: "443", ServersTransport: r.transport, Scheme: r.scheme,
			}}}},
		},
	}
	for _, m := range r.middlewares {
		ir.Spec.Routes[0].Middlewares = append(ir.Spec.Routes[0].Middlewares, bhv1.ObjectReference{Name: m})
	}
	if r.secret != "" || r.option != "" {
		ir.Spec.TLS = &bhv1.TLS{SecretName: bhv1.SecretName(r.secret)}
		if r.option != "" {
			ir.Spec.TLS.Options = &bhv1.ObjectReference{Name: r.option}
		}
	}
	return ir
}

func serversTransport(name, serverName string, roots []string, clientCerts []string) *bhv1.ServersTransport {
	st := &bhv1.ServersTransport{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec: bhv1.ServersTransportSpec{UpstreamTLS: bhv1.UpstreamTLS{ServerName: serverName}}}
	for _, r := range roots {
		st.Spec.RootCAs = append(st.Spec.RootCAs, bhv1.RootCA{Secret: ptr.To(bhv1.SecretName(r))})
	}
	for _, c := range clientCerts {
		st.Spec.CertificatesSecrets = append(st.Spec.CertificatesSecrets, bhv1.SecretName(c))
	}
	return st
}

// --- backends ---

// tlsBackend starts an HTTPS backend that answers "backend:<SNI it saw>" and requires TLS.
func tlsBackend(t testing.TB, leaf *pki.Leaf, mutate ...func(*tls.Config)) *httptest.Server {
	t.Helper()
	b := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Backend-Proto", r.Proto)
		_, _ = w.Write([]byte("backend:" + r.TLS.ServerName))
	}))
	b.TLS = &tls.Config{Certificates: []tls.Certificate{leaf.TLS}}
	for _, m := range mutate {
		m(b.TLS)
	}
	b.EnableHTTP2 = true
	b.StartTLS()
	t.Cleanup(b.Close)
	return b
}

func addrOf(s *httptest.Server) string { return s.Listener.Addr().String() }

// --- clients ---

// httpsClient trusts ca and dials the gateway's TLS entry point for every host name.
func (g *gateway) httpsClient(ca *pki.CA, mutate ...func(*tls.Config)) *http.Client {
	cfg := &tls.Config{RootCAs: ca.Pool()}
	for _, m := range mutate {
		m(cfg)
	}
	return &http.Client{
		Timeout: 10 * time.Second,
		Transport: &http.Transport{
			TLSClientConfig:   cfg,
			ForceAttemptHTTP2: true,
			DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
				return (&net.Dialer{}).DialContext(ctx, network, g.secure)
			},
		},
	}
}

func clientCert(l *pki.Leaf) func(*tls.Config) {
	return func(c *tls.Config) { c.Certificates = []tls.Certificate{l.TLS} }
}
