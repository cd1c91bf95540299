// Package diagnose tests `bridgehead diagnose` and `bridgehead lint` end to end on
// 127.0.0.1: each scenario is a folder of manifests written into t.TempDir(), as a user
// would keep it (standalone mode), whose Service has no selector and an EndpointSlice
// pointing at a real TLS (or plain) backend the test starts with certificates from
// internal/pki. The folder is read with the real loader, translated, and every
// endpoint gets a real handshake and request.
package diagnose

import (
	"bytes"
	"context"
	"crypto/tls"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	bhv1 "github.com/bridgehead/bridgehead/api/v1alpha1"
	diag "github.com/bridgehead/bridgehead/internal/diagnose"
	"github.com/bridgehead/bridgehead/internal/pki"
	"github.com/bridgehead/bridgehead/internal/source/manifests"
	"github.com/bridgehead/bridgehead/internal/translate"
)

const (
	ns   = "web"
	host = "app.example.test"
)

// The CAs of every scenario: the edge's, the backend's, an unrelated one, and the one
// that issues client certificates to the gateway.
var (
	edgeCA    = pki.MustCA("Edge CA")
	backendCA = pki.MustCA("Backend CA")
	otherCA   = pki.MustCA("Other CA")
	clientCA  = pki.MustCA("Client CA")
)

// setup is one working end-to-end TLS path: IngressRoute web/app for app.example.test
// with its certificate in Secret app-tls, to Service backend (port https/443), verified by
// ServersTransport backend against the backend CA in Secret backend-ca. A scenario breaks
// one thing in it.
type setup struct {
	// The backend.
	backendLeaf     *pki.Leaf // the certificate it serves
	backendPlain    bool      // it speaks plain HTTP
	backendClientCA *pki.CA   // it requires client certificates from this CA
	backendMaxTLS   uint16    // its highest TLS version (0: TLS 1.3)

	// The objects.
	route     *bhv1.IngressRoute
	transport *bhv1.ServersTransport // nil: none
	service   *corev1.Service
	slice     *discoveryv1.EndpointSlice
	secrets   map[string]*corev1.Secret
	extra     []client.Object

	opts translate.Options
}

func newSetup() *setup {
	s := &setup{
		backendLeaf: backendCA.MustIssue("backend", pki.Options{DNSNames: []string{"backend.web.svc"}}),
		route: &bhv1.IngressRoute{
			ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "app"},
			Spec: bhv1.IngressRouteSpec{
				EntryPoints: []string{"websecure"},
				Routes: []bhv1.Route{{Match: "Host(`" + host + "`)", Services: []bhv1.Service{{
					Name: "backend", Port: "https", ServersTransport: "backend",
				}}}},
				TLS: &bhv1.TLS{SecretName: "app-tls"},
			},
		},
		transport: &bhv1.ServersTransport{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "backend"},
			Spec: bhv1.ServersTransportSpec{UpstreamTLS: bhv1.UpstreamTLS{RootCAs: []bhv1.RootCA{{Secret: ptr.To(bhv1.SecretName("backend-ca"))}}}}},
		service: &corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "backend"},
			Spec: corev1.ServiceSpec{Ports: []corev1.ServicePort{{Name: "https", Port: 443}}}},
		slice: &discoveryv1.EndpointSlice{
			ObjectMeta:  metav1.ObjectMeta{Namespace: ns, Name: "backend-local", Labels: map[string]string{discoveryv1.LabelServiceName: "backend"}},
			AddressType: discoveryv1.AddressTypeIPv4,
			Ports:       []discoveryv1.EndpointPort{{Name: ptr.To("https")}},
			Endpoints:   []discoveryv1.Endpoint{{Addresses: []string{"127.0.0.1"}}},
		},
		secrets: map[string]*corev1.Secret{
			"app-tls":    tlsSecret("app-tls", edgeCA.MustIssue(host, pki.Options{DNSNames: []string{host}})),
			"backend-ca": caSecret("backend-ca", backendCA),
		},
		opts: translate.DefaultOptions(),
	}
	s.opts.GatewayNamespace = "bridgehead"
	return s
}

// backendService names the route's first service.
func (s *setup) backendService() *bhv1.Service { return &s.route.Spec.Routes[0].Services[0] }

// usePort renames the Service port (and the slice's, which must match it by name).
func (s *setup) usePort(name string, number int32) {
	s.service.Spec.Ports[0] = corev1.ServicePort{Name: name, Port: number}
	s.slice.Ports[0].Name = ptr.To(name)
	s.backendService().Port = bhv1.Port(name)
}

func tlsSecret(name string, l *pki.Leaf) *corev1.Secret {
	return &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}, Type: corev1.SecretTypeTLS,
		Data: map[string][]byte{"tls.crt": l.CertPEM, "tls.key": l.KeyPEM}}
}

func caSecret(name string, ca *pki.CA) *corev1.Secret {
	return &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}, Data: map[string][]byte{"ca.crt": ca.PEM}}
}

func tlsOption(name string, mode bhv1.ClientAuthType, secrets ...string) *bhv1.TLSOption {
	o := &bhv1.TLSOption{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}}
	o.Spec.ClientAuth.ClientAuthType = mode
	for _, s := range secrets {
		o.Spec.ClientAuth.SecretNames = append(o.Spec.ClientAuth.SecretNames, bhv1.SecretName(s))
	}
	return o
}

