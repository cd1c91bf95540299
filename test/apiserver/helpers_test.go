package apiserver

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/bridgehead/bridgehead/internal/pki"
)

func bg() context.Context { return context.Background() }

func create(objs ...client.Object) {
	GinkgoHelper()
	for _, o := range objs {
		Expect(k8s.Create(bg(), o)).To(Succeed(), "creating %T %s", o, o.GetName())
	}
}

func namespace(name string) *corev1.Namespace {
	return &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}
}

func tlsSecret(ns, name string, leaf *pki.Leaf) *corev1.Secret {
	return &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}, Type: corev1.SecretTypeTLS,
		Data: map[string][]byte{"tls.crt": leaf.CertPEM, "tls.key": leaf.KeyPEM}}
}

func caSecret(ns, name string, ca *pki.CA) *corev1.Secret {
	return &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}, Data: map[string][]byte{"ca.crt": ca.PEM}}
}

// ingress is one host, one Prefix path, one Service backend.
func ingress(ns, name, host, svc string, port networkingv1.ServiceBackendPort, annotations map[string]string) *networkingv1.Ingress {
	return &networkingv1.Ingress{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, Annotations: annotations},
		Spec: networkingv1.IngressSpec{
			IngressClassName: ptr.To("bridgehead"),
			Rules: []networkingv1.IngressRule{{
				Host: host,
				IngressRuleValue: networkingv1.IngressRuleValue{HTTP: &networkingv1.HTTPIngressRuleValue{Paths: []networkingv1.HTTPIngressPath{{
					Path: "/", PathType: ptr.To(networkingv1.PathTypePrefix),
					Backend: networkingv1.IngressBackend{Service: &networkingv1.IngressServiceBackend{Name: svc, Port: port}},
				}}}},
			}},
		},
	}
}

// loadBalancer reads the addresses in an Ingress's status.
func loadBalancer(g Gomega, ns, name string) []string {
	ing := &networkingv1.Ingress{}
	g.Expect(k8s.Get(bg(), client.ObjectKey{Namespace: ns, Name: name}, ing)).To(Succeed())
	var out []string
	for _, a := range ing.Status.LoadBalancer.Ingress {
		out = append(out, a.IP+a.Hostname)
	}
	return out
}

// httpsBackend is a backend that speaks only TLS, with a certificate from a private CA,
// and answers with the SNI it saw.
func httpsBackend(leaf *pki.Leaf) *httptest.Server {
	GinkgoHelper()
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "backend: TLS, SNI %s, path %s\n", r.TLS.ServerName, r.URL.Path)
	}))
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{leaf.TLS}, MinVersion: tls.VersionTLS12}
	srv.StartTLS()
	DeferCleanup(srv.Close)
	return srv
}

// tlsClient trusts only ca and always dials addr, whatever the URL's host: a client that
// resolves the gateway's host names to this machine.
func tlsClient(ca *pki.CA, addr string) *http.Client {
	pool := x509.NewCertPool()
	pool.AddCert(ca.Cert)
	dialer := &net.Dialer{Timeout: 2 * time.Second}
	return &http.Client{
		Timeout: 5 * time.Second,
		Transport: &http.Transport{
			TLSClientConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12},
			DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
				return dialer.DialContext(ctx, network, addr)
			},
			ForceAttemptHTTP2: true,
		},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

