package node

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
)

// Cluster is a node started by Up (or found running by Up/Attach).
type Cluster struct {
	Config
	st  state
	log io.Writer
	// cmds are the processes this Go process started: waited for, so they do not linger
	// as zombies after Down.
	cmds map[int]*exec.Cmd
}

// state is what Down needs, kept in StateDir/state.json so `cluster down` in another
// process (or after a crash) can stop exactly what `cluster up` started.
type state struct {
	// BinDir is where the Kubernetes binaries came from (Down runs kube-proxy --cleanup).
	BinDir    string    `json:"binDir"`
	Processes []process `json:"processes"`
	// Before is the host as Up found it: Down removes only what is new.
	Before hostSnapshot `json:"before"`
}

// process identifies a started process by PID and start time, so a reused PID is never
// signalled.
type process struct {
	Name  string `json:"name"`
	PID   int    `json:"pid"`
	Start uint64 `json:"start"`
}

// Up starts the node and waits until the Node is Ready and the default namespace has its
// ServiceAccount. A node already running from the same StateDir is reused.
func Up(ctx context.Context, cfg Config, log io.Writer) (*Cluster, error) {
	if cfg.StateDir == "" {
		cfg.StateDir = DefaultStateDir()
	}
	c := &Cluster{Config: cfg, log: log, cmds: map[int]*exec.Cmd{}}
	if err := c.loadState(); err == nil {
		if c.running() && c.ready(ctx) == nil {
			c.logf("node already up (%s)", c.StateDir)
			return c, nil
		}
		c.logf("a previous node in %s is not healthy: taking it down first", c.StateDir)
		if err := c.Down(ctx); err != nil {
			return nil, err
		}
		c = &Cluster{Config: cfg, log: log, cmds: map[int]*exec.Cmd{}}
	}
	if err := c.preflight(); err != nil {
		return nil, err
	}
	start := time.Now()
	if err := c.up(ctx); err != nil {
		c.logf("up failed: %v; taking down what started", err)
		if derr := c.Down(context.Background()); derr != nil {
			c.logf("down after a failed up: %v", derr)
		}
		return nil, err
	}
	c.logf("node %s Ready in %s; kubeconfig %s", NodeName, time.Since(start).Round(time.Second), c.Kubeconfig())
	return c, nil
}

// Attach returns the node running from cfg.StateDir, for `cluster down` and `import`.
func Attach(cfg Config, log io.Writer) (*Cluster, error) {
	if cfg.StateDir == "" {
		cfg.StateDir = DefaultStateDir()
	}
	c := &Cluster{Config: cfg, log: log, cmds: map[int]*exec.Cmd{}}
	if err := c.loadState(); err != nil {
		return nil, err
	}
	if c.BinDir == "" {
		c.BinDir = c.st.BinDir
	}
	return c, nil
}

func (c *Cluster) logf(format string, args ...any) {
	if c.log != nil {
		fmt.Fprintf(c.log, "node: "+format+"\n", args...)
	}
}

func (c *Cluster) preflight() error {
	if os.Geteuid() != 0 {
		return errors.New("a real node needs root (network namespaces, mounts, cgroups)")
	}
	for _, bin := range []string{"etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler", "kubelet", "kube-proxy", "kubectl"} {
		if _, err := os.Stat(filepath.Join(c.BinDir, bin)); err != nil {
			return fmt.Errorf("%s is missing from %s: run hack/envtest.sh (make envtest) to build it", bin, c.BinDir)
		}
	}
	for _, cmd := range []string{"containerd", "containerd-shim-runc-v2", "runc", "ctr", "nft", "ip", "mount"} {
		if _, err := exec.LookPath(cmd); err != nil {
			return fmt.Errorf("%s is not installed: run `make node-deps` (Debian packages containerd runc containernetworking-plugins nftables iptables conntrack)", cmd)
		}
	}
	if _, err := os.Stat(filepath.Join(cniBinDir, "bridge")); err != nil {
		return fmt.Errorf("the CNI plugins are not in %s: apt-get install containernetworking-plugins", cniBinDir)
	}
	if _, err := os.Stat(c.PauseImageTar); err != nil {
		return fmt.Errorf("the pause image %q is missing: run `make image`", c.PauseImageTar)
	}
	return checkRangesFree()
}

