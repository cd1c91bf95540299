package e2e

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/bridgehead/bridgehead/internal/pki"
)

// tlsSecrets renders kubernetes.io/tls Secrets (and an Opaque ca.crt Secret per CA).
func tlsSecret(name string, leaf *pki.Leaf) pki.Secret {
	return pki.Secret{Name: name, Type: "kubernetes.io/tls", Data: map[string][]byte{"tls.crt": leaf.CertPEM, "tls.key": leaf.KeyPEM}}
}

func caSecret(name string, ca *pki.CA) pki.Secret {
	return pki.Secret{Name: name, Type: "Opaque", Data: map[string][]byte{"ca.crt": ca.PEM}}
}

// backendYAML is an HTTPS backend as users run theirs: a Deployment of `bridgehead
// demo-backend` (the gateway image; it answers with its pod name and what it saw of TLS)
// serving the certificate in Secret certSecret, and a Service port "https" 443 -> 8443.
// preStop waits, as production backends do, so the endpoint leaves every gateway before
// the server closes.
func backendYAML(ns, name string, replicas int, certSecret string) string {
	return fmt.Sprintf(`apiVersion: apps/v1
kind: Deployment
metadata: {name: %[2]s, namespace: %[1]s}
spec:
  replicas: %[3]d
  selector: {matchLabels: {app: %[2]s}}
  template:
    metadata: {labels: {app: %[2]s}}
    spec:
      terminationGracePeriodSeconds: 15
      securityContext: {runAsNonRoot: true, seccompProfile: {type: RuntimeDefault}}
      containers:
      - name: backend
        image: %[5]s
        imagePullPolicy: Never
        args: [demo-backend, --listen=:8443, --cert=/tls/tls.crt, --key=/tls/tls.key, --name=$(POD_NAME)]
        env:
        - name: POD_NAME
          valueFrom: {fieldRef: {fieldPath: metadata.name}}
        ports: [{name: https, containerPort: 8443}]
        readinessProbe:
          httpGet: {scheme: HTTPS, port: https, path: /}
          periodSeconds: 1
        lifecycle:
          preStop: {sleep: {seconds: 3}}
        securityContext: {allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: {drop: [ALL]}}
        resources: {requests: {cpu: 10m, memory: 16Mi}}
        volumeMounts: [{name: tls, mountPath: /tls, readOnly: true}]
      volumes:
      - name: tls
        secret: {secretName: %[4]s}
---
apiVersion: v1
kind: Service
metadata: {name: %[2]s, namespace: %[1]s}
spec:
  selector: {app: %[2]s}
  ports: [{name: https, port: 443, targetPort: https}]
`, ns, name, replicas, certSecret, image)
}

// backendLeaf is the certificate a backend Service's pods serve: valid for the Service's
// DNS names, from the backend CA.
func backendLeaf(ns, svc string, ca *pki.CA) *pki.Leaf {
	return ca.MustIssue(svc+"."+ns+".svc", pki.Options{DNSNames: []string{svc + "." + ns + ".svc", svc + "." + ns + ".svc.cluster.local"}})
}