// startBackend starts the backend the setup describes and returns its address.
func (s *setup) startBackend(t *testing.T) string {
	t.Helper()
	handler := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("backend\n")) })
	if s.backendPlain {
		b := httptest.NewServer(handler)
		t.Cleanup(b.Close)
		return b.Listener.Addr().String()
	}
	b := httptest.NewUnstartedServer(handler)
	b.TLS = &tls.Config{Certificates: []tls.Certificate{s.backendLeaf.TLS}, MaxVersion: s.backendMaxTLS}
	if s.backendClientCA != nil {
		b.TLS.ClientAuth, b.TLS.ClientCAs = tls.RequireAndVerifyClientCert, s.backendClientCA.Pool()
	}
	// Handshake errors are what the scenarios provoke; keep them out of the test log.
	b.Config.ErrorLog = discardLog()
	b.EnableHTTP2 = true
	b.StartTLS()
	t.Cleanup(b.Close)
	return b.Listener.Addr().String()
}

// objects are the manifests of the setup, the slice pointing at addr.
func (s *setup) objects(addr string) []client.Object {
	_, port, _ := net.SplitHostPort(addr)
	p, _ := strconv.Atoi(port)
	s.slice.Ports[0].Port = ptr.To(int32(p))
	objs := []client.Object{s.service, s.slice}
	if s.route != nil {
		objs = append(objs, s.route)
	}
	if s.transport != nil {
		objs = append(objs, s.transport)
	}
	for _, name := range sortedNames(s.secrets) {
		objs = append(objs, s.secrets[name])
	}
	return append(objs, s.extra...)
}

func sortedNames(m map[string]*corev1.Secret) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func discardLog() *log.Logger { return log.New(io.Discard, "", 0) }

// writeFolder writes objects as YAML documents into dir/name, as kubectl would read them.
func writeFolder(t *testing.T, dir, name string, objs ...client.Object) {
	t.Helper()
	var buf bytes.Buffer
	for _, o := range objs {
		o.GetObjectKind().SetGroupVersionKind(gvkOf(t, o))
		data, err := yaml.Marshal(o)
		if err != nil {
			t.Fatal(err)
		}
		buf.WriteString("---\n")
		buf.Write(data)
	}
	if err := os.WriteFile(filepath.Join(dir, name), buf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
}

func gvkOf(t *testing.T, o client.Object) (gvk schema.GroupVersionKind) {
	t.Helper()
	switch o.(type) {
	case *bhv1.IngressRoute:
		return bhv1.GroupVersion.WithKind("IngressRoute")
	case *bhv1.IngressRouteTCP:
		return bhv1.GroupVersion.WithKind("IngressRouteTCP")
	case *bhv1.TLSOption:
		return bhv1.GroupVersion.WithKind("TLSOption")
	case *bhv1.ServersTransport:
		return bhv1.GroupVersion.WithKind("ServersTransport")
	case *bhv1.ServersTransportTCP:
		return bhv1.GroupVersion.WithKind("ServersTransportTCP")
	case *corev1.Secret:
		return corev1.SchemeGroupVersion.WithKind("Secret")
	case *corev1.ConfigMap:
		return corev1.SchemeGroupVersion.WithKind("ConfigMap")
	case *corev1.Service:
		return corev1.SchemeGroupVersion.WithKind("Service")
	case *discoveryv1.EndpointSlice:
		return discoveryv1.SchemeGroupVersion.WithKind("EndpointSlice")
	case *networkingv1.Ingress:
		return networkingv1.SchemeGroupVersion.WithKind("Ingress")
	case *networkingv1.IngressClass:
		return networkingv1.SchemeGroupVersion.WithKind("IngressClass")
	}
	t.Fatalf("no kind for %T", o)
	return gvk
}

// diagnosis is the outcome of diagnosing a folder.
type diagnosis struct {
	report *diag.Report
	text   string
}

// diagnoseFolder writes the setup into a fresh folder, starts its backend, and
// diagnoses IngressRoute web/app with probes, as `bridgehead diagnose --config-dir` does.
func (s *setup) diagnose(t *testing.T) diagnosis {
	t.Helper()
	return s.diagnoseTarget(t, diag.Target{Kind: translate.KindIngressRoute, Namespace: ns, Name: "app"})
}

func (s *setup) diagnoseTarget(t *testing.T, target diag.Target) diagnosis {
	t.Helper()
	dir := t.TempDir()
	writeFolder(t, dir, "app.yaml", s.objects(s.startBackend(t))...)
	return diagnoseDir(t, dir, s.opts, target)
}

func diagnoseDir(t *testing.T, dir string, opts translate.Options, targets ...diag.Target) diagnosis {
	t.Helper()
	res, err := manifests.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range res.Problems {
		t.Errorf("the test's own manifests do not load: %s", p)
	}
	in := res.Inputs
	opts.Now = time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	r := diag.Routes(ctx, in, targets, diag.Options{Translate: opts, Probe: true, Timeout: 5 * time.Second, Origin: res.Origin})
	var buf bytes.Buffer
	r.WriteText(&buf)
	return diagnosis{report: r, text: buf.String()}
}

// failed returns the failed hops with a reason.
func (d diagnosis) failed(reason string) []diag.Hop {
	var out []diag.Hop
	for _, s := range d.report.Sections {
		for _, h := range s.Hops {
			if h.Verdict == diag.Fail && h.Reason == reason {
				out = append(out, h)
			}
		}
	}
	return out
}

func (d diagnosis) hops(verdict diag.Verdict) []string {
	var out []string
	for _, s := range d.report.Sections {
		for _, h := range s.Hops {
			if h.Verdict == verdict {
				out = append(out, h.Kind+" "+h.Object+": "+h.Reason)
			}
		}
	}
	return out
}

func hopText(h diag.Hop) string {
	return strings.Join(append([]string{h.Message}, h.Facts...), "\n")
}
