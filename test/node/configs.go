package node

import (
	"fmt"
	"os"
)

// cniBinDir is where Debian's containernetworking-plugins puts the plugins.
const cniBinDir = "/usr/lib/cni"

// writeConfigs writes containerd's, the CNI network's, the kubelet's and kube-proxy's
// configuration, every path pointing into StateDir.
func (c *Cluster) writeConfigs() error {
	files := map[string]string{
		"containerd/config.toml": fmt.Sprintf(`version = 2
root = %[1]q
state = %[2]q

[grpc]
  address = %[3]q

[plugins."io.containerd.internal.v1.opt"]
  path = %[4]q

[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = %[5]q
  # Root here lacks CAP_SYS_RESOURCE: runc cannot lower oom_score_adj, and every pod
  # sandbox fails unless containerd clamps the value (notes/real-node.md, 3.3).
  restrict_oom_score_adj = true
  stream_server_address = "127.0.0.1"
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        SystemdCgroup = false
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = %[6]q
    conf_dir = %[7]q
`, c.path("containerd", "root"), c.path("containerd", "state"), c.ContainerdSocket(), c.path("containerd", "opt"),
			PauseImage, cniBinDir, c.path("cni-conf")),

		// Pods on the bridge, addresses from the pod range, no masquerading (nothing may
		// leave the machine; the guard table drops what tries).
		"cni-conf/10-bridgehead-node.conflist": fmt.Sprintf(`{
  "cniVersion": "1.0.0",
  "name": "bridgehead-node",
  "plugins": [{
    "type": "bridge",
    "bridge": %q,
    "isGateway": true,
    "ipMasq": false,
    "hairpinMode": true,
    "ipam": {
      "type": "host-local",
      "ranges": [[{"subnet": %q, "gateway": %q, "rangeStart": "10.245.0.10"}]],
      "routes": [{"dst": "0.0.0.0/0"}],
      "dataDir": %q
    }
  }]
}
`, Bridge, PodCIDR.String(), BridgeIP.String(), c.path("cni-ipam")),

		"kubelet/config.yaml": fmt.Sprintf(`apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
# This host is cgroup v1 (hybrid) without systemd (notes/real-node.md).
failCgroupV1: false
cgroupDriver: cgroupfs
containerRuntimeEndpoint: unix://%[1]s
address: %[2]s
port: 10250
readOnlyPort: 0
healthzBindAddress: 127.0.0.1
healthzPort: 10248
tlsCertFile: %[3]s
tlsPrivateKeyFile: %[4]s
authentication:
  anonymous: {enabled: false}
  webhook: {enabled: false}
  x509: {clientCAFile: %[5]s}
authorization: {mode: AlwaysAllow}
failSwapOn: false
podLogsDir: %[6]s
volumePluginDir: %[7]s
resolvConf: %[8]s
evictionHard: {memory.available: "100Mi", nodefs.available: "1%%", imagefs.available: "1%%", nodefs.inodesFree: "1%%"}
imageGCHighThresholdPercent: 99
imageGCLowThresholdPercent: 98
serializeImagePulls: false
maxPods: 110
`, c.ContainerdSocket(), BridgeIP, c.path("pki", "kubelet.crt"), c.path("pki", "kubelet.key"), c.path("pki", "ca.crt"),
			c.path("kubelet", "pod-logs"), c.path("kubelet", "volume-plugins"), c.path("kubelet", "resolv.conf")),

		// nftables mode (IPVS is not in this kernel); conntrack sysctls left as they are.
		"kube-proxy.yaml": fmt.Sprintf(`apiVersion: kubeproxy.config.k8s.io/v1alpha1
kind: KubeProxyConfiguration
mode: nftables
clientConnection: {kubeconfig: %s}
hostnameOverride: %s
clusterCIDR: %s
bindAddress: 127.0.0.1
healthzBindAddress: 127.0.0.1:10256
metricsBindAddress: 127.0.0.1:10249
nodePortAddresses: ["%s/32"]
conntrack: {maxPerCore: 0, min: 0, tcpEstablishedTimeout: 0s, tcpCloseWaitTimeout: 0s}
`, c.path("kube-proxy.kubeconfig"), NodeName, PodCIDR, BridgeIP),
	}
	for name, content := range files {
		if err := os.WriteFile(c.path(name), []byte(content), 0o600); err != nil {
			return err
		}
	}
	return nil
}