func (c *Cluster) up(ctx context.Context) error {
	before, err := snapshotHost()
	if err != nil {
		return err
	}
	c.st.Before, c.st.BinDir = before, c.BinDir
	for _, d := range []string{"pki", "logs", "etcd", "containerd", "cni-conf", "cni-ipam", "kubelet/root", "kubelet/pod-logs", "kubelet/volume-plugins"} {
		if err := os.MkdirAll(c.path(d), 0o700); err != nil {
			return err
		}
	}
	if err := c.saveState(); err != nil {
		return err
	}
	if err := c.writePKI(); err != nil {
		return err
	}
	if err := c.writeConfigs(); err != nil {
		return err
	}
	if err := setUpNetwork(); err != nil {
		return err
	}
	if err := c.start("etcd", filepath.Join(c.BinDir, "etcd"),
		"--data-dir", c.path("etcd"), "--name", NodeName,
		"--listen-client-urls", "http://127.0.0.1:23790", "--advertise-client-urls", "http://127.0.0.1:23790",
		"--listen-peer-urls", "http://127.0.0.1:23800", "--initial-advertise-peer-urls", "http://127.0.0.1:23800",
		"--initial-cluster", NodeName+"=http://127.0.0.1:23800", "--unsafe-no-fsync"); err != nil {
		return err
	}
	if err := c.waitFor(ctx, "etcd", 30*time.Second, func() error { return httpOK("http://127.0.0.1:23790/health") }); err != nil {
		return err
	}
	if err := c.start("kube-apiserver", filepath.Join(c.BinDir, "kube-apiserver"),
		"--etcd-servers", "http://127.0.0.1:23790",
		"--bind-address", BridgeIP.String(), "--advertise-address", BridgeIP.String(), "--secure-port", strconv.Itoa(APIPort),
		"--tls-cert-file", c.path("pki", "apiserver.crt"), "--tls-private-key-file", c.path("pki", "apiserver.key"),
		"--client-ca-file", c.path("pki", "ca.crt"), "--token-auth-file", c.path("pki", "tokens.csv"),
		// Node,RBAC like a real cluster: a chart whose RBAC is short gets `forbidden`.
		"--authorization-mode", "Node,RBAC", "--enable-admission-plugins", "NodeRestriction",
		"--service-cluster-ip-range", ServiceCIDR.String(),
		"--service-account-key-file", c.path("pki", "sa.pub"), "--service-account-signing-key-file", c.path("pki", "sa.key"),
		"--service-account-issuer", "https://kubernetes.default.svc.cluster.local",
		"--kubelet-client-certificate", c.path("pki", "apiserver-kubelet.crt"), "--kubelet-client-key", c.path("pki", "apiserver-kubelet.key"),
		"--kubelet-certificate-authority", c.path("pki", "ca.crt"), "--kubelet-preferred-address-types", "InternalIP",
		"--allow-privileged", "--profiling=false"); err != nil {
		return err
	}
	if err := c.waitFor(ctx, "kube-apiserver", 90*time.Second, func() error { return c.apiReady(ctx) }); err != nil {
		return err
	}
	if err := c.start("containerd", "containerd", "--config", c.path("containerd", "config.toml")); err != nil {
		return err
	}
	if err := c.waitFor(ctx, "containerd", 30*time.Second, func() error {
		return exec.Command("ctr", "-a", c.ContainerdSocket(), "version").Run()
	}); err != nil {
		return err
	}
	if err := c.Import(ctx, c.PauseImageTar); err != nil {
		return err
	}
	if err := c.start("kube-controller-manager", filepath.Join(c.BinDir, "kube-controller-manager"),
		"--kubeconfig", c.path("kube-controller-manager.kubeconfig"),
		"--authentication-kubeconfig", c.path("kube-controller-manager.kubeconfig"),
		"--authorization-kubeconfig", c.path("kube-controller-manager.kubeconfig"),
		"--use-service-account-credentials", "--service-account-private-key-file", c.path("pki", "sa.key"),
		"--root-ca-file", c.path("pki", "ca.crt"), "--leader-elect=false", "--secure-port=0",
		"--flex-volume-plugin-dir", c.path("kubelet", "volume-plugins")); err != nil {
		return err
	}
	if err := c.start("kube-scheduler", filepath.Join(c.BinDir, "kube-scheduler"),
		"--kubeconfig", c.path("kube-scheduler.kubeconfig"),
		"--authentication-kubeconfig", c.path("kube-scheduler.kubeconfig"),
		"--authorization-kubeconfig", c.path("kube-scheduler.kubeconfig"),
		"--leader-elect=false", "--secure-port=0"); err != nil {
		return err
	}
	if err := c.start("kubelet", filepath.Join(c.BinDir, "kubelet"),
		"--config", c.path("kubelet", "config.yaml"), "--kubeconfig", c.path("kubelet.kubeconfig"),
		"--root-dir", c.path("kubelet", "root"), "--cert-dir", c.path("kubelet", "certs"),
		"--hostname-override", NodeName, "--node-ip", BridgeIP.String()); err != nil {
		return err
	}
	if err := c.start("kube-proxy", filepath.Join(c.BinDir, "kube-proxy"), "--config", c.path("kube-proxy.yaml")); err != nil {
		return err
	}
	return c.waitFor(ctx, "the node", 120*time.Second, func() error { return c.ready(ctx) })
}

// Client returns a clientset acting as cluster-admin.
func (c *Cluster) Client() (*kubernetes.Clientset, error) {
	rc, err := clientcmd.BuildConfigFromFlags("", c.Kubeconfig())
	if err != nil {
		return nil, err
	}
	return kubernetes.NewForConfig(rc)
}

