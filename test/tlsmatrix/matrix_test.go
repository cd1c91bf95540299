// Package tlsmatrix runs the gateway as it runs in a cluster — the real controller against
// a real kube-apiserver, the real proxy — and breaks the TLS path to a backend in each way
// users do. For each cause the route's status must name it within 5 seconds, a client
// request must get the matching status code and Bridgehead-Error, and the fix must bring
// the route back to Ready.
package tlsmatrix

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	bhv1 "github.com/bridgehead/bridgehead/api/v1alpha1"
	"github.com/bridgehead/bridgehead/controllers"
	"github.com/bridgehead/bridgehead/internal/diagnose"
	"github.com/bridgehead/bridgehead/internal/pki"
	"github.com/bridgehead/bridgehead/internal/snapshot"
	"github.com/bridgehead/bridgehead/internal/source/kube"
	"github.com/bridgehead/bridgehead/internal/testenv"
	"github.com/bridgehead/bridgehead/internal/translate"
	"github.com/bridgehead/bridgehead/proxy"
)

// cluster is the control plane and data plane of one test run.
type cluster struct {
	k8s        client.Client
	kubectl    string
	kubeconfig string
	secure     string
	edgeCA     *pki.CA

	mu   sync.Mutex
	dial map[string]string // EndpointSlice address -> local backend
}

var env *cluster

func TestMain(m *testing.M) {
	code, err := run(m)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	os.Exit(code)
}

func run(m *testing.M) (int, error) {
	// A folder of the run's own for the kubeconfig: os.TempDir() itself left /tmp/kubeconfig
	// behind, shared by every run on the machine.
	dir, err := os.MkdirTemp("", "tlsmatrix-")
	if err != nil {
		return 0, err
	}
	defer func() { _ = os.RemoveAll(dir) }()
	te, err := testenv.Start(dir)
	if err != nil {
		return 0, err
	}
	defer func() { _ = te.Stop() }()
	scheme := runtime.NewScheme()
	_ = clientgoscheme.AddToScheme(scheme)
	_ = bhv1.AddToScheme(scheme)
	_ = gwv1.Install(scheme) // gatewayapi_test.go
	c, err := client.New(te.Config, client.Options{Scheme: scheme})
	if err != nil {
		return 0, err
	}
	env = &cluster{k8s: c, kubectl: te.Kubectl, kubeconfig: te.Kubeconfig, edgeCA: pki.MustCA("edge CA"), dial: map[string]string{}}

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	mgr, err := ctrl.NewManager(te.Config, ctrl.Options{Scheme: scheme, Metrics: metricsserver.Options{BindAddress: "0"}})
	if err != nil {
		return 0, err
	}
	store := &snapshot.Store{}
	opts := translate.DefaultOptions()
	opts.GatewayNamespace = "bridgehead"
	gw, err := controllers.Setup(ctx, mgr, controllers.Config{Options: opts, Store: store, Debounce: 50 * time.Millisecond})
	if err != nil {
		return 0, err
	}
	srv, err := proxy.New(proxy.Config{
		EntryPoints: []proxy.EntryPoint{{Name: "websecure", Address: "127.0.0.1:0", TLS: true}},
		ErrorHeader: true,
		// The API server refuses loopback addresses in EndpointSlices: map the slice's
		// addresses to the local backends (never dial a 10.x address itself).
		DialContext: env.dialContext,
	}, store)
	if err != nil {
		return 0, err
	}
	if err := srv.Listen(); err != nil {
		return 0, err
	}
	env.secure = srv.Addrs()["websecure"]
	go func() { _ = mgr.Start(ctx) }()
	go func() { _ = srv.Serve(ctx) }()
	go gw.WatchVerdicts(ctx, store, srv.Observations())
	return m.Run(), nil
}

func (c *cluster) dialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	c.mu.Lock()
	local, ok := c.dial[addr]
	c.mu.Unlock()
	if !ok {
		return nil, fmt.Errorf("test dialer: no local backend for %s", addr)
	}
	return (&net.Dialer{}).DialContext(ctx, network, local)
}