func plainClient(addr string) *http.Client {
	dialer := &net.Dialer{Timeout: 2 * time.Second}
	return &http.Client{
		Timeout: 5 * time.Second,
		Transport: &http.Transport{DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
			return dialer.DialContext(ctx, network, addr)
		}},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// reply is what a client saw.
type reply struct {
	status           int
	body             string
	reason, location string // the Bridgehead-Error and Location headers
}

// get fetches a URL without following redirects.
func get(c *http.Client, url string) (reply, error) {
	resp, err := c.Get(url)
	if err != nil {
		return reply{}, err
	}
	defer func() { _ = resp.Body.Close() }()
	body, err := io.ReadAll(resp.Body)
	return reply{status: resp.StatusCode, body: string(body), reason: resp.Header.Get("Bridgehead-Error"), location: resp.Header.Get("Location")}, err
}

// replica is a `bridgehead serve` process this test started.
type replica struct {
	name    string
	cmd     *exec.Cmd
	logPath string
	addrs   map[string]string
	done    chan struct{}
	killed  bool
}

// startReplica runs the built binary against the test's API server, on free loopback
// ports, and waits until it listens.
func startReplica(name string, args ...string) *replica {
	GinkgoHelper()
	r := &replica{name: name, done: make(chan struct{}), logPath: filepath.Join(GinkgoT().TempDir(), name+".log")}
	logFile, err := os.Create(r.logPath)
	Expect(err).NotTo(HaveOccurred())
	base := []string{"serve", "--kubeconfig", env.Kubeconfig, "--gateway-namespace", "bridgehead",
		"--web-address", "127.0.0.1:0", "--websecure-address", "127.0.0.1:0", "--admin-address", "127.0.0.1:0",
		"--grace", "2s", "--log-level", "info"}
	r.cmd = exec.Command(binary, append(base, args...)...)
	stderr, err := r.cmd.StderrPipe()
	Expect(err).NotTo(HaveOccurred())
	r.cmd.Stdout = logFile
	Expect(r.cmd.Start()).To(Succeed())
	addrs := make(chan map[string]string, 1)
	go func() {
		defer close(r.done)
		defer func() { _ = logFile.Close() }()
		sc := bufio.NewScanner(stderr)
		sc.Buffer(make([]byte, 64*1024), 1<<20)
		for sc.Scan() {
			line := sc.Bytes()
			_, _ = logFile.Write(append(line, '\n'))
			var rec struct {
				Msg       string            `json:"msg"`
				Addresses map[string]string `json:"addresses"`
			}
			if json.Unmarshal(line, &rec) == nil && rec.Msg == "bridgehead serving" {
				addrs <- rec.Addresses
			}
		}
		_ = r.cmd.Wait()
	}()
	DeferCleanup(r.stop)
	select {
	case r.addrs = <-addrs:
	case <-r.done:
		Fail(fmt.Sprintf("replica %s exited before serving:\n%s", name, r.logTail()))
	case <-time.After(30 * time.Second):
		Fail(fmt.Sprintf("replica %s did not start serving within 30s:\n%s", name, r.logTail()))
	}
	return r
}

// kill ends the process abruptly (SIGKILL): it cannot hand back its Lease.
func (r *replica) kill() {
	r.killed = true
	_ = r.cmd.Process.Signal(syscall.SIGKILL)
	<-r.done
}

// stop ends the process gracefully, as Kubernetes does (SIGTERM).
func (r *replica) stop() {
	if r.cmd.ProcessState == nil && !r.killed {
		_ = r.cmd.Process.Signal(syscall.SIGTERM)
	}
	select {
	case <-r.done:
	case <-time.After(15 * time.Second):
		_ = r.cmd.Process.Signal(syscall.SIGKILL)
		<-r.done
	}
}

func (r *replica) logTail() string {
	data, _ := os.ReadFile(r.logPath)
	lines := strings.Split(strings.TrimSpace(string(data)), "\n")
	if len(lines) > 40 {
		lines = lines[len(lines)-40:]
	}
	return strings.Join(lines, "\n")
}

func (r *replica) admin(path string) (string, error) {
	c := &http.Client{Timeout: 2 * time.Second}
	resp, err := c.Get("http://" + r.addrs["admin"] + path)
	if err != nil {
		return "", err
	}
	defer func() { _ = resp.Body.Close() }()
	body, err := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("%s: %d %s", path, resp.StatusCode, body)
	}
	return strings.TrimSpace(string(body)), err
}

type leaderInfo struct {
	Identity     string `json:"identity"`
	Leader       bool   `json:"leader"`
	StatusWrites int64  `json:"statusWrites"`
}

func (r *replica) leader(g Gomega) leaderInfo {
	body, err := r.admin("/leader")
	g.Expect(err).NotTo(HaveOccurred())
	var li leaderInfo
	g.Expect(json.Unmarshal([]byte(body), &li)).To(Succeed())
	return li
}

func (r *replica) hash(g Gomega) string {
	h, err := r.admin("/snapshot/hash")
	g.Expect(err).NotTo(HaveOccurred())
	return h
}

// load sends requests one after another until stopped, counting failures.
type load struct {
	mu       sync.Mutex
	ok       int
	failures []string
	stop     chan struct{}
	done     chan struct{}
}

func startLoad(c *http.Client, url string, want int) *load {
	l := &load{stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(l.done)
		for i := 0; i < 100000; i++ { // bounded, whatever happens
			select {
			case <-l.stop:
				return
			default:
			}
			r, err := get(c, url)
			l.mu.Lock()
			if err != nil || r.status != want {
				l.failures = append(l.failures, fmt.Sprintf("request %d: status %d %s err %v", i, r.status, r.reason, err))
			} else {
				l.ok++
			}
			l.mu.Unlock()
		}
	}()
	return l
}

func (l *load) finish() (ok int, failures []string) {
	close(l.stop)
	<-l.done
	return l.ok, l.failures
}

func portOf(addr string) int32 {
	_, p, _ := net.SplitHostPort(addr)
	n, _ := strconv.Atoi(p)
	return int32(n)
}