func (c *Cluster) apiReady(ctx context.Context) error {
	cs, err := c.Client()
	if err != nil {
		return err
	}
	body, err := cs.Discovery().RESTClient().Get().AbsPath("/readyz").DoRaw(ctx)
	if err != nil {
		return fmt.Errorf("%w: %s", err, body)
	}
	return nil
}

// ready is nil once the Node is Ready and the default namespace has its ServiceAccount
// and the cluster CA ConfigMap (pods cannot start before).
func (c *Cluster) ready(ctx context.Context) error {
	cs, err := c.Client()
	if err != nil {
		return err
	}
	n, err := cs.CoreV1().Nodes().Get(ctx, NodeName, metav1.GetOptions{})
	if err != nil {
		return err
	}
	readyNode := false
	for _, cond := range n.Status.Conditions {
		if cond.Type == corev1.NodeReady && cond.Status == corev1.ConditionTrue {
			readyNode = true
		}
	}
	if !readyNode {
		return fmt.Errorf("node %s is not Ready", NodeName)
	}
	if _, err := cs.CoreV1().ServiceAccounts("default").Get(ctx, "default", metav1.GetOptions{}); err != nil {
		return err
	}
	if _, err := cs.CoreV1().ConfigMaps("default").Get(ctx, "kube-root-ca.crt", metav1.GetOptions{}); err != nil {
		if apierrors.IsNotFound(err) {
			return errors.New("kube-root-ca.crt is not published yet")
		}
		return err
	}
	return nil
}

// Import loads an image archive (hack/image.sh's output) into the node's containerd, in
// the namespace the kubelet uses, under the full name the archive carries.
func (c *Cluster) Import(ctx context.Context, archive string) error {
	out, err := exec.CommandContext(ctx, "ctr", "-a", c.ContainerdSocket(), "-n", "k8s.io", "images", "import", "--no-unpack=false", archive).CombinedOutput()
	if err != nil {
		return fmt.Errorf("importing %s: %w: %s", archive, err, out)
	}
	c.logf("imported %s: %s", archive, strings.TrimSpace(string(out)))
	return nil
}

func (c *Cluster) start(name, bin string, args ...string) error {
	logf, err := os.OpenFile(c.path("logs", name+".log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return err
	}
	defer func() { _ = logf.Close() }() // the child has its own descriptor
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = logf, logf
	// Its own session: the node outlives `cluster up`, and a Ctrl-C there does not reach it.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("starting %s: %w", name, err)
	}
	c.cmds[cmd.Process.Pid] = cmd
	go func() { _ = cmd.Wait() }()
	st, _ := startTime(cmd.Process.Pid)
	c.st.Processes = append(c.st.Processes, process{Name: name, PID: cmd.Process.Pid, Start: st})
	c.logf("started %s (pid %d, log %s)", name, cmd.Process.Pid, c.path("logs", name+".log"))
	return c.saveState()
}

// waitFor polls check until it passes, the component dies, or the time is up; the error
// carries the end of the component's log.
func (c *Cluster) waitFor(ctx context.Context, what string, limit time.Duration, check func() error) error {
	deadline := time.Now().Add(limit)
	var last error
	for time.Now().Before(deadline) {
		if last = check(); last == nil {
			return nil
		}
		for _, p := range c.st.Processes {
			if !alive(p) {
				return fmt.Errorf("%s exited while waiting for %s; its log ends:\n%s", p.Name, what, tail(c.path("logs", p.Name+".log"), 15))
			}
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(500 * time.Millisecond):
		}
	}
	return fmt.Errorf("%s not ready after %s: %w", what, limit, last)
}

func (c *Cluster) running() bool {
	if len(c.st.Processes) == 0 {
		return false
	}
	for _, p := range c.st.Processes {
		if !alive(p) {
			return false
		}
	}
	return true
}

func (c *Cluster) loadState() error {
	b, err := os.ReadFile(c.path("state.json"))
	if err != nil {
		return err
	}
	return json.Unmarshal(b, &c.st)
}

func (c *Cluster) saveState() error {
	b, err := json.MarshalIndent(c.st, "", "  ")
	if err != nil {
		return err
	}
	tmp := c.path("state.json.tmp")
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, c.path("state.json"))
}

func httpOK(url string) error {
	client := http.Client{Timeout: 2 * time.Second}
	resp, err := client.Get(url)
	if err != nil {
		return err
	}
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s: %s", url, resp.Status)
	}
	return nil
}

func tail(path string, lines int) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return err.Error()
	}
	return lastLines(string(b), lines)
}

// lastLines is the end of a log or a command's output, for error messages.
func lastLines(s string, n int) string {
	all := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(all) > n {
		all = all[len(all)-n:]
	}
	return strings.Join(all, "\n")
}