func (c *cluster) mapAddress(slice, local string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.dial[slice] = local
}

// get requests https://host/ through the gateway.
func (c *cluster) get(host string) (int, string, error) {
	hc := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{
		TLSClientConfig: &tls.Config{RootCAs: c.edgeCA.Pool()},
		DialContext: func(ctx context.Context, n, _ string) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, n, c.secure)
		},
	}}
	resp, err := hc.Get("https://" + host + "/")
	if err != nil {
		return 0, "", err
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	_ = resp.Body.Close()
	return resp.StatusCode, resp.Header.Get("Bridgehead-Error"), nil
}

func apply(g Gomega, objs ...client.Object) {
	for _, o := range objs {
		existing := o.DeepCopyObject().(client.Object)
		err := env.k8s.Get(context.Background(), client.ObjectKeyFromObject(o), existing)
		switch {
		case apierrors.IsNotFound(err):
			g.Expect(env.k8s.Create(context.Background(), o)).To(Succeed())
		case err == nil:
			o.SetResourceVersion(existing.GetResourceVersion())
			g.Expect(env.k8s.Update(context.Background(), o)).To(Succeed())
		default:
			g.Expect(err).NotTo(HaveOccurred())
		}
	}
}

func remove(g Gomega, o client.Object) {
	err := env.k8s.Delete(context.Background(), o)
	if !apierrors.IsNotFound(err) {
		g.Expect(err).NotTo(HaveOccurred())
	}
}

func readyOf(g Gomega, ns, name string) *metav1.Condition {
	ir := &bhv1.IngressRoute{}
	g.Expect(env.k8s.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: name}, ir)).To(Succeed())
	c := apimeta.FindStatusCondition(ir.Status.Conditions, string(bhv1.ConditionReady))
	g.Expect(c).NotTo(BeNil(), "no Ready condition yet")
	return c
}

// scenario is one namespace with an IngressRoute to an https Service whose endpoint
// 10.0.<n>.10:8443 is mapped to a local backend.
type scenario struct {
	ns, host, slice string
	backendCA       *pki.CA
}

func newScenario(g Gomega, n int, name string) *scenario {
	s := &scenario{ns: name, host: name + ".example.com", slice: fmt.Sprintf("10.0.%d.10:8443", n), backendCA: pki.MustCA(name + " backend CA")}
	edge := env.edgeCA.MustIssue(s.host, pki.Options{DNSNames: []string{s.host}})
	apply(g,
		&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: s.ns}},
		&corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: s.ns, Name: "edge"}, Type: corev1.SecretTypeTLS,
			Data: map[string][]byte{"tls.crt": edge.CertPEM, "tls.key": edge.KeyPEM}},
		&corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: s.ns, Name: "backend-ca"}, Data: map[string][]byte{"ca.crt": s.backendCA.PEM}},
		&corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: s.ns, Name: "backend"},
			Spec: corev1.ServiceSpec{Ports: []corev1.ServicePort{{Name: "https", Port: 443}}}},
		&discoveryv1.EndpointSlice{
			ObjectMeta:  metav1.ObjectMeta{Namespace: s.ns, Name: "backend-1", Labels: map[string]string{discoveryv1.LabelServiceName: "backend"}},
			AddressType: discoveryv1.AddressTypeIPv4,
			Ports:       []discoveryv1.EndpointPort{{Name: ptr.To("https"), Port: ptr.To[int32](8443)}},
			Endpoints:   []discoveryv1.Endpoint{{Addresses: []string{strings.Split(s.slice, ":")[0]}}},
		},
	)
	return s
}

func (s *scenario) transport(serverName string, clientCert string) *bhv1.ServersTransport {
	st := &bhv1.ServersTransport{ObjectMeta: metav1.ObjectMeta{Namespace: s.ns, Name: "backend"},
		Spec: bhv1.ServersTransportSpec{UpstreamTLS: bhv1.UpstreamTLS{ServerName: serverName, RootCAs: []bhv1.RootCA{{Secret: ptr.To(bhv1.SecretName("backend-ca"))}}}}}
	if clientCert != "" {
		st.Spec.CertificatesSecrets = []bhv1.SecretName{bhv1.SecretName(clientCert)}
	}
	return st
}

