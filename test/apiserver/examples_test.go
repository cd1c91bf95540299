package apiserver

import (
	"bufio"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/bridgehead/bridgehead/internal/pki"
)

// curl runs the real client, as examples/ingress/README.md does.
func curl(args ...string) (string, error) {
	path, err := exec.LookPath("curl")
	if err != nil {
		Fail("curl is missing: run `make test-deps` (make test does)")
	}
	out, err := exec.Command(path, append([]string{"--silent", "--show-error", "--max-time", "5"}, args...)...).CombinedOutput()
	return string(out), err
}

// startDemoBackend runs `bridgehead demo-backend` (what make run-cluster runs) on a free
// port and returns that port.
func startDemoBackend(dir string, leaf *pki.Leaf) string {
	GinkgoHelper()
	cert, key := filepath.Join(dir, "backend.crt"), filepath.Join(dir, "backend.key")
	Expect(os.WriteFile(cert, leaf.CertPEM, 0o600)).To(Succeed())
	Expect(os.WriteFile(key, leaf.KeyPEM, 0o600)).To(Succeed())
	cmd := exec.Command(binary, "demo-backend", "--listen", "127.0.0.1:0", "--cert", cert, "--key", key, "--name", "Bridgehead demo backend")
	stdout, err := cmd.StdoutPipe()
	Expect(err).NotTo(HaveOccurred())
	Expect(cmd.Start()).To(Succeed())
	DeferCleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		_ = cmd.Wait()
	})
	addr := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if a, ok := strings.CutPrefix(sc.Text(), "demo backend serving HTTPS on "); ok {
				addr <- a
			}
		}
	}()
	select {
	case a := <-addr:
		return a[strings.LastIndexByte(a, ':')+1:]
	case <-time.After(10 * time.Second):
		Fail("the demo backend did not start")
	}
	return ""
}