// gatewayClient trusts only the edge CA and dials the gateway's NodePort for every host:
// a client whose DNS points the route's names at the node.
func gatewayClient(keepAlive bool) *http.Client {
	dialer := &net.Dialer{Timeout: 3 * time.Second}
	return &http.Client{
		Timeout: 10 * time.Second,
		Transport: &http.Transport{
			TLSClientConfig:   &tls.Config{RootCAs: edgeCA.Pool(), MinVersion: tls.VersionTLS12},
			DisableKeepAlives: !keepAlive,
			ForceAttemptHTTP2: true,
			DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
				return dialer.DialContext(ctx, network, gatewayAddr)
			},
		},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// reply is what a client saw.
type reply struct {
	status       int
	body, reason string // reason: the Bridgehead-Error header
}

func get(c *http.Client, url string) (reply, error) {
	resp, err := c.Get(url)
	if err != nil {
		return reply{}, err
	}
	defer func() { _ = resp.Body.Close() }()
	body, err := io.ReadAll(resp.Body)
	return reply{status: resp.StatusCode, body: string(body), reason: resp.Header.Get("Bridgehead-Error")}, err
}

// servedBy extracts the pod name from the demo backend's answer.
func servedBy(body string) string {
	first, _, _ := strings.Cut(body, "\n")
	name, ok := strings.CutPrefix(first, "Hello from the ")
	if !ok {
		return ""
	}
	return strings.TrimSuffix(name, ".")
}

// load sends GETs one after another from `workers` clients until stopped, at most
// maxRequests in all and for at most maxTime: bounded whatever happens. Each outcome is
// classified by the phase the test is in when the request started.
type load struct {
	mu     sync.Mutex
	phase  string
	counts map[string]int // "phase status" -> requests
	failed []string
	stop   chan struct{}
	wg     sync.WaitGroup
	// accept says whether an outcome is acceptable in a phase.
	accept func(phase string, r reply, err error) bool
}

func startLoad(url string, workers, maxRequests int, maxTime time.Duration, accept func(phase string, r reply, err error) bool) *load {
	l := &load{phase: "before", counts: map[string]int{}, stop: make(chan struct{}), accept: accept}
	deadline := time.Now().Add(maxTime)
	var sent int
	for w := 0; w < workers; w++ {
		l.wg.Add(1)
		go func() {
			defer l.wg.Done()
			c := gatewayClient(true)
			for {
				l.mu.Lock()
				if sent >= maxRequests || time.Now().After(deadline) {
					l.mu.Unlock()
					return
				}
				sent++
				phase := l.phase
				l.mu.Unlock()
				select {
				case <-l.stop:
					return
				default:
				}
				r, err := get(c, url)
				outcome := strconv.Itoa(r.status)
				if err != nil {
					outcome = "error"
				} else if r.reason != "" {
					outcome += " " + r.reason
				}
				l.mu.Lock()
				l.counts[phase+": "+outcome]++
				if !l.accept(phase, r, err) {
					l.failed = append(l.failed, fmt.Sprintf("%s: status %d %q err %v", phase, r.status, r.reason, err))
				}
				l.mu.Unlock()
				time.Sleep(5 * time.Millisecond) // a steady client, not a flood
			}
		}()
	}
	return l
}

func (l *load) setPhase(p string) {
	l.mu.Lock()
	l.phase = p
	l.mu.Unlock()
}

// finishAndReport stops the load, reports the requests made per phase and outcome (in the
// test output: the evidence behind "zero failed requests"), fails the spec if any outcome
// was not acceptable, and returns the number of requests.
func (l *load) finishAndReport(name string) int {
	GinkgoHelper()
	total, summary, failed := l.finish()
	AddReportEntry(name+" requests", fmt.Sprintf("%d requests\n%s", total, summary))
	Expect(failed).To(BeEmpty(), "%s: %d requests\n%s", name, total, summary)
	return total
}

func (l *load) finish() (total int, summary string, failed []string) {
	close(l.stop)
	l.wg.Wait()
	l.mu.Lock()
	defer l.mu.Unlock()
	keys := make([]string, 0, len(l.counts))
	for k, n := range l.counts {
		keys = append(keys, k)
		total += n
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		fmt.Fprintf(&b, "  %-40s %6d\n", k, l.counts[k])
	}
	return total, b.String(), l.failed
}

// gatewayPods are the gateway's pods that are not being deleted.
func gatewayPods(g Gomega) []corev1.Pod {
	pods, err := cs.CoreV1().Pods(gatewayNS).List(bg(), metav1.ListOptions{LabelSelector: "app.kubernetes.io/name=bridgehead"})
	g.Expect(err).NotTo(HaveOccurred())
	var out []corev1.Pod
	for _, p := range pods.Items {
		if p.DeletionTimestamp == nil {
			out = append(out, p)
		}
	}
	return out
}

func podReady(p corev1.Pod) bool {
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

// adminGet asks a gateway pod's admin port (on its pod address) for path.
func adminGet(p corev1.Pod, path string) (string, error) {
	c := http.Client{Timeout: 3 * time.Second}
	resp, err := c.Get("http://" + net.JoinHostPort(p.Status.PodIP, "9000") + path)
	if err != nil {
		return "", err
	}
	defer func() { _ = resp.Body.Close() }()
	b, err := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		return string(b), fmt.Errorf("GET %s: %s", path, resp.Status)
	}
	return string(b), err
}

// podCgroup finds a pod's memory cgroup (cgroup v1, cgroupfs driver: kubepods/<qos>/pod<uid>).
func podCgroup(p corev1.Pod) string {
	GinkgoHelper()
	var found string
	_ = filepath.WalkDir("/sys/fs/cgroup/memory/kubepods", func(path string, d os.DirEntry, err error) error {
		if err == nil && d.IsDir() && d.Name() == "pod"+string(p.UID) {
			found = path
			return filepath.SkipAll
		}
		return nil
	})
	Expect(found).NotTo(BeEmpty(), "no memory cgroup for pod %s", p.Name)
	return found
}

// workingSet is what the kubelet reports as a pod's memory: usage minus inactive file
// pages, of all its processes.
func workingSet(cgroup string) int64 {
	GinkgoHelper()
	usage := readInt(filepath.Join(cgroup, "memory.usage_in_bytes"))
	stat, err := os.ReadFile(filepath.Join(cgroup, "memory.stat"))
	Expect(err).NotTo(HaveOccurred())
	for _, line := range strings.Split(string(stat), "\n") {
		if v, ok := strings.CutPrefix(line, "total_inactive_file "); ok {
			n, _ := strconv.ParseInt(v, 10, 64)
			if n < usage {
				usage -= n
			}
		}
	}
	return usage
}

func readInt(path string) int64 {
	GinkgoHelper()
	b, err := os.ReadFile(path)
	Expect(err).NotTo(HaveOccurred())
	n, err := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64)
	Expect(err).NotTo(HaveOccurred())
	return n
}