func (s *scenario) route() *bhv1.IngressRoute {
	return &bhv1.IngressRoute{ObjectMeta: metav1.ObjectMeta{Namespace: s.ns, Name: "app"},
		Spec: bhv1.IngressRouteSpec{
			Routes: []bhv1.Route{{Match: "Host(`" + s.host + "`)", Services: []bhv1.Service{{Name: "backend", Port: "https", ServersTransport: "backend"}}}},
			TLS:    &bhv1.TLS{SecretName: "edge"},
		}}
}

// serve starts a local HTTPS backend for the scenario's endpoint.
func (s *scenario) serve(t *testing.T, leaf *pki.Leaf, mutate ...func(*tls.Config)) {
	b := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("ok")) }))
	b.TLS = &tls.Config{Certificates: []tls.Certificate{leaf.TLS}}
	for _, m := range mutate {
		m(b.TLS)
	}
	b.StartTLS()
	t.Cleanup(b.Close)
	env.mapAddress(s.slice, b.Listener.Addr().String())
}

func (s *scenario) servePlain(t *testing.T) {
	b := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("ok")) }))
	t.Cleanup(b.Close)
	env.mapAddress(s.slice, b.Listener.Addr().String())
}

// diagnoseRoute runs `bridgehead diagnose ingressroute/app -n NS` against the cluster, with
// real handshakes through the same address mapping as the gateway.
func diagnoseRoute(g Gomega, s *scenario) (*diagnose.Report, string) {
	ctx := context.Background()
	target := []diagnose.Target{{Kind: translate.KindIngressRoute, Namespace: s.ns, Name: "app"}}
	in, problems, err := diagnose.FromCluster(ctx, env.k8s, kube.Options{})
	g.Expect(err).NotTo(HaveOccurred())
	opts := translate.DefaultOptions()
	opts.GatewayNamespace = "bridgehead"
	rep := diagnose.Routes(ctx, in, target, diagnose.Options{Translate: opts, Probe: true, Problems: problems, DialContext: env.dialContext})
	var out strings.Builder
	rep.WriteText(&out)
	return rep, out.String()
}

// expectBroken asserts the cause on the route within 5 seconds, what a client gets, and
// what diagnose says.
func expectBroken(t *testing.T, g Gomega, s *scenario, reason string, status int, header string, message ...string) {
	g.Eventually(func(g Gomega) {
		c := readyOf(g, s.ns, "app")
		g.Expect(c.Status).To(Equal(metav1.ConditionFalse), c.Message)
		g.Expect(c.Reason).To(Equal(reason), c.Message)
		for _, m := range message {
			g.Expect(c.Message).To(ContainSubstring(m))
		}
	}).WithTimeout(5 * time.Second).WithPolling(50 * time.Millisecond).Should(Succeed())
	code, got, err := env.get(s.host)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(code).To(Equal(status))
	g.Expect(got).To(Equal(header))
	rep, out := diagnoseRoute(g, s)
	g.Expect(rep.Broken()).To(BeTrue(), out)
	g.Expect(out).To(ContainSubstring(reason))
	g.Expect(out).To(ContainSubstring("fix:"))
}

func expectReady(g Gomega, s *scenario) {
	g.Eventually(func(g Gomega) {
		c := readyOf(g, s.ns, "app")
		g.Expect(c.Status).To(Equal(metav1.ConditionTrue), c.Reason+": "+c.Message)
		code, reason, err := env.get(s.host)
		g.Expect(err).NotTo(HaveOccurred())
		g.Expect(code).To(Equal(200), reason)
		rep, out := diagnoseRoute(g, s)
		g.Expect(rep.Broken()).To(BeFalse(), out)
	}).WithTimeout(5 * time.Second).WithPolling(50 * time.Millisecond).Should(Succeed())
}

