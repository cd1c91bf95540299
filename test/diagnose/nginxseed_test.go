package diagnose

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	bhv1 "github.com/bridgehead/bridgehead/api/v1alpha1"
	diag "github.com/bridgehead/bridgehead/internal/diagnose"
	"github.com/bridgehead/bridgehead/internal/pki"
	"github.com/bridgehead/bridgehead/internal/source/kube"
	"github.com/bridgehead/bridgehead/internal/source/manifests"
	"github.com/bridgehead/bridgehead/internal/testenv"
	"github.com/bridgehead/bridgehead/internal/translate"
)

// seedHost replaces the blog post's ${YOUR_CERTIFICATE_COMMON_NAME}.
const seedHost = "app.example.test"

// seedCause is one of the four mistakes of the nginx seed, as diagnose names it.
type seedCause struct {
	verdict diag.Verdict
	kind    string
	reason  string
	says    string
}

var seedCauses = []seedCause{
	{diag.Fail, "Ingress", string(bhv1.ReasonTLSSecretNameMissing), "spec.tls[0] lists hosts " + seedHost + " but no secretName"},
	{diag.Warn, "Ingress", string(bhv1.ReasonTLSHostsMissing), `spec.tls[1] names Secret "router-tls" but lists no hosts`},
	{diag.Fail, "Ingress", string(bhv1.ReasonNotFound), `Secret "router-tls" not found in namespace default; did you mean Secret application/app-router-tls?`},
	{diag.Warn, "Secret", string(bhv1.ReasonSecretTypeNotTLS), "Secret application/app-router-tls (which spec.tls[1].secretName \"router-tls\" probably means) is of type Opaque"},
}

// seedFolder writes the nginx seed's manifests (testdata/nginx-seed) into a fresh folder
// with the placeholders filled: the host, a certificate for it in the Opaque Secret, and
// the EndpointSlice of web-service pointing at a plain HTTP backend on 127.0.0.1.
func seedFolder(t *testing.T, withEndpoints bool) string {
	t.Helper()
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("web\n")) }))
	t.Cleanup(backend.Close)
	_, port, _ := net.SplitHostPort(backend.Listener.Addr().String())
	leaf := edgeCA.MustIssue(seedHost, pki.Options{DNSNames: []string{seedHost}})
	replacer := strings.NewReplacer(
		"${YOUR_CERTIFICATE_COMMON_NAME}", seedHost,
		"CERT BASE64 STRING GOES HERE", base64.StdEncoding.EncodeToString(leaf.CertPEM),
		"KEY BASE64 STRING GOES HERE", base64.StdEncoding.EncodeToString(leaf.KeyPEM),
		"${BACKEND_PORT}", port,
	)
	dir := t.TempDir()
	src := filepath.Join("testdata", "nginx-seed")
	files, err := filepath.Glob(filepath.Join(src, "manifests", "*.yaml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no seed manifests: %v", err)
	}
	if withEndpoints {
		files = append(files, filepath.Join(src, "endpoints.yaml"))
	}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, filepath.Base(f)), []byte(replacer.Replace(string(data))), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// checkSeed finds each of the four causes in the report, and nothing else broken but
// their consequences.
func checkSeed(t *testing.T, r *diag.Report, text string) {
	t.Helper()
	if !r.Broken() {
		t.Errorf("the seed's report is not broken:\n%s", text)
	}
	for _, c := range seedCauses {
		found := false
		for _, s := range r.Sections {
			for _, h := range s.Hops {
				if h.Verdict == c.verdict && h.Kind == c.kind && h.Reason == c.reason && strings.Contains(h.Message, c.says) && h.Fix != "" {
					found = true
				}
			}
		}
		if !found {
			t.Errorf("no %s %s hop %s saying %q (with a fix):\n%s", c.verdict, c.kind, c.reason, c.says, text)
		}
	}
}

