// Package node runs a real single-node Kubernetes on this machine for the end-to-end
// tests and for people (`make cluster-up`): etcd, kube-apiserver, kube-controller-manager,
// kube-scheduler, containerd, kubelet and kube-proxy, built from source (hack/envtest.sh)
// and Debian's containerd, runc and CNI plugins. Down stops and removes everything Up
// made: processes by PID, mounts, cgroups, nft tables, the CNI bridge, network namespaces.
//
// Network containment: pods live on the bridge bhnode0 (10.245.0.0/24), Services get
// addresses from 10.246.0.0/16, which is routed into the same bridge, and a guard nft table
// drops anything pods send beyond those two ranges. The API server binds and advertises the
// bridge address, so pods reach it through the `kubernetes` Service and the host reaches
// it at https://10.245.0.1:6443. Nothing is bound to or sent to the machine's external
// interface. Up refuses to start when either range is already routed on this machine.
//
// The settings this host needs (cgroup v1, no CAP_SYS_RESOURCE, no systemd) are the ones
// ../shared/notes/real-node.md found: kubelet failCgroupV1 false with the cgroupfs
// driver, containerd restrict_oom_score_adj, runc.
package node

import (
	"net/netip"
	"os"
	"path/filepath"
)

// Addresses and names of the node. Fixed, so the README's commands work as written.
var (
	PodCIDR     = netip.MustParsePrefix("10.245.0.0/24")
	ServiceCIDR = netip.MustParsePrefix("10.246.0.0/16")
	// BridgeIP is the node's address on the pod bridge: the API server, the kubelet and
	// NodePorts listen there.
	BridgeIP = netip.MustParseAddr("10.245.0.1")
)

const (
	// NodeName is the Node object's name (the kubelet's --hostname-override).
	NodeName = "bhnode"
	// Bridge is the CNI bridge's interface name.
	Bridge = "bhnode0"
	// APIPort is the API server's port on BridgeIP.
	APIPort = 6443
	// guardTable is the nft table that keeps pod traffic on the machine.
	guardTable = "bridgehead_node_guard"
	// PauseImage is containerd's sandbox image, built from hack/pause (nothing is pulled).
	PauseImage = "docker.io/bridgehead/pause:dev"
)

// Config says where the node keeps its state and finds its binaries.
type Config struct {
	// StateDir holds configuration, certificates, logs, containerd's and the kubelet's
	// data. Default /var/lib/bridgehead-node.
	StateDir string
	// BinDir holds etcd, kube-apiserver, kube-controller-manager, kube-scheduler, kubelet,
	// kube-proxy and kubectl (what hack/envtest.sh prints).
	BinDir string
	// PauseImageTar is the pause image archive (hack/image.sh writes bin/pause-image.tar).
	PauseImageTar string
}

// DefaultStateDir is where the node lives unless BRIDGEHEAD_NODE_DIR says otherwise.
func DefaultStateDir() string {
	if d := os.Getenv("BRIDGEHEAD_NODE_DIR"); d != "" {
		return d
	}
	return "/var/lib/bridgehead-node"
}

func (c Config) path(elem ...string) string {
	return filepath.Join(append([]string{c.StateDir}, elem...)...)
}

// Kubeconfig is the admin kubeconfig Up writes (cluster-admin through a static token).
func (c Config) Kubeconfig() string { return c.path("admin.kubeconfig") }

// ContainerdSocket is the node's containerd address, for `ctr -a`.
func (c Config) ContainerdSocket() string { return c.path("containerd", "containerd.sock") }