func TestBackendSignedByAnotherCA(t *testing.T) {
	g := NewWithT(t)
	s := newScenario(g, 1, "unknown-authority")
	s.serve(t, pki.MustCA("someone else").MustIssue("backend.unknown-authority.svc", pki.Options{DNSNames: []string{"backend.unknown-authority.svc"}}))
	apply(g, s.transport("", ""), s.route())
	expectBroken(t, g, s, "UnknownAuthority", 502, "UnknownAuthority", "issued by", "trusted roots: Secret unknown-authority/backend-ca")
	s.serve(t, s.backendCA.MustIssue("backend.unknown-authority.svc", pki.Options{DNSNames: []string{"backend.unknown-authority.svc"}}))
	// The fix is a new backend certificate: a new probe happens when the path changes,
	// here when the route is re-applied; a request proves it too.
	g.Eventually(func() int { c, _, _ := env.get(s.host); return c }).WithTimeout(5 * time.Second).Should(Equal(200))
	expectReady(g, s)
}

func TestBackendCertificateForOtherNames(t *testing.T) {
	g := NewWithT(t)
	s := newScenario(g, 2, "name-mismatch")
	s.serve(t, s.backendCA.MustIssue("db.internal", pki.Options{DNSNames: []string{"db.internal"}}))
	apply(g, s.transport("", ""), s.route())
	expectBroken(t, g, s, "NameMismatch", 502, "NameMismatch", "db.internal", "backend.name-mismatch.svc")
	apply(g, s.transport("db.internal", ""))
	expectReady(g, s)
}

func TestBackendCertificateExpired(t *testing.T) {
	g := NewWithT(t)
	s := newScenario(g, 3, "expired")
	s.serve(t, s.backendCA.MustIssue("backend.expired.svc", pki.Options{DNSNames: []string{"backend.expired.svc"},
		NotBefore: time.Now().Add(-48 * time.Hour), NotAfter: time.Now().Add(-24 * time.Hour)}))
	apply(g, s.transport("", ""), s.route())
	expectBroken(t, g, s, "CertificateExpired", 502, "CertificateExpired")
}

func TestPlainHTTPOnAnHTTPSPort(t *testing.T) {
	g := NewWithT(t)
	s := newScenario(g, 4, "not-tls")
	s.servePlain(t)
	apply(g, s.transport("", ""), s.route())
	expectBroken(t, g, s, "BackendNotTLS", 502, "BackendNotTLS")
}

func TestBackendRequiresAClientCertificate(t *testing.T) {
	g := NewWithT(t)
	s := newScenario(g, 5, "client-cert")
	s.serve(t, s.backendCA.MustIssue("backend.client-cert.svc", pki.Options{DNSNames: []string{"backend.client-cert.svc"}}), func(c *tls.Config) {
		c.ClientAuth, c.ClientCAs = tls.RequireAndVerifyClientCert, s.backendCA.Pool()
	})
	apply(g, s.transport("", ""), s.route())
	expectBroken(t, g, s, "ClientCertificateRequired", 502, "ClientCertificateRequired", "certificatesSecrets")
	id := s.backendCA.MustIssue("gateway", pki.Options{})
	apply(g, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: s.ns, Name: "gateway-id"}, Type: corev1.SecretTypeTLS,
		Data: map[string][]byte{"tls.crt": id.CertPEM, "tls.key": id.KeyPEM}}, s.transport("", "gateway-id"))
	expectReady(g, s)
}

func TestRootCASecretMissing(t *testing.T) {
	g := NewWithT(t)
	s := newScenario(g, 6, "ca-missing")
	s.serve(t, s.backendCA.MustIssue("backend.ca-missing.svc", pki.Options{DNSNames: []string{"backend.ca-missing.svc"}}))
	apply(g, s.transport("", ""), s.route())
	expectReady(g, s)
	remove(g, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: s.ns, Name: "backend-ca"}})
	expectBroken(t, g, s, "CASecretNotFound", 502, "CASecretNotFound ca-missing/backend-ca", `Secret "backend-ca" (CA certificates) not found in namespace ca-missing`)
	apply(g, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: s.ns, Name: "backend-ca"}, Data: map[string][]byte{"ca.crt": s.backendCA.PEM}})
	expectReady(g, s)
}

