package e2e

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/bridgehead/bridgehead/test/readme"
)

// The examples are the field reports' setups (../shared/seeds: HAProxy's secure backend
// with a client certificate, ingress-nginx and Traefik end-to-end TLS, SNI passthrough
// beside terminated TLS), each with a README whose commands and outputs are its promise.
// test/standalone runs them in a folder with the demo backend on loopback; here the same
// manifests are applied with kubectl to the real node, the demo backend runs as a pod
// behind a Service with a selector (instead of backend.yaml's loopback EndpointSlice), and
// the README's commands run against the gateway's NodePort.
var examples = []struct {
	name, readme string
	// backendClientCA: the backend pod requires a client certificate signed by the
	// backend CA (what the folder's quickstart.flags asks of the local demo backend).
	backendClientCA bool
	// forCluster: the folder is written for a cluster already (its backend.yaml runs pods).
	forCluster bool
}{
	{name: "quickstart", readme: "README.md"},
	{name: "mtls-edge", readme: "examples/mtls-edge/README.md"},
	{name: "client-cert-to-backend", readme: "examples/client-cert-to-backend/README.md", backendClientCA: true},
	{name: "sni-passthrough", readme: "examples/sni-passthrough/README.md"},
	{name: "cluster", readme: "examples/cluster/README.md", forCluster: true},
}

// demoBackendYAML is examples/*/backend.yaml for a cluster: the demo backend as a pod
// serving the demo-backend-tls Secret's certificate, behind Service demo-backend:https.
func demoBackendYAML(clientCA bool) string {
	args, mounts, volumes := "", "", ""
	if clientCA {
		args = ", --client-ca=/client-ca/ca.crt"
		mounts = "\n        - {name: client-ca, mountPath: /client-ca, readOnly: true}"
		volumes = "\n      - {name: client-ca, secret: {secretName: backend-ca}}"
	}
	return fmt.Sprintf(`apiVersion: apps/v1
kind: Deployment
metadata: {name: demo-backend, namespace: demo}
spec:
  replicas: 1
  selector: {matchLabels: {app: demo-backend}}
  template:
    metadata: {labels: {app: demo-backend}}
    spec:
      securityContext: {runAsNonRoot: true, seccompProfile: {type: RuntimeDefault}}
      containers:
      - name: backend
        image: %s
        imagePullPolicy: Never
        args: [demo-backend, --listen=:8443, --cert=/tls/tls.crt, --key=/tls/tls.key, "--name=Bridgehead demo backend"%s]
        ports: [{name: https, containerPort: 8443}]
        readinessProbe: {tcpSocket: {port: https}, periodSeconds: 1}
        securityContext: {allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: {drop: [ALL]}}
        volumeMounts:
        - {name: tls, mountPath: /tls, readOnly: true}%s
      volumes:
      - {name: tls, secret: {secretName: demo-backend-tls}}%s
---
apiVersion: v1
kind: Service
metadata: {name: demo-backend, namespace: demo}
spec:
  selector: {app: demo-backend}
  ports: [{name: https, port: 443, targetPort: https}]
`, image, args, mounts, volumes)
}

func exampleSpecs() {
	for _, ex := range examples {
		It("serves examples/"+ex.name+" on real pods as "+ex.readme+" shows", func(ctx SpecContext) {
			deleteNamespace("demo")
			root := GinkgoT().TempDir()
			dir := filepath.Join(root, "examples", ex.name)
			Expect(os.MkdirAll(filepath.Dir(dir), 0o755)).To(Succeed())
			run("cp", "-r", filepath.Join(repo, "examples", ex.name), dir)
			Expect(os.RemoveAll(filepath.Join(dir, "generated"))).To(Succeed())
			run(filepath.Join(repo, "bin", "image-root", "bridgehead"), "quickstart", "--dir", dir, "--pki-only")

			mustKubectl(namespaceYAML("demo"), "apply", "-f", "-")
			mustKubectl("", "apply", "-f", filepath.Join(dir, "generated", "secrets.yaml"))
			replicas := 1
			if ex.forCluster {
				// What its README applies: the pods and the quickstart's route.
				mustKubectl("", "apply", "-f", filepath.Join(dir, "backend.yaml"), "-f", filepath.Join(repo, "examples", "quickstart", "route.yaml"))
				replicas = 2
			} else {
				mustKubectl(demoBackendYAML(ex.backendClientCA), "apply", "-f", "-")
				manifests, err := filepath.Glob(filepath.Join(dir, "*.yaml"))
				Expect(err).NotTo(HaveOccurred())
				for _, m := range manifests {
					if filepath.Base(m) != "backend.yaml" { // its loopback EndpointSlice is the pod's job here
						mustKubectl("", "apply", "-f", m)
					}
				}
			}
			Eventually(func(g Gomega) { g.Expect(readyEndpoints(g, "demo", "demo-backend")).To(HaveLen(replicas)) }, 90*time.Second).Should(Succeed())

			// The documented address and ports become the node's: 127.0.0.1:8443 -> the
			// websecure NodePort on the bridge address.
			rewrite := strings.NewReplacer(":8443", fmt.Sprintf(":%d", websecureNodePort), ":8000", ":30080", "127.0.0.1", gatewayAddr[:strings.LastIndexByte(gatewayAddr, ':')])
			steps := readme.Steps(GinkgoT(), filepath.Join(repo, ex.readme), func(argv []string) bool {
				return argv[0] == "curl" || (argv[0] == "sed" && len(argv) > 1 && argv[1] == "-i")
			})
			for _, s := range steps {
				argv, err := readme.ShellWords(rewrite.Replace(s.Command))
				Expect(err).NotTo(HaveOccurred())
				if argv[0] == "sed" {
					file := filepath.Join(root, argv[len(argv)-1])
					run("sed", append(append([]string(nil), argv[1:len(argv)-1]...), file)...)
					// A cluster has no folder to watch: the edit is applied, as a user would.
					mustKubectl("", "apply", "-f", file)
					continue
				}
				want := readme.Normalize(rewrite.Replace(s.Want))
				Eventually(func() string {
					cmd := exec.Command("curl", append([]string{"--no-progress-meter"}, argv[1:]...)...)
					cmd.Dir = root
					out, _ := cmd.CombinedOutput()
					return readme.Normalize(string(out))
				}, 30*time.Second).Should(Equal(want), "%s:%d: $ %s", ex.readme, s.Line, s.Command)
			}
			deleteNamespace("demo")
		})
	}
}

// deleteNamespace deletes a namespace and waits until it is gone.
func deleteNamespace(ns string) {
	GinkgoHelper()
	err := cs.CoreV1().Namespaces().Delete(bg(), ns, metav1.DeleteOptions{})
	if apierrors.IsNotFound(err) {
		return
	}
	Expect(err).NotTo(HaveOccurred())
	Eventually(func() bool {
		_, err := cs.CoreV1().Namespaces().Get(bg(), ns, metav1.GetOptions{})
		return apierrors.IsNotFound(err)
	}, 2*time.Minute).Should(BeTrue(), "namespace %s is not gone", ns)
}