// TestNginxSeedCLI runs the real bridgehead binary on the seed's folder, as a user who
// moves off ingress-nginx would: `bridgehead diagnose --config-dir DIR ingress/web-app-tls`.
func TestNginxSeedCLI(t *testing.T) {
	bin := buildCLI(t)
	dir := seedFolder(t, true)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	code, text := runCLI(t, ctx, bin, "diagnose", "--config-dir", dir, "ingress/web-app-tls")
	if code != 1 {
		t.Fatalf("exit status %d, want 1 (broken):\n%s", code, text)
	}
	code, out := runCLI(t, ctx, bin, "diagnose", "--config-dir", dir, "ingress/web-app-tls", "-o", "json")
	if code != 1 {
		t.Fatalf("exit status %d with -o json, want 1", code)
	}
	var r diag.Report
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("the JSON report does not parse: %v\n%s", err, out)
	}
	checkSeed(t, &r, text)
	// Read as the user has it: the removed API version is said, with the fields to rewrite.
	for _, want := range []string{"RemovedAPIVersion", "serviceName -> spec.rules[0].http.paths[0].backend.service.name"} {
		if !strings.Contains(text, want) {
			t.Errorf("the report does not say %q:\n%s", want, text)
		}
	}
	// The backend itself works: the one Endpoint hop is OK.
	if !strings.Contains(text, "GET / over http answered 200") {
		t.Errorf("the backend was not reached:\n%s", text)
	}
}

// TestNginxSeedFolder: the same in-process, as the other folder tests.
func TestNginxSeedFolder(t *testing.T) {
	dir := seedFolder(t, true)
	d := diagnoseDir(t, dir, translate.DefaultOptions(), diag.Target{Kind: translate.KindIngress, Namespace: "default", Name: "web-app-tls"})
	checkSeed(t, d.report, d.text)
}

// TestNginxSeedInCluster: the seed applied to a real API server (converted to
// networking.k8s.io/v1, which the API server requires), diagnosed through the gateway's
// reader: the same four causes.
func TestNginxSeedInCluster(t *testing.T) {
	if apiServer == nil {
		t.Skip("no API server: KUBEBUILDER_ASSETS is not set (make test-integration sets it)")
	}
	dir := seedFolder(t, false)
	res, err := manifests.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var objs []client.Object
	for _, o := range res.Inputs.Services {
		objs = append(objs, o)
	}
	for _, o := range res.Inputs.Secrets {
		objs = append(objs, o)
	}
	for _, o := range res.Inputs.Ingresses {
		objs = append(objs, o)
	}
	if len(objs) != 4 {
		t.Fatalf("want the Service, the Secret and two Ingresses, got %d objects (problems: %v)", len(objs), res.Problems)
	}
	for _, o := range objs {
		err := apiClient.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: o.GetNamespace()}})
		if err != nil && !apierrors.IsAlreadyExists(err) {
			t.Fatal(err)
		}
		if err := apiClient.Create(ctx, o); err != nil {
			t.Fatalf("creating %s/%s: %v", o.GetNamespace(), o.GetName(), err)
		}
		t.Cleanup(func() { _ = apiClient.Delete(context.Background(), o) })
	}
	in, problems, err := diag.FromCluster(ctx, apiClient, kube.Options{})
	if err != nil {
		t.Fatal(err)
	}
	r := diag.Routes(ctx, in, []diag.Target{{Kind: translate.KindIngress, Namespace: "default", Name: "web-app-tls"}},
		diag.Options{Translate: translate.DefaultOptions(), Problems: problems})
	var buf bytes.Buffer
	r.WriteText(&buf)
	checkSeed(t, r, buf.String())

	// The real CLI against the API server (loopback). web-service has no endpoints in
	// envtest (no pods), so nothing else is dialled.
	code, out := runCLI(t, ctx, buildCLI(t), "diagnose", "ingress/web-app-tls", "--kubeconfig", apiServer.Kubeconfig, "-o", "json")
	if code != 1 {
		t.Fatalf("the CLI in cluster mode: exit status %d, want 1:\n%s", code, out)
	}
	var cli diag.Report
	if err := json.Unmarshal([]byte(out), &cli); err != nil {
		t.Fatalf("the JSON report does not parse: %v\n%s", err, out)
	}
	checkSeed(t, &cli, out)
}

// runCLI runs the binary and returns its exit status and standard output.
func runCLI(t *testing.T, ctx context.Context, bin string, args ...string) (int, string) {
	t.Helper()
	cmd := exec.CommandContext(ctx, bin, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	code := 0
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		code = exit.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	if stderr.Len() > 0 {
		t.Logf("stderr: %s", stderr.String())
	}
	return code, stdout.String()
}

// buildCLI builds cmd/bridgehead into the test's temporary folder.
func buildCLI(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "bridgehead")
	cmd := exec.Command("go", "build", "-o", bin, "./cmd/bridgehead")
	cmd.Dir = testenv.RepoRoot()
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("building the CLI: %v\n%s", err, out)
	}
	if fi, err := os.Stat(bin); err != nil || fi.Mode()&0o111 == 0 {
		t.Fatalf("no executable at %s: %v", bin, err)
	}
	return bin
}