func TestServicePortResolvingToHTTPNeverUsesTheServersTransport(t *testing.T) {
	g := NewWithT(t)
	s := newScenario(g, 7, "http-port")
	s.serve(t, s.backendCA.MustIssue("backend.http-port.svc", pki.Options{DNSNames: []string{"backend.http-port.svc"}}))
	// The mistake of Traefik's documentation example: port 8443 named "web", no scheme.
	apply(g, &corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: s.ns, Name: "backend"},
		Spec: corev1.ServiceSpec{Ports: []corev1.ServicePort{{Name: "web", Port: 8443}}}})
	apply(g, &discoveryv1.EndpointSlice{
		ObjectMeta:  metav1.ObjectMeta{Namespace: s.ns, Name: "backend-1", Labels: map[string]string{discoveryv1.LabelServiceName: "backend"}},
		AddressType: discoveryv1.AddressTypeIPv4,
		Ports:       []discoveryv1.EndpointPort{{Name: ptr.To("web"), Port: ptr.To[int32](8443)}},
		Endpoints:   []discoveryv1.Endpoint{{Addresses: []string{strings.Split(s.slice, ":")[0]}}},
	})
	r := s.route()
	r.Spec.Routes[0].Services[0].Port = "8443"
	apply(g, s.transport("", ""), r)
	g.Eventually(func(g Gomega) {
		ir := &bhv1.IngressRoute{}
		g.Expect(env.k8s.Get(context.Background(), client.ObjectKey{Namespace: s.ns, Name: "app"}, ir)).To(Succeed())
		w := apimeta.FindStatusCondition(ir.Status.Conditions, string(bhv1.ConditionWarnings))
		g.Expect(w).NotTo(BeNil())
		g.Expect(w.Reason).To(Equal(string(bhv1.ReasonIneffectiveSetting)))
		g.Expect(w.Message).To(ContainSubstring("its TLS settings are never used"))
	}).WithTimeout(5 * time.Second).Should(Succeed())
	code, reason, err := env.get(s.host)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect([]any{code, reason}).To(Equal([]any{502, "BackendExpectsTLS"}))
	expectBroken(t, g, s, "BackendExpectsTLS", 502, "BackendExpectsTLS")
	r.Spec.Routes[0].Services[0].Scheme = bhv1.SchemeHTTPS
	apply(g, r)
	expectReady(g, s)
}

func TestKubectlShowsTheBrokenRouteAndWhy(t *testing.T) {
	g := NewWithT(t)
	s := newScenario(g, 8, "kubectl")
	s.serve(t, s.backendCA.MustIssue("db.internal", pki.Options{DNSNames: []string{"db.internal"}}))
	apply(g, s.transport("", ""), s.route())
	expectBroken(t, g, s, "NameMismatch", 502, "NameMismatch")
	kubectl := func(args ...string) string {
		out, err := exec.Command(env.kubectl, append([]string{"--kubeconfig", env.kubeconfig}, args...)...).CombinedOutput()
		g.Expect(err).NotTo(HaveOccurred(), string(out))
		return string(out)
	}
	get := kubectl("get", "ingressroutes", "-n", s.ns)
	g.Expect(get).To(MatchRegexp(`(?m)^NAME\s+HOSTS\s+TLS\s+READY\s+REASON\s+AGE`))
	g.Expect(get).To(MatchRegexp(`(?m)^app\s+\["kubectl.example.com"\]\s+edge\s+False\s+NameMismatch\s`))
	g.Eventually(func() string { return kubectl("describe", "ingressroute", "app", "-n", s.ns) }).WithTimeout(5 * time.Second).Should(And(
		ContainSubstring("names checked: backend, backend.kubectl, backend.kubectl.svc, backend.kubectl.svc.cluster.local"),
		MatchRegexp(`Warning\s+NameMismatch`),
	))
}