// The walkthrough of examples/ingress/README.md, as `make run-cluster` sets it up: the
// manifests applied with kubectl as written, and curl through the gateway. Only the ports
// of this machine differ: the test's backend, solver and gateway listen on free ports, so
// the two ExternalName Services (and the solver Ingress's port) are patched to them.
var _ = Describe("the examples/ingress walkthrough", Ordered, func() {
	const host = "app.localtest.me"
	edgeCA := pki.MustCA("Bridgehead Demo CA")
	backendCA := pki.MustCA("Bridgehead Demo Backend CA")
	var gw *replica
	var caFile string

	BeforeAll(func() {
		dir := GinkgoT().TempDir()
		caFile = filepath.Join(dir, "ca.crt")
		Expect(os.WriteFile(caFile, edgeCA.PEM, 0o600)).To(Succeed())
		backendPort := startDemoBackend(dir, backendCA.MustIssue("demo-backend.demo.svc", pki.Options{DNSNames: []string{"demo-backend.demo.svc"}}))
		solver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			token := strings.TrimPrefix(r.URL.Path, "/.well-known/acme-challenge/")
			fmt.Fprintf(w, "%s.demo-account-thumbprint\n", token)
		}))
		DeferCleanup(solver.Close)
		solverPort := fmt.Sprint(portOf(solver.Listener.Addr().String()))

		// What make run-cluster starts the gateway with.
		gw = startReplica("run-cluster", "--watch-namespaces", "demo,bridgehead", "--leader-election-id", "examples",
			"--allow-external-name-services", "--publish-address", "127.0.0.1", "--redirect-port", "8443")
		// Lead before the objects exist, so their first report is a change (and an Event)
		// rather than the baseline a new leadership term starts from.
		Eventually(func(g Gomega) { g.Expect(gw.leader(g).Leader).To(BeTrue()) }).WithTimeout(30 * time.Second).Should(Succeed())

		output(kubectl("apply", "-f", "examples/ingress/namespace.yaml"))
		create(tlsSecret("demo", "app-localtest-me-tls", edgeCA.MustIssue(host, pki.Options{DNSNames: []string{host}})),
			caSecret("demo", "backend-ca", backendCA))
		output(kubectl("apply", "-f", "examples/ingress/"))
		output(kubectl("-n", "demo", "patch", "service", "demo-backend", "--type=json",
			"-p", `[{"op":"replace","path":"/spec/ports/0/port","value":`+backendPort+`}]`))
		output(kubectl("-n", "demo", "patch", "service", "cm-acme-http-solver-demo", "--type=json",
			"-p", `[{"op":"replace","path":"/spec/ports/0/port","value":`+solverPort+`}]`))
		output(kubectl("-n", "demo", "patch", "ingress", "cm-acme-http-solver-demo", "--type=json",
			"-p", `[{"op":"replace","path":"/spec/rules/0/http/paths/0/backend/service/port/number","value":`+solverPort+`}]`))
	})

	It("answers through TLS, re-encrypted to the HTTPS-only demo backend verified against its private CA", func() {
		port := fmt.Sprint(portOf(gw.addrs["websecure"]))
		Eventually(func(g Gomega) {
			out, err := curl("--cacert", caFile, "--resolve", host+":"+port+":127.0.0.1", "https://"+host+":"+port+"/")
			g.Expect(err).NotTo(HaveOccurred(), out)
			g.Expect(out).To(ContainSubstring("Hello from the Bridgehead demo backend."))
			g.Expect(out).To(ContainSubstring(`SNI "demo-backend.demo.svc"`))
		}).Should(Succeed())
	})

	It("redirects plain HTTP to HTTPS, except the ACME token, which reaches the solver on web", func() {
		web := fmt.Sprint(portOf(gw.addrs["web"]))
		Eventually(func(g Gomega) {
			out, err := curl("--resolve", host+":"+web+":127.0.0.1", "http://"+host+":"+web+"/.well-known/acme-challenge/demo-token")
			g.Expect(err).NotTo(HaveOccurred(), out)
			g.Expect(out).To(Equal("demo-token.demo-account-thumbprint\n"))
		}).Should(Succeed())
		out, err := curl("--include", "--resolve", host+":"+web+":127.0.0.1", "http://"+host+":"+web+"/x?y=1")
		Expect(err).NotTo(HaveOccurred(), out)
		Expect(out).To(HavePrefix("HTTP/1.1 301 Moved Permanently"))
		Expect(out).To(ContainSubstring("Location: https://"+host+":8443/x?y=1"), "--redirect-port 8443, as make run-cluster runs it")
	})

	It("shows the address in kubectl get ingress, and problems as Events in kubectl describe ingress", func() {
		Eventually(func(g Gomega) {
			out := string(output(kubectl("-n", "demo", "get", "ingress", "app")))
			g.Expect(out).To(MatchRegexp(`app\s+bridgehead\s+app.localtest.me\s+127.0.0.1\s+80, 443`))
		}).Should(Succeed())
		output(kubectl("-n", "demo", "delete", "secret", "backend-ca"))
		port := fmt.Sprint(portOf(gw.addrs["websecure"]))
		Eventually(func(g Gomega) {
			out, _ := curl("--include", "--cacert", caFile, "--resolve", host+":"+port+":127.0.0.1", "https://"+host+":"+port+"/")
			g.Expect(out).To(ContainSubstring("502"))
			g.Expect(out).To(MatchRegexp(`(?i)bridgehead-error: CASecretNotFound demo/backend-ca`))
		}).Should(Succeed())
		Eventually(func(g Gomega) {
			out := string(output(kubectl("-n", "demo", "describe", "ingress", "app")))
			g.Expect(out).To(MatchRegexp(`Warning\s+CASecretNotFound`))
			g.Expect(out).To(ContainSubstring(`Secret "backend-ca" (CA certificates) not found in namespace demo`))
		}).Should(Succeed())

		// The fix is announced too. (The first report of a leadership term is a baseline
		// with no Event for healthy Ingresses, so this is checked on a change.)
		create(caSecret("demo", "backend-ca", backendCA))
		Eventually(func(g Gomega) {
			g.Expect(string(output(kubectl("-n", "demo", "describe", "ingress", "app")))).To(MatchRegexp(`Normal\s+Ready\s+.*the gateway serves this Ingress for app.localtest.me`))
		}).Should(Succeed())
	})
})
