package node

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"fmt"
	"net"
	"os"
	"strings"

	"github.com/bridgehead/bridgehead/internal/pki"
)

// identity is a component's API credential: a static token naming its user and groups,
// which the bootstrap RBAC roles (system:kube-scheduler, system:node-proxier, ...) and the
// Node authorizer recognise.
type identity struct {
	name, user string
	groups     []string
}

var identities = []identity{
	{name: "admin", user: "bridgehead-admin", groups: []string{"system:masters"}},
	{name: "kubelet", user: "system:node:" + NodeName, groups: []string{"system:nodes"}},
	{name: "kube-proxy", user: "system:kube-proxy"},
	{name: "kube-controller-manager", user: "system:kube-controller-manager"},
	{name: "kube-scheduler", user: "system:kube-scheduler"},
}

// writePKI writes the cluster's CA, the API server's serving certificate (bridge address,
// the `kubernetes` Service address and names), its client certificate for the kubelet,
// the service-account signing key, the token file and one kubeconfig per identity.
func (c *Cluster) writePKI() error {
	ca, err := pki.NewCA("bridgehead-node-ca")
	if err != nil {
		return err
	}
	serviceIP := ServiceCIDR.Addr().Next() // 10.246.0.1, the `kubernetes` Service
	server, err := ca.Issue("kube-apiserver", pki.Options{
		DNSNames: []string{"kubernetes", "kubernetes.default", "kubernetes.default.svc", "kubernetes.default.svc.cluster.local", "localhost"},
		IPs:      []net.IP{net.IP(BridgeIP.AsSlice()), net.IP(serviceIP.AsSlice()), net.IPv4(127, 0, 0, 1)},
	})
	if err != nil {
		return err
	}
	kubeletClient, err := ca.Issue("kube-apiserver-kubelet-client", pki.Options{})
	if err != nil {
		return err
	}
	kubeletServing, err := ca.Issue(NodeName, pki.Options{IPs: []net.IP{net.IP(BridgeIP.AsSlice())}, DNSNames: []string{NodeName}})
	if err != nil {
		return err
	}
	saKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return err
	}
	saDER, err := x509.MarshalPKIXPublicKey(&saKey.PublicKey)
	if err != nil {
		return err
	}
	files := map[string][]byte{
		"pki/ca.crt":                ca.PEM,
		"pki/apiserver.crt":         server.CertPEM,
		"pki/apiserver.key":         server.KeyPEM,
		"pki/apiserver-kubelet.crt": kubeletClient.CertPEM,
		"pki/apiserver-kubelet.key": kubeletClient.KeyPEM,
		"pki/kubelet.crt":           kubeletServing.CertPEM,
		"pki/kubelet.key":           kubeletServing.KeyPEM,
		"pki/sa.key":                pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(saKey)}),
		"pki/sa.pub":                pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: saDER}),
		"pki/tokens.csv":            nil,
		"kubelet/resolv.conf":       []byte("# pods get no name server: nothing they resolve may leave the machine\n"),
	}
	var tokens strings.Builder
	for i, id := range identities {
		b := make([]byte, 16)
		if _, err := rand.Read(b); err != nil {
			return err
		}
		token := hex.EncodeToString(b)
		fmt.Fprintf(&tokens, "%s,%s,%d,\"%s\"\n", token, id.user, i+1, strings.Join(id.groups, ","))
		files[id.name+".kubeconfig"] = kubeconfig(c.path("pki", "ca.crt"), token)
	}
	files["pki/tokens.csv"] = []byte(tokens.String())
	for name, content := range files {
		if err := os.WriteFile(c.path(name), content, 0o600); err != nil {
			return err
		}
	}
	return nil
}

func kubeconfig(caFile, token string) []byte {
	return fmt.Appendf(nil, `apiVersion: v1
kind: Config
clusters:
- name: bridgehead-node
  cluster:
    server: https://%s:%d
    certificate-authority: %s
users:
- name: bridgehead-node
  user:
    token: %s
contexts:
- name: bridgehead-node
  context: {cluster: bridgehead-node, user: bridgehead-node}
current-context: bridgehead-node
`, BridgeIP, APIPort, caFile, token)
}
