package diagnose

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	diag "github.com/bridgehead/bridgehead/internal/diagnose"
	"github.com/bridgehead/bridgehead/internal/source/kube"
	"github.com/bridgehead/bridgehead/internal/testenv"
	"github.com/bridgehead/bridgehead/internal/translate"
)

// apiServer is a real kube-apiserver (envtest) for the cluster-mode tests, started by
// TestMain when KUBEBUILDER_ASSETS is set (make test-integration); nil otherwise, and
// those tests are skipped.
var apiServer *testenv.Env

// apiClient talks to apiServer.
var apiClient client.Client

func TestMain(m *testing.M) {
	os.Exit(runTests(m))
}

func runTests(m *testing.M) int {
	if os.Getenv("KUBEBUILDER_ASSETS") == "" {
		return m.Run()
	}
	dir, err := os.MkdirTemp("", "diagnose-envtest")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer func() { _ = os.RemoveAll(dir) }()
	te, err := testenv.Start(dir)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer func() { _ = te.Stop() }()
	scheme, err := kube.NewScheme()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	if apiClient, err = client.New(te.Config, client.Options{Scheme: scheme}); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	apiServer = te
	return m.Run()
}

// sliceAddress is what the EndpointSlices in the API server say: the API server refuses
// loopback addresses, so diagnose's dialer maps every dial to the test's backend on
// 127.0.0.1 (this address is never dialled).
const sliceAddress = "192.0.2.10"

// inCluster creates the setup's objects in the API server (and deletes them when the test
// ends), then diagnoses target as `bridgehead diagnose` does in cluster mode: through the
// gateway's reader, with real handshakes to the backend.
func (s *setup) inCluster(t *testing.T, target diag.Target) diagnosis {
	t.Helper()
	if apiServer == nil {
		t.Skip("no API server: KUBEBUILDER_ASSETS is not set (make test-integration sets it)")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	addr := s.startBackend(t)
	objs := s.objects(addr)
	s.slice.Endpoints[0].Addresses = []string{sliceAddress}
	for _, o := range objs {
		if ns := o.GetNamespace(); ns != "" {
			err := apiClient.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}})
			if err != nil && !apierrors.IsAlreadyExists(err) {
				t.Fatal(err)
			}
		}
		if err := apiClient.Create(ctx, o); err != nil {
			t.Fatalf("creating %s %s/%s: %v", o.GetObjectKind().GroupVersionKind().Kind, o.GetNamespace(), o.GetName(), err)
		}
		t.Cleanup(func() {
			if err := apiClient.Delete(context.Background(), o); err != nil && !apierrors.IsNotFound(err) {
				t.Errorf("deleting %s/%s: %v", o.GetNamespace(), o.GetName(), err)
			}
		})
	}
	in, problems, err := diag.FromCluster(ctx, apiClient, kube.Options{GatewayAPIKinds: kube.InstalledGatewayAPIKinds(apiClient.RESTMapper())})
	if err != nil {
		t.Fatal(err)
	}
	opts := s.opts
	opts.Now = time.Now()
	var d net.Dialer
	r := diag.Routes(ctx, in, []diag.Target{target}, diag.Options{Translate: opts, Probe: true, Timeout: 5 * time.Second, Problems: problems,
		DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
			return d.DialContext(ctx, network, addr)
		}})
	var buf bytes.Buffer
	r.WriteText(&buf)
	return diagnosis{report: r, text: buf.String()}
}

// TestIngressCausesInCluster: every cause of TestIngressCauses, read from a real API
// server through the gateway's reader.
func TestIngressCausesInCluster(t *testing.T) {
	if apiServer == nil {
		t.Skip("no API server: KUBEBUILDER_ASSETS is not set (make test-integration sets it)")
	}
	for _, c := range ingressCauses {
		t.Run(c.name, func(t *testing.T) {
			s, ing := ingressSetup()
			c.broken(s, ing)
			checkCause(t, s.inCluster(t, ingressTarget), c)
		})
	}
}

// TestIngressWorkingInCluster: the working Ingress, from the API server, is OK.
func TestIngressWorkingInCluster(t *testing.T) {
	s, _ := ingressSetup()
	d := s.inCluster(t, ingressTarget)
	if d.report.Verdict != diag.OK {
		t.Fatalf("verdict %s, want OK:\n%s", d.report.Verdict, d.text)
	}
}

// TestIngressNotWatched: with --watch-namespaces, an Ingress outside them
// is not found, as the gateway would not serve it.
func TestIngressNotWatched(t *testing.T) {
	if apiServer == nil {
		t.Skip("no API server: KUBEBUILDER_ASSETS is not set (make test-integration sets it)")
	}
	s, _ := ingressSetup()
	s.inCluster(t, ingressTarget) // creates the objects
	in, _, err := diag.FromCluster(context.Background(), apiClient, kube.Options{Namespaces: []string{"bridgehead"}})
	if err != nil {
		t.Fatal(err)
	}
	r := diag.Routes(context.Background(), in, []diag.Target{ingressTarget}, diag.Options{Translate: translate.DefaultOptions()})
	var buf bytes.Buffer
	r.WriteText(&buf)
	if !r.Broken() || !bytes.Contains(buf.Bytes(), []byte("Ingress web/app not found")) {
		t.Fatalf("want Ingress web/app not found outside the watched namespaces:\n%s", buf.String())
	}
}