// podProcesses lists the host PIDs of a pod's processes (its containers and sandbox).
func podProcesses(cgroup string) []int {
	GinkgoHelper()
	var pids []int
	err := filepath.WalkDir(cgroup, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() || d.Name() != "cgroup.procs" {
			return nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for _, f := range strings.Fields(string(b)) {
			if n, err := strconv.Atoi(f); err == nil {
				pids = append(pids, n)
			}
		}
		return nil
	})
	Expect(err).NotTo(HaveOccurred())
	return pids
}

// procStatus reads fields of /proc/PID/status.
func procStatus(pid int) map[string]string {
	out := map[string]string{}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return out
	}
	for _, line := range strings.Split(string(b), "\n") {
		k, v, ok := strings.Cut(line, ":")
		if ok {
			out[k] = strings.TrimSpace(v)
		}
	}
	return out
}

func comm(pid int) string {
	b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/comm", pid))
	return strings.TrimSpace(string(b))
}

func k8sList(list client.ObjectList) error { return k8s.List(bg(), list) }

// writeTemp writes a file for a real client (curl's --cacert) and returns its path.
func writeTemp(name string, content []byte) string {
	GinkgoHelper()
	p := filepath.Join(GinkgoT().TempDir(), name)
	Expect(os.WriteFile(p, content, 0o600)).To(Succeed())
	return p
}

// rootReadOnly reports whether the process's root file system is mounted read-only.
func rootReadOnly(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/mountinfo", pid))
	if err != nil {
		return false
	}
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) > 5 && f[4] == "/" {
			for _, opt := range strings.Split(f[5], ",") {
				if opt == "ro" {
					return true
				}
			}
			return false
		}
	}
	return false
}
